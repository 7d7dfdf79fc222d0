"""Paper ballots keyed at the counter: a batch (lô phiếu) and its lines, one per ballot and entry.

A line holds the keyed answers (criterion code → option code or ``na``) and, once the ballot counts, the
response it was recorded as. In a double-entry batch the second clerk's lines (entry 2) are compared with
the first's; no response exists until the batch is confirmed, so reports never see unconfirmed ballots.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sipas.models import Base, Response, Unit, utc_now


class BallotBatch(Base):
    """One bundle of paper ballots taken from the box: its date, how many were handed out, who keys it."""

    __tablename__ = "ballot_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    instrument_code: Mapped[str] = mapped_column(String(64))
    batch_date: Mapped[date] = mapped_column(Date)
    handed_out: Mapped[int] = mapped_column(Integer)
    double_entry: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed (counted)
    first_clerk: Mapped[str] = mapped_column(String(200))
    second_clerk: Mapped[str | None] = mapped_column(String(200))
    first_done: Mapped[bool] = mapped_column(Boolean, default=False)
    second_done: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    closed_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]  # double entry: both entries agreed and the ballots were recorded

    unit: Mapped[Unit] = relationship()


class BallotLine(Base):
    """One keyed ballot of one entry (1, or 2 for the blind second keying of a double-entry batch)."""

    __tablename__ = "ballot_line"
    __table_args__ = (UniqueConstraint("batch_id", "entry", "position"),
                      UniqueConstraint("batch_id", "entry", "submit_key"))

    id: Mapped[int] = mapped_column(primary_key=True)
    # no index of its own: both unique keys begin with it (core_0023)
    batch_id: Mapped[int] = mapped_column(ForeignKey("ballot_batch.id", ondelete="CASCADE"))
    entry: Mapped[int] = mapped_column(Integer, default=1)
    position: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    dossier_code: Mapped[str | None] = mapped_column(String(64))
    comment: Mapped[str | None] = mapped_column(Text)  # "Ý kiến khác" as written on the ballot
    submit_key: Mapped[str] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(Integer, default=0)
    response_id: Mapped[int | None] = mapped_column(ForeignKey("response.id", ondelete="SET NULL"))
    entered_by: Mapped[str] = mapped_column(String(200))
    entered_at: Mapped[datetime] = mapped_column(default=utc_now)

    batch: Mapped[BallotBatch] = relationship()
    response: Mapped[Response | None] = relationship()
