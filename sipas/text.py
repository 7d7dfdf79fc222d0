"""Folding Vietnamese text for matching headers, labels and replies typed with or without diacritics."""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def strip_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def fold(text: str) -> str:
    """``"Mã hồ sơ"``, ``"Ma ho so"``, ``"MA_HO_SO"`` → ``"ma ho so"``."""
    return _NON_ALNUM.sub(" ", strip_diacritics(text).lower()).strip()


def fold_key(text: str) -> str:
    """Like ``fold`` with underscores: ``"Mã hồ sơ"`` → ``"ma_ho_so"``."""
    return fold(text).replace(" ", "_")
