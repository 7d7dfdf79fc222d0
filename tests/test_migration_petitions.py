"""``core_0025``: a database whose dossiers counted dissatisfied ratings only is recounted with the ratings whose
comment asks for action (QĐ 766's "có phản ánh, kiến nghị"), and a downgrade puts the old counts back."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from aggregator.report import build_report
from sipas.clock import Period
from sipas.migrate import alembic_config, upgrade
from tests.factories import TZ, create_dossier, create_response, create_unit, local

NOW = local(2026, 4, 10, 9)


def _ratio(engine, catalogue, unit_id: int) -> dict:  # type: ignore[no-untyped-def]
    from sipas.models import Unit

    with Session(engine) as session:
        unit = session.get(Unit, unit_id)
        return build_report(session, catalogue, [unit], Period.quarter(2026, 1), tz=TZ, now=NOW,
                            unit_label="x")["satisfaction_766"]


def test_the_upgrade_counts_petitions_and_the_downgrade_does_not(tmp_path, catalogue) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'petitions.db'}"
    upgrade(url)
    engine = create_engine(url)
    with Session(engine) as session:
        unit = create_unit(session)
        dossier = create_dossier(session, unit, received_at=local(2026, 2, 2, 8), due_at=local(2026, 2, 6, 17),
                                 returned_at=local(2026, 2, 5, 9))
        create_response(session, catalogue, unit, dossier=dossier, submitted_at=local(2026, 2, 5, 10), now=NOW,
                        comment="Đề nghị niêm yết rõ lệ phí")
        session.commit()
        unit_id = unit.id
    assert _ratio(engine, catalogue, unit_id)["unsatisfied_or_late"] == 1
    config = alembic_config(url)
    command.downgrade(config, "core_0024")
    assert _ratio(engine, catalogue, unit_id)["unsatisfied_or_late"] == 0
    upgrade(url)
    assert _ratio(engine, catalogue, unit_id) == {"total_dossiers": 1, "unsatisfied_or_late": 1, "percent": 0.0}
    engine.dispose()
