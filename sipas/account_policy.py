"""Who may manage which account: the account model, enforced in one place (console and CLI call these).

- A global admin is an admin without units: manages every account, unit and key.
- A unit or district admin is an admin with units: its scope is those units and every unit below them. It
  manages only accounts whose units all lie inside its scope, never an admin whose scope is wider than its
  own and never a global admin, and it cannot grant units outside its scope (so never a global admin).
- Nobody resets, locks or re-roles its own account from the administration pages (the own password is
  changed on the password page, which asks for the current one).
- A clerk works on dossiers of its units; a leader reads them. Neither manages accounts.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from sipas.accounts import units_of
from sipas.models import Role, Unit, User
from sipas.text import vietnamese_key


def is_global_admin(user: User) -> bool:
    return user.role is Role.ADMIN and not user.units


def is_admin(user: User) -> bool:
    return user.role is Role.ADMIN


def scope_ids(session: Session, user: User) -> set[int]:
    """Ids of every unit the user may act for (all units for a global admin)."""
    return {u.id for u in units_of(session, user)}


def _within(session: Session, actor: User, units: Iterable[Unit]) -> bool:
    if is_global_admin(actor):
        return True
    mine = scope_ids(session, actor)
    return all(u.id in mine for u in units)


def can_grant(session: Session, actor: User, role: Role, units: list[Unit]) -> bool:
    """May ``actor`` give an account ``role`` over ``units``? Never wider than its own scope."""
    if not is_admin(actor):
        return False
    if is_global_admin(actor):
        return True
    if role is Role.ADMIN and not units:
        return False  # that would be a global admin
    return bool(units) and _within(session, actor, units)


def can_manage_user(session: Session, actor: User, target: User) -> bool:
    """May ``actor`` reset, lock, or change the role and units of ``target``?"""
    if not is_admin(actor) or not actor.active:
        return False
    if is_global_admin(actor):
        return True
    if is_global_admin(target):
        return False
    return _within(session, actor, target.units)


def manageable_users(session: Session, actor: User) -> list[User]:
    """Every account ``actor`` may manage, by username in Vietnamese alphabetical order (``sipas.text``):
    ``can_manage_user`` with the scope computed once (the users page and the audit page list them; one scope walk
    instead of one per account)."""
    if not is_admin(actor) or not actor.active:
        return []
    accounts = sorted(session.scalars(select(User).options(selectinload(User.units))),
                      key=lambda u: vietnamese_key(u.username))
    if is_global_admin(actor):
        return accounts
    mine = scope_ids(session, actor)
    return [u for u in accounts if not is_global_admin(u) and all(unit.id in mine for unit in u.units)]


def can_reset_password(session: Session, actor: User, target: User) -> bool:
    """May ``actor`` give ``target`` a new generated password? Never its own account: that would let an open
    (or stolen) session replace the password without knowing it; one's own goes through the password page."""
    return actor.id != target.id and can_manage_user(session, actor, target)


def can_manage_unit(session: Session, actor: User, unit: Unit) -> bool:
    """May ``actor`` manage ``unit`` itself (settings, API keys, units below it)?"""
    return is_admin(actor) and (is_global_admin(actor) or unit.id in scope_ids(session, actor))


def can_create_unit(session: Session, actor: User, parent: Unit | None) -> bool:
    """A top-level unit only by a global admin; a unit below ``parent`` by an admin whose scope holds it."""
    if parent is None:
        return is_global_admin(actor)
    return can_manage_unit(session, actor, parent)
