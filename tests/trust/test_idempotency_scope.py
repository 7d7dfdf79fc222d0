"""Idempotency keys belong to one client: a unit and a source (kiosk device, API key, link, SMS provider).

Before, keys were one global namespace: a kiosk whose key another ward's kiosk had used got ``200
replayed`` with nothing stored (a lost rating) and was handed that ward's response.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from sipas.migrate import alembic_config
from sipas.models import Response, ResponseChannel
from sipas.responses import ResponseInput, find_by_idempotency_key, record_response
from tests.conftest import BACKENDS
from tests.factories import answers_for, create_dossier, create_unit
from tests.kiosk.helpers import new_device

NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


def kiosk_in(session, unit=None, name="Quầy 1"):  # type: ignore[no-untyped-def]
    unit = unit or create_unit(session, allow_anonymous=True)
    device, _, token = new_device(session, unit, secret="test-secret-key", name=name)
    session.commit()
    return unit, device, {"X-Kiosk-Token": token}


def kiosk_body(catalogue, key: str, **extra: str) -> dict:  # type: ignore[type-arg]
    return {"key": key, "instrument": "hue12", "answers": answers_for(catalogue), **extra}


def test_two_wards_kiosks_sending_the_same_key_each_store_their_own_rating(client, session, catalogue):
    ward_a, _, headers_a = kiosk_in(session)
    ward_b, device_b, headers_b = kiosk_in(session)
    dossier_b = create_dossier(session, ward_b)
    session.commit()
    key = "0000-0000-0001"
    first = client.post(f"/kiosk/{ward_a.code}/api/submit", json=kiosk_body(catalogue, key), headers=headers_a)
    other = client.post(f"/kiosk/{ward_b.code}/api/submit",
                        json=kiosk_body(catalogue, key, dossier_code=dossier_b.code),
                        headers=headers_b)
    assert (first.status_code, first.get_json()["status"]) == (201, "stored")
    assert (other.status_code, other.get_json()["status"]) == (201, "stored")
    stored = {r.unit_id: r for r in session.scalars(select(Response))}
    assert set(stored) == {ward_a.id, ward_b.id}
    assert stored[ward_b.id].dossier_id == dossier_b.id and stored[ward_b.id].source == device_b.source
    resend = client.post(f"/kiosk/{ward_a.code}/api/submit", json=kiosk_body(catalogue, key), headers=headers_a)
    assert (resend.status_code, resend.get_json()["status"]) == (200, "replayed")
    assert session.scalar(select(func.count()).select_from(Response)) == 2


def test_two_kiosks_of_one_ward_do_not_share_keys(client, session, catalogue):
    ward, _, headers_1 = kiosk_in(session, name="Quầy 1")
    _, _, headers_2 = kiosk_in(session, ward, name="Quầy 2")
    for headers in (headers_1, headers_2):
        answer = client.post(f"/kiosk/{ward.code}/api/submit", json=kiosk_body(catalogue, "same-key-123"),
                             headers=headers)
        assert (answer.status_code, answer.get_json()["status"]) == (201, "stored")
    assert session.scalar(select(func.count()).select_from(Response)) == 2


def record(session, catalogue, unit, key: str, source: str, **extra):  # type: ignore[no-untyped-def]
    data = ResponseInput(instrument="hue12", channel=ResponseChannel.PAPER, answers=answers_for(catalogue),
                         idempotency_key=key, source=source, submitted_at=NOW, **extra)
    return record_response(session, catalogue, unit, data, now=NOW, tz=UTC, actor="test")


def test_the_same_key_from_another_source_or_unit_is_a_new_response(app, catalogue):
    from sipas.storage import get_database

    with get_database(app).session() as session:
        ward, other_ward = create_unit(session), create_unit(session)
        first = record(session, catalogue, ward, "k-1", "api:abc")
        assert not record(session, catalogue, ward, "k-1", "sms:twilio").replayed
        assert not record(session, catalogue, other_ward, "k-1", "api:abc").replayed
        again = record(session, catalogue, ward, "k-1", "api:abc")
        assert again.replayed and again.response.id == first.response.id
        assert find_by_idempotency_key(session, other_ward, "api:abc", "k-1").id != first.response.id


def test_a_key_without_a_source_is_refused_as_a_programming_error(app, catalogue):
    from sipas.storage import get_database

    with get_database(app).session() as session:
        ward = create_unit(session)
        with pytest.raises(ValueError):
            record(session, catalogue, ward, "k-1", "")


def test_the_database_enforces_one_key_per_unit_and_source(app, catalogue):
    from sipas.storage import get_database

    database = get_database(app)
    with database.session() as session:
        ward = create_unit(session)
        ward_id = ward.id
    row = {"unit_id": ward_id, "instrument_code": "hue12", "instrument_version": "1", "channel": ResponseChannel.PAPER,
           "submitted_at": NOW, "created_at": NOW, "idempotency_key": "k-9"}
    with database.session() as session:
        session.add_all([Response(**row, source="kiosk:a"), Response(**row, source="kiosk:b")])
    with pytest.raises(IntegrityError), database.session() as session:
        session.add(Response(**row, source="kiosk:a"))


def test_the_lookup_searches_the_unique_index(sqlite_template):
    """A resend costs an index probe on (unit, source, key), not a scan (SQLite's plan is stable to read;
    PostgreSQL's planner rightly scans tables as small as a test's)."""
    engine = create_engine(f"sqlite:///{sqlite_template}")
    query = select(Response.id).where(Response.unit_id == 1, Response.source == "kiosk:x",
                                      Response.idempotency_key == "k")
    compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as connection:
        plan = " ".join(str(row[-1]) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
    engine.dispose()
    assert plan.startswith("SEARCH response USING") and "(unit_id=? AND source=? AND idempotency_key=?)" in plan


@pytest.fixture(params=BACKENDS)
def blank_url(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    """An empty database, for migrating step by step."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name = f"sipas_blank_{abs(hash(tmp_path)) % 10**8}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(server).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_the_migration_carries_existing_keys_into_their_scope(blank_url):
    config = alembic_config(blank_url)
    command.upgrade(config, "core_0003")
    engine = create_engine(blank_url)
    stamp = "2026-01-05 02:00:00.000000"
    with engine.begin() as conn:
        for unit_id in (1, 2):
            conn.execute(text(
                "INSERT INTO unit (id, code, name, kind, issuing_body, place_name, signatory_title, signatory_name,"
                " default_instrument, allow_anonymous, options, created_at) VALUES (:id, :code, 'Phường', 'ward',"
                " 'UBND', 'Huế', 'Chủ tịch', 'A', 'hue12', true, :options, :at)"),
                {"id": unit_id, "code": f"W{unit_id}", "options": json.dumps({}), "at": stamp})
        rows = [(1, "kiosk:k1", "kiosk", "client-1"), (2, "api:abcd", "api", "api:" + "f" * 64),
                (1, None, "paper", "legacy-7"), (2, None, "paper", None)]
        for index, (unit_id, source, channel, key) in enumerate(rows, start=1):
            conn.execute(text(
                "INSERT INTO response (id, unit_id, instrument_code, instrument_version, channel, submitted_at,"
                " idempotency_key, source, flagged, created_at) VALUES (:id, :unit, 'hue12', '1', :channel, :at,"
                " :key, :source, false, :at)"),
                {"id": index, "unit": unit_id, "channel": channel, "key": key, "source": source, "at": stamp})
    command.upgrade(config, "heads")
    with engine.begin() as conn:
        after = conn.execute(text("SELECT id, unit_id, source, idempotency_key FROM response ORDER BY id")).all()
        assert [tuple(r) for r in after] == [(1, 1, "kiosk:k1", "client-1"), (2, 2, "api:abcd", "api:" + "f" * 64),
                                             (3, 1, "paper", "legacy-7"), (4, 2, None, None)]
        # the same client key now fits another unit's kiosk, and twice the same scope is still refused
        conn.execute(text(
            "INSERT INTO response (id, unit_id, instrument_code, instrument_version, channel, submitted_at,"
            " idempotency_key, source, flagged, created_at) VALUES (5, 2, 'hue12', '1', 'kiosk', :at,"
            " 'client-1', 'kiosk:k2', false, :at)"), {"at": stamp})
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO response (id, unit_id, instrument_code, instrument_version, channel, submitted_at,"
            " idempotency_key, source, flagged, created_at) VALUES (6, 1, 'hue12', '1', 'kiosk', :at,"
            " 'client-1', 'kiosk:k1', false, :at)"), {"at": stamp})
    engine.dispose()
