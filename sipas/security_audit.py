"""Account and security events in the audit log: who may see which, and how they read in Vietnamese.

``user.*`` and ``apikey.*`` events about accounts carry no unit (an account may span several), so the
audit page cannot filter them by unit: a global admin sees them all, a unit or district admin sees those
about accounts it manages (``sipas.account_policy``), clerks and leaders none.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_
from sqlalchemy.orm import Session

from sipas.account_policy import is_admin, is_global_admin, manageable_users
from sipas.models import AuditEvent, User

ACTION_LABELS: dict[str, str] = {
    "user.created": "tạo tài khoản",
    "user.login": "đăng nhập",
    "user.login_failed": "đăng nhập sai mật khẩu",
    "user.logout": "đăng xuất",
    "user.password_changed": "tự đổi mật khẩu",
    "user.password_reset": "đặt lại mật khẩu",
    "user.activated": "mở khóa tài khoản",
    "user.deactivated": "khóa tài khoản",
    "user.role_changed": "đổi vai trò hoặc đơn vị của tài khoản",
    "apikey.created": "tạo khóa API",
    "apikey.revoked": "thu hồi khóa API",
    "unit.created": "tạo đơn vị",
    "unit.updated": "sửa thông tin đơn vị",
    "ballot.batch_created": "tạo lô phiếu giấy",
    "ballot.line_corrected": "sửa phiếu giấy đã nhập",
    "ballot.line_removed": "xóa phiếu giấy nhập nhầm",
    "ballot.batch_closed": "đóng lô phiếu giấy",
    "ballot.batch_reopened": "mở lại lô phiếu giấy",
    "ballot.entry_finished": "kết thúc lượt nhập lô phiếu giấy",
    "ballot.difference_resolved": "đối chiếu phiếu nhập khác nhau",
    "ballot.batch_confirmed": "xác nhận lô phiếu giấy",
}


def describe(event: AuditEvent) -> str:
    """A Vietnamese sentence for an event: “user:an đã đặt lại mật khẩu (binh)”."""
    label = ACTION_LABELS.get(event.action)
    if label is None:
        return event.action
    subject = f" ({event.subject})" if event.subject else ""
    return f"{event.actor} đã {label}{subject}"


def visible_filter(session: Session, viewer: User, unit_ids: list[int]) -> ColumnElement[bool]:
    """The audit rows ``viewer`` may see: its units' events, plus account events it is entitled to."""
    if is_global_admin(viewer):
        return or_(AuditEvent.unit_id.in_(unit_ids), AuditEvent.unit_id.is_(None))
    by_unit = AuditEvent.unit_id.in_(unit_ids)
    if not is_admin(viewer):
        return by_unit
    managed = [u.username for u in manageable_users(session, viewer)]
    about_accounts = and_(AuditEvent.unit_id.is_(None), AuditEvent.action.startswith("user."),
                          AuditEvent.subject.in_(managed)) if managed else false()
    return or_(by_unit, about_accounts)
