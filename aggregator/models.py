"""Figures the unit's staff enter once per quarter: TT 01/2018 indices 5, 6, 8 and paper ballots.

Indices 5, 6 and 8 are per-unit judgements (domain notes §2.3), not citizen answers; the clerk picks
one of the ``tt01_2018`` options of cs5, cs6 and cs8 and the points of that option are stored with it
so that a later criterion version cannot change a published score.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sipas.models import Base, utc_now


class QuarterInput(Base):
    """One row per unit and quarter (year, 1-4)."""

    __tablename__ = "aggregator_quarter_input"
    __table_args__ = (UniqueConstraint("unit_id", "year", "quarter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))  # the unique key begins with it
    year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(Integer)
    index5_option: Mapped[str | None] = mapped_column(String(64))
    index5_points: Mapped[int | None] = mapped_column(Integer)
    index6_option: Mapped[str | None] = mapped_column(String(64))
    index6_points: Mapped[int | None] = mapped_column(Integer)
    index8_option: Mapped[str | None] = mapped_column(String(64))
    index8_points: Mapped[int | None] = mapped_column(Integer)
    # Index 8 is computed from the follow-up cases (sipas.cases.index8): an entry here overrides it, its reason
    # is kept in sipas.cases.models.Index8OverrideReason.
    ballots_handed_out: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_by: Mapped[str] = mapped_column(String(200), default="")
