"""``sipas db retally`` recounts the tallies from the stored responses (after a change of time zone)."""

from __future__ import annotations

from collections import Counter

from click.testing import CliRunner
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from sipas import cli as cli_module
from sipas.catalogue import Catalogue
from sipas.models import Dossier, Response
from sipas.models_tally import AnswerTally, DossierEventTally, ResponseTally
from sipas.tally import uncount_response
from tests.aggregator.fixtures import build_quarter
from tests.aggregator.tally_recount import recount, stored
from tests.factories import TZ, answers_for, create_response, create_unit, local


def test_retally_recounts_what_was_lost_or_altered(session: Session, catalogue: Catalogue, settings,  # type: ignore[no-untyped-def]
                                                   monkeypatch) -> None:
    build_quarter(session, catalogue, create_unit(session))
    session.commit()
    expected = recount(session, catalogue, TZ)
    session.execute(delete(AnswerTally).where(AnswerTally.grain == "month"))
    session.execute(update(ResponseTally).values(responses=ResponseTally.responses + 5))
    session.execute(update(Response).values(negative=~Response.negative))  # every flag wrong
    session.execute(update(Dossier).values(responses=Dossier.responses + 2))  # the triggers follow: events wrong too
    session.execute(update(DossierEventTally).where(DossierEventTally.kind == "due")
                    .values(dossiers=DossierEventTally.dossiers + 1))
    session.commit()
    damaged = stored(session)
    assert all(damaged[part] != expected[part] for part in ("answers", "responses", "negative_flags", "dossiers",
                                                           "dossier_events"))

    monkeypatch.setenv("SIPAS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SIPAS_INSTANCE_DIR", str(settings.instance_dir))
    monkeypatch.setenv("SIPAS_SECRET_KEY", "cli-test-secret")
    cli_module._add_extra_commands()
    result = CliRunner().invoke(cli_module.cli, ["db", "retally"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Đã đếm lại số liệu tổng hợp của 5 phiếu." in result.output
    session.rollback()  # a new snapshot, after the command's commit
    assert stored(session) == expected


def test_a_response_is_taken_away_with_the_flags_it_was_counted_with(session: Session, catalogue: Catalogue,
                                                                      monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Counted as a follow-up case (its comment asks for action), then the phrases change: taking it away
    subtracts what was added (the stored flag), not what today's rules would say."""
    unit = create_unit(session, allow_anonymous=True)
    response = create_response(session, catalogue, unit, answers=answers_for(catalogue, on=local(2026, 2, 3)),
                               submitted_at=local(2026, 2, 3), comment="Đề nghị bố trí thêm ghế",
                               now=local(2026, 2, 3))
    session.commit()
    assert response.follow_up and not response.negative
    monkeypatch.setattr("sipas.tally.asks_for_action", lambda comment: False)
    uncount_response(session, response, TZ)
    session.delete(response)
    session.commit()
    assert stored(session)["responses"] == Counter()
