"""Delivery reports of the HTTP brandname provider (eSMS-style ``CallbackUrl``), like Twilio's status callback.

eSMS calls the URL given with each message (HTTP GET, retried up to 5 times) with ``SMSID``,
``SendStatus`` (1 pending approval, 2 waiting, 4 refused, 5 sent successfully, 7 handed to the network)
and ``RequestId``; it signs nothing. So the URL we give carries the outbound id and a key derived from
the secret in force (``SIPAS_SECRET_KEY``, or the one generated into the instance folder) for that id: a
report with a wrong key is refused, and a report for a message whose send ended ambiguously (no SMSID
recorded) resolves it. A retried report changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode

from flask import Response, current_app, jsonify, request
from sqlalchemy import select

from sipas.storage import db_session
from sipas.text import storable
from sms_gateway.models import OutboundMessage
from sms_gateway.settings import SmsSettings
from sms_gateway.webhooks import apply_status, bp, first_delivery

#: eSMS ``SendStatus`` → our provider status words (``messages.PROVIDER_STATUSES``).
SEND_STATUS = {"1": "accepted", "2": "queued", "7": "sent", "5": "delivered", "4": "failed"}


def report_key(secret_key: str, outbound_id: int) -> str:
    return hmac.new(secret_key.encode(), f"http-status:{outbound_id}".encode(), hashlib.sha256).hexdigest()[:32]


def callback_url(sms: SmsSettings, secret_key: str, outbound_id: int) -> str:
    query = urlencode({"o": outbound_id, "k": report_key(secret_key, outbound_id)})
    return f"{sms.public_base_url}/sms/http/status?{query}"


@bp.route("/http/status", methods=["GET", "POST"])
def http_status() -> tuple[Response, int] | Response:
    """A delivery report of the HTTP brandname provider (query string or form)."""
    values = request.values
    outbound_id = values.get("o", "")
    if not outbound_id.isdigit() or not hmac.compare_digest(
            values.get("k", "").encode(), report_key(current_app.config["SECRET_KEY"], int(outbound_id)).encode()):
        return jsonify(error="bad_key", message="Khóa của báo cáo gửi tin không đúng."), 403
    sms_id = storable(values.get("SMSID", ""))[:64]
    status = SEND_STATUS.get(values.get("SendStatus", "").strip())
    if not sms_id or status is None:
        return jsonify(error="bad_report", message="Thiếu SMSID hoặc SendStatus không hợp lệ."), 400
    session = db_session()
    if first_delivery(session, "http", [f"st:{sms_id}:{status}"], "status") is None:
        session.rollback()
        return jsonify(ok=True, duplicate=True)
    message = session.get(OutboundMessage, int(outbound_id))
    late = False
    if message is not None and message.provider == "http" and message.sid is None:
        clash = session.scalar(select(OutboundMessage.id).where(OutboundMessage.sid == sms_id))
        if clash is None:
            message.sid, late = sms_id, True
    if message is not None and message.provider == "http" and message.sid == sms_id:
        apply_status(session, message, status, "esms-refused" if status == "failed" else None, late=late)
    session.commit()
    return jsonify(ok=True)
