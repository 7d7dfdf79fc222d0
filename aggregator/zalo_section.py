"""The unit report's ``zalo_service_rating`` section: Zalo's own 1–5 star service rating (instrument ``zalo5``).

Reported apart from the 12 criteria and never mixed into their percentages (issue 12). Only the ratings
counted by the unit's correction rule make the figures (one per dossier); the corrections (a second
submission for the same dossier) are counted apart in ``corrections``. Ratings are placed in the period by
their submission time; ``field`` limits them through their dossier; a ``channel`` other than ``zalo``
leaves them out. The section is absent when the units have no zalo5 submission in the period.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aggregator import stats
from aggregator.labels import decimal_vi, number_vi, percent_vi
from aggregator.queries import Scope
from sipas.models import Dossier, ResponseChannel
from sipas.rounding import mean_half_up
from sms_gateway.models_zalo import ZaloRating

KEY = "zalo_service_rating"
STARS = (1, 2, 3, 4, 5)


def zalo_rating_section(session: Session, scope: Scope) -> dict[str, Any] | None:
    """The section for ``scope``, or None when there is nothing to show."""
    if scope.channel is not None and scope.channel is not ResponseChannel.ZALO:
        return None
    stmt = (select(ZaloRating.rate, ZaloRating.counted, ZaloRating.correction_of.is_not(None), func.count())
            .where(ZaloRating.unit_id.in_(scope.unit_ids), ZaloRating.submitted_at >= scope.start_utc,
                   ZaloRating.submitted_at < scope.end_utc)
            .group_by(ZaloRating.rate, ZaloRating.counted, ZaloRating.correction_of.is_not(None)))
    if scope.field is not None:
        stmt = stmt.join(Dossier, Dossier.id == ZaloRating.dossier_id).where(Dossier.field == scope.field)
    rows = session.execute(stmt).all()
    if not rows:
        return None
    by_star = dict.fromkeys(STARS, 0)
    submissions = corrections = not_counted = 0
    for rate, counted, is_correction, number in rows:
        submissions += number
        corrections += number if is_correction else 0
        if counted and rate in by_star:
            by_star[rate] += number
        elif not counted:
            not_counted += number
    count = sum(by_star.values())
    shares = stats.largest_remainder([by_star[star] for star in STARS])
    mean = mean_half_up(sum(star * n for star, n in by_star.items()), count)
    return {
        "instrument": "zalo5", "count": count, "mean_stars": mean, "small_n": stats.is_small_n(count),
        "distribution": [{"stars": star, "n": by_star[star], "percent": float(share),
                          "ci95": stats.ci95(by_star[star], count)}
                         for star, share in zip(STARS, shares, strict=True)],
        "corrections": {"submissions": submissions, "corrections": corrections, "not_counted": not_counted},
    }


def with_zalo_rating(session: Session, scope: Scope, report: dict[str, Any]) -> dict[str, Any]:
    """``report`` with the section added when the units have zalo5 ratings in the period."""
    section = zalo_rating_section(session, scope)
    if section is not None:
        report[KEY] = section
    return report


def zalo_rating_text(section: dict[str, Any]) -> list[str]:
    """The lines ``sipas report`` prints for the section (apart from the 12 criteria)."""
    stars = "; ".join(f"{row['stars']} sao {number_vi(row['n'])} ({percent_vi(row['percent'])})"
                      for row in section["distribution"])
    mean = decimal_vi(section["mean_stars"], 2) if section["mean_stars"] is not None else "–"
    few = ", ít phiếu" if section["small_n"] else ""
    fixes = section["corrections"]
    return [f"Đánh giá qua Zalo (1–5 sao, ngoài 12 tiêu chí): {number_vi(section['count'])} lượt được tính{few}, "
            f"trung bình {mean} sao",
            f"  {stars}",
            f"  Tổng số lượt gửi {number_vi(fixes['submissions'])}, trong đó gửi lại để sửa "
            f"{number_vi(fixes['corrections'])}, không tính {number_vi(fixes['not_counted'])}"]
