"""A realistic report dict in the shape ``aggregator.report.build_report`` returns (hand-made numbers).

quay4 q1: 43 + 34 + 7 = 84 answers → 51,19% / 40,48% / 8,33% (sums to 100,00).
"""

from __future__ import annotations

from typing import Any


def _options(labels: list[tuple[str, str]], counts: list[int], percents: list[float]) -> list[dict[str, Any]]:
    return [{"code": code, "label": label, "count": count, "percent": pct}
            for (code, label), count, pct in zip(labels, counts, percents, strict=True)]


SAT = [("rat_hai_long", "Rất hài lòng"), ("hai_long", "Hài lòng"), ("khong_hai_long", "Không hài lòng")]
Q3 = [("dung_hen", "Đúng hẹn"), ("cham_chap_nhan_duoc", "Chậm hẹn nhưng chấp nhận được"),
      ("khong_dung_hen", "Không đúng hẹn")]
Q4 = [("don_gian", "Đơn giản"), ("can_giam_giay_to", "Cần giảm giấy tờ"), ("phuc_tap", "Phức tạp")]


def sample_report(unit: str = "PHUHOI", start: str = "2023-01-01", end: str = "2023-03-31") -> dict[str, Any]:
    return {
        "unit": unit, "from": start, "to": end,
        "period": {"from": start, "to": end},
        "dossiers": {"received": 1323, "received_online": 412, "received_direct_postal": 911, "carried_over": 25,
                     "resolved": 1290, "early": 1001, "on_time": 270, "late": 19,
                     "in_progress": 83, "in_progress_on_time": 80, "in_progress_overdue": 3,
                     "on_time_rate": 98.53, "rated": 80, "rated_rate": 6.2},
        "instruments": [
            {"code": "quay4", "version": "2018.1", "label": "Phiếu đánh giá tại quầy (4 câu)",
             "responses": 84, "response_rate": 6.51,
             "criteria": [
                 {"code": "q1", "label": "Nơi đón tiếp", "n": 84,
                  "options": _options(SAT, [43, 34, 7], [51.19, 40.48, 8.33])},
                 {"code": "q2", "label": "Thái độ, hướng dẫn, tiếp nhận và trả kết quả", "n": 83,
                  "options": _options(SAT, [60, 20, 3], [72.29, 24.1, 3.61])},
                 {"code": "q3", "label": "Thời gian xử lý, hoàn trả kết quả thủ tục hành chính", "n": 84,
                  "options": _options(Q3, [80, 3, 1], [95.24, 3.57, 1.19])},
                 {"code": "q4", "label": "Hồ sơ thủ tục hành chính cần giải quyết", "n": 0,
                  "options": _options(Q4, [0, 0, 0], [0.0, 0.0, 0.0])},
             ]},
            {"code": "hue12", "version": "2018.1", "label": "Bộ 12 tiêu chí",
             "responses": 3, "response_rate": 0.23,
             "criteria": [
                 {"code": "tc01", "label": "Đánh giá tổng thể dịch vụ", "n": 3,
                  "options": _options(SAT, [1, 1, 1], [33.34, 33.33, 33.33])},
                 {"code": "tc12", "label": "Tiến độ và chất lượng cung cấp dịch vụ công trực tuyến", "n": 1,
                  "options": _options(SAT, [1, 0, 0], [100.0, 0.0, 0.0])},
             ]},
        ],
        "scores": {"indices": {"1": 1.8, "3": 1.9, "4": 2.0, "7": 1.7, "9": 1.5}, "total": 8.9,
                   "class": "trung bình"},
        "fields": [
            {"field": "Hộ tịch", "received_total": 920, "received_online": 300, "received_direct_postal": 600,
             "carried_over": 20, "resolved": 880, "early": 700, "on_time": 170, "late": 10,
             "in_progress": 40, "in_progress_on_time": 38, "in_progress_overdue": 2, "is_total": False},
            {"field": "Chứng thực", "received_total": 428, "received_online": 112, "received_direct_postal": 311,
             "carried_over": 5, "resolved": 410, "early": 301, "on_time": 100, "late": 9,
             "in_progress": 43, "in_progress_on_time": 42, "in_progress_overdue": 1, "is_total": False},
            {"field": "Tổng cộng", "received_total": 1348, "received_online": 412, "received_direct_postal": 911,
             "carried_over": 25, "resolved": 1290, "early": 1001, "on_time": 270, "late": 19,
             "in_progress": 83, "in_progress_on_time": 80, "in_progress_overdue": 3, "is_total": True},
        ],
        "responses": 87,
        "channels": [{"code": "kiosk", "label": "Thiết bị đánh giá tại quầy", "responses": 27},
                     {"code": "sms", "label": "Tin nhắn SMS", "responses": 0},
                     {"code": "paper", "label": "Phiếu giấy", "responses": 60}],
        "paper_ballots": {"handed_out": 120, "returned": 60},
        "overall": {"answers": 338, "satisfied": 314, "dissatisfied": 24, "percent": 92.9},
        "satisfaction_766": {"total_dossiers": 1373, "unsatisfied_or_late": 40, "percent": 97.09},
        "comments": [{"id": 1, "comment": "Cán bộ nhiệt tình", "negative": False}],
        "generated_at": "2023-03-06T02:00:00+00:00",
    }
