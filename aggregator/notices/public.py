"""The public page of a unit's issued notices (no login): aggregates only, never personal data."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from aggregator.models_notices import Notice
from aggregator.notices import service
from aggregator.notices.vnformat import date_short, period_words
from sipas.clock import Period
from sipas.models import Unit
from sipas.storage import db_session

bp = Blueprint("public_notices", __name__, url_prefix="/cong-khai", template_folder="../templates")


def _unit(code: str) -> Unit:
    unit = db_session().scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        abort(404)
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
            "corrected_by": [n.number_label for n in service.corrected_by(session, notice)],
        })
    return render_template("notices/public.html", unit=unit, rows=rows)


@bp.get("/<unit_code>/<int:year>/<int:number>.<fmt>", endpoint="download")
def download(unit_code: str, year: int, number: int, fmt: str) -> ResponseReturnValue:
    """One issued notice as PDF, DOCX or HTML, exactly as issued."""
    unit = _unit(unit_code)
    notice = db_session().scalar(select(Notice).where(Notice.unit_id == unit.id, Notice.year == year,
                                                      Notice.number == number))
    if notice is None or fmt not in service.FORMATS:
        abort(404)
    name = service.file_name(unit, Period(notice.period_start, notice.period_end), fmt, number=number, year=year)
    disposition = "inline" if fmt in ("html", "pdf") else "attachment"
    return Response(service.issued_bytes(notice, fmt), mimetype=service.MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'{disposition}; filename="{name}"',
                             "Cache-Control": "public, max-age=300"})
