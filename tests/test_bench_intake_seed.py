"""``bench/intake.py``'s seed: the ward's earlier quarter (``HISTORY`` rated dossiers, their SMS answers) is stored
with tallies, dossier counts and events equal to a straight recount, beside the dossiers the load rates."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bench import intake
from sipas.catalogue import load_catalogue
from sipas.models import Dossier, Response
from sipas.settings import DEFAULT_CONFIG_DIR, Settings
from sipas.storage import Database
from sms_gateway.models import Invitation, OutboundMessage
from tests.aggregator.tally_recount import recount, stored


def test_the_seed_holds_a_rated_history_counted_as_a_recount_would(database_url: str, monkeypatch) -> None:
    monkeypatch.setattr(intake, "DOSSIERS", 40)
    monkeypatch.setattr(intake, "WEBHOOK_NUMBERS", 40)
    monkeypatch.setattr(intake, "HISTORY", 25)
    key, tokens, answers = intake.seed(database_url, devices=1)
    assert key and len(tokens) == 1 and answers
    settings = Settings.from_env({}, database_url=database_url, secret_key=intake.SECRET)
    database = Database(settings)
    try:
        with Session(database.engine) as session:
            assert session.scalar(select(func.count()).select_from(Dossier)) == 40 + 40 + 25
            assert session.scalar(select(func.count()).select_from(Invitation)) == 40
            history = session.scalars(select(Response)).all()
            assert len(history) == 25 and all(len(r.answers) == 12 for r in history)
            assert {r.dossier.code[:2] for r in history} == {"H-"}
            assert session.scalar(select(func.count()).select_from(OutboundMessage)) == 25
            assert stored(session) == recount(session, load_catalogue(DEFAULT_CONFIG_DIR), settings.tz)
        assert intake._stored(database_url) == ""  # what the load stored: the history is not counted
    finally:
        database.dispose()
