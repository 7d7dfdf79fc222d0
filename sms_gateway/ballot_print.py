"""Printable paper ballots (PDF, A5/A4) per form and version under /console/sms/<unit>/ballots.

A ballot printed for a dossier returned on a chosen day carries the dossier's code and the QR code of its
phone-form link: the same short link a QR slip issues (``sms_gateway.links``; reused while open), so the
citizen may answer on paper or on the phone and the one-rating-per-dossier rule keeps one of the two. Blank
ballots by GET have no QR; blank ballots with a single-use QR each are printed by a POST
(``sms_gateway.blank_ballot_print``). Rendering is ``sipas.ballot_pdf``.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import Response, abort, render_template, request
from sqlalchemy.orm import Session

from sipas.audit import audit
from sipas.ballot_pdf import SIZE_LABELS, BallotSheet, render_ballots
from sipas.catalogue import Catalogue, Instrument
from sipas.clock import local_date, utcnow
from sipas.console.auth import actor_name, login_required, roles_required, unit_for_user
from sipas.context import get_catalogue, get_settings
from sipas.day_input import day_text as shown_day
from sipas.day_input import parse_day
from sipas.models import Dossier, Role, Unit
from sipas.settings import Settings
from sipas.storage import db_session, get_database
from sms_gateway.blank_ballots import MAX_BLANK_BALLOTS
from sms_gateway.console_views import bp
from sms_gateway.links import issue_link, link_url, qr_expiry
from sms_gateway.models_links import LinkChannel
from sms_gateway.slips import is_rated, returned_on

MAX_COPIES = 200


def dossier_sheets(session: Session, settings: Settings, dossiers: list[Dossier], instrument_code: str, *,
                   now: datetime) -> list[BallotSheet]:
    """One ballot per returned dossier not yet rated with the instrument, with its QR link (issued or reused)."""
    sheets = []
    for dossier in dossiers:
        if dossier.returned_at is None or is_rated(session, dossier, instrument_code):
            continue
        link = issue_link(session, dossier, instrument_code=instrument_code, channel=LinkChannel.QR, now=now,
                          expires_at=qr_expiry(settings, now))
        sheets.append(BallotSheet(dossier.code, link_url(settings, link)))
    return sheets


def instrument_for(catalogue: Catalogue, code: str, version: str, today: date) -> Instrument:
    """The version asked for; without one, the version in effect today."""
    try:
        return catalogue.version(code, version) if version else catalogue.current(code, today)
    except LookupError:  # KeyError too: an unknown form or version
        abort(404)


@bp.get("/<unit_code>/ballots", endpoint="ballot_print_form")
@login_required
def ballot_print_form(unit_code: str):  # type: ignore[no-untyped-def]
    """Every form (and each of its versions) the unit may print, in A5 or A4, blank or for a day's dossiers."""
    return ballot_print_page(unit_for_user(unit_code))


def ballot_print_page(unit: Unit, *, error: str | None = None, status: int = 200) -> tuple[str, int]:
    """The print page (with an error above the forms when a print was refused)."""
    catalogue = get_catalogue()
    today = local_date(utcnow(), get_settings().tz)
    forms = [(code, catalogue.versions(code)) for code in catalogue.codes]
    current = {i.code: i.version for i in catalogue.latest(today)}
    return render_template("sms/ballot_print.html", unit=unit, forms=forms, current=current, sizes=SIZE_LABELS,
                           today=shown_day(today), max_copies=MAX_COPIES, max_blank=MAX_BLANK_BALLOTS,
                           error=error), status


@bp.get("/<unit_code>/ballots.pdf", endpoint="ballot_pdf")
@login_required
def ballot_pdf(unit_code: str):  # type: ignore[no-untyped-def]
    """Blank ballots (a GET writes nothing: every role)."""
    return _ballot_pdf(unit_code)


@bp.post("/<unit_code>/ballots.pdf", endpoint="ballot_day_pdf")
@roles_required(Role.ADMIN, Role.CLERK)  # a day's ballots issue the dossiers' rating links: a leader only reads
def ballot_day_pdf(unit_code: str):  # type: ignore[no-untyped-def]
    """A ballot with a QR per dossier returned on ``date``."""
    return _ballot_pdf(unit_code)


def _ballot_pdf(unit_code: str):  # type: ignore[no-untyped-def]
    """``instrument`` (default: the unit's form), ``version`` (default: in effect today), ``size`` (a5|a4), then
    ``copies`` blank ballots (default 1; a GET: nothing is written) or ``date``: a ballot with a QR per dossier
    returned that day (a POST: it issues the dossiers' links and is audited; a GET never writes)."""
    unit = unit_for_user(unit_code)
    today = local_date(utcnow(), get_settings().tz)
    values = request.form if request.method == "POST" else request.args
    instrument = instrument_for(get_catalogue(), values.get("instrument") or unit.default_instrument,
                             values.get("version", ""), today)
    size = values.get("size", "a5")
    if size not in SIZE_LABELS:
        abort(400)
    day_text = values.get("date", "").strip()
    if request.method == "GET" and day_text:
        abort(405)  # a day's ballots issue links: only through the page's form (a POST)
    if request.method == "POST":
        try:
            day = parse_day(day_text)  # ngày/tháng/năm as typed
        except ValueError:
            return ballot_print_page(unit, status=400, error="Ngày trả kết quả không hợp lệ: cần dạng "
                                     "ngày/tháng/năm, ví dụ 02/03/2026.")
        db_session().commit()  # end the read transaction: links are issued in a short write session of their own
        with get_database().session() as writing:
            dossiers = returned_on(writing, writing.merge(unit, load=False), day)
            sheets = dossier_sheets(writing, get_settings(), dossiers, instrument.code, now=utcnow())
            audit(writing, "qr.ballots_printed", actor=actor_name(), unit=writing.merge(unit, load=False),
                  subject=day.isoformat(), ballots=len(sheets), instrument=instrument.code)
        name = f"phieu-{instrument.code}-{day.isoformat()}-{size}.pdf"
    else:
        copies = values.get("copies", 1, type=int)
        if copies is None or not 1 <= copies <= MAX_COPIES:
            abort(400)
        sheets = [BallotSheet() for _ in range(copies)]
        name = f"phieu-{instrument.code}-{instrument.version}-{size}.pdf"
    if not sheets:
        return ballot_print_page(unit, status=404,
                                 error="Không có hồ sơ nào trả kết quả ngày này mà chưa được đánh giá.")
    pdf = render_ballots(instrument, sheets, unit_name=unit.name, size=size)
    return Response(pdf, mimetype="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'})
