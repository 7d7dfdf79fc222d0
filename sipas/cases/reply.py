"""Replying to the citizen of a case by SMS, only where the citizen consented to messages.

The core does not send SMS itself: the SMS channel registers a sender in
``app.extensions["sipas_case_reply_sender"]`` (``sms_gateway.case_reply``). Whether a reply is possible
is decided here from the dossier's contact (phone kept, not erased, ``sms_consent``); when it is not,
the case's trail says why and nothing is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from sipas.cases.models import CaseStatus, FollowUpCase
from sipas.cases.service import add_event
from sipas.errors import ValidationError
from sipas.models import Response
from sipas.text import storable

MAX_REPLY = 480  # three GSM segments, or seven UCS-2 ones

# (session, unit id, phone E.164, phone hash, body, now) → None when sent, or a Vietnamese reason it was not.
ReplySender = Callable[[Session, int, str, str, str, datetime], str | None]


@dataclass(frozen=True)
class ReplyPossibility:
    possible: bool
    reason_vi: str = ""


def reply_possibility(response: Response) -> ReplyPossibility:
    """Can this response's citizen be answered by SMS? Never says the number."""
    dossier = response.dossier
    if dossier is None:
        return ReplyPossibility(False, "Phiếu không gắn với hồ sơ nên không có số điện thoại để trả lời.")
    contact = dossier.contact
    if contact is None or not contact.phone_e164 or contact.erased_at is not None:
        return ReplyPossibility(False, "Hồ sơ không còn số điện thoại của người dân.")
    if not contact.sms_consent:
        return ReplyPossibility(False, "Người dân không đồng ý nhận tin nhắn SMS.")
    return ReplyPossibility(True)


def send_reply(session: Session, case: FollowUpCase, body: str, sender: ReplySender | None, *, actor: str, who: str,
               now: datetime) -> ReplyPossibility:
    """Send the reply, or record in the trail that it is not possible and why; the outcome either way."""
    if case.status is CaseStatus.CLOSED:  # final: a page opened before another clerk closed it sends nothing
        raise ValidationError("Phản ánh đã đóng, không gửi tin nhắn trả lời được.", field="reply",
                              detail="case closed")
    text = " ".join(storable(body).split())
    if not text:
        raise ValidationError("Hãy nhập nội dung tin nhắn trả lời.", field="reply", detail="empty reply")
    if len(text) > MAX_REPLY:
        raise ValidationError(f"Tin nhắn trả lời dài quá {MAX_REPLY} ký tự.", field="reply", detail="reply too long")
    possibility = reply_possibility(case.response)
    if possibility.possible and sender is None:
        possibility = ReplyPossibility(False, "Kênh SMS chưa được cài đặt trên hệ thống.")
    if possibility.possible:
        contact = case.response.dossier.contact  # type: ignore[union-attr]
        assert contact is not None and contact.phone_e164 is not None and sender is not None
        refused = sender(session, case.unit_id, contact.phone_e164, contact.phone_hash or "", text, now)
        if refused:
            possibility = ReplyPossibility(False, refused)
    if possibility.possible:
        add_event(session, case, "sms_reply", f"{who} gửi tin nhắn SMS trả lời người dân: “{text}”.",
                  actor=actor, now=now, sent=True)
    else:
        add_event(session, case, "sms_reply", f"Không gửi được tin nhắn trả lời: {possibility.reason_vi}",
                  actor=actor, now=now, sent=False)
    return possibility
