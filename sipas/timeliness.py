"""Timeliness of a dossier (trước hạn / đúng hạn / quá hạn; đang giải quyết trong hạn / quá hạn).

Decided on local calendar days: returned on the due date is on time whatever the hour.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from enum import StrEnum

from sipas.clock import local_date


class Timeliness(StrEnum):
    EARLY = "early"
    ON_TIME = "on_time"
    LATE = "late"
    IN_PROGRESS = "in_progress"
    IN_PROGRESS_OVERDUE = "in_progress_overdue"

    @property
    def label_vi(self) -> str:
        return _LABELS[self]


_LABELS = {
    Timeliness.EARLY: "Trước hạn",
    Timeliness.ON_TIME: "Đúng hạn",
    Timeliness.LATE: "Quá hạn",
    Timeliness.IN_PROGRESS: "Đang giải quyết trong hạn",
    Timeliness.IN_PROGRESS_OVERDUE: "Đang giải quyết quá hạn",
}


def classify_days(due: date | None, returned: date | None, today: date) -> Timeliness:
    """Pure rule on local dates. A dossier without a due date is never late."""
    if returned is not None:
        if due is None or returned == due:
            return Timeliness.ON_TIME
        return Timeliness.EARLY if returned < due else Timeliness.LATE
    if due is not None and today > due:
        return Timeliness.IN_PROGRESS_OVERDUE
    return Timeliness.IN_PROGRESS


def timeliness(due_at: datetime | None, returned_at: datetime | None, at: datetime, tz: tzinfo) -> Timeliness:
    """Timeliness at instant ``at``; a result returned after ``at`` counts as still in progress."""
    returned = returned_at if returned_at is not None and returned_at <= at else None
    return classify_days(
        local_date(due_at, tz) if due_at else None,
        local_date(returned, tz) if returned else None,
        local_date(at, tz),
    )
