"""Dossier import, staging and swap: each checked row is planned (insert or update, with its contact) while the file
is staged, and the swap copies the planned rows with a few set-based statements in one short transaction.

The rules are those of ``apply_dossier`` (values, local dates, ``updated_at`` only on a real change, phone and
consent through ``update_contact``), applied to plain rows: no ORM object per row. The swap itself does no
per-row work in Python (``INSERT … SELECT`` and ``UPDATE … FROM`` the staging table), so API writers wait
behind a transaction of seconds at most, never behind the file. What changed between staging and swap is a
conflict: a dossier rated meanwhile whose return date the file clears, a code or a contact created meanwhile
(unique constraints); the whole swap is then rolled back. On SQLite the swap counts its dossiers' events itself,
set-based, with the event row triggers dropped for its own transaction (``_suspend_event_triggers``): they were
half of a 100,000-row swap.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import Table, and_, func, insert, select, text, update
from sqlalchemy.orm import Session

from sipas import dossier_events
from sipas.clock import local_date
from sipas.dossier_events import KEY, TABLE, event_selects, first_of
from sipas.dossiers import UNRETURN_RATED, DossierInput, update_contact
from sipas.errors import ValidationError
from sipas.imports.report import ImportReport
from sipas.models import Dossier, DossierContact, DossierStaging, Response, Unit

DOSSIER: Table = Dossier.__table__  # type: ignore[assignment]
CONTACT: Table = DossierContact.__table__  # type: ignore[assignment]
STAGING: Table = DossierStaging.__table__  # type: ignore[assignment]
VALUE_COLUMNS = ("procedure", "field", "intake_channel", "received_at", "due_at", "returned_at",
                 "received_local_date", "due_local_date", "returned_local_date")
CONTACT_COLUMNS = ("phone_e164", "phone_hash", "sms_consent", "consent_at", "consent_method", "consent_wording_version")


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

    def values(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in CONTACT_COLUMNS}
        values["sms_consent"] = bool(values["sms_consent"])  # the column default for a contact never asked
        return values


def plan_batch(session: Session, unit: Unit, items: list[tuple[int, DossierInput]], report: ImportReport, *,
               tz: tzinfo, now: datetime, secret: str) -> list[dict[str, Any]]:
    """The staging rows of one batch (unchanged dossiers are only counted); codes are unique within a run."""
    stored = _stored(session, unit, [item.code for _, item in items])
    planned = []
    for row, item in items:
        staged = _plan_row(unit, item, stored.get(item.code), report, tz=tz, now=now, secret=secret)
        if staged is not None:
            planned.append({"row": row, **staged})
    _number_new_dossiers(session, planned)
    return planned


def _number_new_dossiers(session: Session, planned: list[dict[str, Any]]) -> None:
    """On PostgreSQL, a new dossier's id is drawn from the table's sequence when it is staged, so the swap writes
    its contact by that id with no lookup of the dossiers it has just inserted (see ``swap``). An import that never
    swaps leaves a gap in the ids, as a rolled-back insert does. SQLite has no sequence: its swap looks the new
    dossiers up by their unique (unit, code), which SQLite's planner always does by that index."""
    new = [row for row in planned if row["op"] == "insert"]
    if not new or session.get_bind().dialect.name != "postgresql":
        return
    ids = session.scalars(text("SELECT nextval(pg_get_serial_sequence('dossier', 'id')) FROM generate_series(1, :n)"),
                          {"n": len(new)}).all()
    for row, dossier_id in zip(new, ids, strict=True):
        row["dossier_id"] = dossier_id


def swap(session: Session, unit: Unit, token: str) -> None:
    """Copy the planned rows of run ``token`` into the real tables (the caller's transaction; it commits)."""
    run = and_(STAGING.c.token == token, STAGING.c.unit_id == unit.id)
    _lock_rows(session, unit, token, run)
    row_triggers = _suspend_event_triggers(session, token, unit.id)
    # the updates first: like a rating (sipas.tally), the swap then locks dossier rows before the event rows its
    # triggers write (sipas.dossier_events), so the two cannot deadlock on PostgreSQL
    session.execute(update(DOSSIER).values({name: STAGING.c[name] for name in VALUE_COLUMNS}
                                           | {"updated_at": STAGING.c.created_at})
                    .where(DOSSIER.c.id == STAGING.c.dossier_id, run, STAGING.c.op == "update"))
    # a rated dossier the swap would leave without a return date: one the file clears, and one that was returned
    # and rated while the file was staged (its row was planned from the dossier as it was then, not returned).
    # Read after the updates, which hold the dossier rows: on PostgreSQL a rating still running then has committed
    # (the update waited for its row) and is seen here, and a later one waits and finds no return date
    # (sipas.rating_statement); read before, a rating committed between the read and the update was missed
    rated = select(Response.id).join(STAGING, Response.dossier_id == STAGING.c.dossier_id).where(
        run, STAGING.c.op == "update", STAGING.c.returned_at.is_(None)).limit(1)
    if session.scalar(rated) is not None:
        raise ValidationError(UNRETURN_RATED, field="returned_at", detail="dossier rated while the file was staged")
    numbered = session.get_bind().dialect.name == "postgresql"  # ids drawn at staging (_number_new_dossiers)
    columns = ("unit_id", "code", "created_at", *VALUE_COLUMNS)
    copied = [STAGING.c[name] for name in columns] + [STAGING.c.created_at] + ([STAGING.c.dossier_id] if numbered
                                                                               else [])
    session.execute(insert(DOSSIER).from_select([*columns, "updated_at", *(["id"] if numbered else [])],
                                                select(*copied).where(run, STAGING.c.op == "insert")))
    # A new contact's dossier is its staged id (on SQLite, a new dossier's is looked up by its unique (unit,
    # code)). Joined by code, PostgreSQL planned the dossiers just inserted, in no statistics yet, by the table's
    # last analysis: with three dossiers then, it read the whole run once per dossier (quadratic: minutes for
    # 20,000 rows with the swap's locks held; tests/imports/test_swap_statistics.py).
    looked_up = select(DOSSIER.c.id).where(DOSSIER.c.unit_id == unit.id,
                                           DOSSIER.c.code == STAGING.c.code).scalar_subquery()
    session.execute(insert(CONTACT).from_select(
        ["dossier_id", *CONTACT_COLUMNS],
        select(func.coalesce(STAGING.c.dossier_id, looked_up), *[STAGING.c[name] for name in CONTACT_COLUMNS])
        .where(run, STAGING.c.contact_op == "insert")))
    session.execute(update(CONTACT).values({name: STAGING.c[name] for name in CONTACT_COLUMNS})
                    .where(CONTACT.c.id == STAGING.c.contact_id, run, STAGING.c.contact_op == "update",
                           CONTACT.c.erased_at.is_(None)))  # erased meanwhile: the number stays erased
    for statement in row_triggers:  # the same triggers again, for every other writer (the swap's transaction)
        session.execute(text(statement))


#: The event columns (``dossier_events.SOURCE_COLUMNS``) of the dossiers run ``:token`` of unit ``:unit_id`` updates, as
#: they are stored: the rows whose events the swap takes away
STORED_ROWS = (f"SELECT {', '.join(f'o.{c} AS {c}' for c in dossier_events.SOURCE_COLUMNS)} "
               "FROM dossier_staging AS s JOIN dossier AS o ON o.id = s.dossier_id "
               "WHERE s.token = :token AND s.unit_id = :unit_id AND s.op = 'update'")
#: ... and of every dossier of the run as the file makes it (an updated one's rating counts kept, a new one's 0): the
#: rows whose events the swap adds
STAGED_ROWS = ("SELECT s.unit_id AS unit_id, s.field AS field, s.intake_channel AS intake_channel, "
               "s.received_local_date AS received_local_date, s.due_local_date AS due_local_date, "
               "s.returned_local_date AS returned_local_date, COALESCE(o.responses, 0) AS responses, "
               "COALESCE(o.negative_responses, 0) AS negative_responses FROM dossier_staging AS s "
               "LEFT JOIN dossier AS o ON o.id = s.dossier_id AND s.op = 'update' "
               "WHERE s.token = :token AND s.unit_id = :unit_id")
#: SQLite's row triggers that keep ``dossier_event_tally`` on an insert and an update (``sipas.dossier_events``)
EVENT_TRIGGERS = ("dossier_events_insert", "dossier_events_update")


def _suspend_event_triggers(session: Session, token: str, unit_id: int) -> list[str]:
    """SQLite: add the events of the whole run to ``dossier_event_tally`` in one set-based statement and drop the
    row triggers for the rest of the swap's transaction; returns their ``CREATE TRIGGER`` statements, which the
    swap runs again before it ends. SQLite's DDL is transactional: a swap rolled back (a conflict) brings the
    triggers back with everything else, and no other writer runs while the swap holds the write lock, so none
    can miss them. PostgreSQL's statement triggers already count a swap's rows in one statement: nothing to do.

    The row triggers cost half of a 100,000-row swap (12 event ``SELECT`` and an upsert per dossier: 5.1-5.9 s
    of 10.1-11.0 s at load 4, docs/performance.md), the time a rating waits behind the swap's write lock. Each
    updated dossier counts -1 as it is now and +1 with its staged values (its rating counts unchanged: nothing
    else writes during the swap), each new dossier +1 with no rating, exactly what the triggers would add."""
    if session.get_bind().dialect.name != "sqlite":
        return []
    saved = list(session.execute(
        text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'dossier' "
             "AND name IN (:insert, :update)"), {"insert": EVENT_TRIGGERS[0], "update": EVENT_TRIGGERS[1]}))
    if len(saved) != len(EVENT_TRIGGERS):  # a database without them (being migrated): the triggers, if any, count
        return []
    selects = (event_selects("sqlite", "o", f" FROM ({STORED_ROWS}) AS o", -1, ("day",))
               + event_selects("sqlite", "n", f" FROM ({STAGED_ROWS}) AS n", 1, ("day",)))
    session.execute(text(_upsert_by_days(selects)), {"token": token, "unit_id": unit_id})
    for name, _sql in saved:
        session.execute(text(f"DROP TRIGGER {name}"))
    return [sql for _name, sql in saved]


def _lock_rows(session: Session, unit: Unit, token: str, run: Any) -> None:
    """PostgreSQL: the dossiers the swap updates, in id order, then every event row its two statements will write,
    in key order (``dossier_events.lock_sql``), as a rating locks its dossier and then its event rows. The swap's
    updates and inserts each upsert their event rows sorted, but the inserts' rows may come before the updates':
    a rating of another dossier of the unit locking its rows between the two deadlocked with the swap
    (tests/imports/test_swap_contention.py). SQLite has one writer at a time."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(select(DOSSIER.c.id).where(DOSSIER.c.id == STAGING.c.dossier_id, run, STAGING.c.op == "update")
                    .order_by(DOSSIER.c.id).with_for_update(of=DOSSIER))
    session.execute(text(dossier_events.lock_sql(f"{STORED_ROWS} UNION ALL {STAGED_ROWS}")),
                    {"token": token, "unit_id": unit.id})


def _stored(session: Session, unit: Unit, codes: list[str]) -> dict[str, Any]:
    """(id, values..., contact) of the stored dossiers among ``codes``, by code, in one query."""
    contact_columns = [getattr(DossierContact, f.name) for f in fields(ContactState)]
    query = (select(Dossier.id, Dossier.code, *[getattr(Dossier, name) for name in VALUE_COLUMNS], *contact_columns)
             .outerjoin(DossierContact, DossierContact.dossier_id == Dossier.id)
             .where(Dossier.unit_id == unit.id, Dossier.code.in_(codes)))
    return {row[1]: row for row in session.execute(query)}


def _plan_row(unit: Unit, data: DossierInput, stored: Any, report: ImportReport, *, tz: tzinfo, now: datetime,
              secret: str) -> dict[str, Any] | None:
    data.check()
    values = {"procedure": data.procedure, "field": data.field, "intake_channel": data.intake_channel,
              "received_at": data.received_at, "due_at": data.due_at, "returned_at": data.returned_at,
              "received_local_date": local_date(data.received_at, tz),
              "due_local_date": local_date(data.due_at, tz) if data.due_at else None,
              "returned_local_date": local_date(data.returned_at, tz) if data.returned_at else None}
    staged = {"unit_id": unit.id, "code": data.code, "created_at": now, "contact_op": None,
              "contact_id": None, **values, **dict.fromkeys(CONTACT_COLUMNS)}
    if stored is None:
        if data.phone_e164 is not None or data.sms_consent is not None:
            contact = ContactState()
            update_contact(contact, data, now=now, secret=secret)
            staged |= {"contact_op": "insert", **contact.values()}
        report.created += 1
        return staged | {"op": "insert", "dossier_id": None}
    before = dict(zip(VALUE_COLUMNS, stored[2:2 + len(VALUE_COLUMNS)], strict=True))
    changed = before != values
    contact = _plan_contact(stored, data, now=now, secret=secret)
    if contact is not None:
        staged |= contact
        changed = True
    if not changed:
        report.unchanged += 1
        return None
    report.updated += 1
    return staged | {"op": "update", "dossier_id": stored[0]}


def _plan_contact(stored: Any, data: DossierInput, *, now: datetime, secret: str) -> dict[str, Any] | None:
    if data.phone_e164 is None and data.sms_consent is None:
        return None
    contact = ContactState(*stored[2 + len(VALUE_COLUMNS):])
    if contact.id is None:
        update_contact(contact, data, now=now, secret=secret)
        return {"contact_op": "insert", **contact.values()}
    if contact.erased_at is not None:
        return None  # erased on request: a later import must not bring the number back
    if not update_contact(contact, data, now=now, secret=secret):
        return None
    return {"contact_op": "update", "contact_id": contact.id, **contact.values()}


def _upsert_by_days(day_selects: list[str]) -> str:
    """The events of ``day_selects`` at every grain, upserted as ``sipas.dossier_events.upsert_sql`` does: the day
    rows summed once, the month and year rows from those sums (as ``rebuild_events``; the 12 ``SELECT`` per
    dossier of the triggers, unioned over a whole run, took as long as the triggers themselves)."""
    key = ", ".join(KEY)
    union = "\nUNION ALL\n".join(day_selects)
    grains = [f"SELECT {key}, n FROM day"]
    for grain, classes in (("month", "forms, handling"), ("year", "0, ''")):  # a year row has neither
        grains.append(f"SELECT unit_id, '{grain}', {first_of('sqlite', grain, 'local_date')}, field, kind, online, "
                      f"negative, {classes}, n FROM day")
    return (f"WITH day AS MATERIALIZED (SELECT {key}, SUM(n) AS n FROM (\n{union}\n) AS events "
            f"WHERE local_date IS NOT NULL GROUP BY {key})\n"
            f"INSERT INTO {TABLE} ({key}, dossiers)\n"
            f"SELECT {key}, SUM(n) FROM (" + "\nUNION ALL\n".join(grains) + ") AS events WHERE true\n"
            f"GROUP BY {key} HAVING SUM(n) <> 0 ORDER BY {key}\n"
            f"ON CONFLICT ({key}) DO UPDATE SET dossiers = {TABLE}.dossiers + excluded.dossiers")
