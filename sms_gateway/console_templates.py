"""The message template editor: per unit and kind, with encoding, length, segments and a preview.

The sample uses the unit's real name and a link as long as a real one. A template whose rendered
sample exceeds ``SIPAS_SMS_MAX_SEGMENTS`` even with the unit name shortened is refused with the
reason; one that fits only shortened is kept with a warning (it is sent shortened). The list page
warns about both, defaults included.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import delete, select

from sipas.audit import audit
from sipas.clock import local_date, utcnow
from sipas.console.auth import actor_name, roles_required, unit_for_user
from sipas.context import get_catalogue, get_settings
from sipas.models import Role, Unit
from sipas.storage import db_session
from sms_gateway.console_views import bp
from sms_gateway.invitations import sms_form
from sms_gateway.models import MessageTemplate
from sms_gateway.settings import SmsSettings, invites_all_dossiers, sms_enabled, unit_sms_options
from sms_gateway.templates_text import DEFAULTS, KIND_LABELS, PLACEHOLDERS, TemplateCheck, check_template, sample_values

EDITORS = (Role.ADMIN, Role.CLERK)


def _criteria_count(unit: Unit) -> int:
    """The number of questions an SMS invitation of the unit asks ({so_tieu_chi}): its form is the kiosk's only
    when an SMS reply can answer it (``sms_form``), so a quay4 unit's citizens are asked the 12 criteria."""
    catalogue, today = get_catalogue(), local_date(utcnow(), get_settings().tz)
    try:
        instrument = catalogue.current(sms_form(catalogue, unit.default_instrument, today), today)
    except LookupError:
        return 12
    return len(instrument.citizen_criteria)


def _check(unit: Unit, kind: str, text: str) -> tuple[TemplateCheck, SmsSettings]:
    settings = get_settings()
    sms = SmsSettings.from_settings(settings)
    values = sample_values(unit_name=unit.name, public_base_url=settings.public_base_url, brandname=sms.brandname,
                           criteria=_criteria_count(unit))
    return check_template(kind, text, values, max_segments=sms.max_segments, brandname=sms.brandname), sms


def _stored(unit: Unit) -> dict[str, MessageTemplate]:
    rows = db_session().scalars(select(MessageTemplate).where(MessageTemplate.unit_id == unit.id))
    return {row.kind: row for row in rows}


def _kind_or_404(kind: str) -> str:
    if kind not in DEFAULTS:
        abort(404)
    return kind


def _info_dict(check: TemplateCheck, sms: SmsSettings) -> dict[str, Any]:
    return {"preview": check.preview, "encoding": check.info.encoding, "characters": check.info.characters,
            "segments": check.info.segments, "per_segment": check.info.per_segment,
            "max_segments": sms.max_segments, "errors": check.errors, "warnings": check.warnings, "ok": check.ok,
            "too_long": check.too_long}


@bp.get("/<unit_code>/templates")
@roles_required(*EDITORS)
def templates(unit_code: str):  # type: ignore[no-untyped-def]
    """Every message kind with its current wording and length."""
    unit = unit_for_user(unit_code)
    stored = _stored(unit)
    rows, notes = [], []
    for kind, label in KIND_LABELS.items():
        text = stored[kind].text if kind in stored else DEFAULTS[kind]
        check, sms = _check(unit, kind, text)
        rows.append({"kind": kind, "label": label, "text": text, "custom": kind in stored,
                     "info": _info_dict(check, sms)})
        if check.too_long:
            notes.append({"kind": kind, "label": label, "too_long": True,
                          "text": next(e for e in check.errors if "quá dài" in e)})
        notes.extend({"kind": kind, "label": label, "too_long": False, "text": w} for w in check.warnings)
    sms = SmsSettings.from_settings(get_settings())
    return render_template("sms/console_templates.html", unit=unit, rows=rows, enabled=sms_enabled(unit),
                           all_dossiers=invites_all_dossiers(sms, unit), notes=notes, max_segments=sms.max_segments)


@bp.route("/<unit_code>/templates/<kind>", methods=["GET", "POST"])
@roles_required(*EDITORS)
def template_edit(unit_code: str, kind: str):  # type: ignore[no-untyped-def]
    """Edit one template; saving is refused (422) when the rendered sample breaks a rule."""
    unit = unit_for_user(unit_code)
    kind = _kind_or_404(kind)
    session = db_session()
    stored = _stored(unit).get(kind)
    text = stored.text if stored else DEFAULTS[kind]
    status = 200
    if request.method == "POST":
        action = request.form.get("action", "save")
        if action == "reset":
            session.execute(delete(MessageTemplate).where(MessageTemplate.unit_id == unit.id,
                                                          MessageTemplate.kind == kind))
            audit(session, "sms.template_reset", actor=actor_name(), unit=unit, subject=kind)
            session.commit()
            flash(f"Đã khôi phục mẫu mặc định: {KIND_LABELS[kind]}.", "success")
            return redirect(url_for("sms_console.template_edit", unit_code=unit.code, kind=kind))
        text = request.form.get("text", "").replace("\r\n", "\n")
        check, sms = _check(unit, kind, text)
        if action == "save" and check.ok:
            now = utcnow()
            if stored is None:
                stored = MessageTemplate(unit_id=unit.id, kind=kind, text="")
                session.add(stored)
            stored.text, stored.updated_by, stored.updated_at = " ".join(text.split()), actor_name(), now
            audit(session, "sms.template_saved", actor=actor_name(), unit=unit, subject=kind,
                  encoding=check.info.encoding, segments=check.info.segments)
            session.commit()
            flash(f"Đã lưu mẫu: {KIND_LABELS[kind]}.", "success")
            return redirect(url_for("sms_console.template_edit", unit_code=unit.code, kind=kind))
        status = 422 if action == "save" else 200
    check, sms = _check(unit, kind, text)
    return render_template("sms/console_template_edit.html", unit=unit, kind=kind, label=KIND_LABELS[kind],
                           text=text, info=_info_dict(check, sms), custom=stored is not None,
                           refused=status == 422, placeholders=PLACEHOLDERS, default=DEFAULTS[kind]), status


@bp.post("/<unit_code>/templates/<kind>/check")
@roles_required(*EDITORS)
def template_check(unit_code: str, kind: str):  # type: ignore[no-untyped-def]
    """Live counts for the editor (JSON; the page sends its CSRF token in X-CSRFToken)."""
    unit = unit_for_user(unit_code)
    kind = _kind_or_404(kind)
    body = request.get_json(silent=True)
    text = str(body.get("text", "")) if isinstance(body, dict) else ""
    check, sms = _check(unit, kind, text)
    return jsonify(_info_dict(check, sms))


@bp.post("/<unit_code>/invitation-settings")
@roles_required(*EDITORS)
def invitation_settings(unit_code: str):  # type: ignore[no-untyped-def]
    """Whether the unit sends SMS invitations, and for online dossiers only or for all dossiers."""
    unit = unit_for_user(unit_code)
    session = db_session()
    options = dict(unit.options or {})
    sms_options = dict(unit_sms_options(unit))
    sms_options["enabled"] = request.form.get("enabled") == "1"
    sms_options["all_dossiers"] = request.form.get("all_dossiers") == "1"
    options["sms"] = sms_options
    unit.options = options  # reassigned, not mutated: JSON columns track assignment only
    audit(session, "sms.unit_settings", actor=actor_name(), unit=unit, subject=unit.code, **sms_options)
    session.commit()
    flash("Đã lưu cài đặt gửi tin mời đánh giá.", "success")
    return redirect(url_for("sms_console.templates", unit_code=unit.code))
