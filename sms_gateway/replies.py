"""Parsing SMS replies (pure). ``parse_reply`` never raises; ``classify_reply`` is the same without the
safety net, so tests can find the bugs the net would hide.

A reply is one of: an opt-out word (TC, HUY, STOP or Twilio's ``OptOutType``), an opt-in word
(BATDAU, START), a request for help, or ratings. Ratings are digits with any separators (1 = Rất hài
lòng, 2 = Hài lòng, 3 = Không hài lòng, 0 = không áp dụng) or the Vietnamese words with or without
diacritics ("ko", "kg", "k" for "không"), optionally after a dossier code when a number has several
open invitations. Digit ``n`` means the criterion's n-th option; ``0`` is "not applicable" where the
criterion allows it.

A leading token counts as a dossier code only when it looks like one (digits with letters, or at least
``CODE_MIN_DIGITS`` digits around separators): "111-211 111-130" is twelve ratings. Courtesy words before the
ratings or the code ("Dạ,", "Ok", "Đánh giá:") are skipped; full-width digits are digits
(``sipas.text.fold``). When a would-be
code may also be read as ratings ("230301-0001 1 1"), both readings are kept and the caller, who
knows the open invitations, chooses.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from sipas.catalogue import NOT_APPLICABLE, Criterion
from sipas.text import fold, phrase_at

log = logging.getLogger(__name__)
MAX_REPLY = 1600
CODE_MIN_DIGITS = 8  # "230301-0001" (10) is a code; "111-211" or "11.12.11" (6) are grouped ratings
OPT_OUT_WORDS = {"tc", "t c", "huy", "stop", "stopall", "unsubscribe", "cancel", "end", "quit", "tu choi",
                 "huy dang ky", "huy dk", "ngung", "ngung nhan", "ngung nhan tin", "tu choi nhan tin", "dung nhan tin",
                 "khong nhan tin", "khong nhan tin nua", "ko nhan tin", "dung gui tin", "huy nhan tin"}
OPT_IN_WORDS = {"batdau", "bat dau", "start", "unstop", "dk", "dang ky"}
HELP_WORDS = {"help", "info", "hd", "huong dan", "tro giup", "giup"}
# Longest phrases first so "khong hai long" is not read as "hai long".
PHRASES: tuple[tuple[tuple[str, ...], int], ...] = (
    (("khong", "hai", "long"), 3),
    (("chua", "hai", "long"), 3),
    (("khong", "ap", "dung"), 0),
    (("rat", "hai", "long"), 1),
    (("hai", "long"), 2),
)
# Abbreviations people type for "không" ("ko hai long", "kg hai long", "k hai long").
SYNONYMS = {"ko": "khong", "kg": "khong", "k": "khong", "kh": "khong", "khg": "khong", "hok": "khong"}
PHRASE_WORDS = frozenset(w for phrase, _ in PHRASES for w in phrase) | frozenset(SYNONYMS)
_FIRST_TOKEN = re.compile(r"^\s*(\S+?)[\s:,;]+(.*)$", re.S)
#: Words people put before their ratings ("Dạ, 1 1 1 …", "Ok 1112…", "Đánh giá: 1 2 3"), folded: skipped there.
COURTESY_WORDS = frozenset({"da", "vang", "ok", "oke", "okay", "okie", "xin", "chao", "em", "chau", "con", "toi",
                            "minh", "gui", "danh", "gia", "tra", "loi", "a", "anh", "chi"})
_LEADING_WORD = re.compile(r"^\s*([^\s:,;.!]+)[\s:,;.!]*(.*)$", re.S)
_CODE_END = " \t\r\n:,;."  # after a whole dossier code, a full stop ends it too ("HS-1. 1 1 …")


class ReplyKind(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    RATINGS = "ratings"


@dataclass(frozen=True)
class ParsedReply:
    kind: ReplyKind
    ratings: tuple[int, ...] = ()
    dossier_code: str | None = None
    # With a dossier code: the whole text read as ratings, when it can be (the code may be digits).
    without_code: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Merge:
    """Answers after a reply: criterion code → option code or "na"."""

    answers: dict[str, str] = field(default_factory=dict)
    missing: list[Criterion] = field(default_factory=list)
    refused_na: list[Criterion] = field(default_factory=list)
    too_many: bool = False

    @property
    def complete(self) -> bool:
        return not self.missing and not self.too_many


def _keyword(folded: str, opt_out_type: str | None) -> ReplyKind | None:
    opt_type = (opt_out_type or "").strip().upper()
    if opt_type == "STOP":
        return ReplyKind.OPT_OUT
    if opt_type == "START":
        return ReplyKind.OPT_IN
    if opt_type == "HELP":
        return ReplyKind.HELP
    if folded in OPT_OUT_WORDS:
        return ReplyKind.OPT_OUT
    if folded in OPT_IN_WORDS:
        return ReplyKind.OPT_IN
    if folded in HELP_WORDS or not folded:
        return ReplyKind.HELP
    return None


def ratings_of(text: str) -> tuple[int, ...] | None:
    """Digits and words → ratings 0-3, or None when anything else is in the text."""
    words = [SYNONYMS.get(w, w) for w in fold(text).split()]
    ratings: list[int] = []
    i = 0
    while i < len(words):
        found = phrase_at(words, i, PHRASES)
        if found is not None:
            ratings.append(found[0])
            i += found[1]
            continue
        word = words[i]
        if not word.isdigit() or any(ch not in "0123" for ch in word):
            return None
        ratings.extend(int(ch) for ch in word)
        i += 1
    return tuple(ratings)


def _looks_like_code(token: str) -> bool:
    if not token or all(word in PHRASE_WORDS for word in fold(token).split()):
        return False  # "ko", "Rất", "hài": words of a rating, never a code
    if not any(ch.isdigit() for ch in token):
        return False  # every dossier code has digits; a word alone is not one
    if any(ch.isalpha() for ch in token):
        return True
    has_separator = any(not ch.isalnum() for ch in token)
    return has_separator and sum(ch.isdigit() for ch in token) >= CODE_MIN_DIGITS


def _split_code(text: str) -> tuple[str | None, str]:
    """A leading token that looks like a dossier code, and the rest of the text."""
    match = _FIRST_TOKEN.match(text)
    if not match:
        return None, text
    token, rest = match.group(1).strip(".,;:"), match.group(2)
    return (token, rest) if _looks_like_code(token) else (None, text)


def after_code(text: str, code: str) -> str | None:
    """The text after a leading ``code`` (any case, then a separator), or None when it does not start so."""
    stripped = text.lstrip()
    if not code or stripped[:len(code)].upper() != code.upper():
        return None
    rest = stripped[len(code):]
    if rest and rest[0] not in _CODE_END:
        return None
    return rest.lstrip(_CODE_END)


def without_courtesy(text: str) -> str:
    """``text`` without the courtesy words before its ratings or dossier code (``COURTESY_WORDS``)."""
    while (match := _LEADING_WORD.match(text)) and match.group(2) and fold(match.group(1)) in COURTESY_WORDS:
        text = match.group(2)
    return text


def classify_reply(text: str | None, *, opt_out_type: str | None = None) -> ParsedReply:
    """Classify one inbound message; may raise on a bug (``parse_reply`` is the safe wrapper)."""
    raw = (text or "")[:MAX_REPLY]
    keyword = _keyword(fold(raw), opt_out_type)
    if keyword is not None:
        return ParsedReply(keyword)
    raw = without_courtesy(raw)
    whole = ratings_of(raw) or None
    code, rest = _split_code(raw)
    if code is not None:
        ratings = ratings_of(rest)
        if ratings:
            return ParsedReply(ReplyKind.RATINGS, ratings, dossier_code=code, without_code=whole)
    if whole:
        return ParsedReply(ReplyKind.RATINGS, whole)
    return ParsedReply(ReplyKind.HELP)


def parse_reply(text: str | None, *, opt_out_type: str | None = None) -> ParsedReply:
    """Classify one inbound message. Never raises: anything unreadable is a request for help."""
    try:
        return classify_reply(text, opt_out_type=opt_out_type)
    except Exception as exc:  # the parser is fed by strangers: a bug here must not fail the webhook
        log.error("reply parser failed (%s); answered with help", type(exc).__name__)  # never the text
        return ParsedReply(ReplyKind.HELP)


def merge_ratings(criteria: Sequence[Criterion], collected: Mapping[str, str], ratings: Sequence[int]) -> Merge:
    """Fill the criteria still missing, in order, with the ratings of one reply.

    A full set of ratings replaces what was collected; a shorter one continues it. A ``0`` on a
    criterion without "not applicable", or a digit beyond its options, leaves it missing (asked again).
    """
    answers = {} if len(ratings) == len(criteria) else dict(collected)
    open_criteria = [c for c in criteria if c.code not in answers]
    too_many = len(ratings) > len(open_criteria)
    refused: list[Criterion] = []
    for criterion, value in zip(open_criteria, ratings, strict=False):
        if value == 0:
            if criterion.allow_na:
                answers[criterion.code] = NOT_APPLICABLE
            else:
                refused.append(criterion)
        elif value <= len(criterion.options):
            answers[criterion.code] = criterion.options[value - 1].code
        else:
            refused.append(criterion)
    missing = [c for c in criteria if c.code not in answers]
    return Merge(answers=answers, missing=missing, refused_na=refused, too_many=too_many)


def positions(criteria: Sequence[Criterion], subset: Sequence[Criterion]) -> str:
    """"4, 7, 12": the 1-based positions of ``subset`` in ``criteria``."""
    codes = [c.code for c in criteria]
    return ", ".join(str(codes.index(c.code) + 1) for c in subset)
