"""Console pages over the gateway's tables: outbox, invitations, and erasing a citizen's phone.

Numbers are never shown in full: the outbox has only the last digits the gateway kept, the erasure
page masks the stored number.
"""

from __future__ import annotations

from datetime import datetime

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from sipas.clock import utcnow
from sipas.console.auth import actor_name, roles_required, unit_for_user
from sipas.context import get_settings
from sipas.dossiers import erase_contact, find_dossier
from sipas.models import Dossier, Role
from sipas.storage import db_session
from sms_gateway.console_views import bp
from sms_gateway.links import link_url
from sms_gateway.models import Invitation, InvitationStatus, OutboundMessage
from sms_gateway.models_links import ShortLink
from sms_gateway.settings import SmsSettings
from sms_gateway.templates_text import KIND_LABELS

EDITORS = (Role.ADMIN, Role.CLERK)
PAGE = 200

INVITATION_LABELS = {
    "pending": "Chờ gửi", "sending": "Đang gửi", "sent": "Đã gửi", "delivered": "Đã nhận",
    "failed": "Gửi lỗi", "answered": "Đã đánh giá", "expired": "Hết hạn", "cancelled": "Đã hủy",
    "opted_out": "Từ chối nhận tin",
}
ERROR_LABELS = {
    "too_long": "tin nhắn vượt giới hạn số tin kể cả khi viết tắt tên đơn vị nên không gửi; hãy rút gọn mẫu tin",
    "invalid_number": "số điện thoại không nhận được tin nhắn (nhà cung cấp đã báo số không hợp lệ)",
    "21211": "số điện thoại không hợp lệ", "21610": "người nhận đã từ chối nhận tin",
    "unknown_outcome": "không rõ tin đã đến nhà cung cấp hay chưa; không gửi lại để tránh gửi trùng",
    "interrupted": "việc gửi bị gián đoạn; không gửi lại để tránh gửi trùng",
    "timeout": "nhà cung cấp không trả lời kịp; sẽ hỏi lại nhà cung cấp trước khi gửi lại",
    "network": "không kết nối được nhà cung cấp; sẽ gửi lại",
    "not_at_provider": "nhà cung cấp không nhận được tin này; đã gửi lại",
}
MESSAGE_LABELS = {
    "queued": "Đang chờ", "accepted": "Nhà mạng đã nhận", "sent": "Đã gửi", "delivered": "Đã đến máy",
    "undelivered": "Không đến được", "failed": "Lỗi", "unknown": "Không rõ",
}


def mask_hint(hint: str) -> str:
    """Only the last digits: ``"123"`` → ``"••• ••• •123"``."""
    digits = "".join(ch for ch in hint if ch.isdigit())[-3:]
    return f"••• ••• •{digits}" if digits else "—"


def mask_phone(phone_e164: str | None) -> str:
    if not phone_e164:
        return "—"
    return mask_hint(phone_e164[-3:])


def local_time(value: datetime | None) -> str:
    return value.astimezone(get_settings().tz).strftime("%d/%m/%Y %H:%M") if value else ""


@bp.get("/<unit_code>/outbox")
@roles_required(*EDITORS)
def outbox(unit_code: str):  # type: ignore[no-untyped-def]
    """Messages handed to the provider for this unit, newest first (the console provider's outbox)."""
    unit = unit_for_user(unit_code)
    rows = db_session().execute(
        select(OutboundMessage, Dossier.code)
        .outerjoin(Invitation, Invitation.id == OutboundMessage.invitation_id)
        .outerjoin(Dossier, Dossier.id == Invitation.dossier_id)
        .where(OutboundMessage.unit_id == unit.id)
        .order_by(OutboundMessage.created_at.desc(), OutboundMessage.id.desc())
        .limit(PAGE)
    ).all()
    messages = [{"at": local_time(m.created_at), "dossier": code or "", "to": mask_hint(m.to_hint),
                 "kind": KIND_LABELS.get(str(m.kind), str(m.kind)), "body": m.body, "provider": m.provider,
                 "status": MESSAGE_LABELS.get(str(m.status), str(m.status)), "encoding": m.encoding,
                 "segments": m.segments, "error": m.error_code or "",
                 "error_label": ERROR_LABELS.get(m.error_code or "", "")} for m, code in rows]
    provider = SmsSettings.from_settings(get_settings()).provider
    return render_template("sms/console_outbox.html", unit=unit, messages=messages, provider=provider, page=PAGE)


@bp.get("/<unit_code>/invitations")
@roles_required(*EDITORS)
def invitations(unit_code: str):  # type: ignore[no-untyped-def]
    """Invitations of the unit with their status, times and short link."""
    unit = unit_for_user(unit_code)
    session, settings = db_session(), get_settings()
    wanted = request.args.get("status", "")
    query = (select(Invitation, Dossier.code, ShortLink)
             .join(Dossier, Dossier.id == Invitation.dossier_id)
             .outerjoin(ShortLink, ShortLink.id == Invitation.link_id)
             .where(Invitation.unit_id == unit.id))
    if wanted in INVITATION_LABELS:
        query = query.where(Invitation.status == InvitationStatus(wanted))
    rows = session.execute(query.order_by(Invitation.due_at.desc(), Invitation.id.desc()).limit(PAGE)).all()
    items = [{"dossier": code, "status": str(inv.status), "status_label": INVITATION_LABELS.get(str(inv.status), ""),
              "due": local_time(inv.due_at), "sent": local_time(inv.sent_at),
              "reminder": local_time(inv.reminder_sent_at), "answered": local_time(inv.answered_at),
              "expires": local_time(inv.expires_at), "attempts": inv.attempts, "error": inv.last_error_code or "",
              "error_label": ERROR_LABELS.get(inv.last_error_code or "", ""),
              "link": link_url(settings, link) if link is not None else "",
              "link_used": bool(link is not None and link.used_at)} for inv, code, link in rows]
    return render_template("sms/console_invitations.html", unit=unit, items=items, labels=INVITATION_LABELS,
                           wanted=wanted, page=PAGE, too_long=any(i["error"] == "too_long" for i in items))


@bp.route("/<unit_code>/erase", methods=["GET", "POST"])
@roles_required(*EDITORS)
def erase(unit_code: str):  # type: ignore[no-untyped-def]
    """Erase a citizen's phone number on request: find the dossier, confirm, erase."""
    unit = unit_for_user(unit_code)
    session = db_session()
    code = (request.values.get("dossier") or "").strip()
    if not code:
        if "dossier" not in request.values:  # first visit: nothing asked yet
            return render_template("sms/console_erase.html", unit=unit, dossier=None, code="")
        flash("Vui lòng nhập mã hồ sơ.", "error")
        return render_template("sms/console_erase.html", unit=unit, dossier=None, code=""), 400
    dossier = find_dossier(session, unit, code)
    if dossier is None:
        flash(f"Không tìm thấy hồ sơ “{code}” của đơn vị.", "error")
        return render_template("sms/console_erase.html", unit=unit, dossier=None, code=code), 404
    contact = dossier.contact
    if request.method == "POST" and request.form.get("confirm") == "yes":
        erased = erase_contact(session, dossier, now=utcnow(), actor=actor_name())
        session.commit()
        if erased > 1:
            flash(f"Đã xóa số điện thoại của hồ sơ {dossier.code} và của {erased - 1} hồ sơ khác có cùng số. "
                  "Các hồ sơ này sẽ không nhận thêm tin nhắn.", "success")
        elif erased:
            flash(f"Đã xóa số điện thoại của hồ sơ {dossier.code}. Hồ sơ sẽ không nhận thêm tin nhắn.", "success")
        else:
            flash(f"Hồ sơ {dossier.code} không còn số điện thoại nào để xóa.", "info")
        return redirect(url_for("sms_console.erase", unit_code=unit.code))
    status = 200
    if request.method == "POST":  # the confirmation box was left unticked
        flash("Vui lòng đánh dấu ô xác nhận trước khi xóa số điện thoại.", "error")
        status = 422
    return render_template("sms/console_erase.html", unit=unit, dossier=dossier, code=code,
                           masked=mask_phone(contact.phone_e164 if contact else None),
                           has_phone=bool(contact and contact.phone_e164),
                           erased_at=local_time(contact.erased_at) if contact else "",
                           consent=bool(contact and contact.sms_consent)), status
