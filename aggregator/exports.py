"""Downloads: XLSX of the report tables, CSV of anonymised responses.

The CSV carries no dossier code, no phone, no comment (free text may name people) and only the
local date of submission: one row per response with instrument, version, channel, date and answers
(``criterion=option``, ``na`` for not applicable), streamed in batches.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from itertools import groupby
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy import select
from sqlalchemy.orm import Session

from aggregator.cellsafe import neutralise_row
from aggregator.labels import channel_label
from aggregator.queries import Scope, in_scope
from aggregator.zalo_sheet import add_zalo_sheet
from sipas.catalogue import NOT_APPLICABLE
from sipas.clock import Period, local_date
from sipas.models import Answer, Response
from sipas.text import fold

FIELD_HEADERS = ("Lĩnh vực", "Tiếp nhận: tổng số", "Trực tuyến", "Trực tiếp và bưu chính", "Từ kỳ trước",
                 "Đã giải quyết: tổng số", "Trước hạn", "Đúng hạn", "Quá hạn", "Đang giải quyết: tổng số",
                 "Trong hạn", "Quá hạn (đang giải quyết)", "Tỷ lệ đúng hạn (%)")
FIELD_KEYS = ("field", "received_total", "received_online", "received_direct_postal", "carried_over", "resolved",
              "early", "on_time", "late", "in_progress", "in_progress_on_time", "in_progress_overdue",
              "on_time_rate")
CSV_HEADERS = ("stt", "bo_tieu_chi", "phien_ban", "kenh", "ngay", "cau_tra_loi")


def _append(ws: Any, row: list[Any]) -> None:
    """Every row goes through the formula neutraliser: unit names, fields and labels are free text."""
    ws.append(neutralise_row(row))


def _sheet_title(ws: Any, title: str, subtitle: str, headers: tuple[str, ...]) -> None:
    _append(ws, [title])
    ws["A1"].font = Font(bold=True, size=13)
    _append(ws, [subtitle])
    _append(ws, [])
    _append(ws, list(headers))
    for cell in ws[4]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")


CI_HEADERS = ("Khoảng tin cậy 95%: thấp (%)", "Khoảng tin cậy 95%: cao (%)", "Ít phiếu (n < 30)")
SMALL_N_NOTE = ("Khoảng tin cậy 95% theo phương pháp Wilson. “Ít phiếu”: dưới 30 câu trả lời, tỷ lệ kém tin cậy, "
                "cần đọc cùng số phiếu n.")


def _interval_cells(ci95: list[float] | None, small: bool) -> list[Any]:
    low, high = ci95 if ci95 else (None, None)
    return [low, high, "ít phiếu" if small else None]


def _two_decimals(ws: Any) -> None:
    for column in (7, 8, 9):
        ws.cell(ws.max_row, column).number_format = "0.00"


def report_subtitle(report: dict[str, Any]) -> str:
    """Unit, period and the filter, named as the dashboard's badges name it: a field's figures must not pass
    for the unit's."""
    period = report["period"]
    parts = [f"{report['unit_name']}, {period['label']}"]
    if period["field"]:
        parts.append(f"lĩnh vực: {period['field']}")
    if period["channel"]:
        parts.append(f"kênh: {channel_label(period['channel'])}")
    return "; ".join(parts)


def _ranking_subtitle(ranking: dict[str, Any], filtered: bool) -> str:
    """The ranking is never filtered: beside a filtered report's sheets it says so."""
    subtitle = f"{ranking['district_name']}, {ranking['label']}"
    return f"{subtitle}; xếp hạng tính trên mọi lĩnh vực và mọi kênh" if filtered else subtitle


def report_xlsx(report: dict[str, Any], ranking: dict[str, Any] | None = None) -> bytes:
    """Sheets "Tiêu chí", "Lĩnh vực", "Đánh giá Zalo" when there are Zalo ratings and, for a district, "Xếp hạng"."""
    book = Workbook()
    subtitle = report_subtitle(report)
    ws = book.active
    ws.title = "Tiêu chí"
    _sheet_title(ws, "Kết quả đánh giá theo tiêu chí", subtitle,
                 ("Bộ tiêu chí", "Phiên bản", "Tiêu chí", "n", "Phương án", "Số phiếu", "Tỷ lệ (%)", *CI_HEADERS))
    for instrument in report["instruments"]:
        for criterion in instrument["criteria"]:
            for option in criterion["options"]:
                _append(ws, [instrument["label"], instrument["version"], criterion["label"], criterion["n"],
                           option["label"], option["count"], option["percent"],
                           *_interval_cells(option["ci95"], criterion["small_n"] and criterion["n"] > 0)])
                _two_decimals(ws)
    overall = report["overall"]
    _append(ws, [])
    _append(ws, ["Tỷ lệ hài lòng chung", None, "câu trả lời từ mức hài lòng trở lên ÷ tổng số câu trả lời",
                 overall["answers"], "Hài lòng trở lên", overall["satisfied"], overall["percent"],
                 *_interval_cells(overall["ci95"], overall["small_n"] and overall["answers"] > 0)])
    _two_decimals(ws)
    _append(ws, [SMALL_N_NOTE])
    ws.column_dimensions["A"].width, ws.column_dimensions["C"].width = 30, 60
    ws.column_dimensions["E"].width = 30
    fields = book.create_sheet("Lĩnh vực")
    _sheet_title(fields, "Tình hình giải quyết hồ sơ (Biểu II.06a)", subtitle, FIELD_HEADERS)
    for row in report["fields"]:
        _append(fields, [row[key] for key in FIELD_KEYS])
        if row["is_total"]:
            for cell in fields[fields.max_row]:
                cell.font = Font(bold=True)
    fields.column_dimensions["A"].width = 30
    add_zalo_sheet(book, report, subtitle)
    if ranking is not None:
        sheet = book.create_sheet("Xếp hạng")
        filtered = bool(report["period"]["field"] or report["period"]["channel"])
        _sheet_title(sheet, "Xếp hạng theo Thông tư 01/2018/TT-VPCP", _ranking_subtitle(ranking, filtered),
                     ("Hạng", "Mã", "Đơn vị", "Tổng điểm", "Xếp loại", *[f"Chỉ số {i}" for i in range(1, 10)],
                      "Số chỉ số có dữ liệu", "Chỉ số thiếu (lý do)", "Hạng riêng (chưa đủ 9 chỉ số)",
                      "Điểm trung bình mỗi chỉ số"))
        for row in ranking["units"]:
            missing = "; ".join(f"{m['index']}: {m['reason_label']}" for m in row["indices_missing"])
            _append(sheet, [row["rank"], row["code"], row["name"], row["total"],
                            row["class"] or row["class_reason_label"],
                            *[row["indices"].get(str(i)) for i in range(1, 10)],
                            row["coverage"], missing or None, row["rank_apart"], row["mean_per_index"]])
        _append(sheet, [])
        _append(sheet, [f"Điểm trung bình: {ranking['average_label']}."])
        sheet.column_dimensions["C"].width = 30
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def file_name(prefix: str, unit_code: str, period: Period, field: str | None, channel: str | None,
              extension: str) -> str:
    """``bao-cao-W1-2026-01-01-2026-03-31-linh-vuc-dat-dai-kenh-paper.xlsx``: a filtered download says so in
    its name (the CSV has no other heading); the field without its marks, an ASCII name every browser keeps."""
    parts = [prefix, unit_code, period.start.isoformat(), period.end.isoformat()]
    if field:
        parts += ["linh-vuc", fold(field).replace(" ", "-")[:60].strip("-") or "khac"]
    if channel:
        parts += ["kenh", channel]
    return "-".join(parts) + "." + extension


def responses_csv(session: Session, scope: Scope, tz: Any) -> Iterator[str]:
    """CSV lines (UTF-8 text with a header) of the anonymised responses in scope, oldest first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(neutralise_row(CSV_HEADERS))
    yield "\ufeff" + flush()
    stmt = in_scope(scope, select(Response.id, Response.instrument_code, Response.instrument_version,
                                    Response.channel, Response.submitted_at, Answer.criterion_code,
                                    Answer.option_code)
                      .join(Answer, Answer.response_id == Response.id)
                      .order_by(Response.submitted_at, Response.id, Answer.position))
    rows = session.execute(stmt.execution_options(yield_per=1000))
    for number, (_rid, group) in enumerate(groupby(rows, key=lambda r: r[0]), start=1):
        items = list(group)
        first = items[0]
        answers = ";".join(f"{r[5]}={r[6] or NOT_APPLICABLE}" for r in items)
        writer.writerow(neutralise_row([number, first[1], first[2], str(first[3]),
                                        local_date(first[4], tz).isoformat(), answers]))
        if number % 200 == 0:
            yield flush()
    yield flush()
