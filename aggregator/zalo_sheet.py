"""The XLSX sheet "Đánh giá Zalo": Zalo's own star rating (``zalo_service_rating``), apart from the criteria.

Added by ``aggregator.exports.report_xlsx`` only when the report has the section.
"""

from __future__ import annotations

from typing import Any

from openpyxl.styles import Alignment, Font

from aggregator.cellsafe import neutralise_row
from aggregator.zalo_section import KEY

SHEET = "Đánh giá Zalo"
HEADERS = ("Số sao", "Số lượt", "Tỷ lệ (%)", "Khoảng tin cậy 95%: thấp (%)", "Khoảng tin cậy 95%: cao (%)")
NOTE = ("Đánh giá dịch vụ theo mẫu tin của Zalo (1–5 sao), báo cáo riêng, không gộp vào tỷ lệ của các tiêu chí. "
        "Mỗi hồ sơ chỉ tính một lượt; lượt gửi lại (sửa đánh giá) được giữ và đếm riêng.")


def add_zalo_sheet(book: Any, report: dict[str, Any], subtitle: str) -> None:
    """The sheet of ``report[KEY]``; nothing when the report has no Zalo rating."""
    section = report.get(KEY)
    if section is None:
        return
    ws = book.create_sheet(SHEET)
    rows: list[list[Any]] = [["Đánh giá dịch vụ qua Zalo (1–5 sao)"], [subtitle], [], list(HEADERS)]
    for star in section["distribution"]:
        low, high = star["ci95"] or (None, None)
        rows.append([star["stars"], star["n"], star["percent"], low, high])
    corrections = section["corrections"]
    rows += [["Tổng số lượt được tính", section["count"]],
             ["Số sao trung bình", section["mean_stars"]],
             ["Lượt gửi lại (sửa đánh giá)", corrections["corrections"]],
             ["Lượt không được tính (theo quy tắc sửa đánh giá)", corrections["not_counted"]],
             [], [NOTE]]
    for row in rows:
        ws.append(neutralise_row(row))
    ws["A1"].font = Font(bold=True, size=13)
    for cell in ws[4]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions["A"].width = 45
