"""Response import: option codes or labels, not applicable, precise errors, re-import stores nothing new."""

from __future__ import annotations

from sqlalchemy import func, select

from sipas.models import Answer, AuditEvent, Response, ResponseChannel
from tests.factories import create_dossier, create_response, create_unit, local
from tests.imports.helpers import NOW, csv_bytes, run_responses, xlsx

HEADER = ["Mã hồ sơ", "Bộ tiêu chí", "Kênh", "Thời điểm", "q1", "q2", "q3", "q4", "Ý kiến"]


def _count(session, model=Response) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(model))


def test_labels_codes_and_not_applicable_are_recorded(session, catalogue) -> None:
    unit = create_unit(session)
    create_dossier(session, unit, code="H-1", received_at=local(2026, 1, 5))
    session.commit()
    hue_header = ["Mã hồ sơ", "Bộ tiêu chí", "Kênh", "Thời điểm", *[f"tc{i:02d}" for i in range(1, 13)]]
    hue_answers = ["Rất hài lòng", "rat hai long", "hai_long", "Hài lòng", "Không hài lòng", "Không áp dụng",
                   "na", "KHÔNG ÁP DỤNG", "Rất hài lòng", "Hài lòng", "Hài lòng", "khong ap dung"]
    data = xlsx([["PHIẾU ĐÁNH GIÁ ĐÃ NHẬP"], [], hue_header,
                 ["H-1", "hue12", "Phiếu giấy", "10/01/2026 09:15", *hue_answers],
                 [None, "Đánh giá mức độ hài lòng (12 tiêu chí)", None, "11/01/2026", *hue_answers]])
    report = run_responses(session, catalogue, unit, data)
    assert report.errors == [] and report.created == 2, [str(e) for e in report.errors]
    response = session.scalar(select(Response).where(Response.dossier_id.is_not(None)))
    assert response is not None and response.channel is ResponseChannel.PAPER
    assert response.submitted_at == local(2026, 1, 10, 9, 15) and response.instrument_code == "hue12"
    answers = {a.criterion_code: (a.option_code, a.points) for a in response.answers}
    assert answers["tc01"] == ("rat_hai_long", 2) and answers["tc02"] == ("rat_hai_long", 2)
    assert answers["tc03"] == ("hai_long", 1) and answers["tc05"] == ("khong_hai_long", 0)
    assert answers["tc06"] == answers["tc07"] == answers["tc08"] == answers["tc12"] == (None, None)


def test_headers_may_be_criterion_labels(session, catalogue) -> None:
    unit = create_unit(session)
    header = ["Bộ tiêu chí", "Thời điểm", "Nơi đón tiếp", "Thái độ, hướng dẫn, tiếp nhận và trả kết quả",
              "Q3. Thời gian xử lý", "q4"]
    report = run_responses(session, catalogue, unit, csv_bytes([header, ["quay4", "10/01/2026", "Hài lòng",
                                                                         "Rất hài lòng", "Đúng hẹn", "Đơn giản"]]),
                           "phieu.csv")
    assert report.errors == [] and report.created == 1


def test_importing_the_same_file_again_stores_nothing_new(session, catalogue) -> None:
    unit = create_unit(session)
    row = [None, "quay4", "giấy", "10/01/2026 09:00", "Rất hài lòng", "Hài lòng", "Đúng hẹn", "Đơn giản", None]
    data = csv_bytes([HEADER, row, row, [*row[:4], "Hài lòng", *row[5:]]])  # two identical ballots are two ballots
    first = run_responses(session, catalogue, unit, data, "phieu.csv")
    again = run_responses(session, catalogue, unit, data, "phieu.csv")
    assert (first.created, again.created, again.unchanged) == (3, 0, 3)
    assert _count(session) == 3


def test_bad_rows_are_reported_precisely_and_nothing_is_written(session, catalogue) -> None:
    unit = create_unit(session)
    rated = create_dossier(session, unit, code="RATED", received_at=local(2026, 1, 5))
    create_dossier(session, unit, code="OPEN", returned=False)
    create_response(session, catalogue, unit, dossier=rated, instrument="quay4", now=NOW)
    session.commit()
    good = ["Rất hài lòng", "Hài lòng", "Đúng hẹn", "Đơn giản"]
    rows = [
        HEADER,
        [None, "quay4", None, "10/01/2026", *good, None],
        ["RATED", "quay4", "kiosk", "10/01/2026", *good, None],
        ["OPEN", "quay4", None, "10/01/2026", *good, None],
        ["NOPE", "quay4", None, "10/01/2026", *good, None],
        [None, "quay5", None, "10/01/2026", *good, None],
        [None, "quay4", "fax", "10/01/2026", *good, None],
        [None, "quay4", None, "hôm qua", *good, None],
        [None, "quay4", None, "10/01/2026", "Tuyệt vời", "Hài lòng", "na", None, None],
    ]
    before = _count(session)
    report = run_responses(session, catalogue, unit, xlsx(rows))
    found = {(e.row, e.column): e.message for e in report.errors}
    assert found == {
        (3, "Mã hồ sơ"): "Hồ sơ “RATED” đã được đánh giá theo bộ tiêu chí quay4.",
        (4, "Mã hồ sơ"): "Hồ sơ “OPEN” chưa được trả kết quả nên chưa thể đánh giá.",
        (5, "Mã hồ sơ"): f"Không tìm thấy hồ sơ “NOPE” của đơn vị {unit.code}.",
        (6, "Bộ tiêu chí"): "Bộ tiêu chí “quay5” không tồn tại (dùng: hue12, quay4, tt01_2018).",
        (7, "Kênh"): found[(7, "Kênh")],
        (8, "Thời điểm"): found[(8, "Thời điểm")],
        (9, "q1"): "Lựa chọn “Tuyệt vời” không hợp lệ (dùng: Rất hài lòng, Hài lòng, Không hài lòng).",
        (9, "q3"): "Tiêu chí này không cho phép chọn “Không áp dụng”.",
        (9, "q4"): "Chưa trả lời tiêu chí q4: Hồ sơ thủ tục hành chính cần giải quyết.",
    }
    assert "fax" in found[(7, "Kênh")] and "hôm qua" in found[(8, "Thời điểm")]
    assert report.refused and report.created == 0 and _count(session) == before
    refusals = session.scalars(select(AuditEvent).where(AuditEvent.action == "response.duplicate_refused")).all()
    assert [e.subject for e in refusals] == ["RATED"]  # the refused duplicate stays in the audit log


def test_skip_invalid_records_the_good_rows(session, catalogue) -> None:
    unit = create_unit(session)
    good = ["Rất hài lòng", "Hài lòng", "Đúng hẹn", "Đơn giản"]
    data = csv_bytes([HEADER, [None, "quay4", None, "10/01/2026", *good, "Cán bộ nhiệt tình"],
                      [None, "quay4", None, "", *good, None]])
    report = run_responses(session, catalogue, unit, data, "phieu.csv", skip_invalid=True)
    assert report.created == 1 and [(e.row, e.column) for e in report.errors] == [(3, "Thời điểm")]
    assert session.scalar(select(Response.comment)) == "Cán bộ nhiệt tình"
    assert _count(session, Answer) == 4


def test_a_file_without_criterion_columns_is_refused(session, catalogue) -> None:
    unit = create_unit(session)
    report = run_responses(session, catalogue, unit, csv_bytes([["Mã hồ sơ", "Thời điểm"], ["H-1", "10/01/2026"]]),
                           "phieu.csv")
    assert report.file_error is not None and "tiêu chí" in report.file_error
