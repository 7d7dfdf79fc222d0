"""Console pages of the SMS/QR channel under /console/sms: index and QR slips.

Templates, outbox, invitations and erasure live in sibling modules that add routes to ``bp``.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, render_template, request, url_for

from sipas.audit import audit
from sipas.clock import local_date, utcnow
from sipas.console.auth import actor_name, allowed_units, login_required, roles_required, unit_for_user
from sipas.context import get_settings
from sipas.day_input import parse_day
from sipas.dossiers import find_dossier
from sipas.models import Dossier, Role, Unit
from sipas.storage import db_session, get_database
from sms_gateway.slips import SIZES, SlipBatch, is_rated, returned_on, slips_for

bp = Blueprint("sms_console", __name__, url_prefix="/console/sms", template_folder="templates")


def _size() -> str:
    size = request.args.get("size", "a6")
    return size if size in SIZES else "a6"


def _size_links() -> dict[str, str]:
    """The same print page in each paper size."""
    assert request.endpoint is not None
    args = {k: v for k, v in request.args.items() if k != "size"}
    return {key: url_for(request.endpoint, **(request.view_args or {}), **args, size=key) for key in SIZES}


def _print(unit: Unit, batch: SlipBatch, title: str, day: date | None = None) -> str:
    return render_template("sms/slip_print.html", unit=unit, batch=batch, size=_size(), sizes=SIZES,
                           size_links=_size_links(), day=day, title=title)


@bp.get("/")
@login_required
def index():  # type: ignore[no-untyped-def]
    """The channel's pages, per unit the user may act for."""
    return render_template("sms/console_index.html", units=allowed_units())


@bp.get("/<unit_code>/slips")
@login_required
def slips_form(unit_code: str):  # type: ignore[no-untyped-def]
    """Choose a dossier or a day to print QR slips for; lists the dossiers returned that day."""
    unit = unit_for_user(unit_code)
    session, settings = db_session(), get_settings()
    try:
        day = parse_day(request.args.get("date", ""))  # ngày/tháng/năm, or ISO in links
    except ValueError:
        day = local_date(utcnow(), settings.tz)
    dossiers = [(d, is_rated(session, d, unit.default_instrument)) for d in returned_on(session, unit, day)]
    return render_template("sms/console_slips.html", unit=unit, today=day.isoformat(), day=day, sizes=SIZES,
                           dossiers=dossiers, tz=settings.tz)


@bp.get("/<unit_code>/slip")
@roles_required(Role.ADMIN, Role.CLERK)  # it issues the dossiers' rating links: a leader only reads
def slip(unit_code: str):  # type: ignore[no-untyped-def]
    """The printable slip of one returned dossier (issues its QR link on first print)."""
    unit = unit_for_user(unit_code)
    session, settings = db_session(), get_settings()
    code = request.args.get("dossier", "").strip()
    dossier = find_dossier(session, unit, code) if code else None
    if dossier is None:
        error = f"Không tìm thấy hồ sơ “{code}” của đơn vị." if code else "Vui lòng nhập mã hồ sơ."
        return render_template("sms/console_slips.html", unit=unit, sizes=SIZES, dossier_code=code,
                               today=local_date(utcnow(), settings.tz).isoformat(),
                               error=error), 404 if code else 400
    batch = _print_slips([dossier], unit, subject=dossier.code)
    return _print(unit, batch, f"Phiếu QR hồ sơ {dossier.code}")


@bp.get("/<unit_code>/slips/day")
@roles_required(Role.ADMIN, Role.CLERK)  # it issues the dossiers' rating links: a leader only reads
def slips_day(unit_code: str):  # type: ignore[no-untyped-def]
    """Slips for every dossier the unit returned on a local date (already rated ones are listed, not printed)."""
    unit = unit_for_user(unit_code)
    session = db_session()
    try:
        day = parse_day(request.args.get("date", ""))  # ngày/tháng/năm, or ISO in links
    except ValueError:
        abort(400)
    batch = _print_slips(returned_on(session, unit, day), unit, subject=day.isoformat())
    return _print(unit, batch, f"Phiếu QR ngày {day:%d/%m/%Y}", day=day)


def _print_slips(dossiers: list[Dossier], unit: Unit, *, subject: str) -> SlipBatch:
    """Issue the slips' QR links and record the printing in a short write session of their own: the GET's
    session only reads (on SQLite a read transaction cannot take the write lock once others wrote)."""
    db_session().commit()  # end the read transaction: one request never holds two pooled connections
    with get_database().session() as writing:
        batch = slips_for(writing, get_settings(), [writing.merge(d, load=False) for d in dossiers], now=utcnow())
        audit(writing, "qr.slips_printed", actor=actor_name(), unit=unit, subject=subject, slips=len(batch.slips))
    return batch
