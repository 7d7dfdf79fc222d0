"""POST /console/sms/<unit>/ballots/blank.pdf: N blank ballots, each with its own single-use phone-form QR.

A POST because printing mints links (GET routes never write). Rendering is ``sipas.ballot_pdf``; the links are
minted by ``sms_gateway.blank_ballots``.
"""

from __future__ import annotations

from flask import Response, request

from sipas.audit import audit
from sipas.ballot_pdf import SIZE_LABELS, BallotSheet, render_ballots
from sipas.clock import local_date, utcnow
from sipas.console.auth import actor_name, roles_required, unit_for_user
from sipas.context import get_catalogue, get_settings
from sipas.models import Role
from sipas.storage import db_session
from sms_gateway.ballot_print import ballot_print_page, instrument_for
from sms_gateway.blank_ballots import MAX_BLANK_BALLOTS, mint_blank_links
from sms_gateway.console_views import bp
from sms_gateway.links import link_url


@bp.post("/<unit_code>/ballots/blank.pdf", endpoint="blank_ballot_pdf")
@roles_required(Role.ADMIN, Role.CLERK)  # it mints links: a leader only views
def blank_ballot_pdf(unit_code: str):  # type: ignore[no-untyped-def]
    """``instrument``, ``version`` (default: in effect today), ``size`` (a5|a4), ``copies`` (1..500)."""
    unit = unit_for_user(unit_code)
    settings = get_settings()
    now = utcnow()
    instrument = instrument_for(get_catalogue(), request.form.get("instrument") or unit.default_instrument,
                             request.form.get("version", ""), local_date(now, settings.tz))
    size = request.form.get("size", "a5")
    copies = request.form.get("copies", type=int)
    if size not in SIZE_LABELS or copies is None or not 1 <= copies <= MAX_BLANK_BALLOTS:
        return ballot_print_page(unit, error=f"Số phiếu phải từ 1 đến {MAX_BLANK_BALLOTS} và khổ giấy là A5 hoặc A4.",
                                 status=400)
    session = db_session()
    links = mint_blank_links(session, unit, instrument.code, copies, now=now)
    audit(session, "qr.blank_ballots_printed", actor=actor_name(), unit=unit, subject=instrument.code,
          ballots=copies, instrument=instrument.code, version=instrument.version)
    sheets = [BallotSheet(url=link_url(settings, link)) for link in links]
    session.commit()
    pdf = render_ballots(instrument, sheets, unit_name=unit.name, size=size)
    name = f"phieu-trang-qr-{instrument.code}-{instrument.version}-{size}.pdf"
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
