"""Folding Vietnamese text for matching headers, labels and replies typed with or without diacritics."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import TypeVar

T = TypeVar("T")

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def _stripped(ch: str) -> str:
    """One character without its marks: "ệ" → "e", "đ" → "d", a lone combining mark → ""."""
    decomposed = unicodedata.normalize("NFD", ch.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


class _StrippedTable(dict[int, str]):
    """``str.translate`` table filled on first sight of each character. Decomposing and dropping marks works
    character by character (NFD only reorders marks, which are all dropped), so translating is exactly the
    whole-string computation, at a fraction of its cost on long texts (comments read for index 8)."""

    def __missing__(self, code: int) -> str:
        self[code] = stripped = _stripped(chr(code))
        return stripped


_STRIPPED = _StrippedTable()


def strip_diacritics(text: str) -> str:
    return text if text.isascii() else text.translate(_STRIPPED)


def fold(text: str) -> str:
    """``"Mã hồ sơ"``, ``"Ma ho so"``, ``"MA_HO_SO"`` → ``"ma ho so"``; full-width ``"１２"`` → ``"12"`` (NFKC: a
    phone's Asian keyboard types them, and a dropped digit would move every later rating of an SMS reply up)."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return _NON_ALNUM.sub(" ", strip_diacritics(text).lower()).strip()


def fold_key(text: str) -> str:
    """Like ``fold`` with underscores: ``"Mã hồ sơ"`` → ``"ma_ho_so"``."""
    return fold(text).replace(" ", "_")


def phrase_at(words: Sequence[str], i: int, phrases: Iterable[tuple[tuple[str, ...], T]]) -> tuple[T, int] | None:
    """The value of the first phrase that starts at ``words[i]``, and its length in words; None if none does."""
    for phrase, value in phrases:
        if tuple(words[i:i + len(phrase)]) == phrase:
            return value, len(phrase)
    return None


_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|[\ud800-\udfff]")


def is_storable(text: str) -> bool:
    """No NUL or other control character (PostgreSQL refuses NUL) and no lone surrogate (not UTF-8)."""
    return _UNSTORABLE.search(text) is None


def storable(text: str) -> str:
    """Free text (a citizen's comment) with what no column can hold removed, the rest kept."""
    return _UNSTORABLE.sub("", text)
