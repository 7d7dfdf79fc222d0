"""Migration ``core_0014`` backfills the tallies from the responses a past release stored, exactly (both
backends): the upgraded database's tallies equal a straight recount, and its reports read from them equal
the reports recounted from the raw rows."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from aggregator.report import build_report
from sipas.catalogue import load_catalogue
from sipas.clock import Period
from sipas.models import Unit
from sipas.settings import DEFAULT_CONFIG_DIR
from tests.aggregator.tally_recount import recount, stored
from tests.factories import TZ
from tests.test_upgrade_from_release import FIXTURES, RELEASES, _loaded_postgres, _upgrade_with_the_cli


def _check_backfill(url: str, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _upgrade_with_the_cli(url, tmp_path, monkeypatch)
    catalogue = load_catalogue(DEFAULT_CONFIG_DIR)
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            expected = recount(session, catalogue, TZ)
            assert expected["answers"] and expected["responses"]  # the release stored ratings
            assert stored(session) == expected
            units = session.scalars(select(Unit).order_by(Unit.id)).all()
            days = [k[2] for k in expected["responses"] if k[1] == "day"]
            period = Period(min(days), max(days))
            kw = {"tz": TZ, "now": datetime(2030, 1, 1, tzinfo=UTC), "unit_label": "x"}
            fast = build_report(session, catalogue, list(units), period, **kw)
            slow = build_report(session, catalogue, list(units), period, recount=True, **kw)
            assert fast["responses"] > 0
            assert fast == slow
    finally:
        engine.dispose()


@pytest.mark.parametrize(("backend", "release"), [(b, r) for b in ("sqlite", "postgresql") for r in RELEASES],
                         ids=[f"{b}-{r}" for b in ("sqlite", "postgresql") for r in RELEASES])
def test_upgrade_backfills_the_tallies(backend, release, request, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    folder = FIXTURES / release
    if backend == "sqlite":
        path = tmp_path / "release.db"
        shutil.copyfile(folder / "sipas.sqlite3", path)
        _check_backfill(f"sqlite:///{path}", tmp_path, monkeypatch)
        return
    with _loaded_postgres(request.getfixturevalue("postgres_server"), folder) as url:
        _check_backfill(url, tmp_path, monkeypatch)
