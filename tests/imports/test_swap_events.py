"""The swap counts its dossiers' events set-based on SQLite: the per-row event triggers on ``dossier`` (12 event
``SELECT`` and an upsert per dossier, half of a 100,000-row swap that holds SQLite's write lock while ratings wait)
are dropped inside the swap's transaction and created again before it commits (SQLite's DDL is transactional).
Every other writer keeps the triggers; a conflict rolls the whole swap back, triggers included; the events equal
the recount after either. PostgreSQL's statement triggers already count a swap at once: only the recount there."""

from __future__ import annotations

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from sipas.catalogue import Catalogue
from sipas.imports import import_dossiers
from sipas.imports.dossier_swap import EVENT_TRIGGERS
from tests.aggregator.tally_recount import recount, stored
from tests.factories import SECRET, TZ, create_dossier, create_response, create_unit, local
from tests.imports.helpers import DOSSIER_HEADER, NOW, csv_bytes, dossier_row, run_dossiers


def _triggers(session: Session) -> set[str]:
    names = session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'dossier'"))
    return set(names) & set(EVENT_TRIGGERS)


def _events_equal_recount(session: Session, catalogue: Catalogue) -> None:
    session.commit()
    assert stored(session)["dossier_events"] == recount(session, catalogue, TZ)["dossier_events"]


def test_the_swap_counts_its_events_set_based_and_keeps_the_triggers(session: Session, catalogue: Catalogue) -> None:
    unit = create_unit(session)
    rated = create_dossier(session, unit, code="HS-R", received_at=local(2026, 1, 5), returned_at=local(2026, 1, 7))
    create_dossier(session, unit, code="HS-U", received_at=local(2026, 1, 5))
    create_response(session, catalogue, unit, dossier=rated)
    session.commit()
    sqlite = session.get_bind().dialect.name == "sqlite"
    seen: list[set[str]] = []

    def before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if sqlite and statement.startswith(("INSERT INTO dossier (", "UPDATE dossier SET")):
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'dossier'")
            seen.append({name for (name,) in cursor.fetchall()} & set(EVENT_TRIGGERS))

    lines = [dossier_row("HS-R", field="Đất đai", due="06/01/2026", phone="", consent=""),  # rated: keeps its forms
             dossier_row("HS-U", returned="20/01/2026 09:00", channel="Trực tuyến toàn trình"),
             *[dossier_row(f"H-{n:03d}", received=f"{1 + n % 9:02d}/0{1 + n % 2}/2026 08:00",
                           due=f"{12 + n % 10}/0{1 + n % 2}/2026" if n % 3 else "",
                           returned="" if n % 2 else f"{10 + n % 18}/0{1 + n % 2}/2026 10:00",
                           channel="Trực tuyến một phần" if n % 5 == 0 else "Trực tiếp", phone="", consent="")
               for n in range(60)]]
    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", before)
    try:
        report = run_dossiers(session, unit, csv_bytes([DOSSIER_HEADER, *lines]), "hoso.csv")
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert report.written and (report.created, report.updated) == (60, 2)
    _events_equal_recount(session, catalogue)
    if sqlite:
        assert len(seen) == 2 and seen == [set(), set()], seen  # the swap's UPDATE and INSERT ran without them
        assert _triggers(session) == set(EVENT_TRIGGERS)  # back for every other writer
    # a conflict (a code created by another writer while the file was staged) rolls the swap back, its events
    # and its DDL with it
    def meanwhile(done: int, total: int) -> None:
        if total and done == total:  # staged, just before the swap
            create_dossier(session, unit, code="K-005", received_at=local(2026, 2, 1))
            session.commit()

    lines = [dossier_row("HS-U", field="Đất đai", phone="", consent=""),
             *[dossier_row(f"K-{n:03d}", phone="", consent="") for n in range(20)]]
    report = import_dossiers(session, unit, csv_bytes([DOSSIER_HEADER, *lines]), "hoso2.csv", tz=TZ, now=NOW,
                             secret=SECRET, actor="test", progress=meanwhile)
    assert not report.written and report.file_error_code == "import_conflict"
    _events_equal_recount(session, catalogue)
    if sqlite:
        assert _triggers(session) == set(EVENT_TRIGGERS)
    # the triggers count the next writer's change as before
    session.execute(text("UPDATE dossier SET field = 'Khác' WHERE code = 'H-001'"))
    _events_equal_recount(session, catalogue)
