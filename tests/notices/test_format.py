"""Vietnamese formatting and the notice view-model, on a hand-made report (no database)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from aggregator.notices.template import TemplateError, fill, template_for
from aggregator.notices.viewmodel import build_view, view_from_dict
from aggregator.notices.vnformat import date_words, number, percent, period_words
from sipas.models import Unit
from sipas.settings import DEFAULT_CONFIG_DIR
from tests.notices.sample_report import sample_report


def ward(**options: object) -> Unit:
    return Unit(code="PHUHOI", name="Phường Phú Hội", issuing_body="ỦY BAN NHÂN DÂN\nPHƯỜNG PHÚ HỘI",
                place_name="Phú Hội", signatory_title="CHỦ TỊCH", signatory_name="Nguyễn Văn An",
                options=dict(options))


def view_of(unit: Unit | None = None, number_: int | None = 3, issue_date: date = date(2023, 3, 6), **report):  # type: ignore[no-untyped-def]
    unit = unit or ward()
    return build_view(sample_report(**report), unit, template_for(unit, DEFAULT_CONFIG_DIR), number_=number_,
                      issue_date=issue_date, public_url="https://hailong.example.vn/cong-khai/PHUHOI",
                      parent_name="Quận Thuận Hóa")


@pytest.mark.parametrize(("value", "expected"), [(51.185, "51,19%"), (51.184, "51,18%"), (0.005, "0,01%"),
                                                 (100, "100,00%"), (None, "–")])
def test_percent_rounds_half_up_with_a_decimal_comma(value: float | None, expected: str) -> None:
    assert percent(value) == expected


def test_numbers_and_dates_the_official_way() -> None:
    assert number(1348) == "1.348" and number(1234567) == "1.234.567"
    assert date_words(date(2023, 3, 6)) == "ngày 06 tháng 3 năm 2023"
    assert date_words(date(2023, 2, 5)) == "ngày 05 tháng 02 năm 2023"
    assert date_words(date(2026, 1, 15)) == "ngày 15 tháng 01 năm 2026"
    assert date_words(date(2023, 12, 31)) == "ngày 31 tháng 12 năm 2023"


def test_period_in_words() -> None:
    assert period_words(date(2023, 1, 1), date(2023, 3, 31)) == "quý I năm 2023"
    assert period_words(date(2023, 10, 1), date(2023, 12, 31)) == "quý IV năm 2023"
    assert period_words(date(2023, 2, 1), date(2023, 2, 28)) == "tháng 2 năm 2023"
    assert period_words(date(2023, 1, 1), date(2023, 12, 31)) == "năm 2023"
    assert period_words(date(2022, 12, 15), date(2023, 3, 6)) == "từ ngày 15/12/2022 đến ngày 06/3/2023"


def test_view_of_an_issued_notice() -> None:
    view = view_of()
    assert not view.draft
    assert view.body_lines == ("ỦY BAN NHÂN DÂN", "PHƯỜNG PHÚ HỘI")
    assert view.number_line == "Số: 03/TB-UBND"
    assert view.date_line == "Phú Hội, ngày 06 tháng 3 năm 2023"
    assert view.summary.endswith("thủ tục hành chính quý I năm 2023")
    assert "(từ ngày 01/01/2023 đến ngày 31/3/2023)" in view.opening
    assert "Nghị định số 61/2018/NĐ-CP" in view.opening  # period before 07/2025
    dossiers = view.sections[0].paragraphs[0]
    assert "1.348 hồ sơ, gồm 1.323 hồ sơ tiếp nhận mới" in dossiers and "đạt 98,53%" in dossiers
    ballots = view.sections[1].paragraphs[0]
    assert "87 phiếu (thiết bị đánh giá tại quầy: 27; phiếu giấy: 60)" in ballots
    assert "tin nhắn SMS" not in ballots  # channels without responses are left out
    assert "phát ra 120 phiếu, thu vào 60 phiếu" in ballots
    assert "đã trả kết quả đạt 6,20%" in ballots  # 80 rated of 1.290 resolved
    first = view.instruments[0].rows[0]
    assert first.line == ("Tiêu chí 1. Nơi đón tiếp (84 phiếu trả lời): Rất hài lòng 43 phiếu (51,19%); "
                          "Hài lòng 34 phiếu (40,48%); Không hài lòng 7 phiếu (8,33%).")
    assert view.instruments[0].rows[3].cells == ("–", "–", "–")  # empty criterion
    assert view.instruments[1].columns == ("Rất hài lòng", "Hài lòng", "Không hài lòng")
    assert view.instruments[1].rows[0].cells == ("33,34% (1)", "33,33% (1)", "33,33% (1)")
    overall = view.sections[3].paragraphs[0]
    assert "92,90%" in overall and "97,09%" in overall and "8,9/18 điểm" in overall and "trung bình" in overall
    assert view.recipients[0] == "- UBND quận Thuận Hóa (để báo cáo);"
    assert view.recipients[-1] == "- Lưu: VT, VP."
    assert all(line.endswith(";") for line in view.recipients[:-1])
    assert view.field_rows[-1][:3] == ("", "Tổng cộng", "1.348")
    assert view.annex_subtitle == "(Kèm theo Thông báo số 03/TB-UBND ngày 06/3/2023 của UBND phường Phú\u00a0Hội)"


def test_draft_has_no_number_and_later_periods_cite_the_2025_decree() -> None:
    view = view_of(number_=None, issue_date=date(2026, 1, 5), start="2025-10-01", end="2025-12-31")
    assert view.draft and view.number_line == "Số:      /TB-UBND"
    assert view.date_line == "Phú Hội, ngày 05 tháng 01 năm 2026"
    assert "118/2025/NĐ-CP" in view.opening and "61/2018" not in view.opening
    assert "quý IV năm 2025" in view.summary
    assert view.opening.startswith(  # dated like the NĐ 61 citation; one sentence, the clauses joined by a comma
        "Thực hiện Nghị định số 118/2025/NĐ-CP ngày 09/6/2025 của Chính phủ về thực hiện thủ tục hành chính theo cơ"
        " chế một cửa, một cửa liên thông tại Bộ phận Một cửa và Cổng Dịch vụ công quốc gia, Ủy ban nhân dân phường"
        " Phú Hội thông báo kết quả")
    assert "- Trung tâm Phục vụ hành chính công phường Phú Hội;" in view.recipients
    assert not any("Bộ phận Một cửa" in line for line in view.recipients)


def test_the_counter_is_named_as_it_was_called_in_the_period() -> None:
    before = view_of(start="2025-04-01", end="2025-06-30")
    assert "- Bộ phận Một cửa phường Phú Hội;" in before.recipients
    assert before.opening.startswith("Thực hiện Nghị định số 61/2018/NĐ-CP ngày 23/4/2018")
    assert "của Nghị định số 61/2018/NĐ-CP, Ủy ban nhân dân phường Phú Hội thông báo" in before.opening
    after = view_of(start="2025-07-01", end="2025-09-30")
    assert "- Trung tâm Phục vụ hành chính công phường Phú Hội;" in after.recipients
    assert after.values["counter_name"] == "Trung tâm Phục vụ hành chính công"


def test_the_criteria_section_does_not_repeat_its_heading() -> None:
    section = view_of().sections[2]
    assert section.heading == "3. Kết quả đánh giá theo từng tiêu chí"
    assert section.paragraphs == ("Số phiếu và tỷ lệ của từng mức đánh giá trên tổng số phiếu trả lời tiêu chí đó "
                                  "(không tính các phiếu đánh giá “không áp dụng”) như sau:",)
    assert ";" not in view_of().opening.split(" thông báo ")[0]


def test_unit_overrides_and_a_frozen_view_round_trips() -> None:
    unit = ward(notice={"recipients": ["Sở Nội vụ"], "archive": "Lưu: VT, BPMC", "signatory_title":
                        "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH", "signatory_name": "Lê Văn Cường",
                        "paragraphs": {"closing": "Đề nghị {unit_name_lower} niêm yết công khai."}})
    view = view_of(unit)
    assert view.recipients == ("- Sở Nội vụ;", "- Lưu: VT, BPMC.")
    assert view.signatory_title.splitlines() == ["KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]
    assert view.signatory_name == "Lê Văn Cường"
    assert view.closing == "Đề nghị phường Phú Hội niêm yết công khai."
    import dataclasses
    import json

    assert view_from_dict(json.loads(json.dumps(dataclasses.asdict(view)))) == view


def test_placeholders_are_names_only() -> None:
    assert fill("Tổng {received} hồ sơ", {"received": "1.348"}) == "Tổng 1.348 hồ sơ"
    with pytest.raises(TemplateError, match="secret"):
        fill("{secret}", {"received": "1"})
    with pytest.raises(TemplateError):
        fill("{received.__class__}", {"received": "1"})


def test_the_template_file_uses_only_known_placeholders() -> None:
    view = view_of()
    assert "{" not in view.opening + view.closing + "".join(s.paragraphs[0] for s in view.sections)
    assert Path(DEFAULT_CONFIG_DIR / "notice" / "thong_bao.toml").exists()


def test_the_quarter_offered_by_default() -> None:
    from aggregator.notices.views import default_period
    from sipas.clock import Period

    q3, q4 = Period.quarter(2026, 3), Period.quarter(2026, 4)
    assert default_period(date(2026, 11, 22)) == q3  # the quarter just ended
    assert default_period(date(2026, 11, 22), {(q3.start, q3.end)}) == q4  # already issued: the current one
    assert default_period(date(2026, 12, 5)) == q4  # last month: ballot boxes are opened
    assert default_period(date(2026, 1, 10)) == Period.quarter(2025, 4)


def test_a_unit_without_a_parent_drops_the_parent_recipient() -> None:
    unit = ward()
    view = build_view(sample_report(), unit, template_for(unit, DEFAULT_CONFIG_DIR), number_=1,
                      issue_date=date(2023, 4, 6), public_url="https://x.vn/cong-khai/PHUHOI")
    assert view.recipients[0] == "- Thường trực Đảng ủy, HĐND phường Phú Hội;"


def test_a_period_cut_inside_a_quarter_gives_no_handed_out_figure() -> None:
    unit = ward()
    report = sample_report(start="2022-12-15", end="2023-03-06")
    report["paper_ballots"] = {"handed_out": None, "returned": 60, "return_rate": None,
                               "handed_out_status": "partial_period",
                               "note": "không đủ số liệu phiếu phát ra cho kỳ không trọn quý"}
    view = build_view(report, unit, template_for(unit, DEFAULT_CONFIG_DIR), number_=None,
                      issue_date=date(2023, 3, 7), public_url="https://x.vn/cong-khai/PHUHOI")
    ballots = view.sections[1].paragraphs[0]
    assert ballots.endswith("Phiếu đánh giá bằng giấy: thu vào 60 phiếu; không đủ số liệu phiếu phát ra cho kỳ "
                            "không trọn quý.")
    assert "phát ra 120" not in ballots


def test_every_rate_in_the_body_shows_its_n() -> None:
    """Domain notes §3: "Always show n next to a percentage". The response rate, the overall satisfaction and the
    QĐ 766 ratio were printed bare ("đạt 6,20%": of what?), and a rate of 10 answers read like one of 1,000."""
    sections = view_of().sections
    dossiers, ballots, overall = sections[0].paragraphs[0], sections[1].paragraphs[0], sections[3].paragraphs[0]
    assert "tỷ lệ giải quyết đúng hạn đạt 98,53% (1.271/1.290 hồ sơ)" in dossiers
    assert "đạt 6,20% (80/1.290 hồ sơ)" in ballots
    assert "đạt 92,90% (314/338 câu trả lời)" in overall
    assert "Quyết định số 766/QĐ-TTg đạt 97,09% (1.333/1.373 hồ sơ)" in overall
    report = sample_report() | {"overall": {"answers": 10, "satisfied": 9, "dissatisfied": 1, "percent": 90.0,
                                            "small_n": True}}
    few = build_view(report, ward(), template_for(ward(), DEFAULT_CONFIG_DIR), number_=3, issue_date=date(2023, 3, 6),
                     public_url="https://hailong.example.vn/cong-khai/PHUHOI", parent_name="")
    assert "đạt 90,00% (9/10 câu trả lời; ít phiếu, tỷ lệ chỉ có giá trị tham khảo)" in few.sections[3].paragraphs[0]


def test_the_tt01_form_names_its_questions_by_their_legal_numbers() -> None:
    """TT 01/2018's form asks chỉ số 1, 3, 4 and 7 (domain notes §2.3); the notice numbered them 1–4 while its
    scores sentence cited "chỉ số 3, 4, 7", so "Tiêu chí 4" and "chỉ số 4" were two different questions."""
    options = [{"code": c, "label": label, "count": n, "percent": p} for c, label, n, p in (
        ("rat_hai_long", "Rất hài lòng", 20, 50.0), ("hai_long", "Hài lòng", 10, 25.0),
        ("khong_hai_long", "Không hài lòng", 10, 25.0))]
    criteria = [{"code": f"cs{i}", "label": label, "tt01_index": i, "n": 40, "options": options} for i, label in (
        (1, "Tổng thời gian giải quyết TTHC so với thời gian cho phép theo quy định của pháp luật"),
        (3, "Số lần phải liên hệ với nơi tiếp nhận hồ sơ để hoàn thiện hồ sơ TTHC"),
        (4, "Số lượng cơ quan, đơn vị, tổ chức phải liên hệ để hoàn thiện hồ sơ TTHC"),
        (7, "Thái độ của cán bộ, công chức, viên chức khi hướng dẫn lập hồ sơ, tiếp nhận hồ sơ và giải quyết TTHC"))]
    form = {"code": "tt01_2018", "version": "2018.1", "responses": 40, "label": "Chỉ số theo Thông tư 01/2018/TT-VPCP",
            "criteria": criteria}
    report = sample_report() | {"instruments": [form]}
    view = build_view(report, ward(), template_for(ward(), DEFAULT_CONFIG_DIR), number_=3, issue_date=date(2023, 3, 6),
                      public_url="https://hailong.example.vn/cong-khai/PHUHOI", parent_name="")
    rows = view.instruments[0].rows
    assert [row.index for row in rows] == ["1", "3", "4", "7"]
    assert rows[3].line.startswith("Chỉ số 7. Thái độ của cán bộ")
    assert view_of().instruments[0].rows[1].line.startswith("Tiêu chí 2. ")  # other forms number their questions


def test_every_channel_is_named_in_the_notice_with_its_proper_nouns() -> None:
    """The channels sentence names each channel in running text; Zalo (a brand) and ZNS keep their capitals: the
    notice printed "tin zalo (zns): 5" for the ratings given on the form opened from a Zalo invitation."""
    from aggregator.labels import CHANNEL_LABELS

    unit = ward()
    report = sample_report()
    report["channels"] = [{"code": channel.value, "label": label, "responses": n}
                          for n, (channel, label) in enumerate(CHANNEL_LABELS.items(), start=1)]
    report["responses"] = sum(c["responses"] for c in report["channels"])
    view = build_view(report, unit, template_for(unit, DEFAULT_CONFIG_DIR), number_=3, issue_date=date(2023, 3, 6),
                      public_url="https://hailong.example.vn/cong-khai/PHUHOI", parent_name="Quận Thuận Hóa")
    ballots = view.sections[1].paragraphs[0]
    assert ("21 phiếu (thiết bị đánh giá tại quầy: 1; tin nhắn SMS: 2; mã QR: 3; tin Zalo (ZNS): 4; phiếu giấy: 5; "
            "hệ thống một cửa điện tử: 6)") in ballots
    assert "zalo" not in ballots


@pytest.mark.parametrize(("start", "end", "words"), [
    ("2025-12-15", "2026-03-06", "từ ngày 15/12/2025 đến ngày 06/3/2026"),
    ("2026-07-26", "2026-08-25", "từ ngày 26/7/2026 đến ngày 25/8/2026"),
])
def test_a_period_that_is_no_calendar_quarter_is_written_once(start: str, end: str, words: str) -> None:
    """A range cut at a report date has no name but its dates: the opening printed them twice, "thủ tục hành chính
    từ ngày 15/12/2025 đến ngày 06/3/2026 (từ ngày 15/12/2025 đến ngày 06/3/2026) như sau"."""
    view = build_view(sample_report(start=start, end=end), ward(), template_for(ward(), DEFAULT_CONFIG_DIR),
                      number_=3, issue_date=date(2026, 9, 7), public_url="https://hailong.example.vn/cong-khai/PHUHOI",
                      parent_name="Quận Thuận Hóa")
    assert view.opening.endswith(f"giải quyết thủ tục hành chính {words} như sau:")
    assert view.opening.count(words) == 1
    quarter = view_of().opening  # a named period keeps its dates in brackets
    assert quarter.endswith("thủ tục hành chính quý I năm 2023 (từ ngày 01/01/2023 đến ngày 31/3/2023) như sau:")
