"""Paper ballots handed out vs returned (phiếu phát ra / thu vào) for a period: pure.

The clerk enters the ballots handed out per quarter (ballot boxes are opened at the end of each
quarter, domain notes §8), so a handed-out figure exists only for whole quarters. A period that
cuts a quarter (15/12–06/3, a month) has none: summing the quarters it touches would count ballots
handed out outside the period and understate the return rate, and prorating by days would invent a
figure nobody counted. So the report gives the figure only when the period is made of whole
quarters and every unit that enters ballots entered every one of them; otherwise it says why.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sipas.clock import ROMAN_QUARTERS, Period

PARTIAL_PERIOD = "không đủ số liệu phiếu phát ra cho kỳ không trọn quý"
NOT_ENTERED = "chưa nhập số phiếu phát ra"
BY_FIELD = "số phiếu phát ra không được ghi theo lĩnh vực"

Quarter = tuple[int, int]


def whole_quarters(period: Period) -> bool:
    """The period starts on a quarter's first day and ends on a quarter's last day."""
    return (Period.containing_quarter(period.start).start == period.start
            and Period.containing_quarter(period.end).end == period.end)


@dataclass(frozen=True)
class HandedOut:
    """``count`` is None when there is no honest figure; ``status`` and ``note`` say why."""

    count: int | None
    status: str  # complete | partial_period | by_field | missing_quarters | missing_units | not_entered
    note: str | None


def handed_out(period: Period, quarters: Sequence[Quarter], entries: Sequence[tuple[int, int, int, int]], *,
               returned_by: Collection[int] = (), by_field: bool = False) -> HandedOut:
    """From (unit id, year, quarter, ballots handed out) entered for the ``quarters`` the period touches.

    ``returned_by``: the units with paper ballots in the period. Each of them, and each unit that entered a
    figure, must have entered every quarter: a district's return rate divided every ward's ballots by the
    handed-out figures of the wards that entered one (140 % where a ward keyed ballots but no figure). With a
    field filter (``by_field``) the ballots returned are those of the field's dossiers, the handed-out figure is
    the unit's: no rate."""
    if not whole_quarters(period):
        return HandedOut(None, "partial_period", PARTIAL_PERIOD)
    if by_field:
        return HandedOut(None, "by_field", BY_FIELD)
    if not entries:
        return HandedOut(None, "not_entered", NOT_ENTERED)
    entered: dict[int, set[Quarter]] = {}
    for unit_id, year, quarter, _count in entries:
        entered.setdefault(unit_id, set()).add((year, quarter))
    without = [unit_id for unit_id in returned_by if unit_id not in entered]
    if without:
        return HandedOut(None, "missing_units", f"không đủ số liệu phiếu phát ra: {len(without)} đơn vị có phiếu "
                                                f"thu vào nhưng chưa nhập số phiếu phát ra")
    missing = sorted({q for done in entered.values() for q in quarters if q not in done})
    if missing:
        names = ", ".join(f"quý {ROMAN_QUARTERS[q]} năm {y}" for y, q in missing)
        return HandedOut(None, "missing_quarters", f"không đủ số liệu phiếu phát ra: chưa nhập cho {names}")
    return HandedOut(sum(count for *_key, count in entries), "complete", None)
