"""Dossier import: messy real-world files, precise row errors, all-or-nothing, idempotent upsert."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

from openpyxl import Workbook
from sqlalchemy import func, select

from sipas.models import AuditEvent, Dossier, DossierContact, IntakeChannel
from tests.factories import create_dossier, create_unit, local
from tests.imports.helpers import DOSSIER_HEADER, csv_bytes, dossier_row, run_dossiers, xlsx


def _dossiers(session, unit) -> dict[str, Dossier]:  # type: ignore[no-untyped-def]
    session.expire_all()
    return {d.code: d for d in session.scalars(select(Dossier).where(Dossier.unit_id == unit.id))}


def test_a_clean_xlsx_creates_dossiers_with_every_column(session) -> None:
    unit = create_unit(session)
    report = run_dossiers(session, unit, xlsx([DOSSIER_HEADER, dossier_row("H57-0001"),
                                               dossier_row("H57-0002", channel="truc tuyen toan trinh", returned=None,
                                                           phone=None, consent=None)]))
    assert (report.created, report.updated, report.unchanged, report.errors) == (2, 0, 0, [])
    dossiers = _dossiers(session, unit)
    first = dossiers["H57-0001"]
    assert first.procedure == "Đăng ký khai sinh" and first.field == "Hộ tịch"
    assert first.intake_channel is IntakeChannel.DIRECT
    assert first.received_at == local(2026, 1, 5, 8, 30)
    assert first.due_local_date == date(2026, 1, 8) and first.returned_at == local(2026, 1, 7, 15, 0)
    assert first.contact.phone_e164 == "+84912345678" and first.contact.sms_consent is True
    assert first.contact.consent_method == "import"
    second = dossiers["H57-0002"]
    assert second.intake_channel is IntakeChannel.ONLINE_FULL and second.returned_at is None and second.contact is None


def test_every_date_shape_a_spreadsheet_holds(session) -> None:
    unit = create_unit(session)
    rows = [
        dossier_row("D1", received="05/01/2026"),
        dossier_row("D2", received="5/1/2026 8:30"),
        dossier_row("D3", received="2026-01-05T08:30:00+07:00"),
        dossier_row("D4", received="2026-01-05 08:30"),
        dossier_row("D5", received=46027.3541666667),  # an Excel serial number (05/01/2026 08:30)
        dossier_row("D6", received="46027"),  # a serial stored as text
        dossier_row("D7", received=datetime(2026, 1, 5, 8, 30)),  # a real date cell
        dossier_row("D8", received=date(2026, 1, 5)),
    ]
    report = run_dossiers(session, unit, xlsx([DOSSIER_HEADER, *rows]))
    assert report.errors == [] and report.created == 8
    got = {code: d.received_at for code, d in _dossiers(session, unit).items()}
    assert got["D1"] == got["D6"] == got["D8"] == local(2026, 1, 5, 0, 0)
    assert got["D2"] == got["D3"] == got["D4"] == got["D7"] == local(2026, 1, 5, 8, 30)
    assert abs((got["D5"] - local(2026, 1, 5, 8, 30)).total_seconds()) < 1


def test_a_messy_export_with_title_rows_merged_cells_numbers_as_text_and_trailing_blanks(session) -> None:
    unit = create_unit(session)
    rows: list[list[object]] = [
        ["UBND PHƯỜNG PHÚ HỘI"],
        ["BÁO CÁO DANH SÁCH HỒ SƠ TIẾP NHẬN TỪ 01/01/2026 ĐẾN 31/01/2026"],
        [],
        ["STT", "Mã hồ sơ", "Thủ tục", "Ngày", None, None, "SĐT", "Đồng ý nhận tin nhắn"],
        [None, None, None, "Tiếp nhận", "Hẹn trả", "Trả kết quả", None, None],
        ["1", 230301001, "Chứng thực bản sao", "05/01/2026", 46030, "07/01/2026", 912345678, 1],
        ["2", "000.00.20.H57-260105-0002", "Đăng ký kết hôn", datetime(2026, 1, 5, 9), "08/01/2026", None,
         "84987654321", "x"],
        ["3", 230301003.0, "Xác nhận tình trạng hôn nhân", "06/01/2026", "09/01/2026", "09/01/2026", "'0356 789 012",
         "không"],
        [], [None, None, None], [],
        ["", "", "Người lập biểu"],
    ]
    data = xlsx(rows, merges=["A1:H1", "A2:H2", "D4:F4", "A4:A5", "B4:B5", "C4:C5", "G4:G5", "H4:H5"])
    report = run_dossiers(session, unit, data)
    assert report.errors == [], [str(e) for e in report.errors]
    assert report.header_row == 5 and report.created == 3
    dossiers = _dossiers(session, unit)
    assert set(dossiers) == {"230301001", "000.00.20.H57-260105-0002", "230301003"}
    first = dossiers["230301001"]
    assert first.due_local_date == date(2026, 1, 8) and first.returned_local_date == date(2026, 1, 7)
    assert first.contact.phone_e164 == "+84912345678" and first.contact.sms_consent is True
    assert dossiers["000.00.20.H57-260105-0002"].contact.phone_e164 == "+84987654321"
    assert dossiers["230301003"].contact.phone_e164 == "+84356789012"
    assert dossiers["230301003"].contact.sms_consent is False


def test_bad_rows_are_reported_precisely_and_nothing_is_written(session) -> None:
    unit = create_unit(session)
    rows = [
        ["DANH SÁCH HỒ SƠ"],
        DOSSIER_HEADER,
        dossier_row("OK-1"),
        dossier_row("BAD-1", received="31/02/2026"),
        dossier_row("BAD-2", phone="12345"),
        dossier_row("", procedure="Cấp bản sao"),
        dossier_row("BAD-3", channel="fax"),
        dossier_row("BAD-4", received="05/01/2026", due="01/01/2026"),
        dossier_row("BAD-5", consent="có lẽ"),
        dossier_row("BAD-6", received=None),
    ]
    report = run_dossiers(session, unit, xlsx(rows, merges=["A1:I1"]))
    found = {(e.row, e.column): e.message for e in report.errors}
    assert set(found) == {(4, "Ngày tiếp nhận"), (5, "Số điện thoại"), (6, "Mã hồ sơ"), (7, "Hình thức nộp"),
                          (8, "Ngày hẹn trả"), (9, "Đồng ý nhận tin nhắn"), (10, "Ngày tiếp nhận")}
    assert "31/02/2026" in found[(4, "Ngày tiếp nhận")]
    assert found[(6, "Mã hồ sơ")] == "Thiếu mã hồ sơ."
    assert found[(8, "Ngày hẹn trả")] == "Ngày hẹn trả trước ngày tiếp nhận."
    assert found[(10, "Ngày tiếp nhận")] == "Thiếu ngày tiếp nhận."
    assert str(report.errors[0]).startswith("Dòng 4, cột “Ngày tiếp nhận”:")
    assert report.error_rows == 7 and report.refused and not report.written
    assert _dossiers(session, unit) == {}
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "import.dossiers"))
    assert event is not None and event.details["status"] == "refused" and event.details["error_rows"] == 7


def test_skip_invalid_imports_the_valid_rows_and_reports_the_others(session) -> None:
    unit = create_unit(session)
    data = csv_bytes([DOSSIER_HEADER, dossier_row("OK-1"), dossier_row("BAD-1", received="hôm qua"),
                      dossier_row("OK-2")])
    report = run_dossiers(session, unit, data, "hoso.csv", skip_invalid=True)
    assert report.created == 2 and [(e.row, e.column) for e in report.errors] == [(3, "Ngày tiếp nhận")]
    assert report.written and not report.refused
    assert set(_dossiers(session, unit)) == {"OK-1", "OK-2"}


def test_importing_the_same_file_again_changes_nothing(session) -> None:
    unit = create_unit(session)
    data = xlsx([DOSSIER_HEADER, *[dossier_row(f"H-{i}") for i in range(5)]])
    first = run_dossiers(session, unit, data)
    stamps = {code: d.updated_at for code, d in _dossiers(session, unit).items()}
    again = run_dossiers(session, unit, data)
    assert (first.created, again.created, again.updated, again.unchanged) == (5, 0, 0, 5)
    assert {code: d.updated_at for code, d in _dossiers(session, unit).items()} == stamps
    assert session.scalar(select(func.count()).select_from(DossierContact)) == 5


def test_a_later_export_updates_dossiers_by_code(session) -> None:
    unit = create_unit(session)
    create_dossier(session, unit, code="H-1", returned=False, received_at=local(2026, 1, 5, 8, 30))
    session.commit()
    report = run_dossiers(session, unit, csv_bytes([DOSSIER_HEADER, dossier_row("H-1"), dossier_row("H-2")]),
                          "hoso.csv")
    assert (report.created, report.updated) == (1, 1)
    assert _dossiers(session, unit)["H-1"].returned_at == local(2026, 1, 7, 15, 0)


def test_codes_are_per_unit(session) -> None:
    ward_a, ward_b = create_unit(session), create_unit(session)
    data = csv_bytes([DOSSIER_HEADER, dossier_row("H-1")])
    run_dossiers(session, ward_a, data, "a.csv")
    report = run_dossiers(session, ward_b, data, "a.csv")
    assert report.created == 1


def test_a_code_repeated_in_the_file(session) -> None:
    unit = create_unit(session)
    data = csv_bytes([DOSSIER_HEADER, dossier_row("H-1"), dossier_row("H-1"), dossier_row("H-1", field="Đất đai")])
    report = run_dossiers(session, unit, data, "hoso.csv", skip_invalid=True)
    assert report.created == 1 and report.unchanged == 1
    assert [(e.row, e.column, e.message) for e in report.errors] == [
        (4, "Mã hồ sơ", "Mã hồ sơ “H-1” đã có ở dòng 2 với dữ liệu khác.")]


def test_csv_with_semicolons_bom_and_windows_code_page(session) -> None:
    unit = create_unit(session)
    rows = [["Ma ho so", "Thu tuc", "Ngay tiep nhan", "Ngay tra"], ["H-1", "Đăng ký khai sinh", "05/01/2026", ""]]
    assert run_dossiers(session, unit, b"\xef\xbb\xbf" + csv_bytes(rows, delimiter=";"), "a.csv").created == 1
    rows[1][0] = "H-2"
    report = run_dossiers(session, unit, csv_bytes(rows, delimiter=";", encoding="cp1258"), "b.csv")
    assert report.created == 1 and _dossiers(session, unit)["H-2"].procedure == "Đăng ký khai sinh"


def test_a_broken_file_writes_nothing_and_says_why(session) -> None:
    unit = create_unit(session)
    cases = {
        b"%PDF-1.7\x00\x01binary": "không phải CSV",
        b"PK\x03\x04not really a zip": "Excel bị hỏng",
        b"": "Tệp trống",
        csv_bytes([["Họ tên", "Địa chỉ"], ["A", "B"]]): "Mã hồ sơ",
        csv_bytes([["Mã hồ sơ", "Thủ tục"], ["H-1", "X"]]): "Ngày tiếp nhận",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old": ".xls",
    }
    for data, words in cases.items():
        report = run_dossiers(session, unit, data, "tep.xlsx" if data.startswith(b"PK") else "tep.csv")
        assert report.file_error is not None and words in report.file_error, report.file_error
        assert report.refused and report.errors == []
    assert _dossiers(session, unit) == {}


def test_the_audit_event_has_counts_and_the_file_name_but_no_personal_data(session) -> None:
    unit = create_unit(session)
    run_dossiers(session, unit, csv_bytes([DOSSIER_HEADER, dossier_row("H-1")]), "thang1.csv")
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "import.dossiers"))
    assert event is not None and event.subject == "thang1.csv"
    assert event.details["created"] == 1 and event.details["status"] == "ok"
    assert "912345678" not in str(event.details)
    assert event.at <= datetime.now(UTC)


def test_a_date_alone_on_the_day_of_receipt_means_that_day(session) -> None:
    unit = create_unit(session)
    report = run_dossiers(session, unit, csv_bytes([DOSSIER_HEADER, dossier_row(
        "H-1", received="05/01/2026 09:40", due="05/01/2026", returned="05/01/2026")]), "hoso.csv")
    assert report.errors == []
    dossier = _dossiers(session, unit)["H-1"]
    assert dossier.due_at == dossier.returned_at == local(2026, 1, 5, 9, 40)
    assert dossier.due_local_date == date(2026, 1, 5)


def test_a_code_created_meanwhile_by_another_writer_keeps_nothing_of_the_file(session, monkeypatch) -> None:
    import sipas.imports.dossier_swap as module

    unit = create_unit(session)
    create_dossier(session, unit, code="H-1")
    session.commit()
    # As if H-1 appeared after the swap read the stored dossiers (PostgreSQL, another transaction).
    monkeypatch.setattr(module, "_stored", lambda *_args, **_kwargs: {})
    report = run_dossiers(session, unit, csv_bytes([DOSSIER_HEADER, dossier_row("H-0"), dossier_row("H-1")]),
                          "hoso.csv")
    assert report.file_error is not None and "thao tác khác" in report.file_error and not report.written
    assert set(_dossiers(session, unit)) == {"H-1"}
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "import.dossiers"))
    assert event is not None and event.details["status"] == "conflict"


def test_excel_unicode_text_and_a_workbook_whose_first_sheet_is_a_cover_page(session) -> None:
    unit = create_unit(session)
    unicode_text = "\t".join(DOSSIER_HEADER) + "\r\n" + "\t".join(str(v) for v in dossier_row("U-1")) + "\r\n"
    assert run_dossiers(session, unit, unicode_text.encode("utf-16"), "hoso.txt").created == 1
    workbook = Workbook()
    workbook.active.title = "Hướng dẫn"
    workbook.active.append(["Tệp xuất từ hệ thống một cửa điện tử"])
    data_sheet = workbook.create_sheet("Dữ liệu")
    data_sheet.append(["Mã\nhồ sơ", *DOSSIER_HEADER[1:]])
    data_sheet.append(dossier_row("X-1"))
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = run_dossiers(session, unit, buffer.getvalue())
    assert (report.created, report.sheet, report.columns["code"]) == (1, "Dữ liệu", "Mã hồ sơ")


def test_decomposed_vietnamese_is_the_same_text_whatever_the_file_format(session) -> None:  # type: ignore[no-untyped-def]
    """Vietnamese typed with combining marks ("Unicode tổ hợp" in Unikey, a Mac) was normalised from UTF-8 and
    Windows-1258 CSVs only: from an XLSX or a UTF-16 file "Hộ tịch" became a second field (two rows of Biểu II.06a),
    and a re-import of the same data from another format counted as an update."""
    import unicodedata

    unit = create_unit(session)
    session.commit()
    decomposed = unicodedata.normalize("NFD", "Hộ tịch")
    run_dossiers(session, unit, csv_bytes([DOSSIER_HEADER, dossier_row("N1", field=decomposed)]), "a.csv")
    run_dossiers(session, unit, xlsx([DOSSIER_HEADER, dossier_row("N2", field=decomposed)]))
    utf16 = csv_bytes([DOSSIER_HEADER, dossier_row("N3", field=decomposed)]).decode("utf-8-sig").encode("utf-16")
    run_dossiers(session, unit, utf16, "c.csv")
    session.expire_all()
    assert set(session.scalars(select(Dossier.field))) == {"Hộ tịch"}
    assert run_dossiers(session, unit, xlsx([DOSSIER_HEADER, dossier_row("N1", field=decomposed)])).unchanged == 1


def test_a_field_cell_merged_over_its_rows_is_their_field(session) -> None:  # type: ignore[no-untyped-def]
    """docs/import-formats.md: merged cells are fine. An export grouped by field merges "Lĩnh vực" over each field's
    rows; only the first cell holds the value, so the rows under it read as blank and a re-import cleared their
    field ("updated", no error). A vertical merge now gives its value to every row it covers."""
    unit = create_unit(session)
    session.commit()
    rows = [DOSSIER_HEADER, dossier_row("M1"), dossier_row("M2"), dossier_row("M3", field="Chứng thực")]
    run_dossiers(session, unit, xlsx(rows))
    grouped = [DOSSIER_HEADER, dossier_row("M1"), dossier_row("M2", field=None), dossier_row("M3", field="Chứng thực")]
    report = run_dossiers(session, unit, xlsx(grouped, merges=["C2:C3"]))
    assert (report.updated, report.unchanged, report.errors) == (0, 3, [])
    session.expire_all()
    fields = dict(session.execute(select(Dossier.code, Dossier.field).where(Dossier.unit_id == unit.id)).all())
    assert fields == {"M1": "Hộ tịch", "M2": "Hộ tịch", "M3": "Chứng thực"}
