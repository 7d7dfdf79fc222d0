"""A ratings file offered as dossiers (and the reverse) is recognised and the clerk told which import to use."""

from __future__ import annotations

from sqlalchemy import func, select

from sipas.imports.wrong_file import DOSSIERS_OFFERED_AS_RATINGS, RATINGS_OFFERED_AS_DOSSIERS
from sipas.models import Dossier, Response
from tests.factories import create_unit
from tests.imports.helpers import DOSSIER_HEADER, csv_bytes, dossier_row, run_dossiers, run_responses, xlsx

RATINGS = [["Mã hồ sơ", "Bộ tiêu chí", "Kênh", "Thời điểm", "q1", "q2", "q3", "q4"],
           ["H-1", "quay4", "Phiếu giấy", "10/01/2026", "Hài lòng", "Hài lòng", "Đúng hẹn", "Đơn giản"]]


def test_a_ratings_file_offered_as_dossiers_is_named_as_such(session) -> None:
    unit = create_unit(session)
    report = run_dossiers(session, unit, xlsx(RATINGS))
    assert report.file_error == RATINGS_OFFERED_AS_DOSSIERS and not report.written
    # without a dossier code column the header row is not even found: still recognised
    anonymous = run_dossiers(session, unit, csv_bytes([row[1:] for row in RATINGS]), "phieu.csv")
    assert anonymous.file_error == RATINGS_OFFERED_AS_DOSSIERS
    assert session.scalar(select(func.count()).select_from(Dossier)) == 0


def test_a_dossier_file_offered_as_ratings_is_named_as_such(session, catalogue) -> None:
    unit = create_unit(session)
    report = run_responses(session, catalogue, unit, xlsx([DOSSIER_HEADER, dossier_row("H-1")]))
    assert report.file_error == DOSSIERS_OFFERED_AS_RATINGS and not report.written
    assert session.scalar(select(func.count()).select_from(Response)) == 0


def test_a_file_of_neither_kind_keeps_the_plain_message(session, catalogue) -> None:
    unit = create_unit(session)
    other = csv_bytes([["Họ tên", "Địa chỉ"], ["Nguyễn Văn A", "Tổ 3"]])
    assert run_dossiers(session, unit, other, "x.csv").file_error == (
        "Không tìm thấy dòng tiêu đề có cột “Mã hồ sơ” trong 30 dòng đầu của tệp.")
    assert run_responses(session, catalogue, unit, other, "x.csv").file_error.startswith(
        "Không tìm thấy dòng tiêu đề")
