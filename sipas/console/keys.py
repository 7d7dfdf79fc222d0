"""Console pages for integration API keys: create with a name, revoke, see when each was last used.

Admins manage the keys of the units in their scope (``sipas.account_policy.can_manage_unit``)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from sipas.account_policy import can_manage_unit
from sipas.accounts import create_api_key, revoke_api_key
from sipas.clock import utcnow
from sipas.console import bp
from sipas.console.auth import actor_name, allowed_units, current_user, roles_required, unit_for_user
from sipas.console.refusal import refuse
from sipas.errors import DomainError
from sipas.models import ApiKey, Role
from sipas.parsing import clean_text
from sipas.storage import db_session


@bp.get("/keys")
@roles_required(Role.ADMIN)
def api_keys():  # type: ignore[no-untyped-def]
    """The keys of the admin's units, newest first."""
    units = allowed_units()
    keys = db_session().scalars(select(ApiKey).where(ApiKey.unit_id.in_([u.id for u in units]))
                                .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())).all()
    return render_template("console/admin/keys.html", keys=keys, units=units)


@bp.post("/keys")
@roles_required(Role.ADMIN)
def create_key():  # type: ignore[no-untyped-def]
    """Create a key for a unit in scope; its plaintext is shown once."""
    session = db_session()
    unit = unit_for_user(request.form.get("unit", ""))
    try:
        name = clean_text(request.form.get("name", ""), field="name", max_length=200, required=True)
    except DomainError as exc:
        refuse(f"Tên khóa: {exc.message_vi}", "name")
        return api_keys(), 422
    _key, plaintext = create_api_key(session, unit, name=name, actor=actor_name())
    session.commit()
    flash(f"Đã tạo khóa “{name}” cho {unit.code}. Khóa (chỉ hiện một lần, hãy lưu lại): {plaintext}", "success")
    return redirect(url_for("console.api_keys"))


@bp.post("/keys/<int:key_id>/revoke")
@roles_required(Role.ADMIN)
def revoke_key(key_id: int):  # type: ignore[no-untyped-def]
    """Revoke a key of a unit in scope; 404 for any other key."""
    session, me = db_session(), current_user()
    key = session.get(ApiKey, key_id)
    if key is None or me is None or not can_manage_unit(session, me, key.unit):
        abort(404)
    revoke_api_key(session, key, now=utcnow(), actor=actor_name())
    session.commit()
    flash(f"Đã thu hồi khóa “{key.name or key.prefix}”.", "success")
    return redirect(url_for("console.api_keys"))
