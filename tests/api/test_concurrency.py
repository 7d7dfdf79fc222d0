"""Simultaneous submissions for one dossier and instrument: exactly one is stored, the others are
told "already rated", and each refusal leaves an audit event. Real threads, each with its own
database connection, released together by a barrier; on SQLite (file, WAL) and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from sipas.models import AuditEvent, Response
from tests.factories import create_dossier, create_key, local

ANSWERS = {"q1": "rat_hai_long", "q2": "hai_long", "q3": "dung_hen", "q4": "don_gian"}


def submit_together(app, keys: list[str], dossier_code: str) -> list[int]:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(len(keys))
    statuses: list[int] = [0] * len(keys)
    errors: list[BaseException] = []

    def submit(index: int) -> None:
        client = app.test_client()
        body = {"instrument": "quay4", "channel": "api", "dossier_code": dossier_code, "answers": ANSWERS,
                "submitted_at": "2026-01-07T16:00:00+07:00"}
        headers = {"Authorization": f"Bearer {keys[index]}"}
        try:
            barrier.wait(timeout=10)
            statuses[index] = client.post("/api/v1/responses", json=body, headers=headers).status_code
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
        statuses = submit_together(app, keys, code)
        assert sorted(statuses) == [201] + [409] * (submitters - 1), (round_no, statuses)
        stored = session.scalar(select(func.count()).select_from(Response).where(Response.dossier_id == dossier.id))
        refused = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "response.duplicate_refused", AuditEvent.subject == code))
        session.commit()
        assert (stored, refused) == (1, submitters - 1), round_no
