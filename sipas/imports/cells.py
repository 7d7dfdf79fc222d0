"""Cell values as spreadsheets actually hold them: codes stored as numbers, phones that lost their 0."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from sipas.errors import DomainError
from sipas.imports.headers import cell_text
from sipas.imports.report import RowError

T = TypeVar("T")

_TICKS = {"✓", "✔", "☑", "☒", "✗"}


def is_blank(value: object) -> bool:
    return cell_text(value) == ""


def code_text(value: object) -> str:
    """A dossier code: ``230301001.0`` (a code Excel turned into a number) → ``"230301001"``."""
    text = cell_text(value)
    return text[1:].strip() if text.startswith("'") else text


def phone_value(value: object) -> object:
    """Hand the core parser a number it understands: ``84912345678`` → ``+84912345678``."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = cell_text(value)
    text = str(value).strip().lstrip("'")
    digits = re.sub(r"[\s.()-]", "", text)
    if re.fullmatch(r"84[35789]\d{8}", digits):
        return "+" + digits
    return text


def consent_value(value: object) -> object:
    text = cell_text(value)
    if text in _TICKS:
        return "x" if text != "✗" else "0"
    return value if isinstance(value, bool | int | float) else text


class RowCollector:
    """Collects the errors of one row so every bad cell is reported, not only the first."""

    def __init__(self, row: int, headers: dict[str, str]) -> None:
        self.row = row
        self.headers = headers  # field name → header as in the file
        self.errors: list[RowError] = []

    def header(self, field: str | None) -> str:
        if field is None:
            return ""
        return self.headers.get(field) or self.headers.get(field.split(".", 1)[-1], "")

    def add(self, field: str | None, message: str) -> None:
        self.errors.append(RowError(self.row, self.header(field), message))

    def parse(self, field: str, parser: Callable[[], T]) -> T | None:
        try:
            return parser()
        except DomainError as exc:
            self.add(exc.field if exc.field in self.headers else field, exc.message_vi)
            return None
