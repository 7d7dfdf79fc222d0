"""PostgreSQL stopped and started again under a mixed load, the server left running.

While the database is down the server still answers (an error, never an acknowledgement); once it is back
the same gunicorn processes serve again, without a restart, and no acknowledged rating is lost or doubled.
The cluster here is a private one with durable settings (fsync and synchronous commit on), so what a commit
acknowledged survives the stop.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sipas.settings import Settings
from tests.factories import SECRET
from tests.faults.conftest import create_postgres_database
from tests.faults.load import Load, Rating, Server, responses_per_dossier, seed, server_env
from tests.pgcluster import PostgresCluster

pytestmark = pytest.mark.slow
PER_CHANNEL = 20


class DurableCluster(PostgresCluster):
    """The test cluster without the speed settings that would drop the last commits at a stop."""

    def start(self) -> str:
        import shutil

        if self._as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(str(self.bin_dir / "initdb"), "-D", str(self.dir / "data"), "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--locale=C.UTF-8")
        self.resume()
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def pause(self) -> None:
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=100"
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.dir / "data"), "-o", options, "-l",
                  str(self.dir / "log"), "-w", "start")


@dataclass
class Outage:
    ratings: list[Rating]
    load: Load
    database_url: str
    acknowledged_before: set[str]
    stored_after_stop: dict[str, int]
    answers_while_down: list[tuple[int, str | None]]
    acknowledged_while_down: set[str]
    same_server: bool
    down_seconds: float
    recovered_in: float


@pytest.fixture(scope="module")
def outage(catalogue, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outage]:
    tmp_path: Path = tmp_path_factory.mktemp("outage")
    cluster = DurableCluster()
    server_url = cluster.start()
    server: Server | None = None
    try:
        url = create_postgres_database(server_url, "sipas_outage")  # goes with the cluster
        env = server_env(url, tmp_path / "instance")
        ratings = seed(Settings.from_env(env, database_url=url, secret_key=SECRET), catalogue, PER_CHANNEL)
        server = Server(env, tmp_path / "server.log")
        server.start()
        pid = server.process.pid  # type: ignore[union-attr]
        load = Load(lambda: server.url, ratings, deadline=time.monotonic() + 50).start()  # type: ignore[union-attr]
        load.wait_for_acknowledgements(len(ratings) // 4)
        stopped = time.monotonic()
        cluster.pause()
        acknowledged_before = {r.dossier_code for r in load.acknowledged()}
        errors_before = len(load.server_errors)
        while (len(load.server_errors) < errors_before + 8 or time.monotonic() - stopped < 2) \
                and time.monotonic() - stopped < 15:
            time.sleep(0.05)  # the clients keep sending while the database is down
        answers_while_down = load.server_errors[errors_before:]
        acknowledged_while_down = {r.dossier_code for r in load.acknowledged()} - acknowledged_before
        cluster.resume()
        down_seconds = time.monotonic() - stopped
        stored_after_stop = responses_per_dossier(url)
        resumed, acknowledged_count = time.monotonic(), len(load.acknowledged())
        load.wait_for_acknowledgements(acknowledged_count + 4)
        recovered_in = time.monotonic() - resumed
        load.join()
        yield Outage(ratings, load, url, acknowledged_before, stored_after_stop, answers_while_down,
                     acknowledged_while_down,
                     server.process is not None and server.process.pid == pid and server.process.poll() is None,
                     down_seconds, recovered_in)
    finally:
        if server is not None:
            server.stop()
        cluster.stop()


def test_postgres_outage_loses_no_acknowledged_rating_and_recovers_without_restart(outage: Outage):
    print(f"\npostgresql outage: down {outage.down_seconds:.1f} s, {len(outage.answers_while_down)} answers while "
          f"down ({sorted({s for s, _ in outage.answers_while_down})}), served again {outage.recovered_in:.1f} s "
          "after the start")
    assert outage.answers_while_down, "the server gave no answer while the database was down"
    # An acknowledgement seen during the outage can only be of a rating committed before the stop.
    assert outage.acknowledged_while_down <= set(outage.stored_after_stop)
    assert {code: outage.stored_after_stop.get(code) for code in outage.acknowledged_before} == \
        dict.fromkeys(outage.acknowledged_before, 1)
    assert outage.same_server, "the server had to be restarted"
    assert outage.load.refused == []
    assert all(r.acknowledged for r in outage.ratings)
    assert responses_per_dossier(outage.database_url) == {r.dossier_code: 1 for r in outage.ratings}


def test_postgres_outage_answers_503(outage: Outage):
    """While the database is down every request gets 503 with Retry-After, not a 500."""
    assert outage.answers_while_down
    assert all(status == 503 and retry_after for status, retry_after in outage.answers_while_down), \
        outage.answers_while_down
