"""Counts a clerk reads are written the Vietnamese way, with a dot every three digits (domain notes §3:
``1.348``), on the console's own pages and messages as on the report: a quarter's export from the one-stop
system runs to thousands of dossiers."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert

from sipas.audit_text import sentence
from sipas.imports.report import ImportReport
from sipas.models import AuditEvent, Dossier, IntakeChannel
from tests.factories import create_clerk, create_unit, login


def test_the_dossier_list_counts_its_dossiers_with_a_thousands_dot(client, session) -> None:
    unit = create_unit(session)
    received = datetime(2026, 1, 5, 2, tzinfo=UTC)
    session.execute(insert(Dossier), [
        {"unit_id": unit.id, "code": f"000.00.20.H57-260105-{n:04d}", "procedure": "Đăng ký khai sinh",
         "field": "Hộ tịch", "intake_channel": IntakeChannel.DIRECT, "received_at": received,
         "received_local_date": received.date()} for n in range(1, 1002)])
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    page = client.get("/console/dossiers").get_data(as_text=True)
    assert "Tìm thấy 1.001 hồ sơ" in page


def test_an_import_summary_counts_with_a_thousands_dot() -> None:
    report = ImportReport(kind="dossiers", filename="quy1.xlsx", rows=2480, created=1348, updated=1020,
                          unchanged=112)
    assert report.summary_vi() == ("Đã nhập tệp quy1.xlsx: 1.348 hồ sơ mới, 1.020 cập nhật, 112 không thay đổi, "
                                   "0 dòng lỗi.")


def test_the_audit_log_counts_an_import_with_a_thousands_dot() -> None:
    event = AuditEvent(action="import.dossiers", actor="cli", subject="quy1.xlsx",
                       details={"status": "ok", "rows": 2480, "created": 1348, "updated": 1020, "unchanged": 112,
                                "error_rows": 0})
    assert sentence(event) == ("Quản trị máy chủ (dòng lệnh) đã nhập tệp hồ sơ: xong (2.480 dòng: 1.348 mới, "
                               "1.020 cập nhật, 112 không đổi, 0 dòng lỗi) (quy1.xlsx)")
