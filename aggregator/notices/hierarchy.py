"""Which unit a notice reports to ("UBND … (để báo cáo)"), given the local government of its period.

Since 01/7/2025 local government has two tiers (Luật Tổ chức chính quyền địa phương 2025; Nghị
quyết 202/2025/QH15): province or centrally-run city, then ward / commune / special zone; districts
no longer exist. A notice for a period ending on or after that day therefore never names a district:
the first parent above it that is not a district is used (none: the recipient line is left out). A
notice for an earlier period still reports to the district, which existed then.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sipas.models import Unit, UnitKind

TWO_TIER_SINCE = date(2025, 7, 1)


def reporting_parent(unit: Unit, period_end: date, parent_of: Callable[[Unit], Unit | None]) -> Unit | None:
    """The parent the notice reports to; ``parent_of`` looks a unit's parent up (no database here)."""
    parent = parent_of(unit)
    if period_end < TWO_TIER_SINCE:
        return parent
    while parent is not None and parent.kind is UnitKind.DISTRICT:
        parent = parent_of(parent)
    return parent
