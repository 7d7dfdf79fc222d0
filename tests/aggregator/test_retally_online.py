"""``sipas db retally`` (``sipas.tally.rebuild``) while the counter keeps taking ratings (PostgreSQL).

The rebuild reads the responses, then empties the tallies and fills them with its recount. A rating committed in
between was in neither: lost from the tallies until the next retally, though the docs say the retally may run with
the server up. The rebuild now holds off every write of a response until it commits; the rating waits, then counts.
SQLite needs nothing: the retally's session holds the write lock from its ``BEGIN IMMEDIATE``."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from sipas.catalogue import Catalogue
from sipas.models import ResponseChannel
from sipas.responses import ResponseInput, record_response
from sipas.storage import get_database
from sipas.tally import rebuild
from tests.aggregator.tally_recount import recount, stored
from tests.factories import TZ, answers_for, create_dossier, create_response, create_unit, local
from tests.pg_locks import wait_for_lock_waiter

NOW = datetime(2026, 1, 9, 3, 0, tzinfo=UTC)


def test_a_rating_during_a_retally_waits_and_stays_counted(app: Any, session: Session,
                                                            catalogue: Catalogue) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite's write lock serialises the retally with every rating")
    ward = create_unit(session, allow_anonymous=True)
    create_response(session, catalogue, ward, now=NOW)  # the tallies hold something
    late = create_dossier(session, ward, received_at=local(2026, 1, 5), returned_at=local(2026, 1, 7))
    session.commit()
    database = get_database(app)
    errors: list[BaseException] = []

    def rate() -> None:  # a kiosk rating, its own transaction, committed
        try:
            with database.intake_sessionmaker() as own:
                data = ResponseInput(instrument="hue12", channel=ResponseChannel.KIOSK,
                                     answers=answers_for(catalogue, "hue12", on=NOW), dossier_code=late.code,
                                     submitted_at=local(2026, 1, 8, 10))
                record_response(own, catalogue, own.merge(ward, load=False), data, now=NOW, tz=TZ, actor="kiosk",
                                alone=True)
                own.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    rating = threading.Thread(target=rate)

    def before(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        if rating.ident is None and statement.lstrip().upper().startswith("DELETE FROM ANSWER_TALLY"):
            rating.start()  # the rating arrives now: the responses were read, the tallies not yet emptied
            wait_for_lock_waiter(database, worker=rating)

    with database.session() as retally:
        connection = retally.connection()
        event.listen(connection, "before_cursor_execute", before)
        rebuild(connection, catalogue.dissatisfied_answers(), TZ)
    rating.join(timeout=30)
    assert not rating.is_alive() and not errors, errors
    session.expire_all()
    assert recount(session, catalogue, TZ) == stored(session)
