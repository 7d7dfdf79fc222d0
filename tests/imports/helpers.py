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


RATING_ANSWERS = {"q1": "rat_hai_long", "q2": "hai_long", "q3": "dung_hen", "q4": "don_gian"}


def import_while_rating(app, unit, data: bytes, key: str, codes: list[str], *, batch_size: int,  # type: ignore[no-untyped-def]
                        every_code: bool = False):
    """Import ``data`` in batches while two threads submit quay4 ratings for ``codes`` through the API (until the
    import ends, or with ``every_code`` until each code is rated).

    Returns the report, the writers' status codes and how many ratings went in while the import ran."""
    import threading

    from sipas.imports import import_dossiers
    from sipas.storage import get_database

    running = threading.Event()
    running.set()
    statuses: list[int] = []
    during = [0]
    lock = threading.Lock()
    queue = list(codes)

    def writer() -> None:
        client = app.test_client()
        while True:
            with lock:
                if not queue or not (running.is_set() or every_code):
                    return
                code = queue.pop()
            body = {"instrument": "quay4", "channel": "api", "dossier_code": code, "answers": RATING_ANSWERS,
                    "submitted_at": "2026-01-07T16:00:00+07:00"}
            status = client.post("/api/v1/responses", json=body,
                                 headers={"Authorization": f"Bearer {key}"}).status_code
            with lock:
                statuses.append(status)
                during[0] += running.is_set()

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        with get_database(app).sessionmaker() as session:
            report = import_dossiers(session, session.merge(unit), data, "lon.csv", tz=TZ, now=NOW, secret=SECRET,
                                     actor="test", batch_size=batch_size)
            session.commit()
    finally:
        running.clear()
        for thread in threads:
            thread.join(timeout=120)
    return report, statuses, during[0]
