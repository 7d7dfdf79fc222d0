"""The clerk edits the notice wording, recipients and signatory of a unit (stored in ``Unit.options``)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from aggregator.notices.template import PARAGRAPHS, TemplateError, check, template_for
from aggregator.notices.viewmodel import PLACEHOLDERS
from aggregator.notices.views import ISSUERS, bp, default_unit
from sipas.audit import audit
from sipas.console.auth import actor_name, allowed_units, roles_required, unit_for_user
from sipas.console.refusal import refuse
from sipas.context import get_settings
from sipas.errors import ValidationError
from sipas.models import Unit
from sipas.storage import db_session

LABELS = {"opening": "Đoạn mở đầu", "dossiers": "1. Tình hình tiếp nhận, giải quyết hồ sơ",
          "ballots": "2. Kết quả thu thập ý kiến đánh giá", "criteria": "3. Kết quả theo từng tiêu chí (câu dẫn)",
          "overall": "4. Mức độ hài lòng chung", "closing": "Đoạn kết"}
MAX_TEXT = 3000


def one_line(text: str) -> str:
    """Whitespace (newlines included) collapsed to single spaces; control characters dropped (DOCX is XML)."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def parse_wording(form: Any) -> dict[str, Any]:
    """The override dict from the form; placeholders and lengths checked (``ValidationError``)."""
    known = PLACEHOLDERS.keys()
    values: dict[str, Any] = {"paragraphs": {}}
    texts = {key: one_line(form.get(f"p_{key}", "")) for key in PARAGRAPHS}
    texts["summary"] = one_line(form.get("summary", ""))
    for key, text in texts.items():
        if not text:
            raise ValidationError("Không được để trống đoạn văn; bấm “Khôi phục mặc định” để dùng lại mẫu.",
                                  field=key)
        if len(text) > MAX_TEXT:
            raise ValidationError(f"Đoạn văn dài quá {MAX_TEXT} ký tự.", field=key)
        try:
            check(text, known)
        except TemplateError as exc:
            raise ValidationError(str(exc), field=key) from None
    values["summary"] = texts.pop("summary")
    values["paragraphs"] = texts
    lines = form.get("recipients", "").splitlines()
    recipients = [one_line(line).lstrip("-–• ").rstrip(";. ").strip() for line in lines]
    values["recipients"] = [r for r in recipients if r]
    values["archive"] = one_line(form.get("archive", "")).lstrip("- ").rstrip(";. ") or "Lưu: VT"
    for line in [*values["recipients"], values["archive"]]:
        try:
            check(line, known)
        except TemplateError as exc:
            raise ValidationError(str(exc), field="recipients") from None
    values["authority"] = one_line(form.get("authority", "")) or "TM. ỦY BAN NHÂN DÂN"
    values["signatory_title"] = "\n".join(one_line(line) for line in form.get("signatory_title", "").splitlines()
                                          if one_line(line)) or "CHỦ TỊCH"
    values["signatory_name"] = one_line(form.get("signatory_name", ""))
    return values


def save_wording(unit: Unit, values: dict[str, Any] | None, *, actor: str) -> None:
    """Reassign the options dict (in-place changes to a JSON column are not saved)."""
    options = dict(unit.options or {})
    if values is None:
        options.pop("notice", None)
    else:
        options["notice"] = values
    unit.options = options
    audit(db_session(), "notice.wording_saved" if values else "notice.wording_reset", actor=actor, unit=unit,
          subject=unit.code)


@bp.route("/noi-dung", methods=["GET", "POST"], endpoint="wording")
@roles_required(*ISSUERS)
def wording() -> ResponseReturnValue:
    """Edit the wording, recipients (nơi nhận) and signatory of the unit's notices."""
    source = request.form if request.method == "POST" else request.args
    unit = unit_for_user(source["unit"]) if source.get("unit") else default_unit()
    form: Any = None
    if request.method == "POST":
        session = db_session()
        try:
            save_wording(unit, None if request.form.get("action") == "reset" else parse_wording(request.form),
                         actor=actor_name())
        except ValidationError as exc:
            session.rollback()
            # a paragraph's field is its key; its box is p_<key> (summary and recipients are named as such)
            refuse(exc.message_vi, exc.field if not exc.field or exc.field in request.form else f"p_{exc.field}")
            form = request.form
        else:
            session.commit()
            flash("Đã khôi phục nội dung mặc định." if request.form.get("action") == "reset"
                  else "Đã lưu nội dung thông báo.", "success")
            return redirect(url_for("notices.wording", unit=unit.code))
    template = template_for(unit, get_settings().config_dir)
    return render_template("notices/wording.html", unit=unit, units=allowed_units(), template=template, form=form,
                           labels=LABELS, placeholders=PLACEHOLDERS), 400 if form is not None else 200
