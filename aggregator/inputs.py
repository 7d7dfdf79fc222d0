"""Saving the staff-entered quarterly figures (indices 5, 6, 8 and paper ballots handed out), audited.

Index 8 is computed from the follow-up cases (``sipas.cases``); an entry here overrides it and needs a reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from aggregator.models import QuarterInput
from sipas.audit import audit
from sipas.cases.overrides import set_index8_reason
from sipas.catalogue import Catalogue, Criterion
from sipas.clock import ROMAN_QUARTERS, Period
from sipas.errors import ValidationError
from sipas.models import Unit

STAFF_CRITERIA = {5: "cs5", 6: "cs6", 8: "cs8"}
MAX_BALLOTS = 1_000_000


@dataclass(frozen=True)
class QuarterFigures:
    """Option codes of cs5, cs6, cs8 (empty = not assessed) and ballots handed out (None = not counted)."""

    index5: str = ""
    index6: str = ""
    index8: str = ""
    ballots_handed_out: int | None = None
    index8_reason: str = ""  # required with index8: it overrides the value computed from the follow-up cases


def staff_criteria(catalogue: Catalogue, year: int, quarter: int) -> dict[int, Criterion]:
    """The tt01_2018 criteria for indices 5, 6 and 8 in effect at the start of the quarter."""
    try:
        instrument = catalogue.current("tt01_2018", Period.quarter(year, quarter).start)
    except (KeyError, LookupError):
        raise ValidationError(
            f"Chưa có bộ chỉ số TT 01/2018 áp dụng cho quý {ROMAN_QUARTERS.get(quarter, quarter)} năm {year}.",
            field="quarter", detail="no tt01_2018 version in effect") from None
    result = {}
    for index, code in STAFF_CRITERIA.items():
        criterion = instrument.criterion(code)
        if criterion is not None:
            result[index] = criterion
    return result


def get_quarter_input(session: Session, unit: Unit, year: int, quarter: int) -> QuarterInput | None:
    return session.scalar(select(QuarterInput).where(QuarterInput.unit_id == unit.id, QuarterInput.year == year,
                                                     QuarterInput.quarter == quarter))


def parse_ballots(text: str) -> int | None:
    text = text.strip().replace(".", "").replace(" ", "")
    if not text:
        return None
    if not text.isdigit() or int(text) > MAX_BALLOTS:
        raise ValidationError("Số phiếu phát ra phải là số nguyên không âm.", field="ballots_handed_out")
    return int(text)


def save_quarter_input(session: Session, catalogue: Catalogue, unit: Unit, year: int, quarter: int,
                       figures: QuarterFigures, *, actor: str, now: datetime) -> QuarterInput:
    """Create or replace the unit's figures for the quarter; the audit event records old and new values."""
    if quarter not in (1, 2, 3, 4) or not 2000 <= year <= 2100:
        raise ValidationError("Quý hoặc năm không hợp lệ.", field="quarter")
    if figures.ballots_handed_out is not None and not 0 <= figures.ballots_handed_out <= MAX_BALLOTS:
        raise ValidationError("Số phiếu phát ra phải là số nguyên không âm.", field="ballots_handed_out")
    criteria = staff_criteria(catalogue, year, quarter)
    reason = " ".join(figures.index8_reason.split())
    if figures.index8 and not reason:
        raise ValidationError("Chỉ số 8 được tính từ các phản ánh; muốn nhập thay thì phải ghi lý do.",
                              field="index8_reason", detail="index8 override needs a reason")
    if len(reason) > 1000:
        raise ValidationError("Lý do nhập chỉ số 8 dài quá 1000 ký tự.", field="index8_reason", detail="too long")
    row = get_quarter_input(session, unit, year, quarter)
    if row is None:
        row = QuarterInput(unit_id=unit.id, year=year, quarter=quarter)
        session.add(row)
    before = {i: getattr(row, f"index{i}_option") for i in STAFF_CRITERIA} | {"ballots": row.ballots_handed_out}
    for index, code in ((5, figures.index5), (6, figures.index6), (8, figures.index8)):
        option = criteria[index].option(code) if code else None
        if code and option is None:
            raise ValidationError(f"Phương án không hợp lệ cho chỉ số {index}.", field=f"index{index}")
        setattr(row, f"index{index}_option", option.code if option else None)
        setattr(row, f"index{index}_points", option.points if option else None)
    row.ballots_handed_out = figures.ballots_handed_out
    set_index8_reason(session, unit.id, year, quarter, reason if row.index8_option else None, actor=actor, now=now)
    row.updated_at, row.updated_by = now, actor
    session.flush()
    after = {i: getattr(row, f"index{i}_option") for i in STAFF_CRITERIA} | {"ballots": row.ballots_handed_out}
    audit(session, "aggregator.quarter_input.saved", actor=actor, unit=unit, subject=f"{year}Q{quarter}",
          before={str(k): v for k, v in before.items()}, after={str(k): v for k, v in after.items()},
          index8_reason=reason if row.index8_option else None)
    return row
