"""End to end without a browser: a dossier returned through the API, `sipas send-due`, the outbox and the
invitation in `GET /api/v1/dossiers/<code>`."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from sipas import cli as cli_module
from sipas.clock import utcnow
from sipas.scheduler import acquire_lock, activate, deactivate
from sipas.storage import Database
from sms_gateway.models import Invitation, InvitationStatus, OutboundMessage
from tests.factories import create_key, create_unit

DOSSIER = {
    "code": "000.00.20.H57-260105-0042",
    "procedure": "Đăng ký khai sinh",
    "field": "Hộ tịch",
    "intake_channel": "online_full",
    "received_at": "2026-01-05T09:00:00+07:00",
    "due_at": "2026-01-08T17:00:00+07:00",
    "returned_at": "2026-01-07T21:40:00+07:00",
    "phone": "0912 345 678",
    "sms_consent": True,
}


@pytest.fixture
def run_cli(run_cli, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SIPAS_PUBLIC_BASE_URL", "https://danhgia.example.gov.vn")
    monkeypatch.delenv("SIPAS_SMS_PROVIDER", raising=False)  # the console provider, as in `make run`
    return run_cli


def test_returned_dossier_reaches_the_console_outbox_at_the_next_allowed_time(client, session, run_cli):  # type: ignore[no-untyped-def]
    unit = create_unit(session, name="Phường Phú Hội")
    key = create_key(session, unit)
    session.commit()
    auth = {"Authorization": f"Bearer {key}"}
    assert client.post("/api/v1/dossiers", json=DOSSIER, headers=auth).status_code == 201

    night = run_cli("send-due", "--now", "2026-01-07T22:00")
    assert night.exit_code == 0 and "ngoài khung giờ" in night.output and "tạo lời mời: 1" in night.output
    session.commit()
    assert session.scalars(select(OutboundMessage)).all() == []

    morning = run_cli("send-due", "--now", "2026-01-08T07:00:00+07:00")
    assert morning.exit_code == 0 and "đã gửi tin mời: 1" in morning.output
    session.commit()
    message = session.scalars(select(OutboundMessage)).one()
    assert message.provider == "console" and message.to_hint == "678" and DOSSIER["code"] in message.body
    assert "https://danhgia.example.gov.vn/r/" in message.body and message.segments == 1

    shown = client.get(f"/api/v1/dossiers/{DOSSIER['code']}", headers=auth).json["invitations"]
    assert len(shown) == 1
    assert shown[0]["status"] == "sent" and shown[0]["short_link"] in message.body
    assert shown[0]["sent_at"] == "2026-01-08T07:00:00+07:00" and shown[0]["answered_at"] is None
    assert shown[0]["expires_at"].startswith("2026-01-14T22:00")

    again = run_cli("send-due", "--now", "2026-01-08T07:01")
    assert "đã gửi tin mời" not in again.output
    session.commit()
    assert session.scalars(select(Invitation.status)).all() == [InvitationStatus.SENT]


def test_send_due_refuses_an_unreadable_time(run_cli):  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(cli_module.cli, ["send-due", "--now", "hôm qua"])
    assert result.exit_code == 2 and "không đọc được thời điểm" in result.output


def test_the_scheduler_job_runs_the_cycle_with_the_current_time(settings, session, monkeypatch):  # type: ignore[no-untyped-def]
    from sms_gateway import jobs

    class Scheduler:
        def __init__(self) -> None:
            self.jobs: list[tuple[object, dict]] = []

        def add_job(self, func, trigger, **kwargs):  # type: ignore[no-untyped-def]
            self.jobs.append((func, {"trigger": trigger} | kwargs))

    scheduler = Scheduler()
    monkeypatch.setattr(jobs, "_context", {})
    jobs.register(scheduler, settings)
    (func, options), (pull, pull_options) = scheduler.jobs
    from sms_gateway.zalo_jobs import pull_ratings_job

    assert pull is pull_ratings_job and pull_options["id"] == "sms_gateway.zalo_ratings"
    assert func is jobs.send_due_job and options.pop("next_run_time").tzinfo is not None
    assert options == {"trigger": "interval", "seconds": 60, "id": "sms_gateway.send_due", "replace_existing": True,
                       "coalesce": True, "max_instances": 1}
    seen = []
    monkeypatch.setattr("sms_gateway.sending.run_cycle", lambda database, s, *, now: seen.append(now) or "ok")
    database = Database(settings)
    activate(database, acquire_lock(database, "host:1", now=utcnow()))  # jobs run only under the scheduler lease
    try:
        jobs.send_due_job()
    finally:
        deactivate()
        database.dispose()
        jobs._context["database"].dispose()
    assert len(seen) == 1 and seen[0].tzinfo is not None
