"""Blank import templates a clerk can download from the console (instead of a repository file name).

Each template is a workbook whose first (active) sheet holds only the header row the import expects, and a
second sheet "Hướng dẫn" explaining the columns and accepted values. There is deliberately no example row:
a template uploaded unchanged must not create a made-up dossier or rating.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font

from sipas.catalogue import Instrument

DOSSIER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Mã hồ sơ", "Bắt buộc. Mã hồ sơ trên hệ thống một cửa."),
    ("Tên thủ tục", "Tên thủ tục hành chính."),
    ("Lĩnh vực", "Lĩnh vực của thủ tục."),
    ("Hình thức nộp", "Trực tiếp, trực tuyến hoặc bưu chính."),
    ("Ngày tiếp nhận", "Bắt buộc. Ví dụ 05/01/2026 08:15."),
    ("Ngày hẹn trả", "Ví dụ 08/01/2026."),
    ("Ngày trả kết quả", "Để trống nếu chưa trả."),
    ("Số điện thoại", "Số di động của người nộp, ví dụ 0912345678."),
    ("Đồng ý nhận tin nhắn", "Có/Không: người nộp đồng ý nhận tin nhắn mời đánh giá."),
)


def dossier_template() -> bytes:
    """The dossier import template."""
    return _workbook([name for name, _ in DOSSIER_COLUMNS], list(DOSSIER_COLUMNS))


def response_template(instrument: Instrument) -> bytes:
    """The ratings import template for one instrument (bộ tiêu chí): one column per citizen criterion."""
    criteria = instrument.citizen_criteria
    headers = ["Mã hồ sơ", "Bộ tiêu chí", "Kênh", "Thời điểm",
               *[f"{c.code}. {c.short_label}" for c in criteria], "Ý kiến"]
    help_rows = [("Mã hồ sơ", "Để trống nếu phiếu không gắn với hồ sơ nào."),
                 ("Bộ tiêu chí", f"{instrument.code} ({instrument.label})."),
                 ("Kênh", "Ví dụ: Phiếu giấy."),
                 ("Thời điểm", "Bắt buộc. Ngày đánh giá, ví dụ 10/01/2026 09:15.")]
    for criterion in criteria:
        accepted = ", ".join(o.label for o in criterion.options) + (", Không áp dụng" if criterion.allow_na else "")
        help_rows.append((f"{criterion.code}. {criterion.short_label}", f"{criterion.label} Chọn: {accepted}."))
    help_rows.append(("Ý kiến", "Ý kiến khác của người dân (không bắt buộc)."))
    return _workbook(headers, help_rows)


def _workbook(headers: list[str], help_rows: list[tuple[str, str]]) -> bytes:
    workbook = Workbook()
    data = workbook.active
    assert data is not None
    data.title = "Dữ liệu"
    data.append(headers)
    for cell in data[1]:
        cell.font = Font(bold=True)
    guide = workbook.create_sheet("Hướng dẫn")
    guide.append(["Cột", "Cách điền"])
    for row in help_rows:
        guide.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
