"""Zalo's service-rating submissions (``user_feedback`` events and the ``rating/get`` safety net), stored as
the versioned instrument ``zalo5`` (``config/zalo/zalo5.toml``), apart from the 12 criteria.

A submission is bound to its dossier through the tracking id (the invitation's id); when Zalo leaves the tracking
id empty (the contract's own ``rating/get`` row has ``"trackingId": ""``) or it is not an invitation's id, through
its msg_id: the sid sipas stored for the outbound Zalo message that carried the rating template. The same submission
seen twice (event and pull, or a retried event) is stored once: (msg_id, submit time) is unique. A second
submission for the same dossier is a correction: kept, and counted instead of the first (unit rule
``latest``, the default) or not counted (``first``); one rating per dossier is ever counted.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sipas.models import Unit
from sipas.rounding import mean_half_up
from sipas.text import storable
from sms_gateway.models import OPEN_STATUSES, Invitation, InvitationStatus, OutboundMessage
from sms_gateway.models_zalo import ZaloRating
from sms_gateway.zalo_settings import unit_zalo_options

log = logging.getLogger(__name__)
CODE = "zalo5"


@dataclass(frozen=True)
class Zalo5Version:
    version: str
    effective_from: date
    stars: tuple[str, ...]


def load_versions(config_dir: Path) -> list[Zalo5Version]:
    data = tomllib.loads((config_dir / "zalo" / "zalo5.toml").read_text(encoding="utf-8"))
    versions = [Zalo5Version(str(v["version"]), v["effective_from"], tuple(v["stars"])) for v in data["versions"]]
    for version in versions:
        if len(version.stars) != 5:
            raise ValueError(f"zalo5 {version.version}: exactly five star labels are needed")
    return sorted(versions, key=lambda v: v.effective_from)


def version_at(versions: list[Zalo5Version], day: date) -> Zalo5Version:
    usable = [v for v in versions if v.effective_from <= day]
    if not usable:
        raise ValueError(f"no zalo5 version in force on {day}")
    return usable[-1]


@dataclass(frozen=True)
class Submission:
    msg_id: str
    tracking_id: str
    rate: int
    feedbacks: tuple[str, ...]
    note: str
    submitted_at: datetime

    @classmethod
    def parse(cls, raw: dict[str, Any], *, camel: bool) -> Submission | None:
        """From the webhook's ``message`` (snake_case) or a ``rating/get`` row (camelCase); None if unusable."""
        try:
            rate = int(raw.get("rate"))  # type: ignore[arg-type]
            stamp = int(str(raw.get("submitDate" if camel else "submit_time")))
        except (TypeError, ValueError):
            return None
        msg_id = storable(str(raw.get("msgId" if camel else "msg_id") or ""))[:64]
        if not 1 <= rate <= 5 or not msg_id:
            return None
        feedbacks = raw.get("feedbacks") if isinstance(raw.get("feedbacks"), list) else []
        return cls(msg_id=msg_id, tracking_id=str(raw.get("trackingId" if camel else "tracking_id") or ""),
                   rate=rate, feedbacks=tuple(storable(str(f))[:100] for f in feedbacks[:5]),
                   note=" ".join(storable(str(raw.get("note") or "")).split())[:1000],
                   submitted_at=datetime.fromtimestamp(stamp / 1000, UTC))


#: Invitation ids are INTEGER columns: a longer run of digits is not one (and SQLite cannot even bind it).
MAX_INVITATION_ID = 2**31 - 1


def invitation_id(tracking_id: str) -> int | None:
    """The invitation's id a tracking id carries (sipas sends it as plain ASCII digits), else None."""
    if not (tracking_id.isascii() and tracking_id.isdigit()):
        return None
    value = int(tracking_id)
    return value if value <= MAX_INVITATION_ID else None


def bound_invitation(session: Session, submission: Submission) -> Invitation | None:
    """The invitation a submission answers: by its tracking id, else by its msg_id (the outbound Zalo message's
    sid → its invitation); None when neither knows it."""
    by_tracking = invitation_id(submission.tracking_id)
    invitation = session.get(Invitation, by_tracking) if by_tracking is not None else None
    if invitation is not None:
        return invitation
    sent_for = session.scalar(select(OutboundMessage.invitation_id).where(OutboundMessage.provider == "zalo",
                                                                          OutboundMessage.sid == submission.msg_id))
    return session.get(Invitation, sent_for) if sent_for is not None else None


def record_submission(session: Session, versions: list[Zalo5Version], submission: Submission, *, source: str,
                      tz: Any, now: datetime) -> ZaloRating | None:
    """Store one submission; None when it was seen before or cannot be bound to a dossier."""
    invitation = bound_invitation(session, submission)
    if invitation is None:
        log.warning("Zalo rating %s (tracking id %r) matches no invitation sipas sent: not stored",
                    submission.msg_id, submission.tracking_id[:48])
        return None
    seen = session.scalar(select(ZaloRating.id).where(ZaloRating.msg_id == submission.msg_id,
                                                      ZaloRating.submitted_at == submission.submitted_at))
    if seen is not None:
        return None
    version = version_at(versions, submission.submitted_at.astimezone(tz).date())
    earlier = session.scalar(select(ZaloRating).where(ZaloRating.dossier_id == invitation.dossier_id,
                                                      ZaloRating.counted.is_(True)).with_for_update())
    unit = session.get(Unit, invitation.unit_id)
    rule = str(unit_zalo_options(unit).get("correction") or "latest") if unit is not None else "latest"
    rating = ZaloRating(unit_id=invitation.unit_id, dossier_id=invitation.dossier_id, invitation_id=invitation.id,
                        msg_id=submission.msg_id, instrument_code=CODE, instrument_version=version.version,
                        rate=submission.rate, feedbacks=list(submission.feedbacks), note=submission.note or None,
                        submitted_at=submission.submitted_at, counted=True, source=source, created_at=now)
    if earlier is not None:
        rating.correction_of = earlier.id
        if rule == "first" or earlier.submitted_at > submission.submitted_at:
            rating.counted = False  # kept as a correction, the earlier one stays counted
        else:
            earlier.counted = False
    try:
        with session.begin_nested():
            session.add(rating)
            session.flush()
    except IntegrityError:
        return None
    if invitation.status in OPEN_STATUSES and invitation.status is not InvitationStatus.SENDING:
        # the citizen has rated: no reminder "nếu chưa đánh giá", and the phone number goes with the closed invitation
        invitation.status, invitation.answered_at, invitation.updated_at = (InvitationStatus.ANSWERED,
                                                                            submission.submitted_at, now)
    return rating


@dataclass(frozen=True)
class RatingSummary:
    ratings: int
    average: float | None
    by_star: dict[int, int]


def summary(session: Session, unit_ids: list[int], start: datetime, end: datetime) -> RatingSummary:
    """The counted zalo5 ratings submitted in [start, end): reported apart from the 12 criteria."""
    rows = dict(session.execute(
        select(ZaloRating.rate, func.count()).where(ZaloRating.unit_id.in_(unit_ids), ZaloRating.counted.is_(True),
                                                    ZaloRating.submitted_at >= start, ZaloRating.submitted_at < end)
        .group_by(ZaloRating.rate)).all())
    total = sum(rows.values())
    average = mean_half_up(sum(rate * n for rate, n in rows.items()), total)
    return RatingSummary(total, average, {star: int(rows.get(star, 0)) for star in range(1, 6)})
