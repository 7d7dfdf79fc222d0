"""The audit log in Vietnamese sentences a clerk can read: who did what to what, with the outcome.

Every event type sipas writes has a sentence here (``tests/test_audit_text.py`` checks the list against
the ``audit(...)`` calls in the code). Who acted reads as a person or a device, never ``user:…`` or
``kiosk:…``; the raw details (``status: file_error; detail: …``) stay available on demand under each row
(“Chi tiết kỹ thuật”) for whoever has to dig further.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sipas.cases.rules import STATUS_LABELS
from sipas.clock import Period, date_short
from sipas.format_vi import number_vi
from sipas.models import AuditEvent, User

Details = Mapping[str, Any]

IMPORT_STATUS = {"ok": "xong", "partial": "xong, có dòng bị từ chối", "refused": "bị từ chối",
                 "conflict": "dừng vì trùng dữ liệu", "file_error": "không đọc được tệp"}
CHANNELS = {"kiosk": "kiosk", "sms": "tin nhắn SMS", "qr": "mã QR", "paper": "phiếu giấy", "api": "hệ thống một cửa",
            "web": "trang web", "zalo": "Zalo"}



def _case_status(details: Details) -> str:
    status = details.get("status")
    label = STATUS_LABELS.get(str(status)) if status else None  # CaseStatus is a StrEnum: its value finds it
    return f" sang “{label.lower()}”" if label else ""


def _count(details: Details, key: str) -> str:
    """A count as a clerk reads it: ``1.348`` (thousands dot); 0 when the detail is missing."""
    value = details.get(key)
    return number_vi(value if isinstance(value, int) else 0)


def _import(kind: str) -> Callable[[Details], str]:
    def sentence(details: Details) -> str:
        status = IMPORT_STATUS.get(str(details.get("status")), "đã chạy")
        if details.get("status") == "file_error":
            return f"nhập tệp {kind}: {status}"
        counts = (f"{_count(details, 'created')} mới, {_count(details, 'updated')} cập nhật, "
                  f"{_count(details, 'unchanged')} không đổi, {_count(details, 'error_rows')} dòng lỗi")
        return f"nhập tệp {kind}: {status} ({_count(details, 'rows')} dòng: {counts})"
    return sentence


def _notice(details: Details) -> str:
    corrects = details.get("corrects")
    return "ban hành thông báo" + (f", đính chính thông báo số {corrects}" if corrects else "")


def _channel(details: Details) -> str:
    channel = str(details.get("channel") or "")
    return f" (qua {CHANNELS.get(channel, channel)})" if channel else ""


SENTENCES: dict[str, str | Callable[[Details], str]] = {
    "user.created": "tạo tài khoản",
    "user.login": "đăng nhập",
    "user.login_failed": "đăng nhập sai mật khẩu",
    "user.password_check_failed": "nhập sai mật khẩu hiện tại khi đổi mật khẩu",
    "user.logout": "đăng xuất",
    "user.password_changed": "tự đổi mật khẩu",
    "user.password_reset": "đặt lại mật khẩu",
    "user.activated": "mở khóa tài khoản",
    "user.deactivated": "khóa tài khoản",
    "user.role_changed": "đổi vai trò hoặc đơn vị của tài khoản",
    "apikey.created": "tạo khóa API",
    "apikey.revoked": "thu hồi khóa API",
    "unit.created": "tạo đơn vị",
    "unit.updated": lambda d: "sửa thông tin đơn vị" + (
        f", đổi tên “{d['renamed_from']}” thành “{d['renamed_to']}”" if d.get("renamed_from") else ""),
    "dossier.created": "thêm hồ sơ",
    "dossier.updated": "cập nhật hồ sơ",
    "contact.erased": "xóa số điện thoại của hồ sơ",
    "import.dossiers": _import("hồ sơ"),
    "import.responses": _import("phiếu đánh giá"),
    "response.duplicate_refused": lambda d: "gửi phiếu cho hồ sơ đã được đánh giá, phiếu không được nhận" + _channel(d),
    "kiosk.created": "tạo kiosk",
    "kiosk.pairing_code": "tạo mã ghép nối kiosk",
    "kiosk.paired": "ghép nối với đơn vị",
    "kiosk.revoked": "thu hồi kiosk",
    "kiosk.armed": "gán hồ sơ cho kiosk để người dân đánh giá",
    "kiosk.burst_flagged": lambda d: (f"gửi dồn dập {_count(d, 'count')} phiếu giống hệt nhau không có mã hồ sơ; "
                                      "các phiếu vẫn được lưu và cần được xem lại"),
    "qr.slips_printed": "in phiếu mã QR",
    "sms.template_saved": "sửa mẫu tin nhắn",
    "sms.template_reset": "khôi phục mẫu tin nhắn mặc định",
    "sms.unit_settings": "sửa cài đặt tin nhắn của đơn vị",
    "sms.phones_erased": lambda d: f"xóa {_count(d, 'count')} số điện thoại hết thời hạn lưu giữ",
    "notice.issued": _notice,
    "notice.wording_saved": "sửa lời văn thông báo",
    "notice.wording_reset": "khôi phục lời văn thông báo mặc định",
    "aggregator.quarter_input.saved": "nhập số liệu quý",
    "ballot.batch_created": "tạo lô phiếu giấy",
    "ballot.line_corrected": "sửa phiếu giấy đã nhập",
    "ballot.line_removed": "xóa phiếu giấy nhập nhầm",
    "ballot.handed_out_changed": lambda d: (f"sửa số phiếu phát ra của lô phiếu giấy từ {_count(d, 'before')} thành "
                                            f"{_count(d, 'after')}"),
    "ballot.batch_closed": "đóng lô phiếu giấy",
    "ballot.batch_reopened": "mở lại lô phiếu giấy",
    "ballot.entry_finished": "kết thúc lượt nhập lô phiếu giấy",
    "ballot.difference_resolved": "đối chiếu phiếu nhập khác nhau",
    "ballot.batch_confirmed": "xác nhận lô phiếu giấy",
    "qr.ballots_printed": "in phiếu đánh giá giấy",
    "qr.blank_ballots_printed": lambda d: (f"in {_count(d, 'ballots')} phiếu đánh giá trắng, "
                                           "mỗi phiếu một mã QR dùng một lần"),
    "cases.settings.saved": "sửa cài đặt xử lý phản ánh của đơn vị",
    "cases.opened": "tiếp nhận phản ánh",
    "cases.assigned": "giao xử lý phản ánh",
    "cases.recorded": "ghi nhận kết quả xử lý phản ánh",
    "cases.status": lambda d: "chuyển trạng thái phản ánh" + _case_status(d),
    "cases.sms_reply": "trả lời phản ánh (tin nhắn SMS)",
    "zalo.token_granted": "cấp quyền Zalo OA cho hệ thống",
    "zalo.unit_settings": "sửa cài đặt Zalo của đơn vị",
}


#: The log's filter, in a clerk's words: a kind of activity is every event type under one prefix of the action.
ACTION_GROUPS: dict[str, str] = {
    "user": "Tài khoản", "apikey": "Khóa API", "unit": "Đơn vị", "dossier": "Hồ sơ", "contact": "Số điện thoại",
    "import": "Nhập tệp", "response": "Phiếu đánh giá", "kiosk": "Kiosk", "qr": "In phiếu", "ballot": "Phiếu giấy",
    "sms": "Tin nhắn", "zalo": "Zalo", "cases": "Phản ánh", "notice": "Thông báo", "aggregator": "Số liệu quý",
}
#: What an event type is called in the filter when its sentence depends on the details.
_ACTION_NAMES = {
    "import.dossiers": "nhập tệp hồ sơ", "import.responses": "nhập tệp phiếu đánh giá",
    "response.duplicate_refused": "gửi phiếu cho hồ sơ đã được đánh giá",
    "kiosk.burst_flagged": "gửi dồn dập phiếu giống hệt nhau",
    "sms.phones_erased": "xóa số điện thoại hết thời hạn lưu giữ", "notice.issued": "ban hành thông báo",
    "ballot.handed_out_changed": "sửa số phiếu phát ra của lô phiếu giấy",
    "qr.blank_ballots_printed": "in phiếu đánh giá trắng", "cases.status": "chuyển trạng thái phản ánh",
}


def filter_label(action: str) -> str:
    """One event type as the filter names it: "Kiosk: gửi dồn dập phiếu giống hệt nhau"."""
    group = ACTION_GROUPS.get(action.split(".", 1)[0], "Hoạt động khác")
    wording = SENTENCES.get(action)
    name = wording if isinstance(wording, str) else _ACTION_NAMES.get(action)
    return f"{group}: {name}" if name else group


def filter_options(action: str) -> list[tuple[str, str, bool]]:
    """(value, label, chosen) of the log's filter: every kind of activity, and the event type a link chose."""
    chosen = action.rstrip(".")
    options = [(f"{prefix}.", label, prefix == chosen) for prefix, label in ACTION_GROUPS.items()]
    if chosen and chosen not in ACTION_GROUPS:
        options.insert(0, (action, filter_label(action), True))
    return options


def who(actor: str, full_names: Mapping[str, str] | None = None) -> str:
    """The actor as a clerk says it: a person's full name (or username), a kiosk, a citizen, the system."""
    kind, _, rest = actor.partition(":")
    names = full_names or {}
    if not rest:
        return {"cli": "Quản trị máy chủ (dòng lệnh)", "sms": "Hệ thống tin nhắn", "demo": "Dữ liệu mẫu",
                "anonymous": "Người chưa đăng nhập", "system": "Hệ thống", "scheduler": "Hệ thống"}.get(
            actor, names.get(actor, actor))
    if kind == "user":
        return names.get(rest, rest)
    if kind == "kiosk":
        return f"Kiosk {rest}"
    if kind == "link":
        return f"Người dân (qua {'mã QR' if rest == 'qr' else 'tin nhắn SMS'})"
    if kind == "client":
        return f"Máy có địa chỉ {rest}"
    if kind == "apikey":
        return f"Hệ thống một cửa (khóa API {rest})"
    return actor


def sentence(event: AuditEvent, full_names: Mapping[str, str] | None = None) -> str:
    """“Nguyễn Văn An đã đặt lại mật khẩu (canbo.b)” — or the action code for an event no sentence knows."""
    wording = SENTENCES.get(event.action)
    if wording is None:
        return f"{who(event.actor, full_names)}: {event.action}"
    what = wording(event.details or {}) if callable(wording) else wording
    subject = f" ({subject_vi(event.subject)})" if event.subject else ""
    return f"{who(event.actor, full_names)} đã {what}{subject}"


_QUARTER = re.compile(r"(\d{4})Q([1-4])")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def subject_vi(subject: str) -> str:
    """The subject as a clerk says it: a follow-up case's rating "phiếu #375" (as the case list names it), a
    quarter "quý III năm 2026", a day "07/12/2026" (``sipas.clock``'s own wording); anything else (a username, a
    unit, a dossier, a file) as it is. The stored subject stays as written, for the filter and the details."""
    kind, _, rest = subject.partition(":")
    if kind == "response" and rest.isdigit():
        return f"phiếu #{rest}"
    if quarter := _QUARTER.fullmatch(subject):
        return Period.quarter(int(quarter[1]), int(quarter[2])).words()
    if _DAY.fullmatch(subject):
        try:
            return date_short(date.fromisoformat(subject))
        except ValueError:
            return subject
    return subject


def technical(event: AuditEvent) -> str:
    """The raw record, for whoever has to dig further: action code, actor and details as stored."""
    details = "; ".join(f"{key}: {value}" for key, value in (event.details or {}).items())
    return f"{event.action} · {event.actor}" + (f" · {details}" if details else "")


def full_names(session: Session, actors: Iterable[str]) -> dict[str, str]:
    """username → full name, for the people among ``actors`` (``user:an`` or ``an``; one query)."""
    usernames = {a.removeprefix("user:") for a in actors if ":" not in a.removeprefix("user:")}
    if not usernames:
        return {}
    rows = session.execute(select(User.username, User.full_name).where(User.username.in_(usernames))).all()
    return {username: name for username, name in rows if name}
