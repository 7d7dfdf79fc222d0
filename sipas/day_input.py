"""A day as a clerk types it (``06/3/2026``, ngày/tháng/năm) or as links carry it (``2026-03-06``).

The console shows no native date control (issue 13 item 8: Chromium's shows mm/dd/yyyy in English and
its own validation bubbles), so every day a clerk enters is a text box read by this one function and
shown back as dd/mm/yyyy (:func:`day_text`).
"""

from __future__ import annotations

from datetime import date

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)  # the days sipas deals in (reports, dossiers)


def parse_day(text: str) -> date:
    """The day ``text`` names; ValueError when it names none within 2000-2100."""
    value = text.strip()
    parts = value.split("/")
    if len(parts) == 3 and all(p.isascii() and p.isdigit() and len(p) <= 4 for p in parts):
        day = date(int(parts[2]), int(parts[1]), int(parts[0]))
    else:
        day = date.fromisoformat(value)
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{day.isoformat()} is outside {FIRST_DAY.year}-{LAST_DAY.year}")
    return day


def day_text(day: date) -> str:
    """``06/03/2026``: how the console shows a day in a text box."""
    return day.strftime("%d/%m/%Y")
