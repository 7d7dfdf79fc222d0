"""Kiosk errors, each with a Vietnamese message the kiosk shows as is."""

from __future__ import annotations

from sipas.errors import DomainError


class KioskUnpaired(DomainError):
    code = "kiosk_unpaired"
    http_status = 401
    message_vi = "Kiosk chưa được ghép nối với đơn vị. Vui lòng báo cán bộ một cửa."


class KioskRevoked(DomainError):
    code = "kiosk_revoked"
    http_status = 403
    message_vi = "Kiosk này đã bị thu hồi quyền gửi đánh giá. Vui lòng báo cán bộ một cửa."


class PairingRefused(DomainError):
    code = "pairing_refused"
    http_status = 403
    message_vi = "Mã ghép nối không đúng hoặc đã hết hạn."


class PairingThrottled(DomainError):
    code = "pairing_throttled"
    http_status = 429
    message_vi = "Nhập sai mã ghép nối quá nhiều lần. Vui lòng thử lại sau ít phút."


class TooFast(DomainError):
    code = "too_fast"
    http_status = 429
    message_vi = "Kiosk vừa gửi một phiếu đánh giá. Phiếu này đã được lưu và sẽ tự động gửi lại sau ít giây."

    def __init__(self, retry_after: int, **kwargs: str) -> None:
        super().__init__(**kwargs)
        self.retry_after = retry_after

    def to_dict(self) -> dict[str, str]:
        return {**super().to_dict(), "retry_after": str(self.retry_after)}


class InstrumentRefused(DomainError):
    code = "kiosk_instrument_refused"
    http_status = 422
    message_vi = ("Phiếu đánh giá không theo bộ câu hỏi đơn vị đã chọn cho kiosk. "
                  "Vui lòng báo cán bộ một cửa tải lại trang kiosk.")


class NotArmable(DomainError):
    code = "not_armable"
    http_status = 422
    message_vi = "Không thể gán hồ sơ này cho kiosk."
