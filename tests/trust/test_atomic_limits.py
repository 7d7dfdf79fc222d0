"""Rate limits hold under concurrency and lock out only the client that guesses.

Real threads, each with its own client and database connection, released together by a barrier; on
SQLite and PostgreSQL. Counting rows and then inserting let 11 password checks through a limit of 5 and
stored 7 of 16 parallel kiosk submissions inside the 10-second minimum interval.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from sipas.models import Response
from tests.factories import PASSWORD, SECRET, answers_for, create_clerk, create_unit
from tests.kiosk.helpers import new_device


def together(count: int, prepare: Callable[[int], Callable[[], int]]) -> list[int]:
    """Run ``count`` requests at once: ``prepare(i)`` readies one (outside the race) and returns its call."""
    calls = [prepare(i) for i in range(count)]
    barrier = threading.Barrier(count)
    statuses, errors = [0] * count, []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=20)
            statuses[index] = calls[index]()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return statuses


def _csrf(client) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/console/login").get_data(as_text=True)
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def _login_call(app, username: str, password: str, address: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    token = _csrf(client)
    return lambda: client.post("/console/login", data={"username": username, "password": password,
                                                       "csrf_token": token}).status_code


@pytest.mark.usefixtures("one_login_instant")
def test_parallel_wrong_passwords_get_exactly_the_limit_of_checks(app, session):
    create_clerk(session, create_unit(session), username="hoa")
    session.commit()
    statuses = together(12, lambda _i: _login_call(app, "hoa", "sai-mat-khau", "10.0.0.1"))
    assert sorted(statuses) == [401] * 5 + [429] * 7


@pytest.mark.usefixtures("one_login_instant")
def test_an_attacker_does_not_lock_the_owner_out(app, session):
    create_clerk(session, create_unit(session), username="hoa")
    session.commit()
    for _ in range(8):
        assert _login_call(app, "hoa", "sai-mat-khau", "203.0.113.9")() in (401, 429)
    assert _login_call(app, "hoa", "sai-mat-khau", "203.0.113.9")() == 429
    assert _login_call(app, "hoa", PASSWORD, "10.0.0.2")() == 302  # the owner, from the office


def test_parallel_kiosk_submissions_respect_the_minimum_interval(app, session, catalogue):
    unit = create_unit(session, allow_anonymous=True)
    _device, _, token = new_device(session, unit, secret=SECRET)
    session.commit()

    def prepare(index: int):  # type: ignore[no-untyped-def]
        client = app.test_client()
        body = {"key": f"3b8f1f5e-0000-4000-8000-{index:012d}", "instrument": "hue12",
                "answers": answers_for(catalogue), "queued": 0}
        return lambda: client.post(f"/kiosk/{unit.code}/api/submit", json=body,
                                   headers={"X-Kiosk-Token": token}).status_code

    statuses = together(16, prepare)
    assert sorted(statuses) == [201] + [429] * 15
    assert session.scalar(select(func.count()).select_from(Response)) == 1
