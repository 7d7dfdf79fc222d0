"""A rating that arrives while an import's swap holds SQLite's write lock waits for the swap, however long the swap
takes: the swap holds the intake writers' queue (``sipas.storage.WriteQueue``), so an API or kiosk rating queues
behind it instead of giving up after SQLite's busy timeout (15 s) with a 503 ``database_busy``; a 100,000-row
swap held the lock 10–14 s on a busy machine, one rating per import was refused. The test shortens the busy
timeout to 50 ms and holds the swap ten times as long: the rating is stored once the swap has committed."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

import sipas.imports.dossier_import as dossier_import
from sipas.models import Dossier, Response
from sipas.storage import get_database
from tests.api.conftest import Api
from tests.factories import SECRET, TZ, answers_for, create_dossier, create_key, create_unit, local
from tests.imports.helpers import DOSSIER_HEADER, NOW, csv_bytes, dossier_row


def test_a_rating_during_a_swap_longer_than_the_busy_timeout_is_stored_after_it(app, session: Session, catalogue,
                                                                                database_url: str,
                                                                                monkeypatch) -> None:  # type: ignore[no-untyped-def]
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL: a rating waits on no lock of the swap but its own dossier's row (no busy timeout)")
    unit = create_unit(session)
    key = create_key(session, unit)
    create_dossier(session, unit, code="HS-DG", received_at=local(2026, 1, 5), returned_at=local(2026, 1, 6))
    session.commit()
    database = get_database(app)
    database.engine.dispose()
    event.listen(database.engine, "connect", lambda connection, _record: connection.execute("PRAGMA busy_timeout=50"))
    answers: list[Any] = []

    def rate() -> None:
        api = Api(app.test_client(), key)
        answers.append(api.post("/responses", {"instrument": "hue12", "dossier_code": "HS-DG",
                                               "answers": answers_for(catalogue, on=local(2026, 1, 8)),
                                               "submitted_at": "2026-01-08T10:00:00+07:00"}))

    rating = threading.Thread(target=rate)
    real_swap = dossier_import.swap

    def held_swap(*args: Any) -> None:
        rating.start()
        time.sleep(0.5)  # ten times the busy timeout, with the swap's transaction open
        real_swap(*args)

    monkeypatch.setattr(dossier_import, "swap", held_swap)
    lines = [dossier_row(f"H-{n:03d}", phone="", consent="") for n in range(30)]
    with database.session() as importing:
        report = dossier_import.import_dossiers(importing, importing.merge(unit), csv_bytes([DOSSIER_HEADER, *lines]),
                                                "hoso.csv", tz=TZ, now=NOW, secret=SECRET, actor="test")
    rating.join(timeout=60)
    assert report.written and report.created == 30
    assert [a.status_code for a in answers] == [201], [a.json for a in answers]
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Response).join(Dossier)
                          .where(Dossier.code == "HS-DG")) == 1
