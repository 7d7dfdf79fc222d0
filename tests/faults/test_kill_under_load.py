"""SIGKILL of the whole server (gunicorn master and workers) under a mixed load, on SQLite and PostgreSQL.

Every rating a client was told is stored must be in the database after the crash, and exactly once; the
clients then send what got no answer again (as kiosks and Twilio do) to the restarted server, and in the end
every rating is stored exactly once.
"""

from __future__ import annotations

import time

import pytest

from sipas.settings import Settings
from tests.factories import SECRET
from tests.faults.load import Load, Server, responses_per_dossier, seed, server_env

pytestmark = pytest.mark.slow
PER_CHANNEL = 30


def test_sigkill_under_load_loses_no_acknowledged_rating_and_stores_none_twice(server_database_url, catalogue,
                                                                              tmp_path):
    settings = Settings.from_env(server_env(server_database_url, tmp_path / "instance"),
                                 database_url=server_database_url, secret_key=SECRET)
    ratings = seed(settings, catalogue, PER_CHANNEL)
    server = Server(server_env(server_database_url, tmp_path / "instance"), tmp_path / "server.log")
    server.start()
    load = Load(lambda: server.url, ratings, deadline=time.monotonic() + 50).start()
    try:
        load.wait_for_acknowledgements(len(ratings) // 3, per_channel=2)
        server.kill()
        acknowledged = {r.dossier_code for r in load.acknowledged()}
        stored = responses_per_dossier(server_database_url)
        assert {code: stored.get(code, 0) for code in acknowledged} == dict.fromkeys(acknowledged, 1)
        assert set(stored.values()) == {1}

        restart = time.monotonic()
        server.start()  # same port: the clients' retries reach it
        restarted_in = time.monotonic() - restart
        load.join()
    finally:
        server.stop()
    in_flight = [r for r in ratings if r.unanswered and r.answers]
    print(f"\n{server_database_url.split(':')[0]}: {len(acknowledged)} of {len(ratings)} acknowledged at the kill, "
          f"{len(in_flight)} in flight (sent again), restart {restarted_in:.1f} s")
    assert load.refused == []
    assert all(r.acknowledged for r in ratings), [r.dossier_code for r in ratings if not r.acknowledged]
    assert responses_per_dossier(server_database_url) == {r.dossier_code: 1 for r in ratings}
