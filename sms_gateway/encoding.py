"""SMS encoding arithmetic (pure): GSM-7 or UCS-2, characters and segments.

A single character outside the GSM 03.38 alphabet (one Vietnamese diacritic is enough) switches the
whole message to UCS-2: 70 characters in one segment instead of 160, 67 instead of 153 when split.
Characters of the GSM extension table (``{ } [ ] ~ \\ | ^ €`` and form feed) cost two septets.
"""

from __future__ import annotations

from dataclasses import dataclass

from sipas.text import strip_diacritics

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")
GSM7 = "GSM-7"
UCS2 = "UCS-2"

# Letters a Vietnamese keyboard produces that strip_diacritics leaves alone or maps oddly.
_EXTRA = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "…": "...", "\u00a0": " "})


@dataclass(frozen=True)
class SmsInfo:
    encoding: str
    characters: int  # as the user counts them
    units: int  # septets for GSM-7 (extension characters count twice), UTF-16 code units for UCS-2
    segments: int
    per_segment: int  # capacity of one segment of this message

    @property
    def is_unicode(self) -> bool:
        return self.encoding == UCS2


def is_gsm7(text: str) -> bool:
    return all(ch in GSM_BASIC or ch in GSM_EXTENSION for ch in text)


def analyse(text: str) -> SmsInfo:
    """Encoding, length and segment count of a message body."""
    if is_gsm7(text):
        units = sum(2 if ch in GSM_EXTENSION else 1 for ch in text)
        single, multi, encoding = 160, 153, GSM7
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, UCS2
    if units <= single:
        segments, per_segment = (1 if units else 0), single
    else:
        segments, per_segment = -(-units // multi), multi
    return SmsInfo(encoding=encoding, characters=len(text), units=units, segments=segments,
                   per_segment=per_segment)


def unaccent(text: str) -> str:
    """Vietnamese text to plain GSM-7 letters: "Phường Phú Hội" → "Phuong Phu Hoi"."""
    plain = strip_diacritics(text.translate(_EXTRA))
    return "".join(ch if is_gsm7(ch) else "?" for ch in plain)
