"""A dossier import's swap and a rating of the same unit at once, on PostgreSQL: no deadlock, no lost count.

``dossier_event_tally`` is kept by statement triggers on ``dossier`` (``sipas.dossier_events``), each upserting
its event rows in key order. The swap is two statements on ``dossier`` (the updates, then the inserts), each
sorted on its own: the rows the second one locks may come before those the first one holds. A rating of a
dossier the file does not touch locks its own dossier, then its event rows in key order (a dissatisfied rating
moves every event of its dossier: ``negative``). Between the swap's two statements the rating holds a received
day the file's new dossiers share and waits for a returned day the swap's updates hold; the swap's inserts then
wait for the rating: a deadlock, one of the two aborted after ``deadlock_timeout``.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from sipas.catalogue import Catalogue
from sipas.models import Dossier, ResponseChannel, Unit
from sipas.responses import ResponseInput, record_response
from sipas.storage import Database, get_database
from tests.aggregator.tally_recount import recount, stored
from tests.factories import TZ, answers_for, create_dossier, create_unit, local
from tests.imports.helpers import DOSSIER_HEADER, NOW, dossier_row, run_dossiers, xlsx
from tests.pg_locks import wait_for_lock_waiter


def _dissatisfied_rating(database: Database, catalogue: Catalogue, unit: Unit, dossier: Dossier,
                         errors: list[BaseException]) -> None:
    try:
        with database.session() as session:
            record_response(session, catalogue, session.merge(unit, load=False), ResponseInput(
                instrument="hue12", channel=ResponseChannel.API, dossier_code=dossier.code,
                answers=answers_for(catalogue, "hue12", option_index=-1, on=NOW),
                submitted_at=local(2026, 1, 8, 10)), now=NOW, tz=TZ, actor="api")
    except BaseException as exc:  # reported by the test
        errors.append(exc)


def test_an_import_and_a_dissatisfied_rating_of_the_same_unit_neither_deadlock_nor_lose_a_count(
        app: Any, session: Session, catalogue: Catalogue) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("row locks of PostgreSQL (on SQLite the two writers take turns on the write lock)")
    ward = create_unit(session)
    rated = create_dossier(session, ward, received_at=local(2026, 1, 5, 8, 30), due_at=local(2026, 1, 8),
                           returned_at=local(2026, 1, 7, 15))  # not in the file
    create_dossier(session, ward, code="H57-UPDATED", received_at=local(2026, 1, 5, 8, 30),
                   due_at=local(2026, 1, 8), returned=False)
    session.commit()
    # the file returns H57-UPDATED on the rated dossier's return day and brings a new one received on its day
    data = xlsx([DOSSIER_HEADER, dossier_row("H57-UPDATED"), dossier_row("H57-NEW", returned="")])
    database = get_database(app)
    errors: list[BaseException] = []
    workers: list[threading.Thread] = []
    me = threading.get_ident()

    def after(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        # the swap's updates have run (their event rows held), its inserts not yet: the rating now
        if threading.get_ident() == me and not workers and statement.lstrip().startswith("UPDATE dossier SET"):
            workers.append(threading.Thread(target=_dissatisfied_rating,
                                            args=(database, catalogue, ward, rated, errors)))
            workers[0].start()
            wait_for_lock_waiter(database, worker=workers[0])

    event.listen(database.engine, "after_cursor_execute", after)
    try:
        with database.sessionmaker() as importing:
            report = run_dossiers(importing, importing.merge(ward, load=False), data)
    finally:
        event.remove(database.engine, "after_cursor_execute", after)
        for worker in workers:
            worker.join(timeout=30)
    assert workers, "the swap's update was not seen"
    assert not errors, errors
    assert report.file_error is None and (report.created, report.updated) == (1, 1)
    session.expire_all()
    stored_rated = session.get(Dossier, rated.id)
    assert stored_rated is not None and (stored_rated.responses, stored_rated.negative_responses) == (1, 1)
    assert session.scalar(select(Dossier.id).where(Dossier.code == "H57-NEW")) is not None
    assert recount(session, catalogue, TZ) == stored(session)  # the dossier events and the answer tallies
