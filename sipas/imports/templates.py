"""Blank import templates a clerk can download from the console (instead of a repository file name).

Each template is a workbook whose first (active) sheet holds only the header row the import expects, and a
second sheet "Hướng dẫn" explaining the columns and accepted values. Columns with a closed set of values
(answers, channel, intake channel, consent) carry a drop-down list (an Excel data validation reading a hidden
sheet "Danh sách": labels contain commas, which an inline list would split). The same header row is offered as
CSV. There is deliberately no example row: a template uploaded unchanged must not create a made-up dossier or
rating.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from sipas.catalogue import Instrument
from sipas.parsing import CHANNEL_LABELS_VI, INTAKE_LABELS_VI

LIST_SHEET = "Danh sách"
VALIDATED_ROWS = 5000  # rows 2..5000 offer the drop-down; an import has no such limit
NOT_APPLICABLE_LABEL = "Không áp dụng"

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


def dossier_headers() -> list[str]:
    return [name for name, _ in DOSSIER_COLUMNS]


def dossier_template() -> bytes:
    """The dossier import template."""
    choices = {3: list(INTAKE_LABELS_VI.values()), 8: ["Có", "Không"]}
    return _workbook(dossier_headers(), list(DOSSIER_COLUMNS), choices)


def response_headers(instrument: Instrument) -> list[str]:
    return ["Mã hồ sơ", "Bộ tiêu chí", "Kênh", "Thời điểm",
            *[f"{c.code}. {c.short_label}" for c in instrument.citizen_criteria], "Ý kiến"]


def response_template(instrument: Instrument) -> bytes:
    """The ratings import template for one instrument (bộ tiêu chí): one column per citizen criterion."""
    criteria = instrument.citizen_criteria
    headers = response_headers(instrument)
    choices = {1: [instrument.code], 2: list(CHANNEL_LABELS_VI.values())}
    for index, criterion in enumerate(criteria, start=4):
        choices[index] = [o.label for o in criterion.options] + ([NOT_APPLICABLE_LABEL] if criterion.allow_na else [])
    help_rows = [("Mã hồ sơ", "Để trống nếu phiếu không gắn với hồ sơ nào."),
                 ("Bộ tiêu chí", f"{instrument.code} ({instrument.label})."),
                 ("Kênh", "Ví dụ: Phiếu giấy."),
                 ("Thời điểm", "Bắt buộc. Ngày đánh giá, ví dụ 10/01/2026 09:15.")]
    for criterion in criteria:
        accepted = ", ".join(o.label for o in criterion.options) + (", Không áp dụng" if criterion.allow_na else "")
        help_rows.append((f"{criterion.code}. {criterion.short_label}", f"{criterion.label} Chọn: {accepted}."))
    help_rows.append(("Ý kiến", "Ý kiến khác của người dân (không bắt buộc)."))
    return _workbook(headers, help_rows, choices)


def csv_template(headers: Sequence[str]) -> bytes:
    """The header row as CSV, UTF-8 with a byte-order mark so that Excel shows the Vietnamese letters."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(headers)
    return buffer.getvalue().encode("utf-8-sig")


def _workbook(headers: list[str], help_rows: list[tuple[str, str]], choices: dict[int, list[str]]) -> bytes:
    """``choices`` maps a 0-based column index to the values its drop-down offers."""
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
    if choices:
        _drop_downs(workbook.create_sheet(LIST_SHEET), data, choices)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _drop_downs(lists: Worksheet, data: Worksheet, choices: dict[int, list[str]]) -> None:
    lists.sheet_state = "hidden"
    for n, (column, values) in enumerate(sorted(choices.items()), start=1):
        for row, value in enumerate(values, start=1):
            lists.cell(row=row, column=n, value=value)
        source = get_column_letter(n)
        validation = DataValidation(type="list", formula1=f"'{LIST_SHEET}'!${source}$1:${source}${len(values)}",
                                    allow_blank=True, showErrorMessage=True, errorTitle="Giá trị không hợp lệ",
                                    error="Hãy chọn một giá trị trong danh sách.")
        target = get_column_letter(column + 1)
        validation.add(f"{target}2:{target}{VALIDATED_ROWS}")
        data.add_data_validation(validation)
