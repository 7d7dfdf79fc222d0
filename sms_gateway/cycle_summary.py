"""What one invitation cycle did, counted by key, for the log and for ``sipas send-due``."""

from __future__ import annotations

from dataclasses import dataclass, field

LABELS_VI = {
    "created": "tạo lời mời", "answered": "đã được đánh giá", "expired": "hết hạn", "interrupted": "bị gián đoạn",
    "erased": "xóa số điện thoại", "invitation_sent": "đã gửi tin mời", "reminder_sent": "đã gửi tin nhắc",
    "temporary_failure": "lỗi tạm thời (sẽ gửi lại)", "permanent_failure": "lỗi không gửi được",
    "outcome_unknown": "không rõ tin đã đi chưa (sẽ hỏi nhà cung cấp trước khi gửi lại)",
    "found_at_provider": "nhà cung cấp đã nhận tin từ lần trước (không gửi lại)",
    "lookup_failed": "chưa hỏi được nhà cung cấp (sẽ hỏi lại)",
    "gave_up_unknown": "bỏ, không rõ tin đã đi chưa (không gửi lại)",
    "opted_out": "đã từ chối nhận tin", "deferred_daily_cap": "hoãn do đủ số tin trong 24 giờ",
    "cancelled_no_consent": "bỏ qua do không còn số hoặc đồng ý",
    "invalid_number": "bỏ qua do số điện thoại không nhận được tin nhắn",
    "too_long": "không gửi do tin nhắn vượt giới hạn số tin (cần rút gọn mẫu tin)",
}


@dataclass
class CycleSummary:
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, n: int = 1) -> None:
        if n:
            self.counts[key] = self.counts.get(key, 0) + n

    def __str__(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in sorted(self.counts.items())) or "nothing to do"

    def describe(self) -> str:
        """The summary in Vietnamese, for the operator running ``sipas send-due``."""
        parts = [f"{LABELS_VI.get(k, k)}: {v}" for k, v in self.counts.items() if k != "quiet_hours"]
        if "quiet_hours" in self.counts:
            parts.append("ngoài khung giờ được gửi, không gửi tin nào")
        return "; ".join(parts) or "không có việc gì"
