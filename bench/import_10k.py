"""Generate a 10,000-row XLSX export and time the dossier import (first run creates, second finds no change).

    .venv/bin/python bench/import_10k.py                       # SQLite in a temporary folder
    .venv/bin/python bench/import_10k.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import io
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from openpyxl import Workbook

from sipas.imports import import_dossiers
from sipas.migrate import upgrade
from sipas.settings import Settings
from sipas.storage import Database
from sipas.units import create_unit, get_unit

HEADER = ["STT", "Mã hồ sơ", "Tên thủ tục", "Lĩnh vực", "Hình thức nộp", "Ngày tiếp nhận", "Ngày hẹn trả",
          "Ngày trả kết quả", "Số điện thoại", "Đồng ý nhận tin nhắn"]
PROCEDURES = [("Đăng ký khai sinh", "Hộ tịch"), ("Chứng thực bản sao từ bản chính", "Chứng thực"),
              ("Đăng ký kết hôn", "Hộ tịch"), ("Xác nhận tình trạng hôn nhân", "Hộ tịch"),
              ("Đăng ký biến động đất đai", "Đất đai"), ("Trợ cấp xã hội hằng tháng", "Lao động - TBXH")]
MOBILE_PREFIXES = ["90", "91", "93", "94", "96", "97", "98", "86", "88", "32", "33", "34", "35", "36", "37",
                   "38", "39", "70", "76", "77", "78", "79", "81", "82", "83", "84", "85"]
CHANNELS = ["Trực tiếp", "Trực tuyến một phần", "Trực tuyến toàn trình", "Bưu chính"]


def build_xlsx(rows: int, seed: int = 1) -> bytes:
    """A realistic export: a title row, dates as date cells and as text, phones as numbers, blank trailing rows."""
    rng = random.Random(seed)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Danh sách hồ sơ")
    sheet.append(["DANH SÁCH HỒ SƠ TIẾP NHẬN"])
    sheet.append([])
    sheet.append(HEADER)
    start = datetime(2025, 10, 1, 8, 0)
    for n in range(1, rows + 1):
        received = start + timedelta(days=rng.randrange(90), minutes=rng.randrange(540))
        due = received + timedelta(days=rng.choice([1, 3, 5, 7]))
        returned = received + timedelta(days=rng.randrange(9)) if rng.random() < 0.85 else None
        procedure, field = rng.choice(PROCEDURES)
        national = f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**7):07d}"
        phone = rng.choice([int(national), f"0{national}", None])  # a number cell loses its leading 0
        sheet.append([n, f"000.00.20.H57-{received:%y%m%d}-{n:05d}", procedure, field, rng.choice(CHANNELS),
                      received, due.strftime("%d/%m/%Y"), returned, phone, rng.choice(["có", "không", "x", ""])])
    for _ in range(5):
        sheet.append([])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite:///{scratch}/bench.db"
        upgrade(url)
        database = Database(Settings.from_env({}, database_url=url, secret_key="bench", instance_dir=Path(scratch)))
        started = time.perf_counter()
        data = build_xlsx(args.rows)
        print(f"generated {args.rows} rows, {len(data) / 1e6:.1f} MB XLSX in {time.perf_counter() - started:.1f} s")
        with database.session() as session:
            code = f"BENCH{int(time.time())}"
            create_unit(session, code=code, name="Phường Đo Thử", actor="bench")
        for label in ("first import (create)", "second import (no change)"):
            started, cpu = time.perf_counter(), time.process_time()
            with database.session() as session:
                report = import_dossiers(session, get_unit(session, code), data, "bench.xlsx",
                                         tz=Settings.from_env({}, database_url=url).tz, now=datetime.now(UTC),
                                         secret="bench", actor="bench")
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            print(f"{label}: {elapsed:.2f} s wall ({cpu:.2f} s CPU), {report.rows / elapsed:,.0f} rows/s "
                  f"(created {report.created}, updated {report.updated}, unchanged {report.unchanged}, "
                  f"errors {len(report.errors)}) on {url.split(':', 1)[0]}")
        database.dispose()


if __name__ == "__main__":
    main()
