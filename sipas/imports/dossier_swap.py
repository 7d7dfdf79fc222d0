"""The swap of a dossier import: staged rows become dossiers in one short transaction, with set-based statements.

The rules are those of ``apply_dossier`` (values, local dates, ``updated_at`` only on a real change, phone and
consent through ``update_contact``), applied to plain rows read a chunk at a time: no ORM object per row, one
``INSERT``/``UPDATE`` executemany per table and chunk. That keeps the write transaction short (API writers
wait behind it) and memory flat whatever the size of the file.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Update

from sipas.clock import local_date
from sipas.dossiers import UNRETURN_RATED, DossierInput, update_contact
from sipas.errors import ValidationError
from sipas.imports.report import ImportReport
from sipas.models import Dossier, DossierContact, Response, Unit

DOSSIER: Table = Dossier.__table__  # type: ignore[assignment]
CONTACT: Table = DossierContact.__table__  # type: ignore[assignment]
CONTACT_COLUMNS = ("phone_e164", "phone_hash", "sms_consent", "consent_at", "consent_method", "consent_wording_version",
                   "erased_at")
VALUE_COLUMNS = ("procedure", "field", "intake_channel", "received_at", "due_at", "returned_at",
                 "received_local_date", "due_local_date", "returned_local_date")


@dataclass
class ContactState:
    """A contact row as plain attributes, for ``update_contact`` (``None`` everywhere for a new contact)."""

    id: int | None = None
    phone_e164: str | None = None
    phone_hash: str | None = None
    sms_consent: bool | None = None
    consent_at: datetime | None = None
    consent_method: str | None = None
    consent_wording_version: str | None = None
    erased_at: datetime | None = None

    def row(self, dossier_id: int) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "id"}
        values["sms_consent"] = bool(values["sms_consent"])  # the column default for a contact never asked
        return {"b_id": self.id, **values} if self.id else {"dossier_id": dossier_id, **values}


@dataclass
class Plan:
    """What one chunk writes."""

    new_dossiers: list[dict[str, Any]]
    changed_dossiers: list[dict[str, Any]]
    new_contacts: dict[str, ContactState]  # by code (the dossier may be new: its id is known after insert)
    changed_contacts: list[dict[str, Any]]
    unreturned: list[int]  # stored dossiers whose return date the file clears (refused if rated)


def swap_chunk(session: Session, unit: Unit, items: list[DossierInput], report: ImportReport, *, tz: tzinfo,
               now: datetime, secret: str) -> None:
    """Create or update the dossiers of one chunk of staged rows (codes are unique within a run)."""
    stored = _stored(session, unit, [item.code for item in items])
    plan = Plan([], [], {}, [], [])
    for item in items:
        _plan_row(plan, unit, item, stored.get(item.code), report, tz=tz, now=now, secret=secret)
    if plan.unreturned and session.scalar(select(Response.id).where(Response.dossier_id.in_(plan.unreturned))
                                          .limit(1)) is not None:
        raise ValidationError(UNRETURN_RATED, field="returned_at", detail="dossier rated while the file was staged")
    ids = {code: row[0] for code, row in stored.items()}
    if plan.new_dossiers:  # plain executemany (the ORM's bulk insert with RETURNING is far slower on SQLite)
        session.execute(insert(DOSSIER), plan.new_dossiers)
        new_codes = [row["code"] for row in plan.new_dossiers]
        ids.update((code, dossier_id) for dossier_id, code in session.execute(
            select(DOSSIER.c.id, DOSSIER.c.code).where(DOSSIER.c.unit_id == unit.id, DOSSIER.c.code.in_(new_codes))))
    if plan.changed_dossiers:
        session.execute(_by_id(DOSSIER, ("updated_at", *VALUE_COLUMNS)), plan.changed_dossiers)
    if plan.new_contacts:
        session.execute(insert(CONTACT), [state.row(ids[code]) for code, state in plan.new_contacts.items()])
    if plan.changed_contacts:
        session.execute(_by_id(CONTACT, CONTACT_COLUMNS), plan.changed_contacts)


def _by_id(table: Table, columns: tuple[str, ...]) -> Update:
    """``UPDATE table SET columns WHERE id = :b_id`` for an executemany of rows keyed like the table."""
    return update(table).where(table.c.id == bindparam("b_id")).values({name: bindparam(name) for name in columns})


def _stored(session: Session, unit: Unit, codes: list[str]) -> dict[str, Any]:
    """(id, values..., contact) of the stored dossiers among ``codes``, by code, in one query."""
    contact_columns = [getattr(DossierContact, f.name) for f in fields(ContactState)]
    query = (select(Dossier.id, Dossier.code, *[getattr(Dossier, name) for name in VALUE_COLUMNS], *contact_columns)
             .outerjoin(DossierContact, DossierContact.dossier_id == Dossier.id)
             .where(Dossier.unit_id == unit.id, Dossier.code.in_(codes)))
    return {row[1]: row for row in session.execute(query)}


def _plan_row(plan: Plan, unit: Unit, data: DossierInput, stored: Any, report: ImportReport, *, tz: tzinfo,
              now: datetime, secret: str) -> None:
    data.check()
    values = {"procedure": data.procedure, "field": data.field, "intake_channel": data.intake_channel,
              "received_at": data.received_at, "due_at": data.due_at, "returned_at": data.returned_at,
              "received_local_date": local_date(data.received_at, tz),
              "due_local_date": local_date(data.due_at, tz) if data.due_at else None,
              "returned_local_date": local_date(data.returned_at, tz) if data.returned_at else None}
    if stored is None:
        plan.new_dossiers.append({"unit_id": unit.id, "code": data.code, "created_at": now, "updated_at": now,
                                  **values})
        if data.phone_e164 is not None or data.sms_consent is not None:
            contact = ContactState()
            update_contact(contact, data, now=now, secret=secret)
            plan.new_contacts[data.code] = contact
        report.created += 1
        return
    before = dict(zip(VALUE_COLUMNS, stored[2:2 + len(VALUE_COLUMNS)], strict=True))
    if before["returned_at"] is not None and data.returned_at is None:
        plan.unreturned.append(stored[0])
    changed = before != values
    if _plan_contact(plan, stored, data, now=now, secret=secret):
        changed = True
    if changed:
        plan.changed_dossiers.append({"b_id": stored[0], "updated_at": now, **values})
        report.updated += 1
    else:
        report.unchanged += 1


def _plan_contact(plan: Plan, stored: Any, data: DossierInput, *, now: datetime, secret: str) -> bool:
    if data.phone_e164 is None and data.sms_consent is None:
        return False
    contact = ContactState(*stored[2 + len(VALUE_COLUMNS):])
    if contact.id is None:
        update_contact(contact, data, now=now, secret=secret)
        plan.new_contacts[data.code] = contact
        return True
    if contact.erased_at is not None:
        return False  # erased on request: a later import must not bring the number back
    if not update_contact(contact, data, now=now, secret=secret):
        return False
    plan.changed_contacts.append(contact.row(stored[0]))
    return True
