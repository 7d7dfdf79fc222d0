"""Days a clerk types, and no native control that speaks English on a clerk's page (issue 13 item 8)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from sipas.day_input import day_text, parse_day

ROOT = Path(__file__).resolve().parents[1]
# Chromium's own date/month/number/file controls show mm/dd/yyyy, "Choose File" and English bubbles.
NATIVE = re.compile(r'<input[^>]*type="(date|month|week|time|datetime-local|number)"')
FILE_INPUT = re.compile(r'<input[^>]*type="file"[^>]*>')


@pytest.mark.parametrize(("text", "day"), [("06/3/2026", date(2026, 3, 6)), ("31/12/2026", date(2026, 12, 31)),
                                           ("2026-03-06", date(2026, 3, 6)), (" 1/1/2000 ", date(2000, 1, 1))])
def test_a_day_is_read_as_a_clerk_types_it_or_as_a_link_carries_it(text: str, day: date) -> None:
    assert parse_day(text) == day
    assert parse_day(day_text(day)) == day


@pytest.mark.parametrize("text", ["", "05/13/2026", "31/02/2026", "0001-01-01", "1/1/1999", "1/1/99999", "x/y/z",
                                  "2026-1-5", "١/١/٢٠٢٦"])
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_day(text)


def _clerk_templates() -> list[Path]:
    return [path for path in ROOT.glob("*/**/templates/**/*.html")
            if ".venv" not in path.parts and "console/base.html" in path.read_text(encoding="utf-8")]


def test_clerk_pages_use_no_native_date_number_or_file_control() -> None:
    pages = _clerk_templates()
    assert len(pages) > 20  # the scan finds the console's pages
    found = []
    for path in pages:
        text = path.read_text(encoding="utf-8")
        found += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in NATIVE.finditer(text)]
        found += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in FILE_INPUT.finditer(text)
                  if "visually-hidden" not in m.group(0)]  # the Vietnamese picker hides the browser's button
    assert found == [], "\n".join(found)


def test_no_page_shows_the_browsers_english_file_control() -> None:
    """Citizens checking a notice copy get the same Vietnamese picker as clerks importing a file."""
    pages = [path for path in ROOT.glob("*/**/templates/**/*.html") if ".venv" not in path.parts]
    inputs = [(path, m.group(0)) for path in pages for m in FILE_INPUT.finditer(path.read_text(encoding="utf-8"))]
    assert len(inputs) >= 2  # the console's import and the public notice check
    assert [f"{path.relative_to(ROOT)}: {tag}" for path, tag in inputs if "visually-hidden" not in tag] == []
