"""Reading a reporting period from user input (CLI options, API query, dashboard form)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date

from sipas.clock import ROMAN_QUARTERS, Period
from sipas.day_input import parse_day as parse_day_input


class PeriodError(ValueError):
    """A bad period or filter; the message is Vietnamese and shown to the user as is."""

    def __init__(self, message: str, *, field: str = "period") -> None:
        super().__init__(message)
        self.field = field


def parse_day(text: str, name: str) -> date:
    """A day as people write it (``31/12/2026``, ``1/2/2026``) or as machines do (``2026-12-31``), read by
    the console's one day parser (``sipas.day_input``); a PeriodError naming the field ``name`` otherwise."""
    try:
        return parse_day_input(text)
    except ValueError:
        raise PeriodError(f"Ngày “{text}” ({name}) không hợp lệ, cần dạng ngày/tháng/năm, ví dụ 31/12/2026.") \
            from None


PERIOD_KINDS = {"quarter": "Quý", "month": "Tháng", "year": "Năm", "range": "Khoảng ngày"}


def period_values(args: Mapping[str, str], kind: str | None) -> tuple[str, dict[str, str | None]]:
    """The kind and the ``parse_period`` arguments the period picker's ``kind`` selects (the other kinds'
    inputs are left out, so values left in hidden inputs never conflict). Without a kind (older links): a
    quarter wins over dates, then a month, a year."""
    def get(name: str) -> str | None:
        return (args.get(name) or "").strip() or None

    if kind not in PERIOD_KINDS:
        kind = next((k for k, names in (("quarter", ("quarter",)), ("range", ("from", "to")), ("month", ("month",)),
                                        ("year", ("year",))) if any(get(n) for n in names)), "quarter")
    values = {"quarter": {"quarter": get("quarter")}, "month": {"month": get("month")}, "year": {"year": get("year")},
              "range": {"start": get("from"), "end": get("to")}}
    return kind, values[kind]  # type: ignore[index,return-value]


def picker_choices(today: date) -> dict[str, list[tuple[str, str]]]:
    """What the period picker offers: the last 12 quarters, 24 months and 8 years, newest first."""
    quarters, months, years = [], [], []
    year, quarter = today.year, (today.month - 1) // 3 + 1
    for _ in range(12):
        quarters.append((f"{year}Q{quarter}", f"Quý {ROMAN_QUARTERS[quarter]} năm {year}"))
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    year, month = today.year, today.month
    for _ in range(24):
        months.append((f"{year}-{month:02d}", f"Tháng {month} năm {year}"))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    years = [(str(y), f"Năm {y}") for y in range(today.year, today.year - 8, -1)]
    return {"quarter": quarters, "month": months, "year": years}


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)


def parse_period(*, start: str | None = None, end: str | None = None, quarter: str | None = None,
                 month: str | None = None, year: str | int | None = None, today: date) -> Period:
    """One of: from + to, a quarter ``2023Q1``, a month ``2023-02``, a year ``2023``; else this quarter.

    Days must lie in 2000-2100 (a report period, not any date the calendar can hold)."""
    try:
        period = _parse(start=start, end=end, quarter=quarter, month=month, year=year, today=today)
    except PeriodError:
        raise
    except (ValueError, OverflowError):  # year 0000 and the like: no calendar day exists
        raise PeriodError("Kỳ báo cáo phải nằm trong các năm 2000-2100.") from None
    if period.start < FIRST_DAY or period.end > LAST_DAY:
        raise PeriodError("Kỳ báo cáo phải nằm trong các năm 2000-2100.")
    return period


def parse_field(text: str | None) -> str | None:
    """A field name from user input; None for "all fields".

    Read as NFC, the form the imports store: Vietnamese typed as decomposed marks (Unikey's "Unicode tổ hợp",
    a Mac) is the same field, not an empty report. The CLI, the API and the dashboard all read it here."""
    value = unicodedata.normalize("NFC", " ".join((text or "").split()))
    if not value:
        return None
    if len(value) > 200 or any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise PeriodError("Tên lĩnh vực không hợp lệ.", field="field")
    return value


def _parse(*, start: str | None, end: str | None, quarter: str | None, month: str | None,
           year: str | int | None, today: date) -> Period:
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
