"""Console account management: admins create, deactivate and reset accounts; everyone changes their password."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, url_for

from sipas.account_policy import can_grant, can_manage_user, can_reset_password, manageable_users
from sipas.accounts import (
    change_role,
    check_current_password,
    create_user,
    random_token,
    set_active,
    set_password,
    units_of,
)
from sipas.audit import audit
from sipas.clock import utcnow
from sipas.console import bp
from sipas.console.auth import actor_name, current_user, login_required, login_user, roles_required
from sipas.console.refusal import refuse
from sipas.context import get_settings
from sipas.errors import DomainError
from sipas.models import Role, Unit, User
from sipas.storage import db_session

ROLE_LABELS = {Role.ADMIN: "Quản trị", Role.CLERK: "Cán bộ một cửa", Role.LEADER: "Lãnh đạo"}


def _scope_units() -> list[Unit]:
    """The units the logged-in admin may grant: all for a global admin, its subtree otherwise."""
    me = current_user()
    return units_of(db_session(), me) if me else []


def _managed_user(user_id: int) -> User:
    """The account ``user_id`` if the logged-in admin may manage it; 404 otherwise (no existence leak)."""
    session = db_session()
    user, me = session.get(User, user_id), current_user()
    if user is None or me is None or not can_manage_user(session, me, user):
        abort(404)
    return user


def _beyond_scope(me: User, role: Role, units: list[Unit], unit_ids: set[int]) -> bool:
    """Does the form grant a role or units wider than ``me``'s own scope (403)? A clerk or leader with no unit
    grants nothing: it is an empty field, which the account rules refuse with their message (as for a global
    admin). An admin with no unit is a global admin, and that stays a grant beyond a unit admin's scope."""
    if len(units) != len(unit_ids):
        return True  # a unit outside the scope was ticked
    if not units and role is not Role.ADMIN:
        return False
    return not can_grant(db_session(), me, role, units)


@bp.get("/users")
@roles_required(Role.ADMIN)
def users():  # type: ignore[no-untyped-def]
    """The accounts this admin may manage, with their role and units."""
    session, me = db_session(), current_user()
    assert me is not None
    accounts = manageable_users(session, me)
    return render_template("console/users/list.html", users=accounts, units=_scope_units(), roles=ROLE_LABELS)


@bp.post("/users")
@roles_required(Role.ADMIN)
def create_account():  # type: ignore[no-untyped-def]
    """Create an account with a generated password, shown once."""
    session = db_session()
    unit_ids = {int(value) for value in request.form.getlist("units") if value.isdigit()}
    units = [u for u in _scope_units() if u.id in unit_ids]
    password = random_token(14)
    me = current_user()
    assert me is not None
    if not request.form.get("role", ""):
        refuse("Vui lòng chọn vai trò.", "role")
        return users(), 422  # the form preselects no role: the admin picks one, never Quản trị by default
    try:
        role = Role(request.form.get("role", ""))
        if _beyond_scope(me, role, units, unit_ids):
            abort(403)
        user = create_user(session, username=request.form.get("username", ""), password=password, role=role,
                           units=units, full_name=request.form.get("full_name", "").strip()[:200], actor=actor_name())
    except ValueError:
        refuse("Vai trò không hợp lệ.", "role")
        return users(), 422
    except DomainError as exc:
        session.rollback()
        refuse(exc.message_vi, exc.field)
        return users(), 422  # the page again, the typed values kept
    session.commit()
    flash(f"Đã tạo tài khoản {user.username}. Mật khẩu ban đầu (chỉ hiện một lần): {password}", "success")
    return redirect(url_for("console.users"))


@bp.post("/users/<int:user_id>/active")
@roles_required(Role.ADMIN)
def toggle_active(user_id: int):  # type: ignore[no-untyped-def]
    """Deactivate or reactivate an account (an admin cannot deactivate themself)."""
    session = db_session()
    user = _managed_user(user_id)
    me = current_user()
    if me is None or user.id == me.id:
        flash("Không thể thay đổi tài khoản này.", "error")
        return redirect(url_for("console.users"))
    set_active(session, user, not user.active, actor=actor_name())
    session.commit()
    flash(f"Đã {'mở lại' if user.active else 'khóa'} tài khoản {user.username}.", "success")
    return redirect(url_for("console.users"))


@bp.post("/users/<int:user_id>/role")
@roles_required(Role.ADMIN)
def change_account_role(user_id: int):  # type: ignore[no-untyped-def]
    """Change an account's role and units, never beyond the admin's own scope (its sessions end)."""
    session = db_session()
    user, me = _managed_user(user_id), current_user()
    assert me is not None
    if user.id == me.id:
        flash("Không thể tự đổi vai trò của chính mình.", "error")
        return redirect(url_for("console.users"))
    unit_ids = {int(value) for value in request.form.getlist("units") if value.isdigit()}
    units = [u for u in _scope_units() if u.id in unit_ids]
    try:
        role = Role(request.form.get("role", ""))
    except ValueError:
        flash("Vai trò không hợp lệ.", "error")
        return redirect(url_for("console.users"))
    if _beyond_scope(me, role, units, unit_ids):
        abort(403)
    try:
        change_role(session, user, role, units, actor=actor_name())
    except DomainError as exc:
        session.rollback()
        flash(exc.message_vi, "error")
        return redirect(url_for("console.users"))
    session.commit()
    flash(f"Đã cập nhật vai trò và đơn vị của {user.username}.", "success")
    return redirect(url_for("console.users"))


@bp.post("/users/<int:user_id>/password")
@roles_required(Role.ADMIN)
def reset_password(user_id: int):  # type: ignore[no-untyped-def]
    """Give another account a new generated password (its open sessions end); never the admin's own (404)."""
    session, me = db_session(), current_user()
    user = _managed_user(user_id)
    if me is None or not can_reset_password(session, me, user):
        abort(404)
    password = random_token(14)
    set_password(user, password)
    audit(session, "user.password_reset", actor=actor_name(), subject=user.username)
    session.commit()
    flash(f"Mật khẩu mới của {user.username} (chỉ hiện một lần): {password}", "success")
    return redirect(url_for("console.users"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password():  # type: ignore[no-untyped-def]
    """Change one's own password."""
    if request.method == "POST":
        session = db_session()
        user = current_user()
        assert user is not None
        if not request.form.get("current", "") or not request.form.get("new", ""):
            refuse("Vui lòng nhập mật khẩu hiện tại và mật khẩu mới.",
                   "new" if request.form.get("current", "") else "current")
            return render_template("console/users/password.html"), 400
        settings, now = get_settings(), utcnow()
        checked = check_current_password(session, user, request.form.get("current", ""),
                                         client=request.remote_addr or "?", now=now,
                                         max_failures=settings.login_max_failures,
                                         window=timedelta(minutes=settings.login_window_minutes))
        if checked.user is None:
            session.commit()  # the attempt counted and audited
            if checked.throttled:
                wait = checked.wait_words(now, timedelta(minutes=settings.login_window_minutes), settings.tz)
                flash(f"Nhập sai mật khẩu quá nhiều lần. Vui lòng thử lại {wait}.", "error")
                return render_template("console/users/password.html"), 429
            refuse("Mật khẩu hiện tại không đúng.", "current")
            return render_template("console/users/password.html"), 422
        if request.form.get("new", "") != request.form.get("confirm", ""):
            refuse("Hai lần nhập mật khẩu mới không khớp.", "confirm")
            return render_template("console/users/password.html"), 422
        try:
            set_password(user, request.form.get("new", ""))
        except DomainError as exc:
            refuse(exc.message_vi, "new")
            return render_template("console/users/password.html"), 422
        audit(session, "user.password_changed", actor=actor_name(), subject=user.username)
        session.commit()
        login_user(user)  # keep this session; others end because the hash changed
        flash("Đã đổi mật khẩu.", "success")
        return redirect(url_for("console.home"))
    return render_template("console/users/password.html")
