"""Reading a reporting period from user input (CLI options, API query, dashboard form)."""

from __future__ import annotations

import re
from datetime import date

from sipas.clock import Period


class PeriodError(ValueError):
    """The message is Vietnamese and shown to the user as is."""


def parse_day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError(f"Ngày “{text}” ({name}) không hợp lệ, cần dạng YYYY-MM-DD.") from None


def parse_period(*, start: str | None = None, end: str | None = None, quarter: str | None = None,
                 month: str | None = None, year: str | int | None = None, today: date) -> Period:
    """One of: from + to, a quarter ``2023Q1``, a month ``2023-02``, a year ``2023``; else this quarter."""
    given = [name for name, value in (("from/to", start or end), ("quarter", quarter), ("month", month),
                                      ("year", year)) if value]
    if len(given) > 1:
        raise PeriodError("Chỉ chọn một cách nêu kỳ báo cáo: khoảng ngày, quý, tháng hoặc năm.")
    if start or end:
        if not (start and end):
            raise PeriodError("Cần cả ngày bắt đầu và ngày kết thúc.")
        first, last = parse_day(start, "từ ngày"), parse_day(end, "đến ngày")
        if last < first:
            raise PeriodError("Ngày kết thúc đứng trước ngày bắt đầu.")
        return Period(first, last)
    if quarter:
        try:
            return Period.parse_quarter(quarter)
        except ValueError:
            raise PeriodError(f"Quý “{quarter}” không hợp lệ, cần dạng 2023Q1.") from None
    if month:
        match = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", month)
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise PeriodError(f"Tháng “{month}” không hợp lệ, cần dạng 2023-02.")
        return Period.month(int(match.group(1)), int(match.group(2)))
    if year:
        text = str(year).strip()
        if not re.fullmatch(r"\d{4}", text):
            raise PeriodError(f"Năm “{year}” không hợp lệ, cần dạng 2023.")
        return Period.year(int(text))
    return Period.containing_quarter(today)
