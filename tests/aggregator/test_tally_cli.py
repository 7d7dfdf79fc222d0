"""``sipas db retally`` recounts the tallies from the stored responses (after a change of time zone)."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from sipas import cli as cli_module
from sipas.catalogue import Catalogue
from sipas.models import Dossier, Response
from sipas.models_tally import AnswerTally, DossierEventTally, ResponseTally
from tests.aggregator.fixtures import build_quarter
from tests.aggregator.tally_recount import recount, stored
from tests.factories import TZ, create_unit


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
