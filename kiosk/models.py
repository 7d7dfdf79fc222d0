"""The kiosk devices paired with a unit: token, pairing code, health and the dossier a clerk armed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sipas.models import Base, Dossier, Unit, utc_now

#: a kiosk clock further off than this is wrong: ``sipas doctor`` reports it and the console warns in its row
MAX_CLOCK_SKEW_SECONDS = 120


class KioskDevice(Base):
    """One touchscreen at a counter. Only hashes of the pairing code and of the device token are kept."""

    __tablename__ = "kiosk_device"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    token_hash: Mapped[str | None] = mapped_column(String(64))
    pairing_code_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    pairing_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    created_by: Mapped[str] = mapped_column(String(200), default="")
    paired_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_contact_at: Mapped[datetime | None]
    queued_count: Mapped[int] = mapped_column(Integer, default=0)
    #: ratings the server refused for good, kept aside in the kiosk's browser for a technician
    rejected_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    armed_dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossier.id", ondelete="SET NULL"))
    armed_until: Mapped[datetime | None]
    last_submission_at: Mapped[datetime | None]
    #: the kiosk's clock minus the server's at its last heartbeat, in seconds (``sipas doctor`` checks it)
    clock_offset_seconds: Mapped[int | None]

    unit: Mapped[Unit] = relationship()
    armed_dossier: Mapped[Dossier | None] = relationship()

    @property
    def source(self) -> str:
        """What ``Response.source`` holds for ratings from this device."""
        return source_of(self.public_id)

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.paired_at is None:
            return "pending"
        return "active"


def source_of(public_id: str) -> str:
    """What ``Response.source`` holds for ratings the device ``public_id`` took."""
    return f"kiosk:{public_id}"
