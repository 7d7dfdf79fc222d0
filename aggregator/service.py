"""One entry point for the CLI, the API and the dashboard, so the same inputs give the same JSON."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy.orm import Session

from aggregator.params import PeriodError, parse_field
from aggregator.ranking import build_ranking
from aggregator.report import build_report
from sipas.catalogue import Catalogue
from sipas.clock import Period
from sipas.models import ResponseChannel, Unit
from sipas.units import descendants


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
    """The report of ``unit`` and every unit below it."""
    return build_report(session, catalogue, descendants(session, unit), period, tz=tz, now=now, unit_label=unit.name,
                        field=parse_field(field), channel=check_channel(channel))


def district_ranking(session: Session, catalogue: Catalogue, district: Unit, period: Period, *, tz: tzinfo,
                     now: datetime) -> dict[str, Any]:
    return build_ranking(session, catalogue, district, period, tz=tz, now=now)
