"""``dossier_event_tally``: the dossiers counted by four one-day events, kept by the database itself.

The report's dossier figures (Biểu II.06a: received, carried over, resolved early / on time / late, in
progress, overdue, rated …) compare each dossier's local days with the period. Reading every dossier of a
province took 2.5 s at 1.1 M dossiers (issue 14, goal 2), so each dossier is also counted by the days of four
events, at the day, month and year grains (the year rows simpler, below):

- ``received`` on its received day;
- ``returned`` on its return day, with its handling class (early / on time / late) and how many forms rated it
  (``forms``: 0, 1 or 2 for "two or more");
- ``due`` on its due day;
- ``cleared`` on ``max(returned, due + 1 day)``, the first day on which it is both returned and past due.

Every event row also carries the unit, the field, whether the intake was online and whether a rating of the
dossier has a dissatisfied answer. ``aggregator.dossier_figures`` turns the counts of a period into the figures.
Those figures need the events *before* a day since the first dossier (how many were open then), so the year
rows keep that read short: the years before the period's, then months and a few days. A year row is only ever
read for the years before a period's, where a returned dossier's class and forms do not matter (only that it
was returned, online or not, dissatisfied or not): its ``forms`` is 0 and its ``handling`` empty, so a year
holds few rows and a rating (which changes a dossier's forms) leaves the year rows alone.

Upkeep is by triggers on ``dossier`` (written by the migration that created the table, ``core_0020``), so that
no write path can miss it: the API and counter forms (ORM), the import's set-based swap, the per-dossier rating
counts that ``sipas.tally.count_response`` keeps on the dossier row (``responses``, ``negative_responses``).
SQLite gets row triggers; PostgreSQL statement triggers over the transition tables, so a swap of thousands of
rows is one sorted upsert, and every writer locks the dossier rows before the event rows. A writer of one
statement (a rating, a clerk's edit) then locks its event rows in key order; the import's swap, two statements,
locks its dossiers and then all its event rows in key order before either (``lock_sql``): no deadlock between a
rating and an import. On SQLite the import's swap counts its run's events itself in one statement, with the
insert and update triggers dropped inside its own transaction and made again before it commits
(``sipas.imports.dossier_swap``: no other writer runs meanwhile). ``rebuild_events`` recomputes the table from
the dossiers with the same SQL.

Since ``core_0032`` the triggers do less per rating, which changes the dossier's counts alone: that moves the
returned event's day and month rows from one ``forms`` to the next (first and second rating) or nothing (third
on), unless it makes the dossier dissatisfied (then every event row). SQLite's update trigger fires for a change
of anything else (``_moved``), and a second one, ``dossier_events_forms``, for a change of the forms alone, which
takes the returned event's day and month rows only (``moves_with_forms``). PostgreSQL's functions read each
transition table once, each row's events from a ``VALUES`` list beside it (``_postgresql_lateral``). Before, an
update took the twelve events of the old row and of the new one, each by a ``SELECT`` of its own, and summed them to
find those that did not cancel (docs/performance.md, "Intake, 2026-12-08: a rating inside the database").
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from sipas.models import IntakeChannel

TABLE = "dossier_event_tally"
KEY = ("unit_id", "grain", "local_date", "field", "kind", "online", "negative", "forms", "handling")
KINDS = ("received", "returned", "due", "cleared")
ONLINE_CHANNELS = tuple(channel.value for channel in IntakeChannel if channel.is_online)  # as stored
# the dossier columns the events are made of: a change of any other column leaves them alone
SOURCE_COLUMNS = ("unit_id", "field", "intake_channel", "received_local_date", "due_local_date",
                  "returned_local_date", "responses", "negative_responses")


GRAINS = ("day", "month", "year")


def first_of(dialect: str, grain: str, day: str) -> str:
    """The first day of the month or year of ``day``, an SQL date expression (the ``local_date`` of its row at that
    grain; also the tallies' month rows, ``sipas.tally``)."""
    if grain == "day":
        return day
    if dialect == "sqlite":
        return f"date({day}, 'start of {grain}')"
    return f"CAST(date_trunc('{grain}', CAST({day} AS timestamp)) AS date)"


def _next_day(dialect: str, day: str) -> str:
    return f"date({day}, '+1 day')" if dialect == "sqlite" else f"({day} + 1)"


def _true(dialect: str, condition: str) -> str:
    """A boolean column value (SQLite stores 0 / 1)."""
    return f"(CASE WHEN {condition} THEN 1 ELSE 0 END)" if dialect == "sqlite" else f"({condition})"


def _events(dialect: str, r: str, grains: tuple[str, ...]) -> list[tuple[str, str, str, str, str]]:
    """(kind, grain, local_date, forms, handling) of each event row of the dossier row ``r``, as SQL expressions."""
    forms = f"(CASE WHEN {r}.responses > 1 THEN 2 ELSE {r}.responses END)"
    handling = (f"(CASE WHEN {r}.due_local_date IS NULL OR {r}.returned_local_date = {r}.due_local_date "
                f"THEN 'on_time' WHEN {r}.returned_local_date < {r}.due_local_date THEN 'early' ELSE 'late' END)")
    cleared = (f"(CASE WHEN {r}.returned_local_date IS NULL OR {r}.due_local_date IS NULL THEN NULL "
               f"WHEN {r}.returned_local_date > {r}.due_local_date THEN {r}.returned_local_date "
               f"ELSE {_next_day(dialect, f'{r}.due_local_date')} END)")
    events = (("received", f"{r}.received_local_date", "0", "''"),
              ("returned", f"{r}.returned_local_date", forms, handling),
              ("due", f"{r}.due_local_date", "0", "''"),
              ("cleared", cleared, "0", "''"))
    # a year row is read only for the years before a period's: no class, no forms (above)
    return [(kind, grain, first_of(dialect, grain, day), *(("0", "''") if grain == "year" else (kind_forms,
                                                                                                kind_handling)))
            for kind, day, kind_forms, kind_handling in events for grain in grains]


def _flags(dialect: str, r: str) -> tuple[str, str]:
    """The ``online`` and ``negative`` values of the dossier row ``r``."""
    channels = ", ".join(f"'{c}'" for c in ONLINE_CHANNELS)
    return _true(dialect, f"{r}.intake_channel IN ({channels})"), _true(dialect, f"{r}.negative_responses > 0")


def moves_with_forms(kind: str, grain: str) -> bool:
    """The event rows a change of the dossier's ``forms`` alone moves (a rating that changes nothing else): the
    returned event's day and month rows (the year rows have no forms)."""
    return kind == "returned" and grain != "year"


def event_selects(dialect: str, row: str, source: str, sign: int, grains: tuple[str, ...] = GRAINS, *,
                  forms_only: bool = False) -> list[str]:
    """One ``SELECT`` per event and grain of the dossier rows ``row`` (an alias, or ``NEW`` / ``OLD`` in an
    SQLite row trigger, whose ``source`` is then empty), each row counted ``sign`` times; an event whose day
    is NULL (not returned, no due day) comes out with a NULL ``local_date`` and is filtered by the caller.
    ``forms_only``: only the rows that move with the dossier's forms (``moves_with_forms``)."""
    online, negative = _flags(dialect, row)
    return [f"SELECT {row}.unit_id AS unit_id, {row}.field AS field, '{grain}' AS grain, "
            f"{local} AS local_date, '{kind}' AS kind, {online} AS online, {negative} AS negative, "
            f"{forms} AS forms, {handling} AS handling, {sign} AS n{source}"
            for kind, grain, local, forms, handling in _events(dialect, row, grains)
            if not forms_only or moves_with_forms(kind, grain)]


def upsert_sql(dialect: str, selects: list[str]) -> str:
    """Add the events of ``selects`` to the table: equal keys summed first, rows whose sum is 0 (an event the
    change left where it was) skipped, the rest upserted in key order (concurrent writers lock rows in the
    same order)."""
    key = ", ".join(KEY)
    union = "\nUNION ALL\n".join(selects)
    return (f"INSERT INTO {TABLE} ({key}, dossiers)\n"
            f"SELECT {key}, SUM(n) FROM (\n{union}\n) AS events WHERE local_date IS NOT NULL\n"
            f"GROUP BY {key} HAVING SUM(n) <> 0 ORDER BY {key}\n"
            f"ON CONFLICT ({key}) DO UPDATE SET dossiers = {TABLE}.dossiers + excluded.dossiers")


def lock_sql(rows: str) -> str:
    """PostgreSQL: lock, in key order, every event row of the dossier rows ``rows`` (a ``SELECT`` of the dossier's
    event columns, ``SOURCE_COLUMNS``), creating at 0 those missing. A writer of several statements on
    ``dossier`` (the import's swap: its updates, then its inserts) runs this first with both statements' old and
    new rows, so that its triggers then find every row they write already held: each statement's upsert is
    sorted, but the second's rows may come before the first's, and a rating locking its own rows in key order
    between the two deadlocked with it (tests/imports/test_swap_contention.py). ``rows`` is read once
    (materialized), not once per event and grain."""
    key = ", ".join(KEY)
    union = "\nUNION ALL\n".join(event_selects("postgresql", "d", " FROM locked_rows AS d", 0))
    return (f"WITH locked_rows AS MATERIALIZED (\n{rows}\n)\n"
            f"INSERT INTO {TABLE} ({key}, dossiers)\n"
            f"SELECT {key}, 0 FROM (\n{union}\n) AS events WHERE local_date IS NOT NULL\n"
            f"GROUP BY {key} ORDER BY {key}\n"
            # locks the row without writing a version of it (PostgreSQL locks a conflicting row whatever the WHERE)
            f"ON CONFLICT ({key}) DO UPDATE SET dossiers = {TABLE}.dossiers WHERE false")


def _moved(old: str, new: str) -> str:
    """SQLite: true when the dossier row's events move other than with its forms: a change of any source column
    but the rating counts, or of whether a rating is dissatisfied (``negative``)."""
    columns = [c for c in SOURCE_COLUMNS if c not in ("responses", "negative_responses")]
    return " OR ".join([*(f"{old}.{c} IS NOT {new}.{c}" for c in columns),
                        f"({old}.negative_responses > 0) IS NOT ({new}.negative_responses > 0)"])


def _forms(r: str) -> str:
    return f"(CASE WHEN {r}.responses > 1 THEN 2 ELSE {r}.responses END)"


def _sqlite_triggers(grains: tuple[str, ...], previous: bool = False) -> list[str]:
    columns = ", ".join(SOURCE_COLUMNS)
    body = {
        "insert": event_selects("sqlite", "NEW", "", 1, grains),
        "delete": event_selects("sqlite", "OLD", "", -1, grains),
        "update": event_selects("sqlite", "OLD", "", -1, grains) + event_selects("sqlite", "NEW", "", 1, grains),
    }
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in SOURCE_COLUMNS)
    heads = {
        "insert": "AFTER INSERT ON dossier",
        "delete": "AFTER DELETE ON dossier",
        "update": f"AFTER UPDATE OF {columns} ON dossier WHEN {changed}",
    }
    if not previous:
        # a rating changes the counts alone: unless it makes the dossier dissatisfied, only the returned event's
        # day and month rows move (from one ``forms`` to the next), and from the third rating on none at all
        moved = _moved("OLD", "NEW")
        heads["update"] = f"AFTER UPDATE OF {columns} ON dossier WHEN {moved}"
        heads["forms"] = (f"AFTER UPDATE OF responses ON dossier WHEN NOT ({moved}) "
                          f"AND {_forms('OLD')} IS NOT {_forms('NEW')}")
        body["forms"] = (event_selects("sqlite", "OLD", "", -1, grains, forms_only=True)
                         + event_selects("sqlite", "NEW", "", 1, grains, forms_only=True))
    return [f"CREATE TRIGGER dossier_events_{op} {head}\nBEGIN\n{upsert_sql('sqlite', body[op])};\nEND"
            for op, head in heads.items()]


def _postgresql_lateral(table: str, sign: int, grains: tuple[str, ...]) -> str:
    """The events of the rows of the transition table ``table``, each counted ``sign`` times: one scan of the
    rows, each row's events from a ``VALUES`` list beside it, not a ``SELECT`` of the table per event and grain
    (twelve scans, their results appended). Pairing each old row with its new one to keep only the events that
    move (as SQLite's triggers do) cost more in the two joins than it saved (docs/performance.md, 2026-12-08)."""
    online, negative = _flags("postgresql", "d")
    events = ", ".join(f"('{grain}', {local}, '{kind}', {forms}, {handling})"
                       for kind, grain, local, forms, handling in _events("postgresql", "d", grains))
    return (f"SELECT d.unit_id AS unit_id, d.field AS field, ev.grain AS grain, ev.local_date AS local_date, "
            f"ev.kind AS kind, {online} AS online, {negative} AS negative, ev.forms AS forms, "
            f"ev.handling AS handling, {sign} AS n\n"
            f"FROM {table} AS d CROSS JOIN LATERAL (VALUES {events}) AS ev(grain, local_date, kind, forms, handling)")


def _postgresql_triggers(grains: tuple[str, ...], previous: bool = False) -> list[str]:
    statements = []
    sides = {"insert": [("new_rows", 1)], "delete": [("old_rows", -1)],
             "update": [("old_rows", -1), ("new_rows", 1)]}
    for op, tables in sides.items():
        if not previous:
            selects = [_postgresql_lateral(table, sign, grains) for table, sign in tables]
        else:
            selects = [s for table, sign in tables
                       for s in event_selects("postgresql", "d", f" FROM {table} AS d", sign, grains)]
        statements.append(
            f"CREATE FUNCTION dossier_events_{op}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n"
            f"{upsert_sql('postgresql', selects)};\nRETURN NULL;\nEND\n$$")
        referencing = " ".join(f"{'OLD' if t == 'old_rows' else 'NEW'} TABLE AS {t}" for t, _ in tables)
        statements.append(f"CREATE TRIGGER dossier_events_{op} AFTER {op.upper()} ON dossier "
                          f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION dossier_events_{op}()")
    return statements


def install_triggers(connection: Connection, grains: tuple[str, ...] = GRAINS, *, previous: bool = False) -> None:
    """Create the triggers that keep the table (the migrations; the benchmark generator after a bulk load);
    ``grains`` and ``previous`` only for a migration that installs an earlier revision's triggers (``previous``:
    those of before ``core_0032``, one ``SELECT`` per event and grain, an update taking every event of the old row
    and of the new one)."""
    dialect = connection.dialect.name
    triggers = (_sqlite_triggers(grains, previous) if dialect == "sqlite"
                else _postgresql_triggers(grains, previous))
    for statement in triggers:
        connection.execute(text(statement))


def drop_triggers(connection: Connection) -> None:
    for op in ("insert", "delete", "update", "forms"):  # forms: SQLite's since core_0032
        connection.execute(text(f"DROP TRIGGER IF EXISTS dossier_events_{op}"
                                + ("" if connection.dialect.name == "sqlite" else " ON dossier")))
        if connection.dialect.name != "sqlite":
            connection.execute(text(f"DROP FUNCTION IF EXISTS dossier_events_{op}()"))


def rebuild_events(connection: Connection) -> None:
    """Recount the whole table from the dossiers (``sipas db retally``, the migration's backfill)."""
    dialect = connection.dialect.name
    connection.execute(text(f"DELETE FROM {TABLE}"))
    key = ", ".join(KEY)
    union = "\nUNION ALL\n".join(event_selects(dialect, "d", " FROM dossier AS d", 1, ("day",)))
    connection.execute(text(f"INSERT INTO {TABLE} ({key}, dossiers)\n"
                            f"SELECT {key}, SUM(n) FROM (\n{union}\n) AS events WHERE local_date IS NOT NULL\n"
                            f"GROUP BY {key}"))
    # the month and year rows are sums of the day rows: one pass over those each, not two more over every
    # dossier's four events (two thirds of the recount's time at a million dossiers)
    for grain, classes in (("month", "forms, handling"), ("year", "")):  # a year row has neither (above)
        first = first_of(dialect, grain, "local_date")
        selected = f"unit_id, '{grain}', {first}, field, kind, online, negative, " + (classes or "0, ''")
        grouped = f"unit_id, {first}, field, kind, online, negative" + (f", {classes}" if classes else "")
        connection.execute(text(f"INSERT INTO {TABLE} ({key}, dossiers)\n"
                                f"SELECT {selected}, SUM(dossiers) FROM {TABLE} WHERE grain = 'day'\n"
                                f"GROUP BY {grouped}"))


def recount_dossiers(connection: Connection, *, follow_up: bool = True) -> None:
    """Set each dossier's ``responses`` and ``negative_responses`` (dissatisfied, or asking for action: QĐ 766's
    "không hài lòng hoặc có phản ánh, kiến nghị") from its stored responses (their ``negative`` and ``follow_up``
    flags must be right; without ``follow_up``, for the migration that ran before the flag existed, the negative
    flag alone), then rebuild the events. Only dossiers whose counts are wrong are
    written, so the triggers do little work before the table is rebuilt anyway."""
    counts = ("SELECT dossier_id, COUNT(*) AS responses, "
              f"SUM(CASE WHEN {'negative OR follow_up' if follow_up else 'negative'} THEN 1 ELSE 0 END) "
              "AS negative_responses "
              "FROM response WHERE dossier_id IS NOT NULL GROUP BY dossier_id")
    connection.execute(text(
        f"UPDATE dossier SET responses = c.responses, negative_responses = c.negative_responses "
        f"FROM ({counts}) AS c WHERE c.dossier_id = dossier.id "
        f"AND (dossier.responses <> c.responses OR dossier.negative_responses <> c.negative_responses)"))
    connection.execute(text(
        "UPDATE dossier SET responses = 0, negative_responses = 0 "
        "WHERE (responses <> 0 OR negative_responses <> 0) "
        "AND NOT EXISTS (SELECT 1 FROM response WHERE response.dossier_id = dossier.id)"))
    rebuild_events(connection)
