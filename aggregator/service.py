"""One entry point for the CLI, the API and the dashboard, so the same inputs give the same JSON."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy.orm import Session

from aggregator.params import PeriodError, parse_field
from aggregator.ranking import build_ranking
from aggregator.report import build_report, make_scope
from aggregator.zalo_section import with_zalo_rating
from sipas.catalogue import Catalogue
from sipas.clock import Period
from sipas.errors import ValidationError
from sipas.models import ResponseChannel, Unit, UnitKind
from sipas.units import descendants

RANKED_KINDS = (UnitKind.DISTRICT, UnitKind.PROVINCE)


class NotADistrict(ValidationError):
    code = "not_a_district"


class RankingNotFiltered(ValidationError):
    """A ranking asked for one field or channel. TT 01/2018 scores a unit on all its dossiers and ratings (indices
    5, 6, 8 and 9 are the unit's own), so a ranking has no such filter: refused, never answered unfiltered."""
    code = "ranking_not_filtered"


def ranking_filter(field: str | None, channel: str | None) -> str | None:
    """The first filter (``field``, then ``channel``) given to a ranking; None when none is (blank is none)."""
    return next((name for name, value in (("field", field), ("channel", channel)) if (value or "").strip()), None)


def check_ranking_unfiltered(field: str | None, channel: str | None) -> None:
    """``RankingNotFiltered`` naming the API parameter when a ranking is asked with ``field`` or ``channel``."""
    name = ranking_filter(field, channel)
    if name:
        raise RankingNotFiltered("Bảng xếp hạng không lọc theo lĩnh vực hay kênh đánh giá: điểm theo Thông tư "
                                 "01/2018 tính trên mọi hồ sơ và mọi phiếu của đơn vị. Bỏ field và channel, hoặc "
                                 "dùng unit để xem báo cáo của một đơn vị theo lĩnh vực, kênh.",
                                 field=name, detail=f"{name} does not apply to a district ranking")


def check_channel(channel: str | None) -> str | None:
    if not channel:
        return None
    try:
        return ResponseChannel(channel.strip()).value
    except ValueError:
        allowed = ", ".join(c.value for c in ResponseChannel)
        raise PeriodError(f"Kênh “{channel}” không hợp lệ (chọn một trong: {allowed}).", field="channel") from None


def unit_report(session: Session, catalogue: Catalogue, unit: Unit, period: Period, *, tz: tzinfo, now: datetime,
                field: str | None = None, channel: str | None = None) -> dict[str, Any]:
    """The report of ``unit`` and every unit below it (with Zalo's own rating apart, when there is any)."""
    units, field, channel = descendants(session, unit), parse_field(field), check_channel(channel)
    report = build_report(session, catalogue, units, period, tz=tz, now=now, unit_label=unit.name, field=field,
                          channel=channel)
    return with_zalo_rating(session, make_scope(units, period, tz=tz, now=now, field=field, channel=channel), report)


def check_district(unit: Unit) -> Unit:
    """Only a district (or a province) ranks the wards below it; a ward alone is no ranking."""
    if unit.kind not in RANKED_KINDS:
        raise NotADistrict(f"Đơn vị “{unit.code}” ({unit.name}) không phải quận/huyện nên không có bảng xếp hạng.",
                           field="district", detail=f"unit {unit.code!r} is a {unit.kind.value}, not a district")
    return unit


def district_ranking(session: Session, catalogue: Catalogue, district: Unit, period: Period, *, tz: tzinfo,
                     now: datetime) -> dict[str, Any]:
    """The ranking of a district's wards; ``NotADistrict`` for a ward (CLI and API alike)."""
    return build_ranking(session, catalogue, check_district(district), period, tz=tz, now=now)
