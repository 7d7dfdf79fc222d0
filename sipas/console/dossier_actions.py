"""Console actions on one dossier: record that its result was handed back at the counter."""

from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from sqlalchemy import select

from sipas.clock import utcnow
from sipas.console import bp
from sipas.console.auth import actor_name, roles_required, unit_for_user
from sipas.context import get_settings
from sipas.dossiers import mark_returned
from sipas.errors import ValidationError
from sipas.models import Dossier, Role
from sipas.parsing import parse_timestamp
from sipas.storage import db_session


@bp.post("/dossiers/return", endpoint="dossier_return")
@roles_required(Role.ADMIN, Role.CLERK)
def dossier_return():  # type: ignore[no-untyped-def]
    """Mark a dossier returned now (or at the time the clerk gives), then show it again."""
    settings, session, now = get_settings(), db_session(), utcnow()
    unit = unit_for_user(request.form.get("unit", "").strip())
    code = request.form.get("code", "").strip()
    dossier = session.scalar(select(Dossier).where(Dossier.unit_id == unit.id, Dossier.code == code))
    if dossier is None:
        flash("Không tìm thấy hồ sơ.", "error")
        return redirect(url_for("console.dossiers"))
    given = request.form.get("returned_at", "").strip()
    try:
        returned_at = parse_timestamp(given, settings.tz, field="returned_at") if given else now
        mark_returned(session, dossier, returned_at=returned_at, tz=settings.tz, now=now,
                      secret=current_app.config["SECRET_KEY"], actor=actor_name())
    except ValidationError as exc:
        session.rollback()
        flash(f"Không ghi nhận được: {exc.message_vi}", "error")
    else:
        session.commit()
        flash("Đã ghi nhận trả kết quả. Người dân có thể đánh giá hồ sơ này ngay.", "success")
    return redirect(url_for("console.dossier_detail", unit_code=unit.code, code=code))
