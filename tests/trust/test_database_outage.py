"""PostgreSQL down: every route answers 503 with Retry-After (JSON with a machine code for machines, the
Vietnamese page for people) and /healthz says why, instead of 500 ``internal_error``.

The test stops a PostgreSQL cluster of its own (the shared one of the run stays up).
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from sipas import storage
from sipas.app import create_app
from sipas.migrate import upgrade
from sipas.models import Response
from sipas.settings import Settings
from sipas.storage import get_database
from tests.factories import answers_for, create_clerk, create_key, create_unit, login
from tests.kiosk.helpers import new_device
from tests.pgcluster import PostgresCluster

pytestmark = pytest.mark.slow  # starts a PostgreSQL cluster of its own

@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    own = PostgresCluster()
    try:
        own.start()
        yield own
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped by the test
            own.stop()  # removes its folder all the same


def stop(cluster: PostgresCluster) -> None:
    cluster._run(str(cluster.bin_dir / "pg_ctl"), "-D", str(cluster.dir / "data"), "-m", "immediate", "-w", "stop")


@pytest.fixture
def outage_app(cluster: PostgresCluster, tmp_path: Path) -> Iterator[Flask]:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{cluster.port}/postgres"
    upgrade(url)
    app = create_app(Settings.from_env({}, database_url=url, secret_key="test-secret-key",
                                       instance_dir=tmp_path / "instance", secure_cookies=False, testing=True))
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production
    yield app
    get_database(app).dispose()


def test_a_stopped_postgresql_gives_503_with_retry_after_everywhere(outage_app, cluster, catalogue):
    client = outage_app.test_client()
    with get_database(outage_app).session() as session:
        unit = create_unit(session, allow_anonymous=True)
        key = create_key(session, unit)
        _, _, token = new_device(session, unit, secret="test-secret-key")
        clerk = create_clerk(session, unit)
        unit_code = unit.code
    login(client, clerk)
    assert client.get("/healthz").status_code == 200
    stop(cluster)

    health = client.get("/healthz")
    assert health.status_code == 503 and int(health.headers["Retry-After"]) > 0
    assert health.json["reason"] == "database_unreachable"

    api = client.post("/api/v1/responses", json={"instrument": "hue12", "channel": "paper",
                                                 "answers": answers_for(catalogue)},
                      headers={"Authorization": f"Bearer {key}"})
    kiosk = client.post(f"/kiosk/{unit_code}/api/submit", json={"key": "outage-0001", "instrument": "hue12",
                                                                "answers": answers_for(catalogue)},
                        headers={"X-Kiosk-Token": token})
    webhook = client.post("/sms/http/inbound", json={"from": "0901234567", "text": "1"})
    for answer in (api, kiosk, webhook):
        assert answer.status_code == 503, answer.get_data(as_text=True)
        assert int(answer.headers["Retry-After"]) > 0
        assert answer.json["error"]["code"] == "database_unavailable"

    page = client.get("/console/")
    text = page.get_data(as_text=True)
    assert page.status_code == 503 and int(page.headers["Retry-After"]) > 0
    assert "Hệ thống tạm thời gián đoạn" in text and "Internal Server Error" not in text


def restart(cluster: PostgresCluster) -> None:
    """An immediate restart, as after a crash or a package upgrade: every open connection is cut."""
    cluster._run(str(cluster.bin_dir / "pg_ctl"), "-D", str(cluster.dir / "data"), "-m", "immediate", "-w",
                 "restart")


def _rating(client, key: str, catalogue):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/responses", json={"instrument": "hue12", "channel": "paper",
                                                  "answers": answers_for(catalogue)},
                       headers={"Authorization": f"Bearer {key}"})


@pytest.fixture
def rating_key(outage_app: Flask) -> str:
    with get_database(outage_app).session() as session:
        key = create_key(session, create_unit(session, allow_anonymous=True))
    return key


def test_an_idle_connection_cut_by_a_restart_is_renewed_before_use(outage_app, cluster, catalogue, rating_key,
                                                                      monkeypatch):
    client = outage_app.test_client()
    assert _rating(client, rating_key, catalogue).status_code == 201  # its connection is back in the pool
    restart(cluster)
    monkeypatch.setattr(storage, "PING_AFTER_IDLE_SECONDS", 0.0)  # as if the restart took the night
    assert _rating(client, rating_key, catalogue).status_code == 201


def test_a_connection_cut_while_in_use_costs_one_retryable_answer(outage_app, cluster, catalogue, rating_key):
    """Not pinged (used a moment ago): the request that finds it broken answers 503 with Retry-After, and the pool
    is renewed, so the client's retry is stored. (The test cluster runs with ``synchronous_commit=off``: its
    immediate restart may drop the first rating, which a production server would keep.)"""
    client = outage_app.test_client()
    assert _rating(client, rating_key, catalogue).status_code == 201
    restart(cluster)
    refused = _rating(client, rating_key, catalogue)
    assert refused.status_code == 503 and int(refused.headers["Retry-After"]) > 0
    assert refused.json["error"]["code"] == "database_unavailable"
    retried = _rating(client, rating_key, catalogue)
    assert retried.status_code == 201
    with get_database(outage_app).session() as session:
        assert session.get(Response, retried.json["id"]) is not None
