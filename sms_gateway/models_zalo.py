"""Tables of the Zalo channel: the OA's token pair and what the console must show about Zalo.

The token pair is one row (``id = 1``): the refresh token is single-use, so the row is locked while it
is exchanged and the new pair is written in the transaction that consumed the old one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sipas.models import Base, utc_now

ACCOUNT_ID = 1


class ZaloAccount(Base):
    """The Official Account's current token pair; ``failure`` is set when a refresh was refused."""

    __tablename__ = "zalo_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    access_token: Mapped[str] = mapped_column(Text, default="")
    refresh_token: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[datetime]
    refreshed_at: Mapped[datetime] = mapped_column(default=utc_now)
    generation: Mapped[int] = mapped_column(default=1)  # +1 on every new pair (grant or refresh)
    failure: Mapped[str | None] = mapped_column(String(200))
    failed_at: Mapped[datetime | None]


class ZaloNotice(Base):
    """Something an administrator must see: a refused token refresh, a template status or quota change."""

    __tablename__ = "zalo_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)  # token | template_status | quota | alert
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)


class ZaloRating(Base):
    """One submission of Zalo's service-rating template (instrument ``zalo5``: 1–5 stars, preset answers, a
    note), bound to the dossier through the tracking id (the invitation's id) or, when Zalo leaves it empty, the
    msg_id (the outbound message's sid). Kept apart from the 12 criteria. One counted rating per dossier: a later
    submission is a correction, counted or not by the unit's rule (``options["zalo"]["correction"]``: ``latest``,
    the default, or ``first``)."""

    __tablename__ = "zalo_rating"
    __table_args__ = (UniqueConstraint("msg_id", "submitted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"), index=True)
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("sms_invitation.id", ondelete="SET NULL"))
    msg_id: Mapped[str] = mapped_column(String(64))
    instrument_code: Mapped[str] = mapped_column(String(64), default="zalo5")
    instrument_version: Mapped[str] = mapped_column(String(32))
    rate: Mapped[int] = mapped_column(Integer)
    feedbacks: Mapped[list[str]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime]
    counted: Mapped[bool] = mapped_column(Boolean, default=True)
    correction_of: Mapped[int | None] = mapped_column(ForeignKey("zalo_rating.id"))
    source: Mapped[str] = mapped_column(String(16))  # "event" (user_feedback) or "pull" (rating/get)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
