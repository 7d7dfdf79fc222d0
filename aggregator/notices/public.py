"""The public pages of a unit's issued notices (no login): aggregates only, never personal data.

``/cong-khai/<unit>`` lists them; ``/cong-khai/<unit>/<year>/<number>`` is one notice's own page (its QR
and printed address lead there): the DOCX and PDF with their SHA-256 and a check of a copy by upload.
"""

from __future__ import annotations

from typing import NoReturn

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from aggregator.models_notices import Notice
from aggregator.notices import fingerprint, service
from aggregator.notices.html_render import render_html
from aggregator.notices.vnformat import date_short, period_words
from sipas.clock import Period
from sipas.models import Unit
from sipas.storage import db_session

bp = Blueprint("public_notices", __name__, url_prefix="/cong-khai", template_folder="../templates")


def _missing(title: str, message: str, link: tuple[str, str] | None = None) -> NoReturn:
    """A 404 that says, in Vietnamese, what the address asked for and what does not exist (no cookie, no console)."""
    abort(Response(render_template("notices/public_missing.html", title=title, message=message, link=link), 404))


def _unit(code: str) -> Unit:
    session = db_session()
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:  # an address typed by hand from the printed one, in other letter case: to the unit's own
        same = list(session.scalars(select(Unit).where(func.lower(Unit.code) == code.lower()).limit(2)))
        if len(same) == 1:
            args = {**(request.view_args or {}), "unit_code": same[0].code}
            abort(redirect(url_for(str(request.endpoint), **args), 308))
        _missing("Không tìm thấy đơn vị", f"Không có đơn vị nào mang mã “{code[:64]}” trên trang công khai kết quả "
                 "đánh giá. Vui lòng kiểm tra lại địa chỉ (in cạnh mã QR của thông báo).")
    return unit


@bp.get("/<unit_code>", endpoint="unit")
def unit_page(unit_code: str) -> ResponseReturnValue:
    """Issued notices of one unit, newest first, with their downloads and headline figures."""
    unit = _unit(unit_code)
    session = db_session()
    rows = []
    for notice in service.issued_notices(session, unit):
        values = notice.content.get("values", {})
        rows.append({
            "notice": notice, "issue_date": date_short(notice.issue_date),
            "period": period_words(notice.period_start, notice.period_end),
            "responses": values.get("responses", "–"), "satisfaction": values.get("overall_satisfaction", "–"),
            "corrected_by": service.corrected_by(session, notice),
        })
    children = list(session.scalars(select(Unit).where(Unit.parent_id == unit.id).order_by(Unit.code)))
    counts = select(Notice.unit_id, func.count()).where(Notice.unit_id.in_([c.id for c in children]))
    issued = {unit_id: n for unit_id, n in session.execute(counts.group_by(Notice.unit_id))} if children else {}
    wards = [{"unit": child, "issued": issued.get(child.id, 0)} for child in children]  # each with its own page
    return render_template("notices/public.html", unit=unit, rows=rows, wards=wards)


def _notice(unit: Unit, year: int, number: int) -> Notice:
    notice = db_session().scalar(select(Notice).where(Notice.unit_id == unit.id, Notice.year == year,
                                                      Notice.number == number))
    if notice is None:
        _missing("Không tìm thấy thông báo",
                 f"{unit.name} chưa ban hành Thông báo số {number:02d}/TB-UBND năm {year}: địa chỉ có thể bị gõ sai, "
                 "hoặc thông báo chưa được ban hành.",
                 (f"Các thông báo đã ban hành của {unit.name}", url_for("public_notices.unit", unit_code=unit.code)))
    return notice


def _notice_page(unit: Unit, notice: Notice, *, check: dict[str, object] | None = None,
                 status: int = 200) -> ResponseReturnValue:
    session = db_session()
    return render_template(
        "notices/public_notice.html", unit=unit, notice=notice, issue_date=date_short(notice.issue_date),
        period=period_words(notice.period_start, notice.period_end), values=notice.content.get("values", {}),
        corrected_by=service.corrected_by(session, notice), check=check,
        max_mb=fingerprint.MAX_VERIFY_BYTES // (1024 * 1024),
    ), status


@bp.get("/<unit_code>/<int:year>/<int:number>", endpoint="notice")
def notice_page(unit_code: str, year: int, number: int) -> ResponseReturnValue:
    """One issued notice (where its QR leads): its files, their SHA-256 and a check of a copy by upload."""
    unit = _unit(unit_code)
    return _notice_page(unit, _notice(unit, year, number))


@bp.route("/<unit_code>/<int:year>/<int:number>/kiem-tra", methods=["GET", "POST"], endpoint="verify")
def verify(unit_code: str, year: int, number: int) -> ResponseReturnValue:
    """Compare an uploaded file with the issued DOCX and PDF (stores nothing: no session or CSRF token; bounded).

    A GET (Enter in the address bar after a check, a shared link) goes back to the notice's page."""
    unit = _unit(unit_code)
    notice = _notice(unit, year, number)
    if request.method == "GET":
        return redirect(url_for("public_notices.notice", unit_code=unit.code, year=year, number=number), 303)
    limit = fingerprint.MAX_VERIFY_BYTES
    if request.content_length is not None and request.content_length > limit + 64 * 1024:
        return _notice_page(unit, notice, check={"ok": False, "message": _too_large(limit)}, status=413)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _notice_page(unit, notice, check={"ok": False, "message": "Chưa chọn tệp để kiểm tra."}, status=400)
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        return _notice_page(unit, notice, check={"ok": False, "message": _too_large(limit)}, status=413)
    return _notice_page(unit, notice, check=check_upload(notice, data))


@bp.get("/<unit_code>/<path:rest>", endpoint="missing")
def missing(unit_code: str, rest: str) -> ResponseReturnValue:
    """Any other address under a unit (shortened, mistyped): the public 404 with the way to the unit's list."""
    unit = _unit(unit_code)
    _missing("Không tìm thấy trang", f"Không có trang này trong mục công khai của {unit.name}: địa chỉ có thể bị gõ "
             "sai hoặc thiếu số thông báo.", (f"Các thông báo đã ban hành của {unit.name}",
                                             url_for("public_notices.unit", unit_code=unit.code)))


def altered_file_page(exc: service.AlteredFile) -> ResponseReturnValue:
    """500 with the reason in Vietnamese, never cached: the stored file is not the one the page vouches for."""
    return render_template("errors/http.html", code=exc.http_status, title="Tệp thông báo không còn nguyên vẹn",
                           message=exc.message_vi), exc.http_status, {"Cache-Control": "no-store"}


def _too_large(limit: int) -> str:
    return f"Tệp quá lớn (tối đa {limit // (1024 * 1024)} MB): không phải bản thông báo đã ban hành."


def check_upload(notice: Notice, data: bytes) -> dict[str, object]:
    """The result shown on the page: identical to this notice, to another issued notice, or to none."""
    digest = fingerprint.sha256(data)
    match = fingerprint.find_issued(db_session(), data)
    if match is not None and match.notice.id == notice.id:
        return {"ok": True, "sha256": digest,
                "message": f"Trùng khớp: tệp giống hệt bản {match.fmt.upper()} đã ban hành của thông báo này."}
    if match is not None:
        return {"ok": False, "sha256": digest,
                "message": f"Tệp không phải thông báo này mà là {fingerprint.describe(match)}."}
    return {"ok": False, "sha256": digest,
            "message": "Không trùng khớp: tệp khác với bản DOCX và PDF đã ban hành (có thể đã bị sửa, lưu lại hoặc "
                       "chuyển đổi). Hãy tải bản gốc ở trên."}


@bp.get("/<unit_code>/<int:year>/<int:number>.<fmt>", endpoint="download")
def download(unit_code: str, year: int, number: int, fmt: str) -> ResponseReturnValue:
    """One issued notice as PDF, DOCX or HTML, exactly as issued."""
    unit = _unit(unit_code)
    notice = _notice(unit, year, number)
    fmt = fmt.lower()  # "3.PDF" typed by hand
    if fmt not in service.FORMATS:
        _missing("Không tìm thấy tệp", f"Thông báo số {notice.number_label} không có bản “{fmt[:16]}”: chỉ có bản PDF, "
                 "DOCX và HTML.", ("Trang của thông báo", url_for("public_notices.notice", unit_code=unit.code,
                                                                   year=year, number=number)))
    name = service.file_name(unit, Period(notice.period_start, notice.period_end), fmt, number=number, year=year)
    disposition = "inline" if fmt in ("html", "pdf") else "attachment"
    try:
        if fmt == "html":  # drawn from the frozen content, so a replaced notice can say so above it
            replaced_by = tuple((n.number_label, url_for("public_notices.notice", unit_code=unit.code, year=n.year,
                                                         number=n.number))
                                for n in service.corrected_by(db_session(), notice))
            data = render_html(service.issued_view(notice), replaced_by=replaced_by).encode("utf-8")
        else:
            data = service.issued_bytes(notice, fmt)
    except service.AlteredFile as exc:
        return altered_file_page(exc)
    response = Response(data, mimetype=service.MEDIA_TYPES[fmt],
                        headers={"Content-Disposition": f'{disposition}; filename="{name}"',
                                 "Cache-Control": "public, max-age=300"})
    # a copy already held is answered 304 (a ward's bandwidth): the ETag of a DOCX or PDF is its published SHA-256
    response.set_etag(fingerprint.sha256(data))
    if fmt != "html":  # the stored bytes never change after issuing; the HTML is drawn by the running version
        response.last_modified = notice.issued_at
    return response.make_conditional(request)
