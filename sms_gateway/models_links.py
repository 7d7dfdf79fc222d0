"""Short links: one per dossier, instrument and channel, spent when the rating is submitted.

A link with no dossier (``dossier_id`` NULL) is printed on a blank ballot (``sms_gateway.blank_ballots``): it is
single-use like the others, and the citizen types the dossier code (or none where the unit takes anonymous
ratings) in the phone form.

A GET never spends a link (phones and carriers pre-open links); ``used_at`` is set by a guarded
``UPDATE … WHERE used_at IS NULL`` on submit, and the one-response-per-dossier constraint is the
final guard.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sipas.models import Base, Dossier, Response, Unit, enum_column, utc_now


class LinkChannel(StrEnum):
    SMS = "sms"
    QR = "qr"
    ZALO = "zalo"  # the link in a Zalo invitation: its rating is reported under the channel "zalo"


class ShortLink(Base):
    """``<public base>/r/<code>``: letters and digits only, ≥ 40 bits from ``secrets``."""

    __tablename__ = "short_link"
    __table_args__ = (Index("ix_short_link_lookup", "dossier_id", "instrument_code", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    instrument_code: Mapped[str] = mapped_column(String(64))
    channel: Mapped[LinkChannel] = mapped_column(enum_column(LinkChannel, 8))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]
    response_id: Mapped[int | None] = mapped_column(ForeignKey("response.id", ondelete="SET NULL"))

    dossier: Mapped[Dossier | None] = relationship()
    unit: Mapped[Unit] = relationship()
    response: Mapped[Response | None] = relationship()

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def is_open(self, now: datetime) -> bool:
        return self.used_at is None and not self.is_expired(now)

    def __repr__(self) -> str:
        return f"<ShortLink {self.channel} dossier={self.dossier_id}>"
