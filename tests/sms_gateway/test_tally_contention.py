"""Concurrent writers of the invitations, their messages and ``sms_invitation_tally`` on PostgreSQL: no deadlock,
no lost count.

The tally (``sms_0007``) is kept by row triggers in each writer's transaction. The cycle records a batch of
messages of many units in one transaction (``record_sent_many``), a second sender (``sipas send-due`` while the
scheduler's cycle runs; "each message is still claimed on its own, so a second sender changes nothing") records its
own, and Twilio's status callbacks come in parallel gunicorn threads, often before the batch is recorded. Each test
lets one writer take its first locks, starts the other in a thread, waits until one of them waits on a lock
(``tests.pg_locks``), then lets the first go on: the interleaving is the one the test means, not the scheduler's.
A deadlock shows as PostgreSQL's ``deadlock detected`` in one of the two (after ``deadlock_timeout``, 1 s). At the
end the tally is compared with a recount of the invitations.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import event, func, select, text
from twilio.request_validator import RequestValidator

from sipas.clock import utcnow
from sipas.models import Unit
from sipas.storage import Database, get_database
from sms_gateway import tally_changes
from sms_gateway.models import (
    Invitation,
    InvitationStatus,
    MessageKind,
    MessageStatus,
    OutboundMessage,
    invitation_tally_changes,
)
from sms_gateway.providers import SendResult
from sms_gateway.send_claim import Claim
from sms_gateway.send_outcome import record_sent_many
from sms_gateway.sending import CycleSummary
from tests.factories import create_dossier, create_unit
from tests.pg_locks import wait_for_lock_waiter
from tests.sms_gateway.conftest import AUTH_TOKEN, PHONE, make_settings


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Any]:
    if not database_url.startswith("postgresql"):
        pytest.skip("row locks of PostgreSQL (on SQLite the writers take turns on the database's write lock)")
    from sipas.app import create_app

    app = create_app(make_settings(database_url, tmp_path))
    try:
        yield app
    finally:
        get_database(app).dispose()


def _claimed(database: Database, unit: Unit, n: int = 1) -> list[Claim]:
    """``n`` invitations of ``unit`` claimed by a cycle (``sending``, their message written before the send)."""
    claims = []
    with database.session() as session:
        now = utcnow()
        for _ in range(n):
            dossier = create_dossier(session, session.merge(unit, load=False), received_at=now - timedelta(days=3),
                                     returned_at=now - timedelta(hours=2), phone=PHONE, sms_consent=True,
                                     now=now - timedelta(hours=2))
            invitation = Invitation(dossier_id=dossier.id, unit_id=unit.id, instrument_code="hue12",
                                    status=InvitationStatus.SENDING, due_at=now, expires_at=now + timedelta(days=7))
            session.add(invitation)
            session.flush()
            message = OutboundMessage(provider="twilio", invitation_id=invitation.id, unit_id=unit.id,
                                      kind=MessageKind.INVITATION, to_hash="h", body="b", segments=1,
                                      encoding="gsm", status=MessageStatus.QUEUED)
            session.add(message)
            session.flush()
            claims.append(Claim(invitation.id, MessageKind.INVITATION, message.id, PHONE, "b"))
    return claims


def _sent(claims: list[Claim]) -> list[tuple[str, Claim, SendResult]]:
    return [("twilio", claim, SendResult(sid=f"SM{claim.outbound_id:032d}", status="queued")) for claim in claims]


def _tally_and_recount(database: Database) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The invitations per (unit, status, sent, delivered) as the tally keeps them (with its changes not folded
    yet: what ``GET /metrics`` reads) and as counted; the delivered messages per invitation as the trigger keeps
    them and as counted."""
    with database.read_sessionmaker() as session:
        rows = tally_changes.rows()
        key = (rows.c.unit_id, rows.c.status, rows.c.sent, rows.c.delivered)
        tally = session.execute(select(*key, func.sum(rows.c.invitations)).group_by(*key)
                                .having(func.sum(rows.c.invitations) != 0).order_by(*key)).all()
        recount = session.execute(text(
            "SELECT unit_id, status, sent_at IS NOT NULL, delivered_messages > 0, COUNT(*) FROM sms_invitation "
            "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4")).all()
        kept = session.execute(select(Invitation.id, Invitation.delivered_messages).order_by(Invitation.id)).all()
        delivered = dict(session.execute(
            select(OutboundMessage.invitation_id, func.count()).where(
                OutboundMessage.kind == MessageKind.INVITATION, OutboundMessage.status == MessageStatus.DELIVERED)
            .group_by(OutboundMessage.invitation_id)).all())
    return ([tuple(r) for r in tally] + [tuple(r) for r in kept],
            [tuple(r) for r in recount] + [(i, delivered.get(i, 0)) for i, _ in kept])


def _assert_tally_equals_recount(database: Database) -> None:
    """Equal with the changes pending, and again once folded (the change table then empty)."""
    tally, recount = _tally_and_recount(database)
    assert tally == recount
    with database.session() as session:
        tally_changes.fold(session)
    assert _tally_and_recount(database) == (tally, recount)
    with database.read_sessionmaker() as session:
        assert session.scalar(select(func.count()).select_from(invitation_tally_changes)) == 0


def _pause_after_first(database: Database, prefix: str, then: Callable[[], None]) -> Callable[[], None]:
    """Run ``then`` once, in this thread, right after its first statement starting with ``prefix`` (the locks it
    took held); returns the function that removes the hook."""
    me, done = threading.get_ident(), []

    def after(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if threading.get_ident() == me and not done and statement.lstrip().startswith(prefix):
            done.append(True)
            then()

    event.listen(database.engine, "after_cursor_execute", after)
    return lambda: event.remove(database.engine, "after_cursor_execute", after)


def _in_thread(target: Callable[[], Any], errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            target()
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    return worker


def test_a_status_callback_during_the_batch_record_neither_deadlocks_nor_loses_the_delivery(app: Any) -> None:
    """Twilio reports "delivered" for a message of the batch the cycle is recording right now (its report often
    comes within seconds, the batch is recorded at its end). The record updates the invitation, then the message;
    the callback updated the message, whose trigger then updated the invitation (``delivered_messages``): the
    opposite order, a deadlock, and either the batch's record was lost (its invitations left ``sending``, later
    marked failed though sent) or the delivery report (answered 503 "database_unreachable")."""
    database = get_database(app)
    with database.session() as session:
        unit = create_unit(session)
    (claim,) = _claimed(database, unit)
    client = app.test_client()
    url = f"https://danhgia.example.gov.vn/sms/twilio/status?o={claim.outbound_id}"
    params = {"MessageSid": f"SM{claim.outbound_id:032d}", "MessageStatus": "delivered",
              "AccountSid": "AC" + "0" * 32}
    errors: list[BaseException] = []
    answers: list[int] = []

    def report() -> None:
        signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
        parts = urlsplit(url)
        answers.append(client.post(f"{parts.path}?{parts.query}", data=params,
                                   headers={"X-Twilio-Signature": signature},
                                   base_url="http://127.0.0.1:5000").status_code)

    workers: list[threading.Thread] = []

    def callback_now() -> None:  # the batch's first invitation is updated, its locks held
        workers.append(_in_thread(report, errors))
        wait_for_lock_waiter(database, worker=workers[0])

    remove = _pause_after_first(database, "UPDATE sms_invitation", callback_now)
    try:
        record_sent_many(database, _sent([claim]), utcnow(), CycleSummary())
    finally:
        remove()
        for worker in workers:
            worker.join(timeout=30)
    assert not errors, errors
    assert answers == [200]
    with database.read_sessionmaker() as session:
        invitation = session.get(Invitation, claim.invitation_id)
        message = session.get(OutboundMessage, claim.outbound_id)
        assert invitation is not None and message is not None
        assert (message.status, invitation.status) == (MessageStatus.DELIVERED, InvitationStatus.DELIVERED)
        assert invitation.sent_at is not None and invitation.delivered_messages == 1
    _assert_tally_equals_recount(database)


def _wait_for_lock_waiters(database: Database, n: int, timeout: float = 10.0) -> None:
    """Until ``n`` sessions wait on a lock (AssertionError after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    with database.read_sessionmaker() as probe:
        while time.monotonic() < deadline:
            waiting = probe.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                         "AND wait_event_type = 'Lock'")).scalar()
            probe.rollback()
            if waiting >= n:
                return
            time.sleep(0.02)
    raise AssertionError(f"fewer than {n} sessions waited on a lock")


def test_two_batches_of_two_units_recorded_at_once_neither_deadlock_nor_lose_a_count(app: Any) -> None:
    """Two senders record their batches at once, each with an invitation of ward A and one of ward B, in the
    order of their ids: the first A then B, the second B then A. Each invitation moves its ward's tally rows
    (``sending`` → ``sent``), so the first held A's rows and waited for B's, the second the other way round.

    The interleaving is made by a third writer holding the first batch's invitation of ward B (a status report
    on it, say): the first batch has updated its invitation of A and waits for it; the second then updates its
    invitation of B and goes on to A's; the third lets go."""
    database = get_database(app)
    with database.session() as session:
        ward_a, ward_b = create_unit(session), create_unit(session)
    (a1,) = _claimed(database, ward_a)
    (b2,) = _claimed(database, ward_b)
    (a2,) = _claimed(database, ward_a)
    (b1,) = _claimed(database, ward_b)
    assert a1.invitation_id < b1.invitation_id and b2.invitation_id < a2.invitation_id
    errors: list[BaseException] = []
    third = database.sessionmaker()
    third.execute(text("SELECT id FROM sms_invitation WHERE id = :id FOR UPDATE"), {"id": b1.invitation_id})
    try:
        first = _in_thread(lambda: record_sent_many(database, _sent([a1, b1]), utcnow(), CycleSummary()), errors)
        _wait_for_lock_waiters(database, 1)  # the first batch: ward A's rows updated, waiting for b1
        second = _in_thread(lambda: record_sent_many(database, _sent([b2, a2]), utcnow(), CycleSummary()), errors)
        _wait_for_second(database, second)
    finally:
        third.rollback()
        third.close()
    first.join(timeout=30)
    second.join(timeout=30)
    assert not errors, errors
    with database.read_sessionmaker() as session:
        statuses = session.scalars(select(Invitation.status).order_by(Invitation.id)).all()
    assert statuses == [InvitationStatus.SENT] * 4
    _assert_tally_equals_recount(database)


def _wait_for_second(database: Database, second: threading.Thread) -> None:
    """Until the second batch waits on a lock too (two waiters), or has ended (it waited on nothing)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and second.is_alive():
        try:
            _wait_for_lock_waiters(database, 2, timeout=0.1)
            return
        except AssertionError:
            continue
    assert not second.is_alive(), "the second batch neither ended nor waited on a lock"
