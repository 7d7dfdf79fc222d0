"""Tables of the follow-up cases: one row per acted-on case and its audit trail."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sipas.models import Base, Response, User, enum_column, utc_now


class CaseStatus(StrEnum):
    OPEN = "open"  # chưa xử lý
    IN_PROGRESS = "in_progress"  # đang xử lý
    ANSWERED = "answered"  # đã trả lời
    CLOSED = "closed"  # đã đóng


class FollowUpCase(Base):
    """A follow-up case of one response. The citizen is never named here: the response is the link."""

    __tablename__ = "follow_up_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"), unique=True)
    status: Mapped[CaseStatus] = mapped_column(enum_column(CaseStatus, 16), default=CaseStatus.OPEN, index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    due_local_date: Mapped[date] = mapped_column(Date)
    explanation: Mapped[str] = mapped_column(Text, default="")
    contact_made: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None]
    answered_local_date: Mapped[date | None] = mapped_column(Date)
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)

    response: Mapped[Response] = relationship()
    assignee: Mapped[User | None] = relationship()
    events: Mapped[list[FollowUpCaseEvent]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="FollowUpCaseEvent.id")


class FollowUpCaseEvent(Base):
    """One step of a case, with the sentence the console shows ("Nguyễn Văn A giao cho …")."""

    __tablename__ = "follow_up_case_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("follow_up_case.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utc_now)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(32))
    sentence: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)

    case: Mapped[FollowUpCase] = relationship(back_populates="events")


class Index8OverrideReason(Base):
    """Why staff entered index 8 of a quarter by hand instead of the value computed from the cases."""

    __tablename__ = "index8_override_reason"

    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    quarter: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(default=utc_now)
