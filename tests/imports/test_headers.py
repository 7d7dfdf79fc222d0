"""Header rows as exports write them: any case, with or without diacritics, under title rows, split in two."""

from __future__ import annotations

import pytest

from sipas.imports.dossier_import import match_dossier_header
from sipas.imports.headers import find_header, header_key


def _rows(*rows: tuple[object, ...]):  # type: ignore[no-untyped-def]
    return iter(enumerate(rows, start=1))


@pytest.mark.parametrize("header", ["Mã hồ sơ", "Ma ho so", "ma_ho_so", "MÃ HỒ SƠ", "Số hồ sơ", " mã  hồ sơ ",
                                    "Mã hồ sơ (*)", "MA HO SO"])
def test_the_code_column_is_found_whatever_its_spelling(header: str) -> None:
    found = find_header(_rows(("BÁO CÁO TÌNH HÌNH GIẢI QUYẾT HỒ SƠ",), (), ("STT", header, "Ngày tiếp nhận")))
    assert found is not None and found.row == 3
    assert match_dossier_header(header_key(header)) == "code"


@pytest.mark.parametrize(("header", "field"), [
    ("Tên thủ tục", "procedure"), ("Thủ tục", "procedure"), ("Lĩnh vực", "field"), ("Hình thức nộp", "intake_channel"),
    ("Ngày tiếp nhận (dd/mm/yyyy)", "received_at"), ("Ngày hẹn trả", "due_at"), ("Ngày trả kết quả", "returned_at"),
    ("Ngày trả", "returned_at"), ("Ngay tra ket qua", "returned_at"), ("SĐT", "phone"), ("Số điện thoại", "phone"),
    ("Đồng ý nhận tin nhắn", "sms_consent"), ("dong_y_nhan_tin_nhan", "sms_consent"), ("Ghi chú", None),
])
def test_column_synonyms(header: str, field: str | None) -> None:
    assert match_dossier_header(header_key(header)) == field


def test_a_header_split_over_two_rows_under_a_merged_group_cell() -> None:
    found = find_header(_rows(
        ("Mã hồ sơ", "Ngày", None, None, "Số điện thoại"),
        (None, "Tiếp nhận", "Hẹn trả", "Trả kết quả", None),
        ("(1)", "(2)", "(3)", "(4)", "(5)"),
        ("H57-1", "05/01/2026", "08/01/2026", "07/01/2026", "0912345678"),
    ))
    assert found is not None and found.row == 2
    resolved = {i: (text, name) for i, (text, name) in found.resolve(match_dossier_header).items()}
    assert resolved[1] == ("Ngày / Tiếp nhận", "received_at")
    assert resolved[2] == ("Ngày / Hẹn trả", "due_at")
    assert resolved[3] == ("Ngày / Trả kết quả", "returned_at")
    assert resolved[4] == ("Số điện thoại", "phone")
    assert next(found.rows)[0] == 4  # the "(1) (2) (3)" row of column numbers is skipped


def test_a_data_row_without_code_is_not_mistaken_for_a_second_header_row() -> None:
    found = find_header(_rows(
        ("Mã hồ sơ", "Tên thủ tục", "Ngày tiếp nhận"),
        (None, "Đăng ký khai sinh", "05/01/2026"),
    ))
    assert found is not None and found.row == 1
    assert next(found.rows)[0] == 2


def test_no_header_in_the_first_rows_means_no_header() -> None:
    assert find_header(_rows(*[("Ghi chú",)] * 40, ("Mã hồ sơ",))) is None
