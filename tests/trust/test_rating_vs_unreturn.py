"""A rating and a dossier update that clears the dossier's return date, at the same moment: never a rated dossier
without a return date, which every writer of dossiers refuses (``UNRETURN_RATED``) and the reports cannot place
(its rating counts in the response tallies, the dossier in no "returned" event).

A rating checks that its dossier was returned outside a transaction (intake reads, ``sipas.pg_intake``), then
writes; an update that cleared the date (allowed: the dossier was not rated yet) and committed in between left the
rating stored on a dossier no longer returned. The rating's write now refuses it, as the citizen's check does. The
other way round, on PostgreSQL, an update whose check ran while a rating was being written waited for the dossier
row the rating held, then cleared the date of a dossier rated by then.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import sipas.responses as responses_module
from sipas.catalogue import Catalogue
from sipas.dossiers import UNRETURN_RATED, DossierInput, apply_dossier
from sipas.errors import DossierNotReturned, ValidationError
from sipas.models import Dossier, Response, ResponseChannel, Unit
from sipas.responses import ResponseInput, record_response
from sipas.storage import Database, get_database
from tests.aggregator.tally_recount import recount, stored
from tests.factories import SECRET, TZ, answers_for, create_dossier, create_response, create_unit, local
from tests.pg_locks import wait_for_lock_waiter

NOW = datetime(2026, 1, 9, 3, 0, tzinfo=UTC)


def _unreturned(dossier: Dossier) -> DossierInput:
    """The one-stop system's correction: the result was not handed back after all."""
    return DossierInput(code=dossier.code, received_at=dossier.received_at, procedure=dossier.procedure,
                        field=dossier.field, intake_channel=dossier.intake_channel, due_at=dossier.due_at,
                        returned_at=None)


def _rating(catalogue: Catalogue, dossier: Dossier) -> ResponseInput:
    return ResponseInput(instrument="hue12", channel=ResponseChannel.API,
                         answers=answers_for(catalogue, "hue12", on=NOW), dossier_code=dossier.code,
                         submitted_at=local(2026, 1, 8, 10))


def _rated_and_unreturned(session: Session, dossier: Dossier) -> bool:
    session.expire_all()
    rated = session.scalar(select(func.count()).select_from(Response).where(Response.dossier_id == dossier.id))
    stored_dossier = session.get(Dossier, dossier.id)
    assert stored_dossier is not None
    return bool(rated) and stored_dossier.returned_at is None


def _unreturn(database: Database, unit: Unit, dossier: Dossier, errors: list[BaseException]) -> None:
    try:
        with database.session() as other:
            apply_dossier(other, other.merge(unit, load=False), _unreturned(dossier), tz=TZ, now=NOW, secret=SECRET)
    except BaseException as exc:  # reported by the test
        errors.append(exc)


def test_a_dossier_unreturned_while_a_rating_is_checked_refuses_the_rating(app: Any, session: Session,
                                                                           catalogue: Catalogue,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    ward = create_unit(session, allow_anonymous=True)
    create_response(session, catalogue, ward, now=NOW)  # the form's version is recorded: no write before the rating
    dossier = create_dossier(session, ward, received_at=local(2026, 1, 5), returned_at=local(2026, 1, 7))
    session.commit()
    database = get_database(app)
    errors: list[BaseException] = []
    original = responses_module.record_use

    def between_check_and_write(*args, **kwargs):  # type: ignore[no-untyped-def]
        worker = threading.Thread(target=_unreturn, args=(database, ward, dossier, errors))
        worker.start()
        worker.join(timeout=30)
        assert not worker.is_alive()
        return original(*args, **kwargs)

    monkeypatch.setattr(responses_module, "record_use", between_check_and_write)
    with database.intake_sessionmaker() as intake, pytest.raises(DossierNotReturned) as refused:
        record_response(intake, catalogue, intake.merge(ward, load=False), _rating(catalogue, dossier), now=NOW,
                        tz=TZ, actor="api", alone=True)
    assert refused.value.code == "not_returned" and "chưa được trả kết quả" in refused.value.message_vi
    assert not errors, errors
    assert not _rated_and_unreturned(session, dossier)
    assert recount(session, catalogue, TZ) == stored(session)  # nothing of the rating was written


def test_a_dossier_update_during_a_rating_does_not_clear_its_return_date(app: Any, session: Session,
                                                                         catalogue: Catalogue) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("row locks of PostgreSQL (on SQLite the two writers take turns on the write lock)")
    ward = create_unit(session)
    dossier = create_dossier(session, ward, received_at=local(2026, 1, 5), returned_at=local(2026, 1, 7))
    session.commit()
    database = get_database(app)
    rating = database.sessionmaker()
    # the rating's statement has run, its transaction not yet committed: the dossier row is locked, the rating not
    # yet visible to anyone else
    record_response(rating, catalogue, rating.merge(ward, load=False), _rating(catalogue, dossier), now=NOW, tz=TZ,
                    actor="api")
    errors: list[BaseException] = []
    worker = threading.Thread(target=_unreturn, args=(database, ward, dossier, errors))
    worker.start()
    try:
        wait_for_lock_waiter(database)
    finally:
        rating.commit()
        rating.close()
    worker.join(timeout=30)
    assert not worker.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], ValidationError), errors
    assert errors[0].message_vi == UNRETURN_RATED
    assert not _rated_and_unreturned(session, dossier)
