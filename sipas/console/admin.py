"""Console pages for unit settings (notice defaults, kiosk instrument) and the audit log."""

from __future__ import annotations

import unicodedata

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from sipas.account_policy import can_create_unit
from sipas.audit import audit
from sipas.audit_text import filter_options, full_names, sentence, technical
from sipas.ballots import BALLOT_DOUBLE_ENTRY
from sipas.clock import local_date, utcnow
from sipas.console import bp
from sipas.console.auth import actor_name, allowed_units, current_user, roles_required, unit_for_user
from sipas.console.refusal import refuse
from sipas.context import get_catalogue, get_settings
from sipas.errors import DomainError, ValidationError
from sipas.models import AuditEvent, Role, UnitKind
from sipas.parsing import clean_text
from sipas.security_audit import action_starts_with, visible_filter
from sipas.storage import db_session
from sipas.units import can_have_units_below, change_kiosk_instrument, create_unit, renamed_defaults

AUDIT_PAGE_SIZE = 50
#: the log's pages count at most this many events ("hơn 10.000 sự kiện"): counting all of them read the whole log
#: on every page (238 ms at 1 M events, linear in the log)
AUDIT_COUNT_CAP = 10_000
MAX_PAGE = 100_000  # beyond any real list; keeps OFFSET within a database integer
_UNIT_TEXT_FIELDS = {
    "name": ("Tên đơn vị", 200),
    "issuing_body": ("Cơ quan ban hành (mỗi dòng một dòng in)", 200),
    "place_name": ("Địa danh ghi ở dòng ngày tháng", 200),
    "signatory_title": ("Chức danh người ký (mỗi dòng một dòng in, ví dụ KT. CHỦ TỊCH / PHÓ CHỦ TỊCH)", 100),
    "signatory_name": ("Họ tên người ký", 200),
}
#: printed line by line (the issuing body's two lines; a deputy's "KT. CHỦ TỊCH" over "PHÓ CHỦ TỊCH")
_MULTILINE_FIELDS = frozenset({"issuing_body", "signatory_title"})


def _unit_text(name: str, raw: str, length: int) -> str:
    """A settings field as stored: composed (NFC: marks typed decomposed, as Unikey's "Unicode tổ hợp" or a Mac
    does, print and compare as the same letters), spaces collapsed; the lines of a multi-line field kept, empty
    ones dropped."""
    raw = unicodedata.normalize("NFC", raw)
    if name not in _MULTILINE_FIELDS:
        return clean_text(raw, field=name, max_length=length, required=name == "name")
    value = "\n".join(clean_text(line, field=name, max_length=length) for line in raw.splitlines() if line.strip())
    if len(value) > length:  # the column holds the line breaks too
        raise ValidationError(f"Quá dài (tối đa {length} ký tự).", field=name, detail=f"longer than {length}")
    return value


@bp.get("/units")
@roles_required(Role.ADMIN, Role.CLERK, Role.LEADER)
def units():  # type: ignore[no-untyped-def]
    """The units the user may act for, with a link to their settings, and for an admin the form creating a unit
    below one of them that may have units below it (a province or district; never a ward or commune)."""
    units = allowed_units()
    parents = [u for u in units if can_have_units_below(u)]
    return render_template("console/admin/units.html", units=units, parents=parents)


@bp.post("/units")
@roles_required(Role.ADMIN)
def create_unit_page():  # type: ignore[no-untyped-def]
    """Create a ward, commune, district or province: top level for a global admin, below a unit in scope
    for a unit or district admin."""
    session, me = db_session(), current_user()
    assert me is not None
    parent_code = request.form.get("parent", "").strip()
    parent = unit_for_user(parent_code) if parent_code else None
    if not can_create_unit(session, me, parent):
        abort(403)
    try:
        kind = UnitKind(request.form.get("kind", "ward"))
        name = clean_text(request.form.get("name", ""), field="name", max_length=200, required=True)
        unit = create_unit(session, code=request.form.get("code", ""), name=name, kind=kind, parent=parent,
                           actor=actor_name())
    except ValueError:
        refuse("Cấp đơn vị không hợp lệ.", "kind")
        return units(), 422
    except DomainError as exc:
        session.rollback()
        label = "Tên đơn vị" if exc.field == "name" else ""
        refuse(f"{label}: {exc.message_vi}" if label else exc.message_vi, exc.field)
        return units(), 422  # the page again, the typed values kept
    session.commit()
    flash(f"Đã tạo đơn vị {unit.code}: {unit.name}.", "success")
    return redirect(url_for("console.units"))


@bp.route("/units/<code>", methods=["GET", "POST"])
@roles_required(Role.ADMIN, Role.CLERK)
def unit_settings(code: str):  # type: ignore[no-untyped-def]
    """Edit a unit's notice defaults and the instrument its kiosk uses."""
    unit = unit_for_user(code)
    instruments = get_catalogue().latest(local_date(utcnow(), get_settings().tz))
    if request.method == "POST":
        session = db_session()
        try:
            changes = {}
            for name, (_label, length) in _UNIT_TEXT_FIELDS.items():
                value = _unit_text(name, request.form.get(name, ""), length)
                if getattr(unit, name) != value:
                    changes[name] = value
            instrument = request.form.get("default_instrument", unit.default_instrument)
            if instrument not in {i.code for i in instruments}:
                abort(400)
            if instrument != unit.default_instrument:
                changes["default_instrument"] = instrument
            anonymous = request.form.get("allow_anonymous") == "on"
            if anonymous != unit.allow_anonymous:
                changes["allow_anonymous"] = anonymous
            if "name" in changes:  # the notice header and date line made from the old name follow it
                changes |= renamed_defaults(unit, str(changes["name"]), changes)
            double_entry = request.form.get("ballot_double_entry") == "on"
            if double_entry != bool(unit.options.get(BALLOT_DOUBLE_ENTRY)):
                changes[BALLOT_DOUBLE_ENTRY] = double_entry
        except DomainError as exc:
            refuse(f"{_UNIT_TEXT_FIELDS.get(exc.field or '', ('',))[0]}: {exc.message_vi}", exc.field)
            return render_template("console/admin/unit.html", unit=unit, instruments=instruments,
                                   fields=_UNIT_TEXT_FIELDS, multiline=_MULTILINE_FIELDS), 422
        # a rename keeps the former name in the log: nothing else says what the unit was called before
        renamed = {"renamed_from": unit.name, "renamed_to": changes["name"]} if "name" in changes else {}
        for name, value in changes.items():
            if name == "default_instrument":
                change_kiosk_instrument(unit, str(value), now=utcnow())
            elif name == BALLOT_DOUBLE_ENTRY:
                unit.options = {**unit.options, name: value}  # a new dict: JSON columns track assignment only
            else:
                setattr(unit, name, value)
        if changes:
            audit(session, "unit.updated", actor=actor_name(), unit=unit, subject=unit.code, fields=sorted(changes),
                  **renamed)
        session.commit()
        flash("Đã lưu thông tin đơn vị." if changes else "Không có thay đổi.", "success")
        return redirect(url_for("console.unit_settings", code=unit.code))
    return render_template("console/admin/unit.html", unit=unit, instruments=instruments, fields=_UNIT_TEXT_FIELDS,
                           multiline=_MULTILINE_FIELDS)


@bp.get("/audit")
@roles_required(Role.ADMIN, Role.LEADER, Role.CLERK)
def audit_log():  # type: ignore[no-untyped-def]
    """The audit log of the user's units (an admin without units also sees system-wide events)."""
    session = db_session()
    unit_ids = [u.id for u in allowed_units()]
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
    action = request.args.get("action", "").strip()
    viewer = current_user()
    assert viewer is not None
    query = select(AuditEvent).where(visible_filter(session, viewer, unit_ids))
    if action:
        query = query.where(action_starts_with(action))
    total = session.scalar(select(func.count()).select_from(query.limit(AUDIT_COUNT_CAP + 1).subquery())) or 0
    more = total > AUDIT_COUNT_CAP  # shown as "hơn 10.000": the pages go on while there is a next event
    pages = max((min(total, AUDIT_COUNT_CAP) + AUDIT_PAGE_SIZE - 1) // AUDIT_PAGE_SIZE, 1)
    if not more:
        page = min(page, pages)  # no offset beyond 64 bits (MAX_PAGE bounds it otherwise)
    rows = session.scalars(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                           .limit(AUDIT_PAGE_SIZE + 1).offset((page - 1) * AUDIT_PAGE_SIZE)).all()
    events, has_next = rows[:AUDIT_PAGE_SIZE], len(rows) > AUDIT_PAGE_SIZE
    units_by_id = {u.id: u for u in allowed_units()}
    return render_template("console/admin/audit.html", events=events, units_by_id=units_by_id, page=page,
                           pages=pages, more=more, has_next=has_next, action=action, total=min(total, AUDIT_COUNT_CAP),
                           sentence=sentence, technical=technical, filter_options=filter_options,
                           names=full_names(session, (e.actor for e in events)))
