"""Which TT 01/2018 indices a unit's score rests on, why the others are missing, and whether it may be classed.

Issue 11 §3: a total of 6 indices read against 18 points is not a class. A unit is *complete* when
every index 1-9 has data; otherwise it keeps its partial total and its mean per index, but gets no
class ("chưa đủ dữ liệu xếp loại") and the ranking lists it apart (``aggregator.ranking``), never as if
the missing indices scored 0. Pure functions: no database, no Flask.

Why an index is missing follows from where its data comes from (``aggregator.report.index_points``):

- 1, 2: resolved dossiers of the period (``no_resolved_dossiers``);
- 3, 4, 7: citizen answers to a criterion the criterion files map to the index (``tt01_index``).
  ``form_lacks_question`` when no form the unit used in the period asks it (a kiosk on ``quay4``),
  ``no_answers`` when a form asks it but nobody answered;
- 5, 6: the clerk's quarterly inputs (``staff_input_missing``);
- 8: the follow-up cases of the unit's ratings (``sipas.cases``), or the clerk's override; missing only
  when the period has no rating to follow up and no override (``no_ratings_to_follow_up``);
- 9: dossiers received in the period, or a late or overdue online dossier (``no_received_dossiers``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sipas.catalogue import Catalogue, Source

ALL_INDICES = tuple(range(1, 10))
INCOMPLETE_CLASS_LABEL = "chưa đủ dữ liệu xếp loại"
NO_DATA_CLASS_LABEL = "chưa có dữ liệu"

REASONS: dict[str, str] = {
    "no_resolved_dossiers": "không có hồ sơ giải quyết xong trong kỳ",
    "form_lacks_question": "mẫu phiếu đơn vị dùng trong kỳ không có câu hỏi cho chỉ số này",
    "no_answers": "chưa có câu trả lời nào của người dân cho chỉ số này",
    "staff_input_missing": "chưa nhập số liệu quý (chỉ số do cán bộ đánh giá)",
    "no_received_dossiers": "không có hồ sơ tiếp nhận trong kỳ",
    "no_ratings_to_follow_up": "không có phiếu đánh giá nào trong kỳ để tính việc xử lý phản ánh",
}
CITIZEN_INDICES = (3, 4, 7)
STAFF_INDICES = (5, 6)


@dataclass(frozen=True)
class Coverage:
    available: tuple[int, ...]
    missing: tuple[tuple[int, str], ...]  # (index, reason code)

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def label(self) -> str:
        """ "6/9 chỉ số"."""
        return f"{len(self.available)}/{len(ALL_INDICES)} chỉ số"

    def as_json(self) -> dict[str, object]:
        return {
            "indices_available": list(self.available),
            "indices_missing": [{"index": index, "reason": reason, "reason_label": REASONS[reason]}
                                for index, reason in self.missing],
            "coverage": self.label,
        }


def asked_indices(catalogue: Catalogue, instruments_used: Collection[tuple[str, str]]) -> set[int]:
    """The citizen indices some criterion of the forms used (code, version) is mapped to in the criterion files."""
    asked: set[int] = set()
    for code, version in instruments_used:
        try:
            instrument = catalogue.version(code, version)
        except KeyError:
            continue
        asked.update(c.tt01_index for c in instrument.criteria
                     if c.source is Source.CITIZEN and c.tt01_index in CITIZEN_INDICES)
    return asked


def missing_reason(index: int, asked: Collection[int]) -> str:
    """The reason code of a missing index (see the module docstring)."""
    if index in (1, 2):
        return "no_resolved_dossiers"
    if index in CITIZEN_INDICES:
        return "no_answers" if index in asked else "form_lacks_question"
    if index in STAFF_INDICES:
        return "staff_input_missing"
    if index == 8:
        return "no_ratings_to_follow_up"
    return "no_received_dossiers"


def coverage(indices: Collection[int], asked: Collection[int]) -> Coverage:
    """Coverage of the indices that have a score; ``asked`` = citizen indices the unit's forms ask."""
    available = tuple(i for i in ALL_INDICES if i in indices)
    return Coverage(available, tuple((i, missing_reason(i, asked)) for i in ALL_INDICES if i not in indices))


def class_reason(cov: Coverage) -> str | None:
    """Machine reason for a missing class: ``no_data`` or ``incomplete_indices``; None when classed."""
    if cov.complete:
        return None
    return "no_data" if not cov.available else "incomplete_indices"


def mean_per_index(indices: Mapping[int, Decimal]) -> Decimal | None:
    """Mean of the available index scores (two decimals half-up): how incomplete units compare among themselves."""
    if not indices:
        return None
    return (sum(indices.values(), Decimal(0)) / Decimal(len(indices))).quantize(Decimal("0.01"),
                                                                               rounding=ROUND_HALF_UP)
