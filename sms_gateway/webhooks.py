"""Provider webhooks: Twilio inbound messages and status callbacks, and the HTTP provider's inbound route.

Twilio signs each request over the URL it called: we rebuild that URL from ``SIPAS_PUBLIC_BASE_URL``
plus the path and the raw query string (``request.url`` decodes percent-escapes and carries the
internal host behind a proxy, so signatures would fail). A retried delivery (same
``I-Twilio-Idempotency-Token`` or ``MessageSid``) is answered with the reply given the first time
and changes nothing.
"""

from __future__ import annotations

import functools
import hmac
import logging
from datetime import datetime
from typing import Any
from urllib.parse import urlparse
from xml.sax.saxutils import escape

from flask import Blueprint, Response, abort, current_app, jsonify, request
from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator, add_port, compare, get_signature_algorithm, remove_port

from sipas.clock import utcnow
from sipas.context import get_catalogue, get_settings
from sipas.dossiers import phone_hash
from sipas.driver_statements import DriverStatement
from sipas.errors import ValidationError
from sipas.parsing import parse_phone
from sipas.storage import db_session, lock_on_write
from sipas.text import storable
from sms_gateway.inbound import InboundSms, handle_inbound
from sms_gateway.messages import OUTBOUND_KEYS, insert_outbound_row, moves_forward, outbound_values, outcome_status
from sms_gateway.models import InboundDelivery, Invitation, InvitationStatus, MessageKind, OutboundMessage
from sms_gateway.optouts import opt_out
from sms_gateway.providers import OPTED_OUT
from sms_gateway.settings import SmsSettings

log = logging.getLogger(__name__)
bp = Blueprint("sms_webhooks", __name__, url_prefix="/sms")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def sms_settings() -> SmsSettings:
    cached = current_app.extensions.get("sms_settings")
    if cached is None:
        cached = current_app.extensions["sms_settings"] = SmsSettings.from_settings(get_settings())
    return cached


def twiml(message: str | None) -> Response:
    body = EMPTY_TWIML if not message else (
        f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{escape(message)}</Message></Response>')
    return Response(body, status=200, mimetype="text/xml")


def signed_url() -> str:
    """The URL Twilio signed: public base + path + the query string exactly as sent."""
    url = sms_settings().public_base_url + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    return url


@functools.lru_cache(maxsize=4)
def _validator(token: str) -> RequestValidator:
    """One validator per auth token (built once, not per request; a new token in the settings gets its own)."""
    return RequestValidator(token)


def _signed(validator: RequestValidator, url: str, params: Any, signature: str, algorithm: str) -> bool:
    """``validator.validate(url, params, signature, algorithm=algorithm)`` for a form's parameters, the signature
    computed once when it matches: Twilio's ``validate`` computes it over the URL without and with its port
    (``:443``) every time, two HMACs over the sorted parameters; the second is now computed only when the first
    does not match, so the same requests pass. An algorithm Twilio's library does not know is refused (and
    logged) by its own ``validate``."""
    parsed = urlparse(url)
    try:
        return any(compare(validator.compute_signature(candidate, params, algorithm), signature)
                   for candidate in (remove_port(parsed), add_port(parsed)))
    except ValueError:  # an unsupported algorithm
        return bool(validator.validate(url, params, signature, algorithm=algorithm))


def require_twilio_signature() -> None:
    """Every request is checked: a missing or wrong signature is refused with 403."""
    signature = request.headers.get("X-Twilio-Signature")
    token = sms_settings().twilio_auth_token
    if not signature or not token:
        abort(403)
    algorithm = get_signature_algorithm(request.headers.get("X-Twilio-Webhooks-Signature-Settings"))
    if not _signed(_validator(token), signed_url(), request.form, signature, algorithm):
        log.warning("twilio webhook with a wrong signature on %s", request.path)
        abort(403)


def first_delivery(session: Session, provider: str, tokens: list[str], kind: str) -> InboundDelivery | None:
    """Claim the delivery's tokens; None (and the earlier row) when any was seen before."""
    tokens = [t[:128] for t in tokens if t]
    seen = session.scalar(select(InboundDelivery).where(InboundDelivery.provider == provider,
                                                        InboundDelivery.token.in_(tokens)))
    if seen is not None:
        return None
    rows = [InboundDelivery(provider=provider, token=t, kind=kind, received_at=utcnow()) for t in tokens]
    try:
        with session.begin_nested():
            session.add_all(rows)
            session.flush()
    except IntegrityError:
        return None
    return rows[0]


def earlier_reply(session: Session, provider: str, tokens: list[str]) -> str | None:
    row = session.scalar(_DELIVERY, {"provider": provider, "tokens": [t[:128] for t in tokens if t]})
    return row.reply if row is not None else None


# Built once: every webhook runs them (a statement's cache key is memoised on the object: docs/performance.md).
_DELIVERY = select(InboundDelivery).where(InboundDelivery.provider == bindparam("provider"),
                                          InboundDelivery.token.in_(bindparam("tokens", expanding=True)))
_DELIVERY_KEYS = ("provider", "token", "kind", "reply", "received_at")
_CLAIM_DELIVERY = DriverStatement(InboundDelivery.__table__.insert(), keys=_DELIVERY_KEYS)  # on the driver's cursor


def _hash(number: str) -> str | None:
    try:
        e164 = parse_phone(number, field="From")
    except ValidationError:
        e164 = number.strip()
    return phone_hash(e164, current_app.config["SECRET_KEY"]) if e164 else None


def _receive(provider: str, tokens: list[str], number: str, text: str, message_id: str,
             opt_out_type: str | None) -> str | None:
    # A provider relays whatever a handset sent: NUL or a lone surrogate would fail every statement below.
    tokens = [storable(token) for token in tokens]
    number, text, message_id = storable(number), storable(text), storable(message_id)
    session = db_session()
    # A provider's retry is not looked up first (a query on every reply for a rare case): it is handled like the
    # first delivery, and its claim below fails, which rolls everything it did back and answers as before.
    hashed = _hash(number)
    answer = None
    if hashed:
        sms = InboundSms(provider=provider, phone_hash=hashed, text=text, message_id=message_id,
                         opt_out_type=opt_out_type)
        answer = handle_inbound(session, get_catalogue(), get_settings(), sms, now=utcnow())
    # Twilio sends the TwiML answer, the http gateway the JSON one: both count (caps), so the answer's row is stored
    outbound = outbound_values(provider, answer.kind, phone=number, phone_hash=hashed, body=answer.text,
                               now=utcnow(), status=outcome_status("accepted")) if answer and hashed else None
    # The delivery is claimed last, in the same transaction, with its reply (one INSERT, on PostgreSQL with the
    # answer's row): the reads above run before the write lock (lock_on_write). A simultaneous retry that claimed it
    # first makes this claim fail: everything this request did is rolled back and the retry's answer is given.
    reply = answer.text if answer else None
    if not claim_delivery(session, provider, tokens, "inbound", reply, outbound=outbound):
        return _repeated(session, provider, tokens, message_id)
    session.commit()
    return reply


def claim_delivery(session: Session, provider: str, tokens: list[str], kind: str, reply: str | None, *,
                   outbound: dict[str, Any] | None = None) -> bool:
    """Insert the delivery's tokens with the reply given, and before them the reply's row ``outbound``
    (``messages.outbound_values``) if any; False when any token was claimed before (the unique constraint
    decides). The caller rolls its whole transaction back then (no savepoint needed). On PostgreSQL the reply's
    row and the tokens are one statement (``WITH o AS (INSERT INTO sms_outbound …) INSERT INTO
    sms_inbound_delivery …``): one round trip less; a claim that fails stores neither, as the rollback would."""
    now = utcnow()
    rows = [{"provider": provider, "token": t[:128], "kind": kind, "reply": reply, "received_at": now}
            for t in tokens if t]
    connection = session.connection()
    if outbound is not None and connection.dialect.name == "postgresql" and 0 < len(rows) <= _MAX_TOKENS:
        values = {f"o_{name}": value for name, value in outbound.items()}
        for i, row in enumerate(rows):
            values |= {f"{name}_{i}": value for name, value in row.items()}
        try:
            _claim_with_answer(len(rows)).run(connection, values)
        except IntegrityError:
            return False
        return True
    if outbound is not None:
        insert_outbound_row(connection, outbound)
    try:
        _CLAIM_DELIVERY.executemany(connection, rows)
    except IntegrityError:
        return False
    return True


_MAX_TOKENS = 2  # Twilio's message sid and its idempotency token


@functools.cache
def _claim_with_answer(tokens: int) -> DriverStatement:
    """PostgreSQL: the reply's row and ``tokens`` delivery rows in one statement (built once per count)."""
    deliveries, outbound = InboundDelivery.__table__, OutboundMessage.__table__
    answer = insert(outbound).values({name: bindparam(f"o_{name}", type_=outbound.c[name].type)
                                      for name in OUTBOUND_KEYS}).cte("o")
    rows = [{name: bindparam(f"{name}_{i}", type_=deliveries.c[name].type) for name in _DELIVERY_KEYS}
            for i in range(tokens)]
    return DriverStatement(insert(deliveries).values(rows).add_cte(answer))


def _repeated(session: Session, provider: str, tokens: list[str], message_id: str) -> str | None:
    session.rollback()
    log.info("%s inbound %s repeated: answered as before", provider, message_id)
    return earlier_reply(session, provider, tokens)


@bp.post("/twilio/inbound")
@lock_on_write
def twilio_inbound() -> Response:
    """An SMS sent to our Twilio number: answered with TwiML."""
    require_twilio_signature()
    form = request.form
    message_sid = form.get("MessageSid") or form.get("SmsSid") or ""
    tokens = [f"sid:{message_sid}" if message_sid else "",
              f"tok:{request.headers.get('I-Twilio-Idempotency-Token', '')}"
              if request.headers.get("I-Twilio-Idempotency-Token") else ""]
    if not any(tokens):
        return twiml(None)
    reply = _receive("twilio", tokens, form.get("From", ""), form.get("Body", ""), message_sid,
                     form.get("OptOutType"))
    return twiml(reply)


@bp.post("/twilio/status")
def twilio_status() -> Response:
    """Twilio's report on a message we sent (sent, delivered, undelivered, failed).

    The callback URL carries our outbound id (``?o=``): a report on a message whose send ended
    ambiguously (no sid recorded) resolves it, so it is never sent again."""
    require_twilio_signature()
    form = request.form
    sid, status = form.get("MessageSid", ""), (form.get("MessageStatus") or form.get("SmsStatus") or "").lower()
    token = request.headers.get("I-Twilio-Idempotency-Token")
    session = db_session()
    if not sid or first_delivery(session, "twilio", [f"tok:{token}" if token else f"st:{sid}:{status}"],
                                 "status") is None:
        return twiml(None)
    message = session.scalar(select(OutboundMessage).where(OutboundMessage.sid == sid))
    late = False
    if message is None and request.args.get("o", "").isdigit():
        candidate = session.get(OutboundMessage, int(request.args["o"]))
        if candidate is not None and candidate.provider == "twilio" and candidate.sid is None:
            message, late, candidate.sid = candidate, True, sid[:64]
            log.info("status report resolves outbound %s (outcome was unknown)", candidate.id)
    if message is not None:
        apply_status(session, message, status, form.get("ErrorCode") or None, late=late)
    session.commit()
    return twiml(None)


def _resolve_late(invitation: Invitation, message: OutboundMessage, now: datetime) -> None:
    """The message of an attempt whose outcome was unknown exists: record it as sent (unless the cycle
    holds the claim right now; it then sees the row resolved and records it itself)."""
    if message.kind is MessageKind.INVITATION and invitation.provider_sid is None and invitation.status in (
            InvitationStatus.PENDING, InvitationStatus.FAILED):
        invitation.status, invitation.sent_at = InvitationStatus.SENT, message.created_at
        invitation.provider_sid, invitation.provider = message.sid, message.provider
        invitation.next_attempt_at, invitation.last_error_code, invitation.updated_at = None, None, now
    elif message.kind is MessageKind.REMINDER and invitation.reminder_sent_at is None:
        invitation.reminder_sent_at, invitation.next_attempt_at, invitation.updated_at = message.created_at, None, now


def apply_status(session: Session, message: OutboundMessage, status: str, error_code: str | None, *,
                 late: bool = False) -> None:
    """Record a provider's report on ``message``, only ever forward (see ``moves_forward``).

    A report that would move the message back (a replayed "failed" after "delivered") changes nothing but
    an opt-out: the citizen's wish is honoured whatever the order the reports came in."""
    now = utcnow()
    reported = outcome_status(status)
    # The invitation's row is locked before its message's, the order of every writer of both: the cycle's batch
    # record (``send_outcome.record_sent_many``) updates the invitation, then the message. Updating the message
    # first (its trigger then updates the invitation's ``delivered_messages``, ``sms_0007``) deadlocked with a
    # batch being recorded on PostgreSQL (tests/sms_gateway/test_tally_contention.py). The message's status is
    # read again under the lock: a report that waited for a concurrent one (Twilio's "sent" and "delivered" come
    # close together) sees how far that one got, and moves the message only forward from there.
    # (Not flushed first: a late report has set the message's sid, and that update would lock the message.)
    with session.no_autoflush:
        invitation = (session.get(Invitation, message.invitation_id, with_for_update=True)
                      if message.invitation_id else None)
        session.refresh(message, ["status"], with_for_update=True)
    if not moves_forward(message.status, reported):
        log.info("status report %s ignored: outbound %s is already %s", status or "?", message.id, message.status)
        if error_code == OPTED_OUT:
            phone_hash = invitation.phone_hash if invitation is not None else message.to_hash
            if phone_hash:
                opt_out(session, phone_hash, now=now, source="twilio-status")
        return
    message.status, message.updated_at = reported, now
    if error_code:
        message.error_code = error_code
    if invitation is not None and late:
        _resolve_late(invitation, message, now)
    if invitation is None or message.kind is not MessageKind.INVITATION:
        if error_code == OPTED_OUT and message.to_hash:
            opt_out(session, message.to_hash, now=now, source="twilio-status")
        return
    if status in ("delivered", "read") and invitation.status is InvitationStatus.SENT:
        invitation.status, invitation.updated_at = InvitationStatus.DELIVERED, now
    elif status in ("failed", "undelivered", "canceled"):
        if error_code == OPTED_OUT and invitation.phone_hash:
            opt_out(session, invitation.phone_hash, now=now, source="twilio-status")
            invitation.status = InvitationStatus.OPTED_OUT
        elif invitation.status is InvitationStatus.SENT:
            invitation.status, invitation.last_error_code = InvitationStatus.FAILED, error_code
        invitation.updated_at = now


@bp.post("/http/inbound")
def http_inbound() -> tuple[Response, int] | Response:
    """Replies from an HTTP brandname provider that delivers them (shared secret in ``X-Sipas-Secret``)."""
    secret = sms_settings().http_inbound_secret
    if not secret:
        abort(404)
    given = request.headers.get("X-Sipas-Secret", "")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        abort(403)
    data = request.get_json(silent=True) if request.is_json else request.form
    data = data if hasattr(data, "get") else {}
    # A gateway's JSON may carry NUL or lone surrogates (\u0000, \ud800) that no column can hold: they are
    # dropped here, the rest of the message is read as usual.
    message_id = storable(str(data.get("MessageId") or data.get("SMSID") or ""))[:100]
    if not message_id:
        return jsonify(error="MessageId required"), 400
    reply = _receive("http", [f"sid:{message_id}"], storable(str(data.get("Phone") or "")),
                     storable(str(data.get("Content") or "")), message_id, None)
    return jsonify(reply=reply)
