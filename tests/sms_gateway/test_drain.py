"""Invitations due at 07:00 all go out in the cycle that finds them (issue 14, goal 5), none twice.

A cycle used to take one batch (``BATCH`` = 200) and leave the rest to the next cycles, a minute
apart: 10,000 invitations due at the start of the allowed hours took 50 minutes. It now takes batch
after batch until nothing is due. Two senders at once (a second scheduler host during a take-over, or
a manual `sipas sms send` beside the scheduler) still send each invitation once: each is claimed on
its own. The 10,000-invitation timing is measured by bench/invitations.py, never here.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from sipas.models import IntakeChannel
from sipas.storage import get_database
from sms_gateway import sending
from sms_gateway.models import Invitation, InvitationStatus, OutboundMessage
from sms_gateway.sending import run_cycle
from tests.factories import create_dossier, create_unit, local
from tests.sms_gateway.conftest import RecordingProvider

MORNING = local(2026, 1, 8, 7, 0)
SMALL_BATCH = 20  # instead of 200, so that a few dozen dossiers make several batches
COUNT = 2 * SMALL_BATCH + 7


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sending, "BATCH", SMALL_BATCH)


def _invited(app, session, settings) -> list[str]:  # type: ignore[no-untyped-def]
    """COUNT returned dossiers, each with its own number; invited in the quiet hours, due at 07:00."""
    unit = create_unit(session)
    returned = local(2026, 1, 7, 21, 0)
    phones = [f"+849{index:08d}" for index in range(COUNT)]
    for phone in phones:
        create_dossier(session, unit, received_at=returned - timedelta(days=2), returned_at=returned,
                       intake_channel=IntakeChannel.ONLINE_FULL, phone=phone, sms_consent=True)
    session.commit()
    summary = run_cycle(get_database(app), settings, now=local(2026, 1, 7, 22, 30), provider=RecordingProvider())
    assert summary.counts == {"created": COUNT, "quiet_hours": 1}
    return phones


def test_one_cycle_drains_every_invitation_due(app, session, settings):
    phones = _invited(app, session, settings)
    provider = RecordingProvider()
    summary = run_cycle(get_database(app), settings, now=MORNING, provider=provider)
    assert summary.counts["invitation_sent"] == COUNT
    assert sorted(to for to, _ in provider.sent) == phones
    session.commit()
    assert session.scalar(select(func.count()).select_from(Invitation)
                          .where(Invitation.status != InvitationStatus.SENT)) == 0


def test_two_concurrent_senders_send_each_invitation_once(app, session, settings):
    phones = _invited(app, session, settings)
    providers = [RecordingProvider(), RecordingProvider()]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def sender(provider: RecordingProvider) -> None:
        try:
            barrier.wait(timeout=10)
            run_cycle(get_database(app), settings, now=MORNING, provider=provider)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=sender, args=(p,)) for p in providers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    sent = Counter(to for provider in providers for to, _ in provider.sent)
    assert sorted(sent) == phones and set(sent.values()) == {1}
    session.commit()
    assert session.scalar(select(func.count()).select_from(OutboundMessage)) == COUNT
    assert session.scalar(select(func.count()).select_from(Invitation)
                          .where(Invitation.status != InvitationStatus.SENT)) == 0


def test_outcomes_are_recorded_once_per_batch(app, session, settings):
    """The claim stays one committed transaction per message; what the provider took is recorded with its batch."""
    _invited(app, session, settings)
    database = get_database(app)
    commits: list[int] = []

    def count(connection) -> None:  # type: ignore[no-untyped-def]
        commits.append(1)

    event.listen(database.engine, "commit", count)
    try:
        summary = run_cycle(database, settings, now=MORNING, provider=RecordingProvider())
    finally:
        event.remove(database.engine, "commit", count)
    assert summary.counts["invitation_sent"] == COUNT
    batches = -(-COUNT // SMALL_BATCH)
    # one claim per message, one outcome per batch (+ the cycle's bookkeeping); was two per message
    assert len(commits) <= COUNT + batches + 2


def test_messages_taken_before_an_unexpected_error_are_recorded_sent(app, session, settings):
    phones = _invited(app, session, settings)
    provider = RecordingProvider()
    provider.failures = [None, None, None, RuntimeError("bug")]
    with pytest.raises(RuntimeError):
        run_cycle(get_database(app), settings, now=MORNING, provider=provider)
    session.commit()
    sent = session.scalars(select(Invitation).where(Invitation.status == InvitationStatus.SENT)).all()
    assert sorted(i.provider_sid is not None for i in sent) == [True] * 3
    assert len(provider.sent) == 3 and {to for to, _ in provider.sent} <= set(phones)
    assert session.scalar(select(func.count()).select_from(OutboundMessage)
                          .where(OutboundMessage.sid.is_not(None))) == 3


def test_a_message_never_tried_reads_no_earlier_attempt_and_the_wording_once_per_cycle(app, session, settings):
    """Per message, the claim skips the lookup of an earlier attempt while none was made (attempts 0) and reads
    the unit's wording once per cycle; the unit comes with the invitation (were three queries per message)."""
    _invited(app, session, settings)
    database = get_database(app)
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(" ".join(statement.split()))

    event.listen(database.engine, "before_cursor_execute", seen)
    try:
        summary = run_cycle(database, settings, now=MORNING, provider=RecordingProvider())
    finally:
        event.remove(database.engine, "before_cursor_execute", seen)
    assert summary.counts["invitation_sent"] == COUNT
    reads = [s for s in statements if s.startswith("SELECT")]
    assert sum("FROM sms_template" in s for s in reads) == 1
    assert not [s for s in reads if "FROM sms_outbound" in s and "sms_outbound.sid IS NULL" in s]
    assert not [s for s in reads if s.split(" FROM ", 1)[1].startswith("unit ")]
