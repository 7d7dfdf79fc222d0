"""Simultaneous submissions for one dossier and instrument: exactly one is stored, the others are
told "already rated", and each refusal leaves an audit event. Real threads, each with its own
database connection, released together by a barrier; on SQLite (file, WAL) and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select
from werkzeug.exceptions import NotFound

from sipas.models import AuditEvent, Dossier, Response
from tests.factories import create_dossier, create_key, local

ANSWERS = {"q1": "rat_hai_long", "q2": "hai_long", "q3": "dung_hen", "q4": "don_gian"}


def rating(dossier_code: str, **extra: str) -> dict[str, object]:
    return {"instrument": "quay4", "channel": "api", "dossier_code": dossier_code, "answers": ANSWERS,
            "submitted_at": "2026-01-07T16:00:00+07:00", **extra}


def post_together(app, keys: list[str], path: str, body: dict[str, object]) -> list[int]:  # type: ignore[no-untyped-def]
    """POST ``body`` to ``path`` from one thread per key, all released at once; the status codes."""
    barrier = threading.Barrier(len(keys))
    statuses: list[int] = [0] * len(keys)
    errors: list[BaseException] = []

    def submit(index: int) -> None:
        client = app.test_client()
        headers = {"Authorization": f"Bearer {keys[index]}"}
        try:
            barrier.wait(timeout=10)
            statuses[index] = client.post(f"/api/v1{path}", json=body, headers=headers).status_code
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(keys))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return statuses


@pytest.mark.parametrize("submitters", [2, 5])
def test_simultaneous_submissions_store_exactly_one_response(app, session, ward, submitters):
    # One key per submitter (the portal, a kiosk, ...): no shared api_key row serialises them first.
    keys = [create_key(session, ward) for _ in range(submitters)]
    session.commit()
    rounds = 10 if submitters == 2 else 3
    for round_no in range(rounds):
        code = f"HS-DONGTHOI-{submitters}-{round_no}"
        dossier = create_dossier(session, ward, code=code, received_at=local(2026, 1, 5), due_at=local(2026, 1, 8),
                                 returned_at=local(2026, 1, 7))
        session.commit()
        statuses = post_together(app, keys, "/responses", rating(code))
        assert sorted(statuses) == [201] + [409] * (submitters - 1), (round_no, statuses)
        stored = session.scalar(select(func.count()).select_from(Response).where(Response.dossier_id == dossier.id))
        refused = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "response.duplicate_refused", AuditEvent.subject == code))
        session.commit()
        assert (stored, refused) == (1, submitters - 1), round_no


def test_simultaneous_resends_with_one_idempotency_key_store_one_and_replay_it(app, session, ward):
    keys = [create_key(session, ward)] * 2  # one client: idempotency keys are scoped by API key
    session.commit()
    for round_no in range(3):
        code = f"HS-GUILAI-{round_no}"
        create_dossier(session, ward, code=code, received_at=local(2026, 1, 5), returned_at=local(2026, 1, 7))
        session.commit()
        statuses = post_together(app, keys, "/responses", rating(code, idempotency_key=f"lan-{round_no}"))
        assert sorted(statuses) == [200, 201], (round_no, statuses)
    assert session.scalar(select(func.count()).select_from(Response)) == 3


def test_simultaneous_first_calls_for_a_new_dossier_create_it_once(app, session, ward):
    keys = [create_key(session, ward) for _ in range(3)]
    session.commit()
    for round_no in range(3):
        code = f"HS-MOI-{round_no}"
        body = {"code": code, "received_at": "2026-01-05T09:00:00+07:00", "phone": "0912345678", "sms_consent": True}
        statuses = post_together(app, keys, "/dossiers", body)
        assert sorted(statuses) == [200, 200, 201], (round_no, statuses)
        assert session.scalar(select(func.count()).select_from(Dossier).where(Dossier.code == code)) == 1
        session.commit()


@pytest.mark.parametrize("read_path", ["/api/v1/dossiers/HS-DOC", "/api/v1/reports?from=2026-01-01&to=2026-01-31"])
def test_reads_while_others_write_never_fail(app, session, ward, read_path):
    """A GET must stay a read: on SQLite a read transaction that later tries to write (the key's
    last-used time) fails at once if another connection wrote in between."""
    try:
        app.url_map.bind("localhost").match(read_path.split("?")[0], method="GET")
    except NotFound:
        pytest.skip(f"{read_path} is not served by this installation (its channel is not installed)")
    reader_key, writer_key = create_key(session, ward), create_key(session, ward)
    create_dossier(session, ward, code="HS-DOC", received_at=local(2026, 1, 5))
    session.commit()
    statuses: dict[str, list[int]] = {"read": [], "write": []}
    barrier = threading.Barrier(2)

    def reader() -> None:
        client = app.test_client()
        barrier.wait(timeout=10)
        for _ in range(40):
            statuses["read"].append(client.get(read_path,
                                               headers={"Authorization": f"Bearer {reader_key}"}).status_code)

    def writer() -> None:
        client = app.test_client()
        barrier.wait(timeout=10)
        for number in range(40):
            statuses["write"].append(client.post(
                "/api/v1/dossiers", json={"code": f"HS-GHI-{number}", "received_at": "2026-01-05"},
                headers={"Authorization": f"Bearer {writer_key}"}).status_code)

    threads = [threading.Thread(target=reader), threading.Thread(target=writer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert statuses["read"] == [200] * 40
    assert statuses["write"] == [201] * 40
