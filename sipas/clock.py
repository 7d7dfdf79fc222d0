"""Local calendar days and periods, and how documents write them.

Timestamps are stored in UTC. Rules that speak of days (timeliness, reporting periods) use the local
calendar of the configured time zone (Asia/Ho_Chi_Minh by default): a result returned on its due date
is on time whatever the hour, and a period 15/12-06/3 holds every instant of those local days.

Dates are written the official way (domain notes §3): the day always two digits, the month two
digits only for January and February ("05/02/2023", "06/3/2023", "ngày 06 tháng 3 năm 2023").
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime, tz: tzinfo) -> datetime:
    """Make a datetime UTC-aware; a naive value is read as local time in ``tz``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(UTC)


def ensure_aware_utc(value: datetime) -> datetime:
    """Values read back from SQLite come naive; they were stored as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def local_date(value: datetime, tz: tzinfo) -> date:
    return ensure_aware_utc(value).astimezone(tz).date()


def start_of_local_day(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class Period:
    """An inclusive range of local calendar days."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")

    def utc_bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """Half-open UTC interval [first instant, first instant after the last day)."""
        return start_of_local_day(self.start, tz), start_of_local_day(self.end + timedelta(days=1), tz)

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        if quarter not in (1, 2, 3, 4):
            raise ValueError(f"quarter must be 1-4, got {quarter}")
        first_month = 3 * (quarter - 1) + 1
        last_month = first_month + 2
        return cls(date(year, first_month, 1), date(year, last_month, calendar.monthrange(year, last_month)[1]))

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def containing_quarter(cls, day: date) -> Period:
        return cls.quarter(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def parse_quarter(cls, text: str) -> Period:
        """``2023Q1`` → 01/01/2023-31/03/2023."""
        match = re.fullmatch(r"\s*(\d{4})\s*[Qq]\s*([1-4])\s*", text)
        if not match:
            raise ValueError(f"not a quarter like 2023Q1: {text!r}")
        return cls.quarter(int(match.group(1)), int(match.group(2)))

    def words(self) -> str:
        """``quý I năm 2023``, ``tháng 3 năm 2023``, ``năm 2023``, else ``từ ngày 15/12/2022 đến ngày 06/3/2023``."""
        return period_words(self.start, self.end)

    def label_vi(self) -> str:
        """A calendar quarter, month or year by name with its dates, any other range by its dates.

        ``quý III năm 2026 (01/7/2026 – 30/9/2026)``; ``từ ngày 15/12/2025 đến ngày 06/3/2026``.
        """
        words = self.words()
        if words == period_dates(self.start, self.end):
            return words
        return f"{words} ({date_short(self.start)} – {date_short(self.end)})"


ROMAN_QUARTERS = {1: "I", 2: "II", 3: "III", 4: "IV"}


def day_month(day: date) -> tuple[str, str]:
    """The day always two digits, the month two digits only for January and February."""
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return f"{day.day:02d}", month


def date_short(day: date) -> str:
    """``06/3/2023``; ``05/02/2023``."""
    d, m = day_month(day)
    return f"{d}/{m}/{day.year}"


def date_words(day: date) -> str:
    """``ngày 06 tháng 3 năm 2023``; ``ngày 05 tháng 02 năm 2023``."""
    d, m = day_month(day)
    return f"ngày {d} tháng {m} năm {day.year}"


def period_dates(start: date, end: date) -> str:
    """``từ ngày 15/12/2022 đến ngày 06/3/2023``."""
    return f"từ ngày {date_short(start)} đến ngày {date_short(end)}"


def period_words(start: date, end: date) -> str:
    """A whole calendar year, quarter or month by name; any other range by its dates."""
    period = Period(start, end)
    if start.year == end.year:
        if period == Period.year(start.year):
            return f"năm {start.year}"
        quarter = (start.month - 1) // 3 + 1
        if period == Period.quarter(start.year, quarter):
            return f"quý {ROMAN_QUARTERS[quarter]} năm {start.year}"
        if period == Period.month(start.year, start.month):
            return f"tháng {start.month} năm {start.year}"
    return period_dates(start, end)
