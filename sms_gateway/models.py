"""Tables of the SMS channel: invitations, outbound messages, inbound de-duplication, opt-outs,
numbers that cannot receive SMS, per-unit templates and reply conversations.

Phone numbers are never stored here: only the keyed ``phone_hash`` (see ``sipas.dossiers.phone_hash``).
The number itself lives in ``DossierContact`` and is erased when the invitation window closes.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sipas.models import Base, Dossier, enum_column, utc_now


class InvitationStatus(StrEnum):
    PENDING = "pending"  # waiting for its due time (or a retry after a temporary failure)
    SENDING = "sending"  # claimed by a job run; the provider call is in progress
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    ANSWERED = "answered"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    OPTED_OUT = "opted_out"


OPEN_STATUSES = (InvitationStatus.PENDING, InvitationStatus.SENDING, InvitationStatus.SENT,
                 InvitationStatus.DELIVERED)


class MessageKind(StrEnum):
    INVITATION = "invitation"
    REMINDER = "reminder"
    REPLY = "reply"
    FOLLOW_UP = "follow_up"


class MessageStatus(StrEnum):
    QUEUED = "queued"  # written before the provider call; stays so if the process died during it
    # UNKNOWN without a sid: the call failed in a way that may have created the message (read timeout,
    # 5xx, broken answer); it is reconciled with the provider before anything is sent again.
    ACCEPTED = "accepted"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    UNKNOWN = "unknown"


class Invitation(Base):
    """One SMS invitation to rate one dossier; the unique constraint makes it exist (and go out) once."""

    __tablename__ = "sms_invitation"
    __table_args__ = (UniqueConstraint("dossier_id", "instrument_code", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # no index of its own: the unique key begins with it (sms_0005)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    instrument_code: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), default="sms")
    status: Mapped[InvitationStatus] = mapped_column(enum_column(InvitationStatus, 16), index=True,
                                                     default=InvitationStatus.PENDING)
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    due_at: Mapped[datetime] = mapped_column(index=True)
    sent_at: Mapped[datetime | None]
    reminder_sent_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # claims of the invitation (sends and lookups)
    reminder_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    provider: Mapped[str | None] = mapped_column(String(32))
    provider_sid: Mapped[str | None] = mapped_column(String(64))
    last_error_code: Mapped[str | None] = mapped_column(String(32))
    # Set when a Zalo invitation fell back to SMS: the Zalo code that caused it (sent by SMS once, never Zalo again).
    zalo_fallback: Mapped[str | None] = mapped_column(String(32))
    link_id: Mapped[int | None] = mapped_column(Integer)  # short_link.id (other branch: no FK)
    response_id: Mapped[int | None] = mapped_column(Integer)
    # Its delivered invitation messages (sms_outbound), kept by database triggers (sms_0007); never written here.
    delivered_messages: Mapped[int] = mapped_column(Integer, server_default="0", default=0)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)

    dossier: Mapped[Dossier] = relationship()


class InvitationTally(Base):
    """Invitations per unit, current status, whether sent (``sent_at`` set) and whether delivered (one of its
    invitation messages reported delivered: ``delivered_messages`` above 0), for ``GET /metrics``.

    Kept by database triggers on ``sms_invitation`` (``sms_0007``), never by the application: every write counts,
    the bulk ``UPDATE``s and a dossier's cascading delete too. A count may reach 0 (the row stays). On PostgreSQL
    the triggers insert changes that are folded in later (``sms_0008``): read it with them,
    ``sms_gateway.tally_changes.rows``.
    """

    __tablename__ = "sms_invitation_tally"

    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    sent: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    delivered: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    invitations: Mapped[int] = mapped_column(Integer)


#: The tally's changes not folded into it yet (PostgreSQL; ``sms_0008``, ``sms_gateway.tally_changes``): the
#: triggers insert a +1 / -1 row per side of a move here, locking no shared row; no key, no index.
invitation_tally_changes = Table(
    "sms_invitation_tally_change", Base.metadata,
    Column("unit_id", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("sent", Boolean, nullable=False),
    Column("delivered", Boolean, nullable=False),
    Column("invitations", Integer, nullable=False),
)


class OutboundMessage(Base):
    """Every message handed to a provider (the console provider's outbox is this table)."""

    __tablename__ = "sms_outbound"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("sms_invitation.id", ondelete="SET NULL"),
                                                      index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    kind: Mapped[MessageKind] = mapped_column(enum_column(MessageKind, 16))
    to_hash: Mapped[str] = mapped_column(String(64), index=True)
    to_hint: Mapped[str] = mapped_column(String(8), default="")  # last three digits, for the outbox
    body: Mapped[str] = mapped_column(Text)
    segments: Mapped[int] = mapped_column(Integer)
    encoding: Mapped[str] = mapped_column(String(8))
    status: Mapped[MessageStatus] = mapped_column(enum_column(MessageStatus, 16), default=MessageStatus.QUEUED)
    error_code: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)


class InboundDelivery(Base):
    """A webhook delivery already handled: a retry with the same token is answered, not re-applied."""

    __tablename__ = "sms_inbound_delivery"
    __table_args__ = (UniqueConstraint("provider", "token"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    token: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    reply: Mapped[str | None] = mapped_column(Text)  # the answer we gave, repeated on a retry
    received_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)  # the prune's (sms_0006)


class OptOut(Base):
    """A number that asked for no more messages (by its keyed hash); ``opted_in_at`` set when it came back."""

    __tablename__ = "sms_opt_out"

    phone_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    opted_out_at: Mapped[datetime]
    opted_in_at: Mapped[datetime | None]
    source: Mapped[str] = mapped_column(String(32), default="reply")

    @property
    def active(self) -> bool:
        return self.opted_in_at is None or self.opted_in_at < self.opted_out_at


class InvalidNumber(Base):
    """A number the provider said cannot receive SMS (Twilio 21211, eSMS 108), by its keyed hash.

    No invitation is made or sent to it again; a corrected number has another hash and is invited normally.
    """

    __tablename__ = "sms_invalid_number"

    phone_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    error_code: Mapped[str] = mapped_column(String(32))
    provider: Mapped[str] = mapped_column(String(32))
    marked_at: Mapped[datetime]


class MessageTemplate(Base):
    """A unit's own wording for one message kind (the defaults live in ``templates_text``)."""

    __tablename__ = "sms_template"
    __table_args__ = (UniqueConstraint("unit_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)


class Conversation(Base):
    """Answers collected so far from one number about one dossier (partial SMS replies)."""

    __tablename__ = "sms_conversation"
    __table_args__ = (UniqueConstraint("phone_hash", "dossier_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone_hash: Mapped[str] = mapped_column(String(64))
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"), index=True)
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("sms_invitation.id", ondelete="CASCADE"))
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(index=True)  # the prune's (sms_0006)
