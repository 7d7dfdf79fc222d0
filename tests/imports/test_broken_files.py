"""Files that break half-way through (a damaged sheet, bad CSV quoting) write nothing and say so."""

from __future__ import annotations

import io
import zipfile

from sqlalchemy import func, select

from sipas.models import Dossier, Response
from tests.factories import create_unit
from tests.imports.helpers import DOSSIER_HEADER, csv_bytes, dossier_row, run_dossiers, run_responses, xlsx


def _damaged_sheet(data: bytes) -> bytes:
    """Cut the sheet's XML in the middle of the rows, as a broken download or a crashed export would."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = content[: len(content) * 2 // 3]
            target.writestr(item, content)
    return out.getvalue()


def _huge_field_csv(header: list[str], good: list[object]) -> bytes:
    return csv_bytes([header, good]) + b'"' + b"x" * 200_000 + b'",1\r\n'


def test_a_damaged_sheet_is_a_file_error(session) -> None:
    unit = create_unit(session)
    data = _damaged_sheet(xlsx([DOSSIER_HEADER, *[dossier_row(f"H-{n}") for n in range(200)]]))
    report = run_dossiers(session, unit, data)
    assert report.file_error == "Tệp Excel bị hỏng: không đọc được hết các dòng."
    assert session.scalar(select(func.count()).select_from(Dossier)) == 0


def test_bad_csv_quoting_half_way_is_a_file_error_for_both_imports(session, catalogue) -> None:
    unit = create_unit(session)
    dossiers = run_dossiers(session, unit, _huge_field_csv(DOSSIER_HEADER, dossier_row("H-1")), "hoso.csv")
    assert dossiers.file_error is not None and "CSV" in dossiers.file_error
    header = ["Bộ tiêu chí", "Thời điểm", "q1", "q2", "q3", "q4"]
    responses = run_responses(session, catalogue, unit, _huge_field_csv(
        header, ["quay4", "10/01/2026", "Hài lòng", "Hài lòng", "Đúng hẹn", "Đơn giản"]), "phieu.csv")
    assert responses.file_error is not None and not responses.written
    assert session.scalar(select(func.count()).select_from(Response)) == 0
    assert session.scalar(select(func.count()).select_from(Dossier)) == 0
