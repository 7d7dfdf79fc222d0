"""Enumerated values recognised by the words that decide them, not by a closed list of phrasings.

One-stop systems word the same value in many ways ("Dịch vụ bưu chính", "Qua dịch vụ bưu chính công ích",
"Nộp trực tuyến toàn trình", "Mức độ 4", "Trực tiếp tại Bộ phận Một cửa"). Each value has a few deciding
phrases (folded: no diacritics, lower case); the other words of the text are ignored. A text is recognised
only when the deciding phrases it holds all point to one value: none, or two values at once ("trực tuyến …
trực tiếp"), or a negation ("không …") is left unknown, and the caller refuses it as before.

Rules are ordered by specificity: the first rule whose phrase is present wins over later rules of values
it ``overrides`` (so "trực tuyến toàn trình" is online-full although "trực tuyến" alone means partial).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sipas.models import IntakeChannel, ResponseChannel

T = TypeVar("T")

NEGATIONS = ("khong", "chua", "tu choi", "not", "no")


@dataclass(frozen=True)
class Meaning(Generic[T]):
    value: T
    phrases: tuple[str, ...]
    overrides: tuple[T, ...] = ()


def has_phrase(key: str, phrase: str) -> bool:
    """Whole words only: "muc do 4" is in "nop truc tuyen muc do 4", "qr" is not in "qrx"."""
    return f" {phrase} " in f" {key} "


def by_meaning(key: str, meanings: Sequence[Meaning[T]], *, negations: Sequence[str] = NEGATIONS) -> T | None:
    """The one value whose deciding phrases occur in the folded ``key``, or None (unknown or contradictory)."""
    if any(has_phrase(key, word) for word in negations):
        return None
    found = [m for m in meanings if any(has_phrase(key, p) for p in m.phrases)]
    overridden = {v for m in found for v in m.overrides}
    values = {m.value for m in found if m.value not in overridden}
    return values.pop() if len(values) == 1 else None


INTAKE_MEANINGS: tuple[Meaning[IntakeChannel], ...] = (
    Meaning(IntakeChannel.ONLINE_FULL, ("toan trinh", "muc do 4", "md4", "mdo4", "online full", "full online"),
            overrides=(IntakeChannel.ONLINE_PARTIAL,)),
    Meaning(IntakeChannel.ONLINE_PARTIAL, ("truc tuyen", "online", "qua mang", "dich vu cong truc tuyen",
                                           "dvc", "dvctt", "mot phan", "muc do 3", "md3", "mdo3")),
    Meaning(IntakeChannel.POSTAL, ("buu chinh", "buu dien", "vnpost", "postal", "chuyen phat")),
    Meaning(IntakeChannel.DIRECT, ("truc tiep", "tai quay", "tai bo phan", "bo phan mot cua", "bo phan tiep nhan",
                                   "direct")),
)

RESPONSE_CHANNEL_MEANINGS: tuple[Meaning[ResponseChannel], ...] = (
    Meaning(ResponseChannel.KIOSK, ("kiosk", "thiet bi", "may danh gia", "may tinh bang", "man hinh", "tablet")),
    Meaning(ResponseChannel.SMS, ("sms", "tin nhan", "nhan tin")),
    Meaning(ResponseChannel.QR, ("qr", "ma qr", "duong dan", "link", "lien ket")),
    Meaning(ResponseChannel.PAPER, ("giay", "phieu giay", "ban giay", "paper")),
    Meaning(ResponseChannel.API, ("api", "cong dich vu cong", "he thong", "dich vu cong")),
    Meaning(ResponseChannel.ZALO, ("zalo", "zns")),
)

#: Consent: "đồng ý" decides yes, and a negation (which ``by_meaning`` refuses) decides no.
#: "có" alone is an exact yes in ``parsing``, but as one word among others it decides nothing ("có lẽ" = maybe).
CONSENT_YES: tuple[Meaning[bool], ...] = (Meaning(True, ("dong y", "chap nhan")),)
CONSENT_NO: tuple[Meaning[bool], ...] = (Meaning(False, ("khong", "tu choi", "chua", "no")),)


def bool_by_meaning(key: str) -> bool | None:
    """"Có, đồng ý nhận tin nhắn" → True; "Không đồng ý nhận tin", "Từ chối" → False; both or neither → None."""
    no = by_meaning(key, CONSENT_NO, negations=())
    if no is not None:
        return False if not any(has_phrase(key, w) for w in ("co dong y", "yes")) else None
    return by_meaning(key, CONSENT_YES)
