"""The SMS channel's sender of follow-up case replies (``sipas.cases.reply``), through the configured provider.

A reply is one message the clerk writes and sends at once: it is written to the outbound table (the
console provider's outbox) before the provider is called, and its outcome is recorded on it. A number
that opted out gets nothing; outside the sending hours, or past the daily cap of messages to the number,
the clerk is told when it may be sent.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy.orm import Session

from sms_gateway.invitations import in_window, next_allowed
from sms_gateway.messages import new_outbound
from sms_gateway.models import MessageKind, MessageStatus
from sms_gateway.optouts import is_opted_out
from sms_gateway.providers import SmsError, build_provider
from sms_gateway.send_claim import daily_cap_lifted, sent_last_24h
from sms_gateway.settings import SmsSettings


def send_case_reply(session: Session, unit_id: int, phone: str, phone_hash: str, body: str,
                    now: datetime) -> str | None:
    """None when the provider took the message; otherwise why not, in Vietnamese."""
    if is_opted_out(session, phone_hash):
        return "Số điện thoại đã từ chối nhận tin nhắn (TC/HUY)."
    settings: SmsSettings = current_app.extensions["sms_settings"]
    tz = current_app.extensions["sipas_settings"].tz
    # the rules of every message to a citizen (domain notes §6): within the sending hours, at most daily_cap a day
    if not in_window(now, settings, tz):
        opening = next_allowed(now, settings, tz).astimezone(tz)
        return (f"Chỉ được gửi tin nhắn từ {settings.window_start:%H:%M} đến {settings.window_end:%H:%M}: hãy gửi "
                f"lại từ {opening:%H:%M} ngày {opening:%d/%m/%Y}.")
    lifted = daily_cap_lifted(sent_last_24h(session, phone_hash, now), settings)
    if lifted is not None:
        later = lifted.astimezone(tz)
        return (f"Số điện thoại này đã nhận {settings.daily_cap} tin nhắn trong 24 giờ qua: hãy gửi lại sau "
                f"{later:%H:%M} ngày {later:%d/%m/%Y}.")
    provider = build_provider(settings)
    message = new_outbound(session, provider.name, MessageKind.REPLY, phone=phone, phone_hash=phone_hash, body=body,
                           now=now, unit_id=unit_id)
    try:
        result = provider.send(phone, body, request_id=f"case-reply-{message.id}")
    except SmsError as exc:
        message.status, message.error_code = MessageStatus.FAILED, exc.code[:32]
        return f"Nhà cung cấp SMS không nhận tin nhắn (mã {exc.code})."
    message.sid, message.status = result.sid, MessageStatus.ACCEPTED
    return None
