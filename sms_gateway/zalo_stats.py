"""Per channel (Zalo, each SMS provider): invitations sent, delivered, fallen back to SMS, failed, and why."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sms_gateway.models import MessageKind, MessageStatus, OutboundMessage
from sms_gateway.providers.zalo import FALL_BACK, RESCHEDULE, action_for

ZALO = "zalo"


@dataclass
class ChannelCounts:
    channel: str
    sent: int = 0  # taken by the provider (sent or further)
    delivered: int = 0
    fell_back: int = 0  # Zalo only: refused, then sent by SMS
    postponed: int = 0  # Zalo only: quota or night ban, sent again later
    failed: int = 0
    reasons: dict[str, int] = field(default_factory=dict)  # code → messages that failed (or fell back) with it


def zalo_code(code: str) -> int | None:
    """"zalo-118" → -118; None for our own codes (zalo_token, zalo_param_length, zalo_not_vn)."""
    return -int(code[5:]) if code.startswith("zalo-") and code[5:].isdigit() else None


def _zalo_failure(counts: ChannelCounts, code: str, number: int) -> None:
    number_code = zalo_code(code)
    action = FALL_BACK if number_code is None else action_for(number_code)[0]  # our own refusals go to SMS too
    if action == RESCHEDULE:
        counts.postponed += number
    else:
        counts.fell_back += number
    counts.reasons[code] = counts.reasons.get(code, 0) + number


def channel_counts(session: Session, unit_ids: Iterable[int], since: datetime) -> list[ChannelCounts]:
    """Invitation messages of these units created since ``since``, by channel; Zalo first."""
    rows = session.execute(
        select(OutboundMessage.provider, OutboundMessage.status, OutboundMessage.error_code, func.count())
        .where(OutboundMessage.unit_id.in_(list(unit_ids)), OutboundMessage.kind == MessageKind.INVITATION,
               OutboundMessage.created_at >= since)
        .group_by(OutboundMessage.provider, OutboundMessage.status, OutboundMessage.error_code)).all()
    by_channel: dict[str, ChannelCounts] = {}
    for provider, status, code, number in rows:
        counts = by_channel.setdefault(provider, ChannelCounts(provider))
        if status in (MessageStatus.SENT, MessageStatus.ACCEPTED, MessageStatus.DELIVERED):
            counts.sent += number
            counts.delivered += number if status is MessageStatus.DELIVERED else 0
        elif provider == ZALO and status is MessageStatus.FAILED and code:
            _zalo_failure(counts, code, number)
        elif status in (MessageStatus.FAILED, MessageStatus.UNDELIVERED, MessageStatus.UNKNOWN):
            counts.failed += number
            reason = code or str(status.value)
            counts.reasons[reason] = counts.reasons.get(reason, 0) + number
    return sorted(by_channel.values(), key=lambda c: (c.channel != ZALO, c.channel))


def reason_label(code: str) -> str:
    """A failure code in words for the console (Zalo's table; our own codes)."""
    own = {"zalo_token": "chưa có quyền OA hoặc token bị từ chối", "zalo_param_length": "tham số quá dài",
           "zalo_not_vn": "không phải số di động Việt Nam", "unknown_outcome": "không rõ đã gửi hay chưa",
           "not_at_provider": "nhà cung cấp không nhận tin, đã gửi lại"}
    if code in own:
        return own[code]
    number_code = zalo_code(code)
    return "" if number_code is None else action_for(number_code)[1]
