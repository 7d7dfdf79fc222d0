"""Outbound message rows and the wording a unit chose (or the default)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Text, bindparam, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from sipas.driver_statements import DriverStatement
from sms_gateway.encoding import analyse
from sms_gateway.models import MessageKind, MessageStatus, MessageTemplate, OutboundMessage
from sms_gateway.templates_text import DEFAULTS

PROVIDER_STATUSES = {
    "accepted": MessageStatus.ACCEPTED, "queued": MessageStatus.ACCEPTED, "scheduled": MessageStatus.ACCEPTED,
    "sending": MessageStatus.ACCEPTED, "sent": MessageStatus.SENT, "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.DELIVERED, "undelivered": MessageStatus.UNDELIVERED, "failed": MessageStatus.FAILED,
    "canceled": MessageStatus.FAILED,
}

# How far a message has gone. A provider's report only ever moves a message forward: Twilio retries a
# callback with a new I-Twilio-Idempotency-Token (outside the signature), so an old "failed" may arrive
# after "delivered"; final states never change again.
STATUS_RANK = {
    MessageStatus.QUEUED: 0, MessageStatus.UNKNOWN: 0, MessageStatus.ACCEPTED: 1, MessageStatus.SENT: 2,
    MessageStatus.DELIVERED: 3, MessageStatus.UNDELIVERED: 3, MessageStatus.FAILED: 3,
}


def moves_forward(current: MessageStatus | None, reported: MessageStatus) -> bool:
    """True when ``reported`` is further along than ``current`` (an unreadable report moves nothing)."""
    if reported is MessageStatus.UNKNOWN:
        return False
    return current is None or STATUS_RANK[reported] > STATUS_RANK[current]


def outcome_status(provider_status: str | None) -> MessageStatus:
    return PROVIDER_STATUSES.get((provider_status or "").lower(), MessageStatus.UNKNOWN)


def template_text(session: Session, unit_id: int | None, kind: str) -> str:
    if unit_id is None:
        return DEFAULTS[kind]
    custom = session.scalar(select(MessageTemplate.text).where(MessageTemplate.unit_id == unit_id,
                                                                MessageTemplate.kind == kind))
    return custom or DEFAULTS[kind]


def unit_templates(session: Session, unit_id: int) -> dict[str, str]:
    """Every wording the unit chose, by kind, in one query (kinds it did not choose are absent)."""
    rows = _UNIT_TEMPLATES.tuples(session.connection(), {"unit": unit_id})
    return {kind: text for kind, text in rows if text}


class _WordingsObject(FunctionElement[str]):
    """A unit's wordings as the text of one JSON object, kind → text (an aggregate over ``sms_template`` rows):
    ``json_group_object`` on SQLite, ``json_object_agg`` on PostgreSQL (NULL there when the unit chose none)."""

    type = Text()
    inherit_cache = True
    name = "sipas_wordings_object"


@compiles(_WordingsObject, "sqlite")
def _wordings_sqlite(element: _WordingsObject, compiler: Any, **kw: Any) -> str:
    return f"json_group_object({compiler.process(element.clauses, **kw)})"


@compiles(_WordingsObject, "postgresql")
def _wordings_postgresql(element: _WordingsObject, compiler: Any, **kw: Any) -> str:
    return f"CAST(json_object_agg({compiler.process(element.clauses, **kw)}) AS TEXT)"


def unit_templates_column(unit_id: ColumnElement[int]) -> ColumnElement[str]:
    """The wordings of the unit ``unit_id`` (a column of the enclosing query) as a correlated scalar subquery, for
    a query that reads units anyway: ``unit_templates_of`` reads its value as ``unit_templates`` gives them."""
    return (select(_WordingsObject(MessageTemplate.kind, MessageTemplate.text))
            .where(MessageTemplate.unit_id == unit_id).scalar_subquery())


def unit_templates_of(value: str | None) -> dict[str, str]:
    """The value of ``unit_templates_column`` as ``unit_templates`` returns it."""
    found = json.loads(value) if value else {}
    return {str(kind): text for kind, text in found.items() if isinstance(text, str) and text}


# Built once: every SMS reply runs them (a statement's cache key is memoised on the object: docs/performance.md).
# On the driver's cursor (sipas.driver_statements).
_UNIT_TEMPLATES = DriverStatement(select(MessageTemplate.kind, MessageTemplate.text)
                                  .where(MessageTemplate.unit_id == bindparam("unit")))
OUTBOUND_KEYS = ("provider", "kind", "to_hash", "to_hint", "body", "segments", "encoding", "status", "created_at",
                 "updated_at")
_INSERT_OUTBOUND = DriverStatement(OutboundMessage.__table__.insert(), keys=OUTBOUND_KEYS)


def phone_hint(phone: str) -> str:
    return phone[-3:] if phone else ""


def new_outbound(session: Session, provider: str, kind: MessageKind, *, phone: str, phone_hash: str, body: str,
                 now: datetime, invitation_id: int | None = None, unit_id: int | None = None,
                 status: MessageStatus = MessageStatus.QUEUED, sid: str | None = None) -> OutboundMessage:
    info = analyse(body)
    message = OutboundMessage(provider=provider, sid=sid, invitation_id=invitation_id, unit_id=unit_id, kind=kind,
                              to_hash=phone_hash, to_hint=phone_hint(phone), body=body, segments=info.segments,
                              encoding=info.encoding, status=status, created_at=now, updated_at=now)
    session.add(message)
    session.flush()
    return message


def insert_outbound_row(connection: Connection, values: dict[str, Any]) -> None:
    """``new_outbound`` as one Core INSERT of a row of ``outbound_values``, for an answer nobody needs the row of
    (a webhook's reply)."""
    _INSERT_OUTBOUND.run(connection, values)


def outbound_values(provider: str, kind: MessageKind, *, phone: str, phone_hash: str, body: str, now: datetime,
                    status: MessageStatus) -> dict[str, Any]:
    """The row of an outbound answer (its columns ``OUTBOUND_KEYS``): ``insert_outbound_row`` inserts it, or a
    caller in a statement of its own (a webhook's reply with the delivery's claim on PostgreSQL)."""
    info = analyse(body)
    return {"provider": provider, "kind": kind, "to_hash": phone_hash, "to_hint": phone_hint(phone), "body": body,
            "segments": info.segments, "encoding": info.encoding, "status": status, "created_at": now,
            "updated_at": now}
