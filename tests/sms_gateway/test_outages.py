"""Outages do not use up the invitations' attempts: an unreachable provider (a real refused socket) and an
unreachable database make the sender back off, and the messages go out once both are back."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select
from twilio.http.http_client import TwilioHttpClient

from sipas.clock import utcnow
from sipas.scheduler import Lease, acquire_lock, activate, deactivate
from sipas.settings import Settings
from sipas.storage import Database, get_database
from sms_gateway import jobs
from sms_gateway.models import Invitation, InvitationStatus
from sms_gateway.providers.twilio_provider import TwilioProvider
from sms_gateway.sending import run_cycle
from sms_gateway.settings import SmsSettings
from tests.factories import create_unit, local
from tests.sms_gateway.conftest import RecordingProvider
from tests.sms_gateway.prism import free_port
from tests.sms_gateway.test_cycle import RETURNED, invitations, returned

PHONES = ["+84912345671", "+84912345672", "+84912345673"]


def test_an_unreachable_provider_is_probed_once_a_cycle_and_uses_up_no_attempt(app, session, settings):
    unit = create_unit(session)
    for phone in PHONES:
        returned(session, unit, phone=phone)
    sms = SmsSettings.from_settings(settings)
    refused = TwilioProvider(replace(sms, twilio_api_base=f"http://127.0.0.1:{free_port()}"),
                             http_client=TwilioHttpClient(timeout=2))
    probes: list[int] = []
    send = refused.send
    refused.send = lambda *args, **kwargs: probes.append(1) or send(*args, **kwargs)  # type: ignore[method-assign]
    now = local(2026, 1, 7, 10, 0)
    for _ in range(sms.max_attempts + 2):
        summary = run_cycle(get_database(app), settings, now=now, provider=refused, sms=sms)
        assert summary.counts["provider_unreachable"] == 1
        now += timedelta(seconds=sms.retry_base_seconds + 1)
    assert len(probes) == sms.max_attempts + 2  # one probe per cycle, not one per due message
    waiting = invitations(session)
    assert [i.status for i in waiting] == [InvitationStatus.PENDING] * 3
    assert [i.attempts for i in waiting] == [0, 0, 0] and {i.last_error_code for i in waiting} <= {"network", None}

    back = RecordingProvider()
    summary = run_cycle(get_database(app), settings, now=now, provider=back, sms=sms)
    assert summary.counts["invitation_sent"] == 3 and sorted(to for to, _ in back.sent) == PHONES
    assert [i.attempts for i in invitations(session)] == [1, 1, 1]


@pytest.fixture
def unreachable_database(tmp_path, monkeypatch) -> Database:  # type: ignore[no-untyped-def]
    """The scheduler's job pointed at a PostgreSQL that refuses connections (nothing listens on the port)."""
    settings = Settings.from_env({}, database_url=f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/sipas",
                                 secret_key="t", instance_dir=tmp_path / "instance")
    database = Database(settings)
    monkeypatch.setattr(jobs, "_context", {"settings": settings, "database": database})
    activate(database, Lease("host:1", 1, 90))  # the lease it held before the database went away
    yield database
    deactivate()
    database.dispose()


def test_the_job_skips_cycles_with_growing_backoff_while_the_database_is_down(unreachable_database, monkeypatch,
                                                                             caplog):
    tried: list[object] = []
    real_cycle = jobs._send_due_cycle  # the fenced cycle: renewing the lease is its first use of the database

    def counted(now):  # type: ignore[no-untyped-def]
        tried.append(now)
        return real_cycle(now)

    monkeypatch.setattr(jobs, "_send_due_cycle", counted)
    start = RETURNED
    for minute in range(8):  # the scheduler calls the job every minute
        monkeypatch.setattr(jobs, "utcnow", lambda minute=minute: start + timedelta(minutes=minute, seconds=1))
        jobs.send_due_job()  # never raises: a warning, then a longer wait
    assert tried == [start + timedelta(minutes=m, seconds=1) for m in (0, 1, 3, 7)]  # waits of 1, 2, 4 minutes
    assert "sms cycle skipped: database_unreachable" in caplog.text
    assert jobs._context["backoff"] == timedelta(minutes=8)


def test_the_backoff_ends_when_the_database_answers_again(app, session, settings, monkeypatch, request):
    unit = create_unit(session)
    returned(session, unit)
    monkeypatch.setattr(jobs, "_context", {"settings": settings, "database": get_database(app),
                                           "backoff": timedelta(minutes=4), "resume_at": local(2026, 1, 7, 10, 0)})
    sent = RecordingProvider()
    monkeypatch.setattr("sms_gateway.sending.build_provider", lambda _sms: sent)
    monkeypatch.setattr(jobs, "utcnow", lambda: local(2026, 1, 7, 9, 59))
    activate(get_database(app), acquire_lock(get_database(app), "host:1", now=utcnow()))
    request.addfinalizer(deactivate)
    jobs.send_due_job()
    assert sent.sent == []  # still waiting
    monkeypatch.setattr(jobs, "utcnow", lambda: local(2026, 1, 7, 10, 0))
    jobs.send_due_job()
    assert len(sent.sent) == 1 and "backoff" not in jobs._context and "resume_at" not in jobs._context
    assert session.scalars(select(Invitation)).one().status is InvitationStatus.SENT
