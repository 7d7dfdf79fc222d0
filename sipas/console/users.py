"""Console account management: admins create, deactivate and reset accounts; everyone changes their password."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.security import check_password_hash

from sipas.accounts import create_user, random_token, set_password
from sipas.audit import audit
from sipas.console import bp
from sipas.console.auth import actor_name, current_user, login_required, login_user, roles_required
from sipas.errors import DomainError
from sipas.models import Role, Unit, User
from sipas.storage import db_session

ROLE_LABELS = {Role.ADMIN: "Quản trị", Role.CLERK: "Cán bộ một cửa", Role.LEADER: "Lãnh đạo"}


def _all_units() -> list[Unit]:
    return list(db_session().scalars(select(Unit).order_by(Unit.code)))


@bp.get("/users")
@roles_required(Role.ADMIN)
def users():  # type: ignore[no-untyped-def]
    """Every account with its role and units."""
    accounts = db_session().scalars(select(User).order_by(User.username)).all()
    return render_template("console/users/list.html", users=accounts, units=_all_units(), roles=ROLE_LABELS)


@bp.post("/users")
@roles_required(Role.ADMIN)
def create_account():  # type: ignore[no-untyped-def]
    """Create an account with a generated password, shown once."""
    session = db_session()
    unit_ids = {int(value) for value in request.form.getlist("units") if value.isdigit()}
    units = [u for u in _all_units() if u.id in unit_ids]
    password = random_token(14)
    try:
        role = Role(request.form.get("role", ""))
        user = create_user(session, username=request.form.get("username", ""), password=password, role=role,
                           units=units, full_name=request.form.get("full_name", "").strip()[:200], actor=actor_name())
    except ValueError:
        flash("Vai trò không hợp lệ.", "error")
        return redirect(url_for("console.users"))
    except DomainError as exc:
        session.rollback()
        flash(exc.message_vi, "error")
        return redirect(url_for("console.users"))
    session.commit()
    flash(f"Đã tạo tài khoản {user.username}. Mật khẩu ban đầu (chỉ hiện một lần): {password}", "success")
    return redirect(url_for("console.users"))


@bp.post("/users/<int:user_id>/active")
@roles_required(Role.ADMIN)
def toggle_active(user_id: int):  # type: ignore[no-untyped-def]
    """Deactivate or reactivate an account (an admin cannot deactivate themself)."""
    session = db_session()
    user = session.get(User, user_id)
    me = current_user()
    if user is None or me is None or user.id == me.id:
        flash("Không thể thay đổi tài khoản này.", "error")
        return redirect(url_for("console.users"))
    user.active = not user.active
    audit(session, "user.activated" if user.active else "user.deactivated", actor=actor_name(), subject=user.username)
    session.commit()
    flash(f"Đã {'mở lại' if user.active else 'khóa'} tài khoản {user.username}.", "success")
    return redirect(url_for("console.users"))


@bp.post("/users/<int:user_id>/password")
@roles_required(Role.ADMIN)
def reset_password(user_id: int):  # type: ignore[no-untyped-def]
    """Give an account a new generated password (its open sessions end)."""
    session = db_session()
    user = session.get(User, user_id)
    if user is None:
        flash("Không tìm thấy tài khoản.", "error")
        return redirect(url_for("console.users"))
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
        if not check_password_hash(user.password_hash, request.form.get("current", "")):
            flash("Mật khẩu hiện tại không đúng.", "error")
            return render_template("console/users/password.html"), 422
        if request.form.get("new", "") != request.form.get("confirm", ""):
            flash("Hai lần nhập mật khẩu mới không khớp.", "error")
            return render_template("console/users/password.html"), 422
        try:
            set_password(user, request.form.get("new", ""))
        except DomainError as exc:
            flash(exc.message_vi, "error")
            return render_template("console/users/password.html"), 422
        audit(session, "user.password_changed", actor=actor_name(), subject=user.username)
        session.commit()
        login_user(user)  # keep this session; others end because the hash changed
        flash("Đã đổi mật khẩu.", "success")
        return redirect(url_for("console.home"))
    return render_template("console/users/password.html")
