"""Building spreadsheets in memory the way real exports look."""

from __future__ import annotations

import csv
import io
import unicodedata
from datetime import UTC, datetime, timedelta

from openpyxl import Workbook

from tests.factories import SECRET, TZ

NOW = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)

DOSSIER_HEADER = ["Mã hồ sơ", "Tên thủ tục", "Lĩnh vực", "Hình thức nộp", "Ngày tiếp nhận", "Ngày hẹn trả",
                  "Ngày trả kết quả", "Số điện thoại", "Đồng ý nhận tin nhắn"]


def xlsx(rows: list[list[object]], *, merges: list[str] = (), title: str = "Sheet1") -> bytes:  # type: ignore[assignment]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    for cells in merges:
        sheet.merge_cells(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list[object]], *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows([["" if v is None else v for v in row] for row in rows])
    text = buffer.getvalue()
    if encoding != "cp1258":
        return text.encode(encoding)
    # Windows-1258 has only some precomposed letters; tone marks are combining characters.
    return b"".join(ch.encode("cp1258") if _encodable(ch) else unicodedata.normalize("NFD", ch).encode("cp1258")
                    for ch in text)


def _encodable(ch: str) -> bool:
    try:
        ch.encode("cp1258")
    except UnicodeEncodeError:
        return False
    return True


def dossier_row(code: str, *, received: object = "05/01/2026 08:30", due: object = "08/01/2026",
                returned: object = "07/01/2026 15:00", phone: object = "0912345678", consent: object = "có",
                channel: object = "Trực tiếp", procedure: str = "Đăng ký khai sinh", field: str = "Hộ tịch") -> list:
    return [code, procedure, field, channel, received, due, returned, phone, consent]


def run_dossiers(session, unit, data: bytes, filename: str = "hoso.xlsx", *, skip_invalid: bool = False):  # type: ignore[no-untyped-def]
    from sipas.imports import import_dossiers

    report = import_dossiers(session, unit, data, filename, tz=TZ, now=NOW, secret=SECRET, actor="test",
                             skip_invalid=skip_invalid)
    session.commit()
    return report


def run_responses(session, catalogue, unit, data: bytes, filename: str = "phieu.xlsx", *,  # type: ignore[no-untyped-def]
                  skip_invalid: bool = False):
    from sipas.imports import import_responses

    report = import_responses(session, catalogue, unit, data, filename, tz=TZ, now=NOW, actor="test",
                              skip_invalid=skip_invalid)
    session.commit()
    return report


def large_export(rows: int) -> bytes:
    """A big XLSX export written the way Excel stores it: date cells, phones as numbers, consent as x."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Hồ sơ")
    sheet.append(["DANH SÁCH HỒ SƠ"])
    sheet.append(DOSSIER_HEADER)
    for n in range(rows):
        received = datetime(2025, 10, 1, 8, 0) + timedelta(minutes=13 * n)
        sheet.append([f"H57-{n:06d}", "Đăng ký khai sinh", "Hộ tịch", "Trực tiếp", received,
                      (received + timedelta(days=3)).strftime("%d/%m/%Y"), received + timedelta(days=2),
                      912000000 + n if n % 3 else None, "x" if n % 2 else ""])
    sheet.append([])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
