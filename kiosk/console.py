"""Console pages under /console/kiosks: pair a kiosk, watch its health, arm it for a dossier, revoke it."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from kiosk import pairing, services
from kiosk.config import kiosk_rules, pairing_valid_for
from kiosk.models import MAX_CLOCK_SKEW_SECONDS, KioskDevice
from kiosk.views import secret_key
from sipas.clock import utcnow
from sipas.console.auth import actor_name, allowed_units, roles_required, unit_for_user
from sipas.console.refusal import refuse
from sipas.context import get_settings
from sipas.errors import DomainError
from sipas.models import Dossier, Response, Role
from sipas.storage import db_session
from sipas.text import vietnamese_key

bp = Blueprint("kiosk_console", __name__, url_prefix="/console/kiosks", template_folder="templates")
ONLINE_WITHIN = timedelta(minutes=2)


def _device(device_id: int) -> KioskDevice:
    device = db_session().get(KioskDevice, device_id)
    if device is None or all(u.id != device.unit_id for u in allowed_units()):
        abort(404)
    return device


def contact_label(device: KioskDevice, now: datetime) -> str:
    if device.last_contact_at is None:
        return "Chưa liên lạc"
    seconds = int((now - device.last_contact_at).total_seconds())
    if seconds < 60:
        return "Vừa xong"
    if seconds < 3600:
        return f"{seconds // 60} phút trước"
    if seconds < 86400:
        return f"{seconds // 3600} giờ trước"
    return f"{seconds // 86400} ngày trước"


def status_label(device: KioskDevice, now: datetime) -> tuple[str, str]:
    if device.status == "revoked":
        return "Đã thu hồi", "muted"
    if device.status == "pending":
        return "Chờ ghép nối", "warn"
    if device.last_contact_at is not None and now - device.last_contact_at <= ONLINE_WITHIN:
        return "Đang hoạt động", "ok"
    return "Mất kết nối", "bad"


def clock_warning(device: KioskDevice) -> str | None:
    """What the clerk should do about an active kiosk whose clock its last heartbeat found wrong (beyond the
    threshold of ``sipas doctor``): its ratings are dated on the server's clock anyway, but its page and any
    rating queued before a heartbeat measured the offset carry its own time."""
    offset = device.clock_offset_seconds
    if device.status != "active" or offset is None or abs(offset) <= MAX_CLOCK_SKEW_SECONDS:
        return None
    return f"Đồng hồ máy {'nhanh' if offset > 0 else 'chậm'} {duration_vi(abs(offset))} — chỉnh giờ máy"


def duration_vi(seconds: int) -> str:
    """``1 ngày 3 giờ``, ``5 giờ 12 phút``, ``3 phút``: the two largest units, enough to see how far off."""
    minutes = seconds // 60
    parts = [(minutes // 1440, "ngày"), (minutes // 60 % 24, "giờ"), (minutes % 60, "phút")]
    shown = [f"{value} {unit}" for value, unit in parts if value]
    return " ".join(shown[:2]) or "dưới 1 phút"


def _recent_dossiers(unit_ids: list[int]) -> list[Dossier]:
    """Returned dossiers not yet rated, newest first: the ones a clerk may arm a kiosk for."""
    rated = select(Response.dossier_id).where(Response.dossier_id.is_not(None))
    return list(db_session().scalars(
        select(Dossier).where(Dossier.unit_id.in_(unit_ids), Dossier.returned_at.is_not(None),
                              Dossier.id.not_in(rated)).order_by(Dossier.returned_at.desc()).limit(30)))


def _render(new_code: tuple[KioskDevice, str] | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    units = allowed_units()
    unit_ids = [u.id for u in units]
    devices = sorted(db_session().scalars(select(KioskDevice).where(KioskDevice.unit_id.in_(unit_ids))),
                     key=lambda d: (d.revoked_at is not None, d.unit_id, vietnamese_key(d.name or ""), d.id))
    now = utcnow()
    flagged = dict(db_session().execute(
        select(Response.source, func.count()).where(Response.source.in_([d.source for d in devices]),
                                                    Response.flagged.is_(True)).group_by(Response.source)).all())
    rows = [{"device": d, "contact": contact_label(d, now), "status": status_label(d, now),
             "clock": clock_warning(d), "flagged": flagged.get(d.source, 0)} for d in devices]
    pairing_link = None
    if new_code is not None:
        device, code = new_code
        pairing_link = url_for("kiosk.page", unit_code=device.unit.code, _external=True) + f"#pair={code}"
    return render_template("kiosk/console.html", rows=rows, units=units, new_code=new_code,
                           pairing_link=pairing_link, dossiers=_recent_dossiers(unit_ids),
                           tz=get_settings().tz,
                           pairing_minutes=int(pairing_valid_for(get_settings()).total_seconds() // 60)), status


@bp.get("")
@roles_required(Role.ADMIN, Role.CLERK)
def index():  # type: ignore[no-untyped-def]
    """The kiosks of the user's units with last contact and queued ratings."""
    return _render()


@bp.post("/new")
@roles_required(Role.ADMIN, Role.CLERK)
def create():  # type: ignore[no-untyped-def]
    """Create a kiosk and show its one-time pairing code and link."""
    unit = unit_for_user(request.form.get("unit", ""))
    settings = get_settings()
    session = db_session()
    try:
        new = pairing.create_device(session, unit, name=request.form.get("name", ""), now=utcnow(),
                                    secret_key=secret_key(), actor=actor_name(),
                                    valid_for=pairing_valid_for(settings))
    except DomainError as exc:
        session.rollback()
        refuse(exc.message_vi, exc.field)
        return _render(status=422)
    session.commit()
    return _render((new.device, new.pairing_code))


@bp.post("/<int:device_id>/code")
@roles_required(Role.ADMIN, Role.CLERK)
def new_code(device_id: int):  # type: ignore[no-untyped-def]
    """Issue a fresh pairing code (re-pairs the kiosk; its old token stays valid until it pairs again)."""
    device = _device(device_id)
    settings = get_settings()
    session = db_session()
    try:
        code = pairing.new_pairing_code(session, device, now=utcnow(), secret_key=secret_key(),
                                        actor=actor_name(), valid_for=pairing_valid_for(settings))
    except DomainError as exc:
        session.rollback()
        flash(exc.message_vi, "error")
        return redirect(url_for(".index"))
    session.commit()
    return _render((device, code))


@bp.post("/<int:device_id>/revoke")
@roles_required(Role.ADMIN, Role.CLERK)
def revoke(device_id: int):  # type: ignore[no-untyped-def]
    """Revoke a kiosk: its token stops working at once."""
    device = _device(device_id)
    pairing.revoke(db_session(), device, now=utcnow(), actor=actor_name())
    db_session().commit()
    flash(f"Đã thu hồi kiosk “{device.name}”.", "info")
    return redirect(url_for(".index"))


@bp.post("/<int:device_id>/arm")
@roles_required(Role.ADMIN, Role.CLERK)
def arm(device_id: int):  # type: ignore[no-untyped-def]
    """Hand the kiosk the dossier just returned, so the citizen only rates."""
    device = _device(device_id)
    session = db_session()
    settings = get_settings()
    try:
        dossier = services.arm(session, device, request.form.get("dossier_code", ""), now=utcnow(),
                               actor=actor_name(), rules=kiosk_rules(settings))
    except DomainError as exc:
        session.rollback()
        flash(exc.message_vi, "error")
        return _render(status=422)
    session.commit()
    minutes = int(kiosk_rules(settings).arm_for.total_seconds() // 60)
    flash(f"Kiosk “{device.name}” sẽ mời công dân đánh giá hồ sơ {dossier.code} (trong {minutes} phút).", "info")
    return redirect(url_for(".index"))
