"""Console pages of the core: login, logout, home."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, redirect, render_template, request, url_for

from sipas.accounts import login
from sipas.clock import utcnow
from sipas.console import bp
from sipas.console.auth import allowed_units, current_user, login_required, login_user, logout_user
from sipas.context import get_settings
from sipas.storage import db_session
from sipas.todo import add_console_todo, collect


def init_app(app: Flask) -> None:
    from sipas.context import add_console_nav

    add_console_nav(app, "console.dossiers", "Hồ sơ", order=10, roles=("admin", "clerk", "leader"))
    add_console_nav(app, "console.ballots", "Phiếu giấy", order=15, roles=("admin", "clerk"))
    add_console_nav(app, "console.cases", "Phản ánh", order=16, roles=("admin", "clerk", "leader"))
    add_console_nav(app, "console.units", "Đơn vị", order=80)
    add_console_nav(app, "console.users", "Tài khoản", order=85, roles=("admin",))
    add_console_nav(app, "console.api_keys", "Khóa API", order=86, roles=("admin",))
    add_console_nav(app, "console.audit_log", "Nhật ký", order=90)
    from sipas.cases.todo import overdue_cases

    add_console_todo(app, overdue_cases)

    @app.context_processor
    def console_context() -> dict[str, object]:
        user = current_user() if request.blueprint and request.blueprint != "api" else None
        nav = sorted(current_app.extensions["sipas_console_nav"], key=lambda item: item["order"])
        if user is not None:
            nav = [item for item in nav if not item["roles"] or str(user.role) in item["roles"]]
        return {"current_user": user, "console_nav": nav}

    @app.get("/")
    def index():  # type: ignore[no-untyped-def]
        """The root sends clerks to the console."""
        return redirect(url_for("console.home"))


@bp.route("/login", methods=["GET", "POST"], endpoint="login")
def login_page():  # type: ignore[no-untyped-def]
    """Log a clerk in, with a limit on failed attempts."""
    if request.method == "POST":
        if not request.form.get("username", "").strip() or not request.form.get("password", ""):
            flash("Vui lòng nhập tên đăng nhập và mật khẩu.", "error")  # not a failed attempt: nothing was tried
            return render_template("console/login.html"), 400
        settings, now = get_settings(), utcnow()
        session = db_session()
        outcome = login(
            session,
            request.form.get("username", ""),
            request.form.get("password", ""),
            client=request.remote_addr or "?",
            now=now,
            max_failures=settings.login_max_failures,
            window=timedelta(minutes=settings.login_window_minutes),
        )
        session.commit()
        if outcome.throttled:
            wait = outcome.wait_words(now, timedelta(minutes=settings.login_window_minutes), settings.tz)
            flash(f"Đăng nhập sai quá nhiều lần. Vui lòng thử lại {wait}.", "error")
            return render_template("console/login.html"), 429
        if outcome.user is None:
            flash("Tên đăng nhập hoặc mật khẩu không đúng.", "error")
            return render_template("console/login.html"), 401
        login_user(outcome.user)
        target = request.args.get("next", "")
        if not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
            target = url_for("console.home")
        return redirect(target)
    return render_template("console/login.html")



@bp.post("/logout")
def logout():  # type: ignore[no-untyped-def]
    """Log out."""
    logout_user()
    flash("Đã đăng xuất.", "info")
    return redirect(url_for("console.login"))


@bp.get("/")
@login_required
def home():  # type: ignore[no-untyped-def]
    """The console home: the to-do list of the user's units, the units, and the pages channels add."""
    user, units = current_user(), allowed_units()
    assert user is not None
    todo = collect(current_app, db_session(), units, utcnow(), get_settings().tz, role=str(user.role))
    return render_template("console/home.html", units=units, todo=todo)
