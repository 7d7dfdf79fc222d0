"""What an SMS reply writes after its rating (the reply limit, the answer's row, the delivery's claim) may fail
without losing or doubling anything: on PostgreSQL the rating is its own transaction (``sipas.pg_intake``), and the
provider's retry of the message finds it stored under its idempotency key and is answered as the first delivery
would have been; on SQLite everything was rolled back and the retry stores it. Either way: one rating, the
invitation answered by it, one answer sent."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import sms_gateway.inbound
from sipas.models import Response
from sms_gateway.models import InboundDelivery, Invitation, InvitationStatus, MessageKind, OutboundMessage
from tests.sms_gateway.test_webhooks import INBOUND, count, inbound, invited, post_signed

TWELVE = "1 1 1 2 1 1 1 1 1 1 3 0"
OTHER = "+84912345699"


def test_a_failure_after_the_rating_is_answered_by_the_retry_and_stores_nothing_twice(app, client, session,
                                                                                       settings, monkeypatch):
    invited(app, session, settings, phone=OTHER)
    invited(app, session, settings)
    # a first reply records the form's version (once per process, a write before the rating's: one transaction)
    assert post_signed(client, INBOUND, inbound(TWELVE, sid="SM" + "b" * 32, sender=OTHER)).status_code == 200
    take_reply = sms_gateway.inbound.take_reply

    def fail_once(*args, **kwargs):  # type: ignore[no-untyped-def]
        monkeypatch.setattr(sms_gateway.inbound, "take_reply", take_reply)
        raise RuntimeError("the database went away after the rating")

    monkeypatch.setattr(sms_gateway.inbound, "take_reply", fail_once)
    with pytest.raises(RuntimeError):
        post_signed(client, INBOUND, inbound(TWELVE))
    retry = post_signed(client, INBOUND, inbound(TWELVE))  # Twilio retries the same MessageSid
    # the thanks for this dossier, not "no dossier waiting for a rating from this number"
    assert retry.status_code == 200 and "cam on Ong/Ba da danh gia ho so" in retry.get_data(as_text=True)
    assert count(session, Response) == 2 and count(session, InboundDelivery) == 2
    invitations = session.scalars(select(Invitation)).all()
    assert {i.status for i in invitations} == {InvitationStatus.ANSWERED}
    assert {i.response_id for i in invitations} == set(session.scalars(select(Response.id)).all())
    sent = session.scalars(select(OutboundMessage.kind).where(OutboundMessage.kind == MessageKind.REPLY)).all()
    assert len(sent) == 2
