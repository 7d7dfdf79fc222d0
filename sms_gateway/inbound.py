"""Handling one inbound SMS (any provider): opt-out/in, help, or ratings for an open invitation.

Returns the text to answer with (or None for no answer): at most ``REPLY_LIMIT`` answers in 24 hours to one
number (:mod:`sms_gateway.reply_limit`), so an auto-responder at the other end cannot start an endless exchange.
Flushes; the webhook commits. Logs carry
invitation ids and dossier codes, never the number or the text.

Everything that only reads runs before the first write, so that on SQLite (``lock_on_write``) the write lock
is held for the writes alone: the open invitations come with their dossier, unit (and its wordings), short link
and the number's opt-out in one SELECT (:class:`Read`), so rendering the answer after the rating is stored reads
nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from sipas.catalogue import Catalogue, Instrument
from sipas.clock import local_date
from sipas.driver_statements import DriverStatement
from sipas.errors import AlreadyRated, DomainError
from sipas.models import Dossier, ResponseChannel, Unit
from sipas.orm_rows import persistent
from sipas.responses import ResponseInput, record_response
from sipas.settings import Settings
from sipas.throttle import TAKE_KEYS
from sms_gateway.links import link_url
from sms_gateway.messages import unit_templates, unit_templates_column, unit_templates_of
from sms_gateway.models import Conversation, Invitation, InvitationStatus, MessageKind, OptOut
from sms_gateway.models_links import ShortLink
from sms_gateway.optouts import is_opted_out, opt_in, opt_out
from sms_gateway.replies import ParsedReply, ReplyKind, after_code, merge_ratings, parse_reply, positions, ratings_of
from sms_gateway.reply_limit import reply_take_statement, reply_take_values, take_reply
from sms_gateway.templates_text import DEFAULTS, render

log = logging.getLogger(__name__)
REPLYABLE = (InvitationStatus.SENT, InvitationStatus.DELIVERED)


@dataclass(frozen=True)
class InboundSms:
    provider: str
    phone_hash: str
    text: str
    message_id: str
    opt_out_type: str | None = None


@dataclass(frozen=True)
class ReplyText:
    text: str
    kind: MessageKind = MessageKind.REPLY


class Read:
    """What one message read before its first write: the units' wordings (read with the open invitations, or one
    query per unit on first use) and the short links loaded with the invitations (held here: the session's
    identity map keeps only referenced rows). Rendering the answer after the rating is stored then costs no query
    under the write lock."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.units: dict[int, dict[str, str]] = {}
        self.links: dict[int, ShortLink] = {}
        #: The number's conversation about each open invitation's dossier, read with the invitations (None: none).
        self.conversations: dict[int, Conversation | None] = {}
        #: PostgreSQL: the invitation answered by the stored rating and the rating's id, written with the reply
        #: limit's take (one statement, ``_answer_and_take``), not in one of its own.
        self.answered: tuple[Invitation, int] | None = None

    def load(self, unit_id: int) -> None:
        if unit_id not in self.units:
            self.units[unit_id] = unit_templates(self.session, unit_id)

    def text(self, unit_id: int | None, kind: str) -> str:
        if unit_id is None:
            return DEFAULTS[kind]
        self.load(unit_id)
        return self.units[unit_id].get(kind) or DEFAULTS[kind]


def _say(read: Read, kind: str, unit_id: int | None, values: dict[str, str]) -> ReplyText:
    message_kind = MessageKind.FOLLOW_UP if kind == "follow_up" else MessageKind.REPLY
    return ReplyText(render(read.text(unit_id, kind), values), message_kind)


def _open_invitations(session: Session, read: Read, phone_hash: str, now: datetime
                      ) -> tuple[list[Invitation], bool | None]:
    """The number's open invitations (latest first) with dossier, unit and short link (into ``read``) loaded, and
    whether the number opted out (None when it has no open invitation: the caller asks then)."""
    rows = _OPEN_INVITATIONS.all(session.connection(), {"phone_hash": phone_hash, "now": now})
    if not rows:
        return [], None
    invitations = []
    for row in rows:
        # Made into objects as the ORM's loader would (sipas.orm_rows), the invitation holding its dossier and the
        # dossier its unit as loaded (the session's identity map alone holds objects weakly).
        values = row
        dossier = persistent(session, Dossier, values)
        set_committed_value(dossier, "unit", persistent(session, Unit, values))
        invitation = persistent(session, Invitation, values)
        set_committed_value(invitation, "dossier", dossier)
        invitations.append(invitation)
        read.units.setdefault(invitation.unit_id, unit_templates_of(values["unit_templates"]))
        if values[_links.c.id] is not None:
            link = persistent(session, ShortLink, values)
            read.links[link.id] = link
        read.conversations[invitation.id] = (persistent(session, Conversation, values)
                                             if values[_conversations.c.id] is not None else None)
    opted_out = rows[0][_opt_outs.c.phone_hash] is not None and persistent(
        session, OptOut, rows[0]).active
    return invitations, opted_out


# Built once: every SMS reply runs it (a statement's cache key is memoised on the object: docs/performance.md).
_invitations, _links, _opt_outs = Invitation.__table__, ShortLink.__table__, OptOut.__table__
_dossiers, _units, _conversations = Dossier.__table__, Unit.__table__, Conversation.__table__
_OPEN_INVITATIONS = DriverStatement(
    select(_invitations, _links, _opt_outs, _dossiers, _units, _conversations,
           unit_templates_column(_invitations.c.unit_id).label("unit_templates"))
    .select_from(_invitations.join(_dossiers, _dossiers.c.id == _invitations.c.dossier_id)
                 .join(_units, _units.c.id == _dossiers.c.unit_id)
                 .outerjoin(_links, _links.c.id == _invitations.c.link_id)
                 .outerjoin(_opt_outs, _opt_outs.c.phone_hash == _invitations.c.phone_hash)
                 # at most one: unique per number and dossier
                 .outerjoin(_conversations, (_conversations.c.phone_hash == _invitations.c.phone_hash)
                            & (_conversations.c.dossier_id == _invitations.c.dossier_id)))
    .where(_invitations.c.phone_hash == bindparam("phone_hash"),
           or_(*(_invitations.c.status == status for status in REPLYABLE)),  # not IN: sipas.driver_statements
           _invitations.c.expires_at > bindparam("now"))
    .order_by(_invitations.c.sent_at.desc()))


def _by_open_code(invitations: list[Invitation], text: str) -> tuple[Invitation, tuple[int, ...]] | None:
    """A leading open dossier code followed by ratings, whatever the code looks like ("12-34 1 1 …")."""
    try:
        for invitation in invitations:
            rest = after_code(text, invitation.dossier.code)
            ratings = ratings_of(rest) if rest is not None else None
            if ratings:
                return invitation, ratings
    except Exception as exc:  # a stranger's text must never fail the webhook (as in parse_reply)
        log.error("reading a dossier code in an SMS reply failed: %s", type(exc).__name__)
    return None


def _choose(session: Session, invitations: list[Invitation], reply: ParsedReply, phone_hash: str,
            now: datetime) -> tuple[Invitation | None, tuple[int, ...]]:
    """The invitation a ratings reply without an open dossier code is about; (None, ()) when the number
    must say which. A code-like prefix that matches no open invitation is read as part of the ratings
    when the whole text is ratings ("1111-2111 1130")."""
    ratings = reply.ratings
    if reply.dossier_code is not None:
        named = next((i for i in invitations if i.dossier.code.upper() == reply.dossier_code.upper()), None)
        if named is not None:
            return named, ratings
        if reply.without_code is None:
            return None, ()  # a dossier code this number has no open invitation for
        ratings = reply.without_code
    if len(invitations) == 1:
        return invitations[0], ratings
    talking = session.scalars(
        select(Conversation).where(Conversation.phone_hash == phone_hash, Conversation.expires_at > now)
        .order_by(Conversation.updated_at.desc())).first()
    if talking is not None:
        chosen = next((i for i in invitations if i.dossier_id == talking.dossier_id), None)
        return chosen, ratings if chosen is not None else ()
    return None, ()


def _values(settings: Settings, invitation: Invitation, instrument: Instrument, session: Session) -> dict[str, str]:
    link = session.get(ShortLink, invitation.link_id) if invitation.link_id else None
    return {"don_vi": invitation.dossier.unit.name, "ma_ho_so": invitation.dossier.code,
            "link": link_url(settings, link) if link else "", "so_tieu_chi": str(len(instrument.citizen_criteria))}


def _answered(session: Session, read: Read, invitation: Invitation, response_id: int, now: datetime) -> None:
    """Mark the invitation answered by the response, and spend its link if unused: two statements built once
    (Core), each object in the session given the values written, as if loaded (no unit of work to flush). On
    PostgreSQL both go with the reply limit's take that follows (``_take``): one statement, one round trip."""
    connection = session.connection()  # Core statements: no ORM execution layer in between
    if connection.dialect.name == "postgresql":
        read.answered = (invitation, response_id)
        return
    _ANSWER_INVITATION.run(connection, _answer_values(invitation, response_id, now))
    _mark_answered(invitation, response_id, now)
    if invitation.link_id is None:
        return
    spent = _SPEND_LINK.rowcount(connection, _spend_values(invitation, response_id, now))
    _mark_spent(session, invitation, response_id, now, spent)


def _answer_values(invitation: Invitation, response_id: int, now: datetime) -> dict[str, object]:
    return {"invitation": invitation.id, "status": InvitationStatus.ANSWERED, "answered_at": now,
            "response_id": response_id, "updated_at": now}


def _spend_values(invitation: Invitation, response_id: int, now: datetime) -> dict[str, object]:
    return {"link": invitation.link_id, "now": now, "response": response_id}


def _mark_answered(invitation: Invitation, response_id: int, now: datetime) -> None:
    written = {"status": InvitationStatus.ANSWERED, "answered_at": now, "response_id": response_id,
               "updated_at": now}
    for name, value in written.items():
        set_committed_value(invitation, name, value)


def _mark_spent(session: Session, invitation: Invitation, response_id: int, now: datetime, spent: int) -> None:
    link = session.identity_map.get(identity_key(ShortLink, invitation.link_id))
    if spent and link is not None:
        set_committed_value(link, "used_at", now)
        set_committed_value(link, "response_id", response_id)


def _take(session: Session, read: Read, phone_hash: str, now: datetime) -> bool:
    """The reply limit's take (``take_reply``); on PostgreSQL with the invitation's answer held in ``read``
    written in the take's statement (``WITH a AS (UPDATE sms_invitation …), l AS (UPDATE short_link …)
    INSERT INTO throttle_counter …``): the same writes in the same transaction, one round trip instead of two or
    three."""
    if read.answered is None:
        return take_reply(session, phone_hash, now)
    (invitation, response_id), read.answered = read.answered, None
    link = invitation.link_id is not None
    values = (reply_take_values(phone_hash, now) | _answer_values(invitation, response_id, now)
              | (_spend_values(invitation, response_id, now) if link else {}))
    returned = _ANSWER_AND_TAKE[link].returned(session.connection(), values)
    assert returned is not None  # an upsert always returns its row
    _mark_answered(invitation, response_id, now)
    if link:
        _mark_spent(session, invitation, response_id, now, int(returned[1]))
    return take_reply(session, phone_hash, now, taken=int(returned[0]))


def _answered_alone(session: Session, read: Read, now: datetime) -> None:
    """An answer held in ``read`` with no take to go with (no answer to send): written on its own."""
    if read.answered is not None:
        (invitation, response_id), read.answered = read.answered, None
        connection = session.connection()
        _ANSWER_INVITATION.run(connection, _answer_values(invitation, response_id, now))
        _mark_answered(invitation, response_id, now)
        if invitation.link_id is not None:
            spent = _SPEND_LINK.rowcount(connection, _spend_values(invitation, response_id, now))
            _mark_spent(session, invitation, response_id, now, spent)


_answer_invitation = (update(_invitations).where(_invitations.c.id == bindparam("invitation"))
                      .values(status=bindparam("status"), answered_at=bindparam("answered_at"),
                              response_id=bindparam("response_id"), updated_at=bindparam("updated_at")))
_spend_link = (update(_links).where(_links.c.id == bindparam("link"), _links.c.used_at.is_(None))
               .values(used_at=bindparam("now"), response_id=bindparam("response")))
_ANSWER_INVITATION = DriverStatement(_answer_invitation)
_SPEND_LINK = DriverStatement(_spend_link)


def _answer_and_take_statement(link: bool) -> DriverStatement:
    answer = _answer_invitation.cte("answered")
    if not link:
        return DriverStatement(reply_take_statement().add_cte(answer), keys=TAKE_KEYS)
    spent = _spend_link.returning(_links.c.id).cte("spent")
    counted = select(func.count()).select_from(spent).scalar_subquery()
    return DriverStatement(reply_take_statement(counted).add_cte(answer, spent), keys=TAKE_KEYS)


# PostgreSQL only (no UPDATE in a WITH on SQLite); by whether the invitation has a short link to spend.
_ANSWER_AND_TAKE = {link: _answer_and_take_statement(link) for link in (False, True)}


def handle_inbound(session: Session, catalogue: Catalogue, settings: Settings, sms: InboundSms, *,
                   now: datetime) -> ReplyText | None:
    read = Read(session)
    try:
        answer = _handle(session, catalogue, settings, sms, read, now=now)
    except LookupError:  # the invitation's instrument has no version in effect today (KeyError included)
        _answered_alone(session, read, now)
        log.warning("SMS reply not handled: instrument not in effect")
        return None
    if answer is None:
        _answered_alone(session, read, now)
        return None
    if not _take(session, read, sms.phone_hash, now):
        log.info("reply limit reached for a number: not answering")
        return None
    return answer


def _handle(session: Session, catalogue: Catalogue, settings: Settings, sms: InboundSms, read: Read, *,
            now: datetime) -> ReplyText | None:
    reply = parse_reply(sms.text, opt_out_type=sms.opt_out_type)
    provider_confirms = bool(sms.opt_out_type)  # Twilio Advanced Opt-Out answers STOP/START itself
    if reply.kind is ReplyKind.OPT_OUT:
        closed = opt_out(session, sms.phone_hash, now=now, source=f"{sms.provider}-reply")
        log.info("opt-out by reply (%s open invitations closed)", closed)
        return None if provider_confirms else _say(read, "opt_out", None, {})
    if reply.kind is ReplyKind.OPT_IN:
        opt_in(session, sms.phone_hash, now=now)
        return None if provider_confirms else _say(read, "opt_in", None, {})
    invitations, opted_out = _open_invitations(session, read, sms.phone_hash, now)
    if opted_out is None:
        opted_out = is_opted_out(session, sms.phone_hash)
    if opted_out:
        return None  # a number that opted out gets no answer until it opts back in
    if not invitations:
        return _say(read, "not_found", None, {})
    first = invitations[0]
    read.load(first.unit_id)
    default_instrument = catalogue.current(first.instrument_code, local_date(now, settings.tz))
    coded = _by_open_code(invitations, sms.text or "")
    if coded is not None:
        return _rate(session, catalogue, settings, sms, read, coded[0], coded[1], now=now)
    if reply.kind is ReplyKind.HELP:
        return _say(read, "help", first.unit_id, _values(settings, first, default_instrument, session))
    invitation, ratings = _choose(session, invitations, reply, sms.phone_hash, now)
    if invitation is None:
        codes = ", ".join(i.dossier.code for i in invitations[:3])
        values = _values(settings, first, default_instrument, session) | {"ma_ho_so": codes}
        return _say(read, "choose_dossier", first.unit_id, values)
    return _rate(session, catalogue, settings, sms, read, invitation, ratings, now=now)


def _rate(session: Session, catalogue: Catalogue, settings: Settings, sms: InboundSms, read: Read,
          invitation: Invitation, ratings: tuple[int, ...], *, now: datetime) -> ReplyText | None:
    instrument = catalogue.current(invitation.instrument_code, local_date(now, settings.tz))
    values = _values(settings, invitation, instrument, session)
    read.load(invitation.unit_id)  # before the first write below: no read under the write lock
    conversation = read.conversations[invitation.id]  # read with the invitations (_open_invitations)
    collected = conversation.answers if conversation is not None and conversation.expires_at > now else {}
    merged = merge_ratings(instrument.citizen_criteria, collected, ratings)
    if merged.too_many:
        return _say(read, "help", invitation.unit_id, values)
    if not merged.complete:
        if conversation is None:
            conversation = Conversation(phone_hash=sms.phone_hash, dossier_id=invitation.dossier_id,
                                        invitation_id=invitation.id, expires_at=invitation.expires_at)
            session.add(conversation)
        conversation.answers = dict(merged.answers)
        conversation.updated_at = now
        conversation.expires_at = max(invitation.expires_at, now + timedelta(hours=1))
        session.flush()
        log.info("partial SMS answer for invitation %s: %s missing", invitation.id, len(merged.missing))
        missing = positions(instrument.citizen_criteria, merged.missing)
        return _say(read, "follow_up", invitation.unit_id, values | {"thieu": missing})
    unit = session.get(Unit, invitation.unit_id)
    assert unit is not None
    data = ResponseInput(instrument=instrument.code, channel=ResponseChannel.SMS, answers=merged.answers,
                         dossier_code=invitation.dossier.code, idempotency_key=f"{sms.provider}:{sms.message_id}",
                         source=f"sms:{sms.provider}")
    # On PostgreSQL the rating of a reply in one message is its own transaction (one statement): the unit's tally
    # rows, which every rating of the unit updates, are locked for that statement alone, not on through the
    # invitation's answer, the reply limit, the answer's row and the delivery's claim, which follow in another.
    # Should that one fail, the provider's retry finds the invitation still open and the rating stored under its
    # idempotency key, and is answered like the first delivery (the invitation must not be answered with the
    # rating: the retry would find none open and answer "no dossier waiting").
    try:
        recorded = record_response(session, catalogue, unit, data, now=now, tz=settings.tz, actor="sms",
                                   dossier=invitation.dossier, alone=conversation is None)
    except AlreadyRated:
        invitation.status, invitation.updated_at = InvitationStatus.ANSWERED, now
        return _say(read, "thanks", invitation.unit_id, values)
    except DomainError as exc:
        log.warning("SMS answer for invitation %s refused: %s", invitation.id, exc.code)
        return _say(read, "help", invitation.unit_id, values)
    _answered(session, read, invitation, recorded.response.id, now)
    if conversation is not None:
        session.delete(conversation)
        session.flush()
    log.info("SMS rating stored for dossier %s (invitation %s)", invitation.dossier.code, invitation.id)
    return _say(read, "thanks", invitation.unit_id, values)
