"""A 12-digit SMS reply reads everything it needs before its first write (on SQLite the write lock is taken
there, ``lock_on_write``) and in few queries: the open invitations come with their dossier, unit and its wordings,
short link, the number's opt-out and its conversation about each dossier in one SELECT. Under the lock only the
reply limit's rolling count is read (it must follow the atomic take to stay exact; on SQLite it is read in the
take's own statement)."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from sipas.models import Response, ThrottleCounter
from sipas.storage import get_database
from sms_gateway.models import (
    InboundDelivery,
    Invitation,
    InvitationStatus,
    MessageKind,
    MessageStatus,
    MessageTemplate,
    OptOut,
    OutboundMessage,
)
from sms_gateway.models_links import ShortLink
from sms_gateway.templates_text import DEFAULTS, render
from tests.sms_gateway.test_webhooks import INBOUND, PHONE, count, inbound, invited, post_signed

TWELVE = "1 1 1 2 1 1 1 1 1 1 3 0"


def _statements(app) -> list[str]:  # type: ignore[no-untyped-def]
    seen: list[str] = []
    engine = get_database(app).engine

    def record(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    return seen


def _tables(statements: list[str]) -> list[str]:
    """The table each SELECT reads from (its outer FROM: a sub-select in its columns is skipped)."""
    return [_outer_from(s) for s in statements if s.startswith("SELECT")]


def _outer_from(statement: str) -> str:
    depth = 0
    for i, char in enumerate(statement):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and statement.startswith(" FROM ", i):
            return statement[i + 6:].split()[0]
    raise AssertionError(statement)


def test_a_twelve_digit_reply_reads_before_it_writes(app, client, session, settings):
    invited(app, session, settings)
    seen = _statements(app)
    reply = post_signed(client, INBOUND, inbound(TWELVE))
    seen = list(seen)  # the request's statements only
    assert reply.status_code == 200 and "cam on" in reply.get_data(as_text=True)
    assert count(session, Response) == 1
    first_write = next(i for i, s in enumerate(seen) if not s.startswith("SELECT"))
    before, after = seen[:first_write], seen[first_write:]
    # on PostgreSQL the reply limit's rolling count, nothing else (but intake's record of a first use of an
    # instrument version, and PostgreSQL's reads of the rating); on SQLite not even that: the count is read in the
    # take's own statement (sms_gateway.reply_limit)
    postgresql = session.bind.dialect.name == "postgresql"
    also = {"instrument_version_record"} | ({"response", "dossier"} if postgresql else set())
    assert [t for t in _tables(after) if t not in also] == (["sms_outbound"] if postgresql else [])
    read = _tables(before)
    # the unit's wordings in the invitations' SELECT, not a query of their own
    assert read.count("sms_invitation") == 1 and read.count("sms_template") == 0
    assert "FROM sms_template" in next(s for s in before if _outer_from(s) == "sms_invitation")
    for table in ("dossier", "unit", "short_link", "sms_opt_out", "sms_conversation", "sms_inbound_delivery"):
        assert read.count(table) <= (1 if table in ("dossier", "sms_inbound_delivery") else 0), (table, read)
    assert not any(s.startswith("UPDATE sms_inbound_delivery") for s in after)
    session.expire_all()
    invitation = session.scalars(select(Invitation)).one()
    assert invitation.status is InvitationStatus.ANSWERED and invitation.answered_at is not None
    assert invitation.response_id == session.scalars(select(Response.id)).one()


def test_the_units_own_thanks_wording_is_used(app, client, session, settings):
    dossier = invited(app, session, settings)
    session.add(MessageTemplate(unit_id=dossier.unit_id, kind="thanks", text="{don_vi} xin cam on, HS {ma_ho_so}."))
    session.commit()
    reply = post_signed(client, INBOUND, inbound(TWELVE)).get_data(as_text=True)
    assert f"xin cam on, HS {dossier.code}." in reply


def test_the_units_wordings_come_as_written_and_an_empty_one_is_the_default(app, client, session, settings):
    dossier = invited(app, session, settings)
    written = 'Cảm ơn "{ma_ho_so}"\\ – {don_vi}\n\tđã góp ý'  # quotes, a backslash, a newline: JSON on the way
    session.add_all([MessageTemplate(unit_id=dossier.unit_id, kind="thanks", text=written),
                     MessageTemplate(unit_id=dossier.unit_id, kind="help", text="")])
    session.commit()
    default_help = post_signed(client, INBOUND, inbound("?", sid="SM" + "2" * 32)).get_data(as_text=True)
    values = {"don_vi": "Phường Phú Hội", "ma_ho_so": dossier.code, "link": "", "so_tieu_chi": "12"}
    assert render(DEFAULTS["help"], values)[:40] in default_help
    reply = post_signed(client, INBOUND, inbound(TWELVE)).get_data(as_text=True)
    assert f'<Message>{render(written, values)}</Message>' in reply and f'"{dossier.code}"\\ – ' in reply


def test_an_opted_out_number_with_an_open_invitation_gets_no_answer(app, client, session, settings):
    invited(app, session, settings)
    invitation = session.scalars(select(Invitation)).one()
    assert invitation.status is InvitationStatus.SENT
    session.add(OptOut(phone_hash=invitation.phone_hash, opted_out_at=invitation.sent_at, source="twilio-status"))
    session.commit()
    reply = post_signed(client, INBOUND, inbound(TWELVE))
    assert reply.status_code == 200 and "<Message>" not in reply.get_data(as_text=True)
    assert count(session, Response) == 0


def test_on_postgresql_the_answers_row_and_the_deliverys_claim_are_one_statement(app, client, session, settings):
    """The answer's outbound row and the delivery's tokens (Twilio's sid and idempotency token) go in one
    ``WITH … INSERT`` on PostgreSQL; both rows are stored as before, and a retry stores nothing more."""
    if session.bind.dialect.name != "postgresql":
        pytest.skip("SQLite has no INSERT inside a WITH: two statements, under its write lock")
    invited(app, session, settings)
    seen = _statements(app)
    reply = post_signed(client, INBOUND, inbound(TWELVE), headers={"I-Twilio-Idempotency-Token": "tok-1"})
    seen = list(seen)
    text = reply.get_data(as_text=True)
    assert reply.status_code == 200 and "cam on" in text
    inserts = [s for s in seen if "INSERT INTO sms_outbound" in s or "INSERT INTO sms_inbound_delivery" in s]
    assert len(inserts) == 1 and inserts[0].startswith("WITH"), inserts
    session.expire_all()
    before = count(session, OutboundMessage)  # with the invitation's own message
    answer = session.scalars(select(OutboundMessage).where(OutboundMessage.kind == MessageKind.REPLY)).one()
    assert f"<Message>{answer.body}</Message>" in text
    assert (answer.kind, answer.status, answer.to_hint, answer.segments) == (
        MessageKind.REPLY, MessageStatus.ACCEPTED, PHONE[-3:], 1)
    deliveries = session.scalars(select(InboundDelivery).order_by(InboundDelivery.token)).all()
    assert [(d.token, d.kind, d.reply) for d in deliveries] == [
        ("sid:" + "SM" + "a" * 32, "inbound", answer.body), ("tok:tok-1", "inbound", answer.body)]
    again = post_signed(client, INBOUND, inbound(TWELVE), headers={"I-Twilio-Idempotency-Token": "tok-1"})
    assert again.get_data(as_text=True) == text
    assert count(session, OutboundMessage) == before and count(session, InboundDelivery) == 2


def test_on_postgresql_the_invitations_answer_and_the_reply_limits_take_are_one_statement(app, client, session,
                                                                                         settings):
    """After the rating (its own transaction), the invitation's answer, its short link's spending and the reply
    limit's take go in one statement on PostgreSQL; the invitation is answered by the rating, the link spent."""
    if session.bind.dialect.name != "postgresql":
        pytest.skip("SQLite has no UPDATE inside a WITH: three statements, under its write lock")
    invited(app, session, settings)
    assert session.scalars(select(Invitation)).one().link_id is not None
    seen = _statements(app)
    reply = post_signed(client, INBOUND, inbound(TWELVE))
    seen = list(seen)
    assert reply.status_code == 200 and "cam on" in reply.get_data(as_text=True)
    writes = [s for s in seen if any(f"{verb} {table}" in s for verb, table in (
        ("UPDATE", "sms_invitation"), ("UPDATE", "short_link"), ("INSERT INTO", "throttle_counter")))]
    assert len(writes) == 1 and writes[0].startswith("WITH"), writes
    session.expire_all()
    invitation = session.scalars(select(Invitation)).one()
    response_id = session.scalars(select(Response.id)).one()
    assert invitation.status is InvitationStatus.ANSWERED and invitation.response_id == response_id
    assert invitation.answered_at is not None and invitation.updated_at == invitation.answered_at
    link = session.get(ShortLink, invitation.link_id)
    assert link is not None and link.response_id == response_id and link.used_at == invitation.answered_at
    assert session.scalars(select(ThrottleCounter.count).where(ThrottleCounter.key.startswith("sms-reply:"))
                           ).one() == 1
