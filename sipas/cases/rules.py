"""The rules of a follow-up case as plain functions (no database, no Flask).

- A response *needs follow-up* when one of its answers is dissatisfied (the criterion files mark them)
  or its comment asks for action: a request, a complaint or a report of a fault, recognised by the
  words that carry that meaning (``ACTION_WORDS``, folded, so typed with or without diacritics).
- The due date is the submission's local day plus the unit's ``case_due_days`` (calendar days).
- Statuses move open → in progress → answered → closed; an answered case may be reopened to in
  progress (the citizen was not satisfied with the answer), a closed one is final.
- Index 8 (TT 01/2018 "Tiếp thu, giải trình…") of a quarter: of the cases whose rating was submitted
  in the quarter, those *decided* (answered, or unanswered past their due date) count; a case answered
  on or before its due date is *on time*. 100 % on time (or no case) and nothing outstanding → 2 points
  (``khong_co_hoac_du``); from 90 % with nothing outstanding → 1 (``tu_90``); below 90 % or any case
  unanswered past its due date ("còn tồn đọng") → 0 (``duoi_90``). Cases still within their due date
  are not judged yet; a case closed without an answer counts, never on time.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from sipas.cases.models import CaseStatus
from sipas.text import fold

DEFAULT_DUE_DAYS = 10
MAX_DUE_DAYS = 90
MAX_TEXT = 4000

STATUS_LABELS = {
    CaseStatus.OPEN: "Chưa xử lý",
    CaseStatus.IN_PROGRESS: "Đang xử lý",
    CaseStatus.ANSWERED: "Đã trả lời",
    CaseStatus.CLOSED: "Đã đóng",
}
NEXT_STATUSES: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.OPEN: frozenset({CaseStatus.IN_PROGRESS, CaseStatus.ANSWERED, CaseStatus.CLOSED}),
    CaseStatus.IN_PROGRESS: frozenset({CaseStatus.ANSWERED, CaseStatus.CLOSED}),
    CaseStatus.ANSWERED: frozenset({CaseStatus.IN_PROGRESS, CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset(),
}
# Folded phrases whose presence makes a comment ask for action. Meaning-bearing words, not whole sentences:
# a request ("đề nghị", "mong", "xin"), a complaint ("phàn nàn", "bức xúc"), a fault ("chậm", "sai", "hẹn lại").
ACTION_WORDS: tuple[str, ...] = (
    "de nghi", "yeu cau", "kien nghi", "phan anh", "khieu nai", "to cao", "mong", "xin", "can phai", "nen",
    "phan nan", "buc xuc", "that vong", "cham", "tre", "lau", "sai", "nham", "thieu", "hen lai", "di lai",
    "nhieu lan", "nhung nhieu", "tieu cuc", "boi duong", "thai do khong", "thai do kem", "thai do chua",
    "thai do te", "cau gat", "kho chiu", "kho khan",
    "khong duoc", "khong tra loi", "khong huong dan", "chua duoc", "chua giai quyet", "khong hai long",
    "sua", "cai thien", "khac phuc",
)


# Folded phrases of thanks and praise that hold an action word without its meaning ("xin cảm ơn", "chăm chỉ",
# "không có gì phàn nàn"): taken out before the action words are looked for.
PRAISE_PHRASES: tuple[str, ...] = (
    "xin chan thanh cam on", "xin cam on", "cam on", "cham chi", "cham soc", "cham lo", "tre trung", "tre tuoi",
    "khong co gi phan nan", "khong co gi de phan nan", "khong phan nan", "khong co y kien",
)
# Words whose diacritics tell praise from a fault, looked for before folding erases the difference: "trẻ" (young)
# is not "trễ" (late), "chăm" (diligent) not "chậm" (slow).
_PRAISE_SPELLED = re.compile("trẻ|chăm")

# " phrase " anywhere in " folded comment " (one pass instead of one search per phrase).
_ACTION = re.compile(" (?:" + "|".join(re.escape(phrase) for phrase in ACTION_WORDS) + ")(?= )")
_PRAISE = re.compile(" (?:" + "|".join(re.escape(phrase) for phrase in PRAISE_PHRASES) + ")(?= )")


def asks_for_action(comment: str | None) -> bool:
    """The comment asks the unit to do or explain something (a thank-you or praise does not: "Xin cảm ơn cán bộ",
    "Cán bộ trẻ, chăm chỉ", "Thái độ rất tốt, không có gì phàn nàn" opened cases until 2026-12-07)."""
    if not comment or not comment.strip():
        return False
    spelled = _PRAISE_SPELLED.sub(" ", unicodedata.normalize("NFC", comment).lower())
    folded = _PRAISE.sub("  ", f" {fold(spelled)} ")
    return _ACTION.search(folded) is not None


def due_date(submitted_local: date, due_days: int) -> date:
    return submitted_local + timedelta(days=due_days)


def check_due_days(value: object) -> int:
    """The unit's ``case_due_days`` option (1-90), the default when unset or invalid."""
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_DUE_DAYS:
        return value
    return DEFAULT_DUE_DAYS


def can_move(current: CaseStatus, target: CaseStatus) -> bool:
    return target in NEXT_STATUSES[current]


def is_answered(status: CaseStatus) -> bool:
    return status in (CaseStatus.ANSWERED, CaseStatus.CLOSED)


def is_overdue(status: CaseStatus, answered_on: date | None, due: date, today: date) -> bool:
    """Past its due date without an answer (a closed case without an answer is not outstanding)."""
    return status in (CaseStatus.OPEN, CaseStatus.IN_PROGRESS) and answered_on is None and today > due


def age_days(submitted_local: date, ended_on: date | None, today: date) -> int:
    """Days from the rating to the answer (or the closing of a case closed without one), or to today while open."""
    return ((ended_on or today) - submitted_local).days


@dataclass(frozen=True)
class CaseFacts:
    """What index 8 needs of one case."""

    status: CaseStatus
    due: date
    answered_on: date | None


@dataclass(frozen=True)
class Index8:
    """Index 8 of a unit and quarter, computed from its cases."""

    cases: int  # every case of the quarter
    decided: int  # answered, or unanswered past due
    on_time: int
    outstanding: int  # unanswered past due (tồn đọng)
    option: str
    points: int

    @property
    def on_time_percent(self) -> Fraction | None:
        return Fraction(100 * self.on_time, self.decided) if self.decided else None


INDEX8_OPTIONS = {"khong_co_hoac_du": 2, "tu_90": 1, "duoi_90": 0}


def index8(cases: list[CaseFacts], today: date, *, unopened: int = 0, unopened_overdue: int = 0) -> Index8:
    """``cases``: the cases with a case record; ``unopened``: the responses that are cases with none yet (open,
    due ``due_days`` after their day), of which ``unopened_overdue`` are past due on ``today``."""
    on_time, outstanding, decided = 0, unopened_overdue, unopened_overdue
    for case in cases:
        if case.answered_on is not None:
            decided += 1
            on_time += case.answered_on <= case.due
        elif case.status is CaseStatus.CLOSED:
            decided += 1  # closed without an answer: judged, and not on time
        elif is_overdue(case.status, None, case.due, today):
            decided += 1
            outstanding += 1
    if outstanding == 0 and on_time == decided:
        option = "khong_co_hoac_du"
    elif outstanding == 0 and Fraction(on_time, decided) >= Fraction(9, 10):
        option = "tu_90"
    else:
        option = "duoi_90"
    return Index8(len(cases) + unopened, decided, on_time, outstanding, option, INDEX8_OPTIONS[option])
