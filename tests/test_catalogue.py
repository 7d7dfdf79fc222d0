"""The criterion sets ship exactly as in the domain notes and bad data is refused at start-up."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from sipas.catalogue import CatalogueError, load_catalogue
from sipas.settings import DEFAULT_CONFIG_DIR

HUE12_LABELS = [
    "Đánh giá tổng thể dịch vụ",
    "Mức độ thuận tiện khi sử dụng dịch vụ (dịch vụ dễ sử dụng, thời gian đáp ứng của dịch vụ khi giao tiếp, "
    "xử lý dữ liệu)",
    "Mức độ đúng hạn trong xử lý, trả kết quả của cơ quan nhà nước",
    "Thái độ của cán bộ, công chức, viên chức (mức độ nhiệt tình, thái độ nhũng nhiễu, gây phiền hà, cách giao "
    "tiếp của cán bộ, công chức khi hướng dẫn, xử lý hồ sơ)",
    "Thời gian giải quyết thủ tục hành chính so với thời gian cho phép theo quy định của pháp luật",
    "Thời gian thực hiện giải quyết so với quy định",
    "Số lần phải liên hệ với nơi tiếp nhận hồ sơ để hoàn thiện hồ sơ thủ tục hành chính",
    "Số lượng cơ quan, đơn vị, tổ chức phải liên hệ để hoàn thiện hồ sơ thủ tục hành chính",
    "Thực hiện tổ chức tiếp nhận hồ sơ, giải quyết, trả kết quả tại Bộ phận Một cửa",
    "Mức độ công khai các thủ tục hành chính",
    "Tiếp thu, giải trình đối với các ý kiến phản ánh, kiến nghị của tổ chức, cá nhân",
    "Tiến độ và chất lượng cung cấp dịch vụ công trực tuyến của cơ quan có thẩm quyền",
]


def test_hue12_is_the_legal_wording_with_2_1_0_points(catalogue):
    hue12 = catalogue.current("hue12", date(2026, 1, 1))
    assert [c.label for c in hue12.criteria] == HUE12_LABELS
    for criterion in hue12.criteria:
        assert [(o.label, o.points) for o in criterion.options] == [
            ("Rất hài lòng", 2), ("Hài lòng", 1), ("Không hài lòng", 0)]
    assert {c.code: c.tt01_index for c in hue12.criteria if c.tt01_index} == {
        "tc04": 7, "tc05": 1, "tc06": 2, "tc07": 3, "tc08": 4, "tc09": 5, "tc10": 6, "tc11": 8, "tc12": 9}


def test_quay4_has_question_specific_options(catalogue):
    quay4 = catalogue.current("quay4", date(2026, 1, 1))
    assert [c.label for c in quay4.criteria] == [
        "Nơi đón tiếp", "Thái độ, hướng dẫn, tiếp nhận và trả kết quả",
        "Thời gian xử lý, hoàn trả kết quả thủ tục hành chính", "Hồ sơ thủ tục hành chính cần giải quyết"]
    assert [o.label for o in quay4.criteria[2].options] == [
        "Đúng hẹn", "Chậm hẹn nhưng chấp nhận được", "Không đúng hẹn"]
    assert [o.label for o in quay4.criteria[3].options] == ["Đơn giản", "Cần giảm giấy tờ", "Phức tạp"]


def test_tt01_citizens_answer_indices_1_3_4_7(catalogue):
    tt01 = catalogue.current("tt01_2018", date(2026, 1, 1))
    assert [c.tt01_index for c in tt01.citizen_criteria] == [1, 3, 4, 7]
    assert len(tt01.criteria) == 9


@pytest.mark.parametrize(("total", "label"), [
    (18, "xuất sắc"), (15, "xuất sắc"), (14.9, "tốt"), (12, "tốt"), (11.9, "khá"), (9, "khá"),
    (8.9, "trung bình"), (6, "trung bình"), (5.9, "yếu"), (0, "yếu")])
def test_classes_have_inclusive_lower_bounds(catalogue, total, label):
    assert catalogue.scoring.classify(total).label == label


def _copy_config(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, target)
    return target


def test_a_new_version_takes_effect_without_touching_the_old_one(tmp_path):
    config = _copy_config(tmp_path)
    text = (config / "instruments" / "hue12.v2018.toml").read_text(encoding="utf-8")
    text = text.replace('version = "2018.1"', 'version = "2026.1"').replace(
        "effective_from = 2018-01-01", "effective_from = 2026-07-01").replace('"Không hài lòng"', '"Chưa hài lòng"')
    (config / "instruments" / "hue12.v2026.toml").write_text(text, encoding="utf-8")
    catalogue = load_catalogue(config)
    assert catalogue.current("hue12", date(2026, 6, 30)).criteria[0].options[2].label == "Không hài lòng"
    assert catalogue.current("hue12", date(2026, 7, 1)).criteria[0].options[2].label == "Chưa hài lòng"
    assert catalogue.version("hue12", "2018.1").version == "2018.1"


@pytest.mark.parametrize(("old", "new", "message"), [
    ("points = 2", "points = -2", "points = -2 — phải là số nguyên từ 0 trở lên"),
    ('code = "tc02"', 'code = "tc01"', "mã tiêu chí tc01 có hai lần"),
    ("effective_from = 2018-01-01", 'effective_from = "hôm qua"', "effective_from = 'hôm qua' — phải là ngày"),
    ("tt01_index = 7\n", "", "có tt01_note nhưng thiếu tt01_index"),  # issue 11 §3: a note without its mapping
])
def test_inconsistent_data_is_refused(tmp_path, old, new, message):
    config = _copy_config(tmp_path)
    path = config / "instruments" / "hue12.v2018.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    with pytest.raises(CatalogueError, match=message):
        load_catalogue(config)


def test_which_answers_count_as_dissatisfied_and_which_criteria_as_satisfaction(catalogue):
    on = date(2026, 1, 1)
    hue12, quay4, tt01 = (catalogue.current(code, on) for code in ("hue12", "quay4", "tt01_2018"))
    assert all(c.satisfaction and c.dissatisfied_codes == ("khong_hai_long",) for c in hue12.criteria)
    assert {c.code: (c.satisfaction, c.dissatisfied_codes) for c in quay4.criteria} == {
        "q1": (True, ("khong_hai_long",)), "q2": (True, ("khong_hai_long",)),
        "q3": (False, ("khong_dung_hen",)),  # "Chậm hẹn nhưng chấp nhận được" is accepted, "Không đúng hẹn" is not
        "q4": (False, ())}  # "Phức tạp" judges the procedure, not the ward
    assert {c.code: (c.satisfaction, c.dissatisfied_codes) for c in tt01.criteria if c.satisfaction
            or c.dissatisfied_codes} == {"cs7": (True, ("khong_hai_long",))}  # "Trễ hẹn", "Trên 1 lần": facts
    assert len(catalogue.dissatisfied_answers()) == 12 + 3 + 1


@pytest.mark.parametrize(("path", "old", "new", "message"), [
    ("hue12", ", dissatisfied = true", "", r"cần ít nhất một phương án có dissatisfied = true"),
    ("hue12", "satisfaction = true", "", "thiếu satisfaction — ghi satisfaction = true"),
    ("hue12", "satisfaction = true", 'satisfaction = "có"', "satisfaction = 'có' — phải là true hoặc false"),
    ("hue12", "dissatisfied = true", 'dissatisfied = "yes"', "dissatisfied = 'yes' — phải là true hoặc false"),
    ("quay4", '{ code = "dung_hen", label = "Đúng hẹn", points = 2 },\n'
     '    { code = "cham_chap_nhan_duoc", label = "Chậm hẹn nhưng chấp nhận được", points = 1 },',
     '{ code = "dung_hen", label = "Đúng hẹn", points = 2, dissatisfied = true },\n'
     '    { code = "cham_chap_nhan_duoc", label = "Chậm hẹn nhưng chấp nhận được", points = 1, dissatisfied = true },',
     "mọi phương án đều có dissatisfied = true"),
    ("tt01_2018", 'source = "staff"', 'source = "staff"\nsatisfaction = true',
     r"chỉ tiêu chí người dân trả lời \(source = citizen\) mới được tính vào tỷ lệ hài lòng"),
    ("tt01_2018", 'points = 0 },\n]\n\n[[criteria]]\ncode = "cs6"',
     'points = 0, dissatisfied = true },\n]\n\n[[criteria]]\ncode = "cs6"',
     r"chỉ câu trả lời của người dân \(source = citizen\) mới được đánh dấu không hài lòng"),
])
def test_how_answers_are_read_is_checked_at_start_up(tmp_path, path, old, new, message):
    config = _copy_config(tmp_path)
    file = config / "instruments" / f"{path}.v2018.toml"
    text = file.read_text(encoding="utf-8")
    assert old in text
    file.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(CatalogueError, match=message):
        load_catalogue(config)


def test_index_mappings_of_other_forms_are_data_with_their_legal_note(catalogue):
    """Issue 11 §3: which question of another form counts for a TT 01/2018 index is in the criterion files."""
    hue12 = catalogue.current("hue12", date(2026, 1, 1))
    mapped = [c for c in hue12.citizen_criteria if c.tt01_index]
    assert mapped and all(c.tt01_note.startswith("Thông tư 01/2018/TT-VPCP, Điều 13, chỉ số") for c in mapped)
    assert str(hue12.criterion("tc07").tt01_index) in hue12.criterion("tc07").tt01_note
    quay4 = catalogue.current("quay4", date(2026, 1, 1))  # no quay4 question is the same as an index
    assert not any(c.tt01_index or c.tt01_note for c in quay4.criteria)


def test_every_citizen_question_has_a_plain_label_and_keeps_its_legal_wording(catalogue):
    on = date(2026, 1, 1)
    hue12, quay4, tt01 = (catalogue.current(code, on) for code in ("hue12", "quay4", "tt01_2018"))
    for instrument in (hue12, quay4, tt01):
        for criterion in instrument.citizen_criteria:
            assert criterion.citizen_label and criterion.asked_as == criterion.citizen_label
            assert criterion.citizen_label != criterion.label
    # 3, 5 and 6 read as one question in the legal text; the plain ones ask three different things
    asked = {c.code: c.citizen_label for c in hue12.criteria}
    assert len({asked["tc03"], asked["tc05"], asked["tc06"]}) == 3
    assert "ngày hẹn" in asked["tc03"] and "thời hạn pháp luật" in asked["tc05"] and "từng cơ quan" in asked["tc06"]
    # counts answered on the satisfaction scale say what a good answer is
    assert "càng ít" in asked["tc07"] and "càng ít" in asked["tc08"]
    assert quay4.criterion("q4").citizen_label.endswith("?")  # a question, not a bare noun
    assert hue12.criterion("tc01").label == "Đánh giá tổng thể dịch vụ"  # the legal wording is untouched


def test_a_plain_label_is_presentation_not_part_of_a_versions_record(tmp_path, catalogue):
    from sipas.instrument_records import asked_content

    config = _copy_config(tmp_path)
    path = config / "instruments" / "hue12.v2018.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('citizen_label = "Nhìn chung, ông/bà hài lòng thế nào với việc giải quyết hồ sơ này?"',
                                 'citizen_label = "Nhìn chung, ông/bà thấy thế nào?"'), encoding="utf-8")
    reworded = load_catalogue(config).version("hue12", "2018.1")
    assert reworded.criteria[0].citizen_label == "Nhìn chung, ông/bà thấy thế nào?"
    assert asked_content(reworded) == asked_content(catalogue.version("hue12", "2018.1"))


@pytest.mark.parametrize(("old", "new", "message"), [
    ('citizen_label = "Ông/bà đã phải liên hệ lại bao nhiêu lần để bổ sung, hoàn thiện hồ sơ?"', 'citizen_label = ""',
     "citizen_label = '' — phải là một câu hỏi, không để trống"),
    ('label = "Công khai các thủ tục hành chính"',
     'label = "Công khai các thủ tục hành chính"\ncitizen_label = "Có công khai không?"',
     r"citizen_label chỉ dành cho tiêu chí người dân trả lời \(source = citizen\)"),
])
def test_a_wrong_plain_label_is_refused_at_start_up(tmp_path, old, new, message):
    config = _copy_config(tmp_path)
    path = config / "instruments" / "tt01_2018.v2018.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(CatalogueError, match=message):
        load_catalogue(config)
