"""``POST /zalo/events``: Zalo's webhooks (delivery, template status, quota, service-rating feedback).

Verified first (``zalo_signature``), then de-duplicated by message id and event name (Zalo retries after
30 s, 5 min, … when the answer takes more than 2 s), and applied in one short transaction: no call out.
``user_received_message`` marks the message and its invitation delivered, and resolves a send whose
outcome was unknown (found by the tracking id, the invitation's id). Template status and quota changes
become console notices.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from sipas.clock import utcnow
from sipas.context import get_settings
from sipas.storage import db_session
from sipas.text import storable
from sms_gateway.models import MessageStatus, OutboundMessage
from sms_gateway.models_zalo import ZaloNotice
from sms_gateway.webhooks import apply_status, first_delivery
from sms_gateway.zalo_rating import Submission, Zalo5Version, invitation_id, load_versions, record_submission
from sms_gateway.zalo_settings import ZaloSettings
from sms_gateway.zalo_signature import check_event

log = logging.getLogger(__name__)
bp = Blueprint("zalo_events", __name__, url_prefix="/zalo")
MESSAGES_VI = {"bad_signature": "Chữ ký X-ZEvent-Signature không đúng.", "stale_timestamp": "Sự kiện đã quá cũ.",
               "not_json": "Nội dung không phải JSON.", "wrong_app": "Sự kiện của ứng dụng Zalo khác."}


def zalo_settings() -> ZaloSettings:
    cached = current_app.extensions.get("zalo_settings")
    if cached is None:
        cached = current_app.extensions["zalo_settings"] = ZaloSettings.from_settings(get_settings())
    return cached


def zalo5_versions() -> list[Zalo5Version]:
    cached = current_app.extensions.get("zalo5_versions")
    if cached is None:
        cached = current_app.extensions["zalo5_versions"] = load_versions(get_settings().config_dir)
    return cached


def delivery_token(payload: dict[str, Any]) -> str:
    """What makes a retry the same event: the message id and the event name (else the whole identity)."""
    event = str(payload.get("event_name") or "")
    message = payload.get("message") if isinstance(payload.get("message"), dict) else {}
    msg_id = message.get("msg_id") or ",".join(map(str, message.get("msg_ids") or []))
    if msg_id and event == "user_feedback":  # the citizen may submit again (a correction): its own event
        return storable(f"{event}:{msg_id}:{message.get('submit_time', '')}")[:128]
    if msg_id:
        return storable(f"{event}:{msg_id}")[:128]
    return storable(f"{event}:{payload.get('template_id', '')}:{payload.get('timestamp', '')}")[:128]


def _delivered(session: Session, message: dict[str, Any]) -> None:
    msg_id = storable(str(message.get("msg_id") or ""))[:64]
    row = session.scalar(select(OutboundMessage).where(OutboundMessage.provider == "zalo",
                                                       OutboundMessage.sid == msg_id)) if msg_id else None
    late = False
    tracking = invitation_id(str(message.get("tracking_id") or ""))
    if row is None and tracking is not None and msg_id:
        row = session.scalar(select(OutboundMessage).where(
            OutboundMessage.provider == "zalo", OutboundMessage.invitation_id == tracking,
            OutboundMessage.sid.is_(None), OutboundMessage.status == MessageStatus.UNKNOWN))
        if row is not None:
            row.sid, late = msg_id, True
            log.info("Zalo delivery event resolves outbound %s (outcome was unknown)", row.id)
    if row is None:
        log.info("Zalo delivery event for an unknown message %s", msg_id or "?")
        return
    apply_status(session, row, "delivered", None, late=late)


def _notice(session: Session, payload: dict[str, Any]) -> None:
    event = payload.get("event_name")
    now = utcnow()
    if event == "change_template_status":
        status = payload.get("status") if isinstance(payload.get("status"), dict) else {}
        text = (f"Mẫu tin Zalo {payload.get('template_id', '?')}: {status.get('prev_status', '?')} → "
                f"{status.get('new_status', '?')}")
        if payload.get("reason"):
            text += f" (lý do: {payload['reason']})"
        session.add(ZaloNotice(kind="template_status", message=storable(text)[:2000], created_at=now))
    elif event == "change_oa_daily_quota":
        details = {k: v for k, v in payload.items() if "quota" in k.lower() or k == "quota"}
        described = ", ".join(f"{k}: {v}" for k, v in details.items()) or "xem trang quản trị Zalo"
        session.add(ZaloNotice(kind="quota", message=storable(f"Hạn mức gửi ZNS của OA thay đổi ({described}).")[:2000],
                               created_at=now))


@bp.post("/events")
def events() -> tuple[Response, int] | Response:
    payload, problem = check_event(zalo_settings(), request.get_data(cache=False),
                                   request.headers.get("X-ZEvent-Signature", ""), utcnow())
    if payload is None:
        log.warning("Zalo event refused: %s", problem)
        status = 400 if problem == "not_json" else 403
        return jsonify(error=problem, message=MESSAGES_VI.get(problem or "", "")), status
    session = db_session()
    if first_delivery(session, "zalo", [delivery_token(payload)], "event") is None:
        session.rollback()
        return jsonify(ok=True, duplicate=True)
    event = payload.get("event_name")
    message = payload.get("message") if isinstance(payload.get("message"), dict) else {}
    if event == "user_received_message":
        _delivered(session, message)
    elif event in ("change_template_status", "change_oa_daily_quota"):
        _notice(session, payload)
    elif event == "user_feedback":
        submission = Submission.parse(message, camel=False)
        if submission is not None:
            record_submission(session, zalo5_versions(), submission, source="event", tz=get_settings().tz,
                              now=utcnow())
    else:
        log.info("Zalo event %s acknowledged, nothing to record", storable(str(event))[:64])
    session.commit()
    return jsonify(ok=True)
