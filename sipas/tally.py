"""Keep ``answer_tally``, ``response_tally`` and each dossier's rating counts equal to a recount of the raw rows.

Every response is stored by ``sipas.responses.record_response`` (API, kiosk, phone form, SMS, imports,
demo data), which calls ``count_response`` inside the savepoint that inserts it: a refused duplicate or a
rolled-back request leaves the counts untouched. One path deletes responses one by one: a keyed paper ballot
corrected or removed (``sipas.ballots``), which calls ``uncount_response`` in the same transaction (before
``core_0024`` it did not). Otherwise responses are never edited or deleted (a re-import replays the stored response
through its idempotency key; emptying the demo database deletes every table). A new path that deletes or edits
responses must call ``uncount_response`` in its transaction, or ``rebuild`` afterwards. ``rebuild`` recomputes
everything from the raw rows (migration ``core_0014``, ``sipas db retally`` after a change of ``SIPAS_TIMEZONE``,
the benchmark generator, the property test), including each response's ``negative`` and ``follow_up`` flags,
which ``record_response`` sets from the same rules, and the dossier counts (``dossier.responses``,
``dossier.negative_responses``), whose changes the database's triggers
carry into ``dossier_event_tally`` (``sipas.dossier_events``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
from operator import itemgetter
from typing import Any, NamedTuple, Protocol

from sqlalchemy import (
    Connection,
    Date,
    Table,
    bindparam,
    delete,
    exists,
    func,
    literal,
    literal_column,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.orm import Session

from sipas.cases.rules import asks_for_action
from sipas.catalogue import Instrument
from sipas.clock import local_date
from sipas.dossier_events import first_of, recount_dossiers
from sipas.driver_statements import DriverStatement
from sipas.models import Answer, Dossier, Response
from sipas.models_tally import AnswerTally, ResponseTally
from sipas.upsert import dialect_insert

NOT_APPLICABLE = ""


DissatisfiedKeys = Sequence[tuple[str, str, str, str]]
GRAINS = ("day", "month")
ANSWER_KEY = ("unit_id", "grain", "local_date", "instrument_code", "instrument_version", "channel", "criterion_code",
              "option_code")
CHUNK = 20_000
RESPONSE_KEY = ("unit_id", "grain", "local_date", "instrument_code", "instrument_version", "channel")


class AnswerValues(Protocol):
    """What the counts read of an answer: a stored ``Answer`` or a ``GivenAnswer`` about to be stored."""

    @property
    def criterion_code(self) -> str: ...
    @property
    def option_code(self) -> str | None: ...
    @property
    def points(self) -> int | None: ...


class GivenAnswer(NamedTuple):
    """One checked answer of a rating before it is stored: the columns of its ``answer`` row. Not an ORM
    ``Answer``: the rating's rows are written by Core statements, and twelve ORM objects with their
    instrumented setters cost more to build than the statement that stores them."""

    criterion_code: str
    position: int
    option_code: str | None
    points: int | None


_UPSERTS: dict[tuple[str, str], Any] = {}


def _month_end(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def spans(start: date, end: date) -> tuple[list[date], list[tuple[date, date]]]:
    """(the 1st of every month the period covers whole, the day ranges of the months it covers in part): what
    a period reads from the month rows and from the day rows of a tally."""
    months, days = [], []
    first = start.replace(day=1)
    while first <= end:
        last = _month_end(first)
        if start <= first and last <= end:
            months.append(first)
        else:
            days.append((max(start, first), min(end, last)))
        first = last + timedelta(days=1)
    return months, days


def follow_up_by_unit(session: Session, unit_ids: Sequence[int], start: date, end: date) -> dict[int, int]:
    """The follow-up cases by content (``Response.follow_up``) of each unit over the local days [start, end]."""
    t = ResponseTally
    months, days = spans(start, end)
    parts = ([t.grain == "month", t.local_date.in_(months)] if months else None,
             *[[t.grain == "day", t.local_date >= first, t.local_date <= last] for first, last in days])
    found: dict[int, int] = {}
    for where in parts:
        if where is None:
            continue
        for unit_id, n in session.execute(select(t.unit_id, func.sum(t.follow_up))
                                          .where(t.unit_id.in_(list(unit_ids)), *where).group_by(t.unit_id)):
            found[unit_id] = found.get(unit_id, 0) + int(n or 0)
    return found


def _upsert_statement(dialect: str, table: Table, key: Sequence[str], added: Sequence[str]) -> Any:
    """Built once per dialect and table: building the ``ON CONFLICT`` clause anew for every response cost
    more than running it (and defeated SQLAlchemy's compiled-statement cache)."""
    found = _UPSERTS.get((dialect, table.name))
    if found is None:
        stmt = dialect_insert(dialect, table)
        found = stmt.on_conflict_do_update(index_elements=list(key),
                                           set_={c: table.c[c] + stmt.excluded[c] for c in added})
        if dialect == "postgresql":
            # With RETURNING, SQLAlchemy sends the rows as one multi-row INSERT (insertmanyvalues, in the rows'
            # order); without it psycopg runs one INSERT per row in a pipeline, at several times the cost.
            found = found.returning(table.c.id)
        _UPSERTS[(dialect, table.name)] = found
    return found


def is_negative(instrument: Instrument, answers: Iterable[AnswerValues]) -> bool:
    """At least one answer is one the instrument marks dissatisfied (``Response.negative``)."""
    return any(a.option_code is not None and instrument.is_dissatisfied(a.criterion_code, a.option_code)
               for a in answers)


def is_follow_up(negative: bool, comment: str | None) -> bool:
    """A follow-up case by its content (``Response.follow_up``): a dissatisfied answer or a comment asking for
    action (``sipas.cases.rules``); a case opened by hand on any other response is not counted here."""
    return negative or asks_for_action(comment)


def mark_negative(connection: Connection, dissatisfied: DissatisfiedKeys) -> None:
    """Set ``response.negative`` of every stored response from its answers (the migration that added the flag,
    ``rebuild``). One ``UPDATE`` per 200 dissatisfied answer kinds, each through the answers' index."""
    r, a = Response.__table__, Answer.__table__
    connection.execute(r.update().where(r.c.negative.is_(True)).values(negative=False))
    for chunk in _chunks(list(dissatisfied), 200):
        negative = exists(select(a.c.id).where(
            a.c.response_id == r.c.id,
            tuple_(r.c.instrument_code, r.c.instrument_version, a.c.criterion_code, a.c.option_code).in_(chunk)))
        connection.execute(r.update().where(r.c.negative.is_(False), negative).values(negative=True))


def _response_rows(response: Mapping[str, Any], answers_given: Sequence[AnswerValues], day: date,
                   sign: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """The response's answer and response rows, at the day grain and at the month grain.

    Its flags are the stored ones (``record_response`` sets them, ``rebuild`` recomputes them with the
    tallies), so taking a response away subtracts what was added even after a change of the rules."""
    negative, follow_up = int(bool(response["negative"])), int(bool(response["follow_up"]))
    answers, responses = [], []
    for grain, first in (("day", day), ("month", day.replace(day=1))):
        base = {"unit_id": response["unit_id"], "grain": grain, "local_date": first,
                "instrument_code": response["instrument_code"], "instrument_version": response["instrument_version"],
                "channel": response["channel"]}
        answers += [base | {"criterion_code": a.criterion_code, "option_code": a.option_code or NOT_APPLICABLE,
                            "points": a.points, "answers": sign} for a in answers_given]
        responses.append(base | {"responses": sign, "negative": sign * negative, "follow_up": sign * follow_up})
    return answers, responses, negative


@dataclass(frozen=True)
class Counts:
    """What one response adds to (or takes from) the tallies and its dossier's counts, computed before anything
    is written: ``record_response`` builds it before its first write, so that SQLite's write lock, taken at that
    write, is held for the statements alone (``add_counts``), not for building their rows."""

    answer_rows: list[dict[str, Any]]
    response_rows: list[dict[str, Any]]
    dossier: dict[str, Any] | None


def counts_of(response: Mapping[str, Any], answers: Sequence[AnswerValues], tz: tzinfo, *,
              sign: int = 1) -> Counts:
    """The counts of a response given by its column values (``unit_id``, ``dossier_id``, ``instrument_code``,
    ``instrument_version``, ``channel``, ``submitted_at``, ``negative``, ``follow_up``) and its answers. The rows
    are sorted by key so two concurrent writers lock the same rows in the same order (no deadlock on PostgreSQL);
    one response's rows share unit, form and channel and differ in grain, day, criterion and option, which order
    alike as values and as text."""
    answer_rows, response_rows, negative = _response_rows(response, answers,
                                                          local_date(response["submitted_at"], tz), sign)
    answer_rows.sort(key=itemgetter(*ANSWER_KEY))
    response_rows.sort(key=itemgetter(*RESPONSE_KEY))
    dossier_id = response["dossier_id"]
    # the dossier's "negative" count is QĐ 766's "không hài lòng hoặc có phản ánh, kiến nghị": a dissatisfied answer
    # or a comment asking for action (``follow_up``, which the first implies)
    dossier = ({"dossier": dossier_id, "added": sign,
                "added_negative": sign * int(bool(negative or response.get("follow_up")))}
               if dossier_id is not None else None)
    return Counts(answer_rows, response_rows, dossier)


def add_counts(connection: Connection, counts: Counts) -> None:
    """Write prepared counts: two upserts (their rows already in key order) and the dossier's counts."""
    dialect = connection.dialect.name
    for table, key, added, rows in ((AnswerTally.__table__, ANSWER_KEY, ("answers",), counts.answer_rows),
                                    (ResponseTally.__table__, RESPONSE_KEY, ("responses", "negative", "follow_up"),
                                     counts.response_rows)):
        if not rows:
            continue
        if dialect == "sqlite":  # on the driver's cursor; PostgreSQL: one multi-row INSERT (_upsert_statement)
            _driver_upsert(table, key, added, tuple(rows[0])).executemany(connection, rows)
        else:
            connection.execute(_upsert_statement(dialect, table, key, added), rows)  # type: ignore[arg-type]
    if counts.dossier is not None:
        _COUNT_DOSSIER.run(connection, counts.dossier)


@functools.cache
def _driver_upsert(table: Table, key: tuple[str, ...], added: tuple[str, ...],
                   columns: tuple[str, ...]) -> DriverStatement:
    """SQLite's upsert of ``table`` setting ``columns`` (its rows' keys, as ``Connection.execute`` infers them)."""
    return DriverStatement(_upsert_statement("sqlite", table, key, added), keys=columns)


def count_response(session: Session, response: Response, tz: tzinfo, *, sign: int = 1,
                   answers: Sequence[AnswerValues] | None = None) -> None:
    """Add (``sign=1``) or take away (``sign=-1``) one stored response's counts; call after its flush.

    ``answers``: the response's answer rows when the caller has them (by default the relationship's)."""
    given = response.answers if answers is None else answers
    values = {name: getattr(response, name) for name in _COUNTED_COLUMNS}
    add_counts(session.connection(), counts_of(values, given, tz, sign=sign))


_COUNTED_COLUMNS = ("unit_id", "dossier_id", "instrument_code", "instrument_version", "channel", "submitted_at",
                    "negative", "follow_up")


# on the dossier row itself: its triggers move the dossier's events when it becomes rated, rated on a second form
# or dissatisfied; the row lock also orders a rating after an import that changes the same dossier
_COUNT_DOSSIER = DriverStatement(
    update(Dossier.__table__).where(Dossier.__table__.c.id == bindparam("dossier"))
    .values(responses=Dossier.__table__.c.responses + bindparam("added"),
            negative_responses=Dossier.__table__.c.negative_responses + bindparam("added_negative")))


def uncount_response(session: Session, response: Response, tz: tzinfo, *,
                     answers: Sequence[AnswerValues] | None = None) -> None:
    """Take a response's counts away, in the transaction that deletes or edits it (then count it again if edited).

    ``answers``: its answer rows, when it is already deleted (its relationship's by default)."""
    count_response(session, response, tz, sign=-1, answers=answers)


def _chunks(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def hold_off_ratings(connection: Connection) -> None:
    """Make every write of a response wait until this transaction ends (PostgreSQL; on SQLite a writing session
    holds the write lock from its ``BEGIN IMMEDIATE``, ``sipas.storage``).

    ``rebuild`` reads the responses, then empties the tallies and fills them with its recount: a rating committed
    in between (``sipas db retally`` runs with the server up) was in neither and was lost from the counts. Every
    writer of the counts writes ``response`` too, and takes its table lock no later than its first count: a rating
    in its one statement (``sipas.rating_statement``, which locks every table it names before writing a row), a
    corrected ballot by deleting its response before taking its counts away (``sipas.ballots``). SHARE ROW
    EXCLUSIVE lets the reports read on and conflicts with itself: two rebuilds take turns rather than deadlock
    when each updates the flags of ``response``."""
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"LOCK TABLE {Response.__table__.name} IN SHARE ROW EXCLUSIVE MODE"))


#: A day row's key as one integer (``rebuild``): (unit id × DAYS_SPAN + the local day's ordinal) × FORMS_SPAN + the
#: number of its form, version and channel. Fits 64 bits for unit ids below a million.
DAYS_SPAN, FORMS_SPAN = 1_000_000, 4096


def rebuild(connection: Connection, dissatisfied: DissatisfiedKeys, tz: tzinfo) -> None:
    """Recompute the two tallies from ``response`` and ``answer`` (replacing what they held), each response's
    ``negative`` and ``follow_up`` flags, each dossier's rating counts and the dossier events.

    Local days are computed in Python (SQLite has no time zones) while the responses are streamed in chunks (flat
    memory), and each response's day-row key (unit, local day, form, version, channel) becomes one integer there
    (``DAYS_SPAN``): the answers are grouped by that integer, their criterion and option, and the integers joined
    back to their keys. Grouping twelve million answers on the seven columns of the key took 30 s on SQLite (its
    sorter compares every column), most of a rebuild at a million responses. Each month row is then the sum of its
    day rows.

    On PostgreSQL it first holds off every write of a response (``hold_off_ratings``), until its transaction ends."""
    from sqlalchemy import BigInteger, Column, Integer, MetaData
    from sqlalchemy import Table as CoreTable

    hold_off_ratings(connection)

    r, a = Response.__table__, Answer.__table__
    scratch_meta = MetaData()
    days = CoreTable("tally_scratch_day", scratch_meta, Column("response_id", Integer, primary_key=True),
                     Column("key_id", BigInteger), Column("unit_id", Integer), Column("local_date", Date),
                     Column("form", Integer), Column("negative", Integer), Column("follow_up", Integer),
                     prefixes=["TEMPORARY"])
    forms = CoreTable("tally_scratch_form", scratch_meta, Column("form", Integer, primary_key=True),
                      *(Column(name, r.c[name].type) for name in ("instrument_code", "instrument_version", "channel")),
                      prefixes=["TEMPORARY"])
    keys = CoreTable("tally_scratch_key", scratch_meta, Column("key_id", BigInteger, primary_key=True),
                     Column("unit_id", Integer), Column("local_date", Date), Column("form", Integer),
                     Column("responses", Integer), Column("negative", Integer), Column("follow_up", Integer),
                     prefixes=["TEMPORARY"])
    for table in (days, forms, keys):
        table.drop(connection, checkfirst=True)
        table.create(connection)
    negative_ids = set()
    if dissatisfied:
        for chunk in _chunks(list(dissatisfied), 200):
            negative_ids.update(connection.scalars(
                select(a.c.response_id).join(r, r.c.id == a.c.response_id)
                .where(tuple_(r.c.instrument_code, r.c.instrument_version, a.c.criterion_code, a.c.option_code)
                       .in_(chunk)).distinct()))
    numbered: dict[tuple[Any, ...], int] = {}  # (form, version, channel) → its number: a handful
    last = 0
    while True:  # keyset pages: flat memory, and no open cursor while inserting
        chunk = connection.execute(
            select(r.c.id, r.c.submitted_at, r.c.comment, r.c.unit_id, r.c.instrument_code, r.c.instrument_version,
                   r.c.channel).where(r.c.id > last).order_by(r.c.id).limit(CHUNK)).all()
        if not chunk:
            break
        day_rows = []
        for rid, at, comment, unit_id, *form_key in chunk:
            form = numbered.setdefault(tuple(form_key), len(numbered))
            if form >= FORMS_SPAN or not 0 < unit_id < 2**63 // (DAYS_SPAN * FORMS_SPAN):
                raise ValueError(f"tally rebuild: response {rid} does not fit the day-row key (form {form}, "
                                 f"unit {unit_id})")
            day = local_date(at, tz)
            negative = rid in negative_ids
            day_rows.append({"response_id": rid, "key_id": (unit_id * DAYS_SPAN + day.toordinal()) * FORMS_SPAN + form,
                             "unit_id": unit_id, "local_date": day, "form": form, "negative": int(negative),
                             "follow_up": int(is_follow_up(negative, comment))})
        connection.execute(days.insert(), day_rows)
        last = chunk[-1][0]
    if numbered:
        connection.execute(forms.insert(), [dict(zip(("form", "instrument_code", "instrument_version", "channel"),
                                                      (form, *key), strict=True)) for key, form in numbered.items()])
    connection.execute(keys.insert().from_select(
        ["key_id", "unit_id", "local_date", "form", "responses", "negative", "follow_up"],
        select(days.c.key_id, func.min(days.c.unit_id), func.min(days.c.local_date), func.min(days.c.form),
               func.count(), func.sum(days.c.negative), func.sum(days.c.follow_up)).group_by(days.c.key_id)))
    at, rt = AnswerTally.__table__, ResponseTally.__table__
    for table in (at, rt):
        connection.execute(delete(table))
    key = (keys.c.unit_id, literal("day"), keys.c.local_date, forms.c.instrument_code, forms.c.instrument_version,
           forms.c.channel)
    with_form = keys.join(forms, forms.c.form == keys.c.form)
    by_key = (select(days.c.key_id, a.c.criterion_code,
                     func.coalesce(a.c.option_code, NOT_APPLICABLE).label("option_code"),
                     func.max(a.c.points).label("points"), func.count().label("answers"))
              .select_from(a).join(days, days.c.response_id == a.c.response_id)
              .group_by(days.c.key_id, a.c.criterion_code, a.c.option_code)).subquery()
    connection.execute(at.insert().from_select(
        [*ANSWER_KEY, "points", "answers"],
        select(*key, by_key.c.criterion_code, by_key.c.option_code, by_key.c.points, by_key.c.answers)
        .select_from(by_key.join(with_form, keys.c.key_id == by_key.c.key_id))))
    connection.execute(rt.insert().from_select(
        [*RESPONSE_KEY, "responses", "negative", "follow_up"],
        select(*key, keys.c.responses, keys.c.negative, keys.c.follow_up).select_from(with_form)))
    for table in (keys, forms):
        table.drop(connection)
    # the month rows are the sums of the day rows: a pass over the (far fewer) day rows, not a second join of
    # every answer with its response (half of the rebuild's time at a million responses)
    for table, key_columns, summed in ((at, ANSWER_KEY, {"points": func.max, "answers": func.sum}),
                                       (rt, RESPONSE_KEY, {"responses": func.sum, "negative": func.sum,
                                                           "follow_up": func.sum})):
        month = literal_column(first_of(connection.dialect.name, "month", table.c.local_date.name))
        grouped = [month if name == "local_date" else table.c[name] for name in key_columns if name != "grain"]
        selected = [literal("month") if name == "grain" else month if name == "local_date" else table.c[name]
                    for name in key_columns]
        connection.execute(table.insert().from_select(
            [*key_columns, *summed],
            select(*selected, *(aggregate(table.c[name]) for name, aggregate in summed.items()))
            .where(table.c.grain == "day").group_by(*grouped)))
    for value in (True, False):  # only the flags that are wrong are written
        connection.execute(r.update().where(r.c.follow_up.is_(not value), r.c.id.in_(
            select(days.c.response_id).where(days.c.follow_up == int(value)))).values(follow_up=value))
    days.drop(connection)
    mark_negative(connection, dissatisfied)
    recount_dossiers(connection)

