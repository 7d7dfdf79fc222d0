"""Who is logged in, and decorators that require a login, a role or access to a unit."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, g, redirect, request, session, url_for
from sqlalchemy import select

from sipas.accounts import end_sessions, units_of
from sipas.audit import audit
from sipas.models import Role, Unit, User
from sipas.storage import db_session

F = TypeVar("F", bound=Callable[..., Any])


def current_user() -> User | None:
    if "sipas_user" not in g:
        user_id = session.get("user_id")
        user = db_session().get(User, user_id) if user_id else None
        if user is not None and (not user.active or session.get("pw") != user.password_hash[-12:]
                                 or session.get("sv") != user.session_version):
            user = None  # deactivated, password changed, logged out or role changed since login
        g.sipas_user = user
    return g.sipas_user


def login_user(user: User) -> None:
    session.clear()
    session.permanent = True
    session["user_id"] = user.id
    session["pw"] = user.password_hash[-12:]
    session["sv"] = user.session_version


def logout_user() -> None:
    """End this session everywhere: a copy of the old cookie no longer works (session version raised)."""
    user = current_user()
    if user is not None:
        end_sessions(user)
        audit(db_session(), "user.logout", actor=f"user:{user.username}", subject=user.username)
        db_session().commit()
    session.clear()


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def roles_required(*roles: Role) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        @functools.wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            assert user is not None
            if user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def allowed_units() -> list[Unit]:
    user = current_user()
    return units_of(db_session(), user) if user else []


def unit_for_user(code: str) -> Unit:
    """The unit ``code`` if the logged-in user may act for it; 404 otherwise (no existence leak)."""
    unit = db_session().scalar(select(Unit).where(Unit.code == code))
    if unit is None or all(u.id != unit.id for u in allowed_units()):
        abort(404)
    return unit


def actor_name() -> str:
    user = current_user()
    return f"user:{user.username}" if user else "anonymous"
