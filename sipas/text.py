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


#: the Vietnamese alphabet in its order (f, j, w, z, absent from it, where the Latin alphabet puts them): "Đất
#: đai" sorts after "Dân tộc" and before "Giáo dục", never after every other letter as its code point would put it
_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_LETTER_RANK = {unicodedata.normalize("NFD", letter): rank for rank, letter in enumerate(_ALPHABET)}
#: the tones, a secondary key: none, huyền, hỏi, ngã, sắc, nặng (a, à, ả, ã, á, ạ)
_TONE_RANK = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
_PUNCTUATION, _DIGIT, _LETTER, _OTHER_LETTER = 0, 1, 2, 3
_CLUSTER = re.compile(r"(?s).[\u0300-\u036f]*")  # a character and the combining marks on it


def vietnamese_key(text: str) -> tuple[tuple[tuple[int, int], ...], tuple[int, ...], str]:
    """A sort key putting names (fields, procedures, units, people) in Vietnamese alphabetical order.

    First the letters, case-insensitively, in the order a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y
    (after spaces and punctuation, then digits; other scripts last); then, on equal letters, the tones in the
    order of Vietnamese dictionaries: none, huyền, hỏi, ngã, sắc, nặng ("ma" < "mà" < "mả" < "mã" < "má" <
    "mạ"; Wiktionary, Module:vi-sortkey, https://en.wiktionary.org/wiki/Module:vi-sortkey, which sorts "a, à,
    ả, ã, á, ạ" and the alphabet above); last the text itself, so that names differing only in case keep one
    order. Composed and decomposed forms of a name (NFC, NFD) give the same key."""
    composed = unicodedata.normalize("NFC", text)
    letters: list[tuple[int, int]] = []
    tones: list[int] = []
    for cluster in _CLUSTER.findall(unicodedata.normalize("NFD", composed.casefold())):
        base, marks = cluster[0], cluster[1:]
        tone = next((_TONE_RANK[m] for m in marks if m in _TONE_RANK), 0)
        marks = "".join(m for m in marks if m not in _TONE_RANK)
        if base + marks in _LETTER_RANK:
            letters.append((_LETTER, _LETTER_RANK[base + marks]))
            marks = ""
        elif base in _LETTER_RANK:
            letters.append((_LETTER, _LETTER_RANK[base]))
        elif base.isdigit():
            letters.append((_DIGIT, ord(base)))
        elif base.isalpha():
            letters.append((_OTHER_LETTER, ord(base)))
        else:
            letters.append((_PUNCTUATION, ord(base)))
        letters.extend((_OTHER_LETTER, ord(m)) for m in marks)  # ü, ç: after the letter without the mark
        tones.append(tone)
    return tuple(letters), tuple(tones), composed
