"""``/console/zalo``: the OA grant (pasted once by the global administrator, never shown again), the
console notices (refused refresh, template status, quota), the per-channel invitation counts, and each
unit's Zalo options (``/console/zalo/units/<code>``, an administrator of the unit)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from sipas.account_policy import is_global_admin
from sipas.audit import audit
from sipas.clock import utcnow
from sipas.console.auth import actor_name, allowed_units, current_user, roles_required, unit_for_user
from sipas.context import get_settings
from sipas.models import Role, Unit
from sipas.storage import db_session
from sms_gateway.models_zalo import ZaloNotice
from sms_gateway.zalo_rating import summary as rating_summary
from sms_gateway.zalo_settings import unit_zalo_options
from sms_gateway.zalo_stats import channel_counts, reason_label
from sms_gateway.zalo_tokens import set_token, token_state
from sms_gateway.zalo_unit_options import SHORT_NAME_MAX, ZaloOptionsError, updated_zalo_options

bp = Blueprint("zalo_console", __name__, url_prefix="/console/zalo", template_folder="templates")
DAYS = 30
NOTICES = 30
CORRECTION_LABELS = {"latest": "Tính lần đánh giá sau cùng", "first": "Giữ lần đánh giá đầu tiên"}


def _page(error: str | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    session, settings = db_session(), get_settings()
    user = current_user()
    assert user is not None
    units = allowed_units()
    counts = channel_counts(session, [u.id for u in units], utcnow() - timedelta(days=DAYS))
    now = utcnow()
    stars = rating_summary(session, [u.id for u in units], now - timedelta(days=DAYS), now)
    notices = session.scalars(select(ZaloNotice).order_by(ZaloNotice.id.desc()).limit(NOTICES)).all()
    return render_template("sms/zalo_console.html", account=token_state(session), counts=counts, notices=notices,
                           reason_label=reason_label, tz=settings.tz, days=DAYS, error=error,
                           can_grant=is_global_admin(user), stars=stars, units=units,
                           zalo_options=unit_zalo_options), status


@bp.get("/")
@roles_required(Role.ADMIN)
def page():  # type: ignore[no-untyped-def]
    return _page()


@bp.post("/token")
@roles_required(Role.ADMIN)
def token():  # type: ignore[no-untyped-def]
    """The OA grant pasted by the global administrator: stored, audited without its value, never shown."""
    user = current_user()
    assert user is not None
    if not is_global_admin(user):
        abort(403)  # one OA for the whole installation
    refresh = request.form.get("refresh_token", "").strip()
    access = request.form.get("access_token", "").strip()
    if not refresh:
        return _page("Chưa dán refresh token.", 400)
    if len(refresh) > 2000 or len(access) > 2000 or any(ch.isspace() for ch in refresh + access):
        return _page("Token không hợp lệ (có khoảng trắng hoặc quá dài).", 400)
    session = db_session()
    account = set_token(session, refresh_token=refresh, access_token=access, now=utcnow())
    audit(session, "zalo.token_granted", actor=actor_name(), subject="zalo", generation=account.generation)
    session.commit()
    flash("Đã lưu token OA. Token không được hiển thị lại.", "success")
    return redirect(url_for("zalo_console.page"))


def _unit_page(unit: Unit, options: dict[str, Any], error: str | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    return render_template("sms/zalo_unit.html", unit=unit, options=options, error=error,
                           corrections=CORRECTION_LABELS, short_name_max=SHORT_NAME_MAX), status


@bp.route("/units/<unit_code>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def unit_options(unit_code: str):  # type: ignore[no-untyped-def]
    """A unit's Zalo options (what ``sipas zalo unit`` sets): an administrator of the unit only, audited."""
    unit = unit_for_user(unit_code)
    if request.method == "GET":
        return _unit_page(unit, unit_zalo_options(unit))
    form = request.form
    try:
        options = updated_zalo_options(unit_zalo_options(unit), enable=form.get("enabled") == "1",
                                       template_id=form.get("template_id", ""),
                                       rating_template_id=form.get("rating_template_id", ""),
                                       correction=form.get("correction") or "latest",
                                       short_name=form.get("short_name", ""))
    except ZaloOptionsError as exc:
        shown = {key: form.get(key, "") for key in ("template_id", "rating_template_id", "correction", "short_name")}
        return _unit_page(unit, {**shown, "enabled": form.get("enabled") == "1"}, exc.message_vi, 400)
    session = db_session()
    unit.options = {**(unit.options or {}), "zalo": options}  # reassigned: JSON columns track assignment
    audit(session, "zalo.unit_settings", actor=actor_name(), unit=unit, subject=unit.code, **options)
    session.commit()
    flash(f"Đã {'bật' if options['enabled'] else 'tắt'} gửi tin mời qua Zalo cho {unit.name}.", "success")
    return redirect(url_for("zalo_console.unit_options", unit_code=unit.code))
