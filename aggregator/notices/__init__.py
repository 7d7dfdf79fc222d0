"""The quarterly notice (Thông báo …/TB-UBND): drafting, issuing, documents and the public page."""

from __future__ import annotations

import threading

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the console pages, the public page and the menu entry."""
    from aggregator.notices import editor, public, views  # noqa: F401  (editor routes register on views.bp)
    from sipas.context import add_console_nav, exempt_from_session

    app.register_blueprint(views.bp)
    app.register_blueprint(public.bp)
    # The public pages carry no session: the QR's reader gets no cookie, and the copy check reads and stores
    # nothing and answers only whoever sent the file, so a cross-site post of it gains nothing (no CSRF token).
    exempt_from_session(public.bp)
    add_console_nav(app, "notices.index", "Thông báo kết quả", order=42, roles=("admin", "clerk", "leader"))
    from aggregator.notices.todo import notice_not_issued
    from sipas.todo import add_console_todo

    add_console_todo(app, notice_not_issued)
    if not app.testing:  # the first DOCX of a worker would otherwise load CairoSVG and the fonts (~2 s)
        from aggregator.notices.chart_png import warm_up

        threading.Thread(target=warm_up, name="chart-warm-up", daemon=True).start()
