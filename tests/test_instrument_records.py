"""A criterion-set version that has ratings cannot be edited in place: start-up refuses and says where."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, select

from sipas import cli as cli_module
from sipas.catalogue import load_catalogue
from sipas.instrument_records import InstrumentChanged, check_records, record_existing
from sipas.models import InstrumentVersionRecord
from sipas.settings import DEFAULT_CONFIG_DIR
from sipas.storage import get_database
from tests.factories import create_dossier, create_response, create_unit


def _edited_config(tmp_path: Path, old: str, new: str) -> Path:
    config = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, config)
    path = config / "instruments" / "quay4.v2018.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return config


def _rated_quay4(session, catalogue):  # type: ignore[no-untyped-def]
    unit = create_unit(session)
    create_response(session, catalogue, unit, dossier=create_dossier(session, unit), instrument="quay4")
    session.commit()


def test_the_first_rating_under_a_version_records_it_once(session, catalogue) -> None:
    _rated_quay4(session, catalogue)
    unit = create_unit(session)
    create_response(session, catalogue, unit, dossier=create_dossier(session, unit), instrument="quay4")
    session.commit()
    records = session.scalars(select(InstrumentVersionRecord)).all()
    assert [(r.code, r.version) for r in records] == [("quay4", "2018.1")]


def test_an_edited_wording_or_a_removed_version_is_refused_by_name(app, session, catalogue, tmp_path) -> None:
    _rated_quay4(session, catalogue)
    engine = get_database(app).engine
    with engine.connect() as connection:
        check_records(connection, catalogue)  # the shipped files match
    edited = load_catalogue(_edited_config(tmp_path / "a", 'label = "Nơi đón tiếp"', 'label = "Nơi tiếp đón"'))
    expected = r"quay4 phiên bản 2018\.1.*tiêu chí q1"
    with engine.connect() as connection, pytest.raises(InstrumentChanged, match=expected):
        check_records(connection, edited)
    config = _edited_config(tmp_path / "b", 'version = "2018.1"', 'version = "2018.2"')
    with engine.connect() as connection, pytest.raises(InstrumentChanged, match="không còn trong config"):
        check_records(connection, load_catalogue(config))


def test_reading_flags_are_not_part_of_what_was_asked(app, session, catalogue, tmp_path) -> None:
    _rated_quay4(session, catalogue)
    reread = load_catalogue(_edited_config(tmp_path, "satisfaction = true", "satisfaction = false"))
    with get_database(app).engine.connect() as connection:
        check_records(connection, reread)


def test_db_upgrade_records_versions_rated_before_the_records_existed(settings, session, catalogue,
                                                                     monkeypatch, tmp_path) -> None:
    _rated_quay4(session, catalogue)
    session.execute(delete(InstrumentVersionRecord))
    session.commit()
    assert record_existing(session, catalogue, now=datetime.now(UTC)) == 1
    session.rollback()
    monkeypatch.setenv("SIPAS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SIPAS_INSTANCE_DIR", str(settings.instance_dir))
    monkeypatch.setenv("SIPAS_SECRET_KEY", "cli-test-secret")
    runner = CliRunner()
    assert runner.invoke(cli_module.cli, ["db", "upgrade"]).exit_code == 0
    assert session.scalar(select(func.count()).select_from(InstrumentVersionRecord)) == 1
    monkeypatch.setenv("SIPAS_CONFIG_DIR", str(_edited_config(tmp_path, "points = 2", "points = 3")))
    refused = runner.invoke(cli_module.cli, ["db", "upgrade"])
    assert refused.exit_code == 1
    assert "Bộ tiêu chí không khớp với phiếu đã lưu: bộ tiêu chí quay4 phiên bản 2018.1" in refused.output
