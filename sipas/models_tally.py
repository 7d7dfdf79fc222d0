"""Counts kept beside the responses so a report never re-reads every answer (issue 14, goal 2).

Written in the same transaction (and savepoint) as each response by ``sipas.tally``; rebuilt from the raw
rows by ``sipas.tally.rebuild`` (the migration that created them, ``sipas db retally``, the benchmark
generator, the property test). A response's day is its *local* day in the configured time zone, the unit
every report period is made of. Each response is counted twice: in its day's row (``grain`` "day") and in its
month's row (``grain`` "month", ``local_date`` the 1st), so a quarter reads three month rows per key instead
of ninety day rows, and only a period's partial months read days. "Not applicable" answers are stored with the
option ``""`` (a unique key cannot hold NULL).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, Integer, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sipas.models import Base, ResponseChannel, enum_column


class AnswerTally(Base):
    """Answers per unit, local day, instrument version, channel, criterion and option."""

    __tablename__ = "answer_tally"
    __table_args__ = (UniqueConstraint("unit_id", "grain", "local_date", "instrument_code", "instrument_version",
                                       "channel", "criterion_code", "option_code", name="uq_answer_tally_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    grain: Mapped[str] = mapped_column(String(8))  # "day", "month" or "year" (sipas.dossier_events.GRAINS)
    local_date: Mapped[date] = mapped_column(Date)
    instrument_code: Mapped[str] = mapped_column(String(64))
    instrument_version: Mapped[str] = mapped_column(String(32))
    channel: Mapped[ResponseChannel] = mapped_column(enum_column(ResponseChannel, 16))
    criterion_code: Mapped[str] = mapped_column(String(64))
    option_code: Mapped[str] = mapped_column(String(64))
    points: Mapped[int | None] = mapped_column(Integer)
    answers: Mapped[int] = mapped_column(Integer)


class ResponseTally(Base):
    """Responses (those with a dissatisfied answer, those that are follow-up cases by their content) per unit,
    local day, instrument version and channel."""

    __tablename__ = "response_tally"
    __table_args__ = (UniqueConstraint("unit_id", "grain", "local_date", "instrument_code", "instrument_version",
                                       "channel", name="uq_response_tally_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    grain: Mapped[str] = mapped_column(String(8))  # "day" or "month"
    local_date: Mapped[date] = mapped_column(Date)
    instrument_code: Mapped[str] = mapped_column(String(64))
    instrument_version: Mapped[str] = mapped_column(String(32))
    channel: Mapped[ResponseChannel] = mapped_column(enum_column(ResponseChannel, 16))
    responses: Mapped[int] = mapped_column(Integer)
    negative: Mapped[int] = mapped_column(Integer)
    follow_up: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # cases by their content


class DossierEventTally(Base):
    """Dossiers per unit, field, local day (or month, or year) and event, kept by triggers on ``dossier``
    (``sipas.dossier_events``); read by ``aggregator.dossier_figures``."""

    __tablename__ = "dossier_event_tally"
    # the unique key's index also serves the reads: one range of (grain, local_date) per unit
    __table_args__ = (UniqueConstraint("unit_id", "grain", "local_date", "field", "kind", "online", "negative",
                                       "forms", "handling", name="uq_dossier_event_tally_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    field: Mapped[str] = mapped_column(String(200))
    grain: Mapped[str] = mapped_column(String(8))  # "day" or "month"
    local_date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(8))  # received, returned, due, cleared
    online: Mapped[bool] = mapped_column(Boolean)  # online intake (partly or fully)
    negative: Mapped[bool] = mapped_column(Boolean)  # a rating of the dossier has a dissatisfied answer
    forms: Mapped[int] = mapped_column(SmallInteger)  # returned event: forms that rated it (0, 1, 2 = two or more)
    handling: Mapped[str] = mapped_column(String(8))  # returned event: early, on_time, late; "" otherwise
    dossiers: Mapped[int] = mapped_column(Integer)
