"""Encoding arithmetic and template validation (what the template editor shows)."""

from __future__ import annotations

import pytest

from sms_gateway.encoding import GSM7, UCS2, analyse, unaccent
from sms_gateway.links import CODE_LENGTH
from sms_gateway.templates_text import (
    DEFAULTS,
    SAMPLE_LINK_CODE,
    abbreviate_unit,
    check_template,
    fit_message,
    render,
    sample_values,
)


@pytest.mark.parametrize(("text", "encoding", "units", "segments"), [
    ("", GSM7, 0, 0),
    ("a" * 160, GSM7, 160, 1),
    ("a" * 161, GSM7, 161, 2),
    ("a" * 306, GSM7, 306, 2),
    ("a" * 307, GSM7, 307, 3),
    ("{" * 80, GSM7, 160, 1),  # extension characters cost two septets
    ("€" + "a" * 159, GSM7, 161, 2),
    ("ờ" * 70, UCS2, 70, 1),
    ("ờ" + "a" * 70, UCS2, 71, 2),
    ("a" * 134 + "ệ", UCS2, 135, 3),
    ("😀" * 35, UCS2, 70, 1),  # surrogate pairs count twice
])
def test_analyse(text: str, encoding: str, units: int, segments: int) -> None:
    info = analyse(text)
    assert (info.encoding, info.units, info.segments) == (encoding, units, segments)


def test_unaccent_keeps_gsm7() -> None:
    assert unaccent("Ủy ban nhân dân Phường Phú Hội – “Đẹp”") == 'Uy ban nhan dan Phuong Phu Hoi - "Dep"'
    assert analyse(unaccent("Đánh giá mức độ hài lòng")).encoding == GSM7


VALUES = sample_values(unit_name="UBND Phường Vĩnh Ninh", public_base_url="https://danhgia.vinhninh.hue.gov.vn",
                       brandname="UBNDVINHNINH")


@pytest.mark.parametrize("kind", sorted(DEFAULTS))
def test_every_default_fits_one_gsm7_segment(kind: str) -> None:
    check = check_template(kind, DEFAULTS[kind], VALUES, max_segments=1)
    assert check.ok, check.errors
    assert check.info.encoding == GSM7 and check.info.segments == 1


def test_gsm7_template_unaccents_the_values_it_receives() -> None:
    assert render("{don_vi}: HS {ma_ho_so}", {"don_vi": "UBND Phường Vĩnh Ninh", "ma_ho_so": "A1"}) == \
        "UBND Phuong Vinh Ninh: HS A1"
    assert render("{don_vi} mời đánh giá", {"don_vi": "Phường Vĩnh Ninh"}) == "Phường Vĩnh Ninh mời đánh giá"


def test_a_template_over_the_segment_limit_is_refused_with_a_reason() -> None:
    text = "{don_vi} trân trọng mời Ông/Bà đánh giá mức độ hài lòng với hồ sơ {ma_ho_so} tại {link}"
    check = check_template("invitation", text, VALUES, max_segments=1)
    assert not check.ok and check.info.encoding == UCS2 and check.info.segments == 3
    assert any("quá dài" in e and "UCS-2" in e and "không dấu" in e for e in check.errors)
    assert check_template("invitation", text, VALUES, max_segments=3).ok


def test_unknown_placeholders_missing_link_and_broken_braces_are_refused() -> None:
    check = check_template("invitation", "Moi danh gia {ten} {link", VALUES, max_segments=1)
    assert any("{ten}" in e for e in check.errors)
    assert any("{link}" in e for e in check.errors)
    assert any("ngoặc nhọn" in e for e in check.errors)
    assert not check_template("invitation", "   ", VALUES, max_segments=1).ok


VINH_NINH = "Ủy ban nhân dân phường Vĩnh Ninh"
LONG_BASE = "https://danhgiahailong.vinhninh.hue.gov.vn"


@pytest.mark.parametrize(("name", "short"), [
    (VINH_NINH, "UBND P. Vĩnh Ninh"),
    ("Uỷ ban nhân dân Thị trấn Phú Bài", "UBND TT. Phú Bài"),
    ("Trung tâm Phục vụ hành chính công phường Phú Hội", "TTPVHCC P. Phú Hội"),
    ("UBND xã Hương Phong", "UBND xã Hương Phong"),
])
def test_abbreviate_unit(name: str, short: str) -> None:
    assert abbreviate_unit(name) == short


def test_the_sample_link_is_as_long_as_a_real_one() -> None:
    assert len(SAMPLE_LINK_CODE) == CODE_LENGTH


def test_a_message_too_long_with_the_full_unit_name_is_shortened_to_fit() -> None:
    values = sample_values(unit_name=VINH_NINH, public_base_url=LONG_BASE, brandname="UBND")
    full = render(DEFAULTS["invitation"], values)
    assert (len(full), analyse(full).segments) == (175, 2)
    fitted = fit_message(DEFAULTS["invitation"], values, max_segments=1, brandname="UBND")
    assert fitted.fits and fitted.shortened and fitted.unit_name == "UBND P. Vĩnh Ninh"
    assert fitted.text.startswith("UBND P. Vinh Ninh: HS ") and fitted.info.segments == 1
    assert fitted.text == full.replace("Uy ban nhan dan phuong", "UBND P.")


def test_the_brandname_is_the_last_resort_and_then_nothing_fits() -> None:
    base = "https://" + "d" * 40 + ".gov.vn"
    values = sample_values(unit_name=VINH_NINH, public_base_url=base, brandname="UBND")
    fitted = fit_message(DEFAULTS["invitation"], values, max_segments=1, brandname="UBND")
    assert fitted.fits and fitted.unit_name == "UBND" and fitted.info.characters == 160
    longer = sample_values(unit_name=VINH_NINH, public_base_url=base + "x", brandname="UBND")
    too_long = fit_message(DEFAULTS["invitation"], longer, max_segments=1, brandname="UBND")
    assert not too_long.fits and too_long.unit_name == VINH_NINH and too_long.info.segments == 2
    assert fit_message(DEFAULTS["invitation"], longer, max_segments=2, brandname="UBND").fits


def test_the_editor_warns_when_only_the_shortened_name_fits_and_refuses_when_nothing_does() -> None:
    values = sample_values(unit_name=VINH_NINH, public_base_url=LONG_BASE, brandname="UBND")
    shortened = check_template("invitation", DEFAULTS["invitation"], values, max_segments=1, brandname="UBND")
    assert shortened.ok and not shortened.too_long and shortened.info.segments == 2
    (warning,) = shortened.warnings
    assert "175 ký tự" in warning and "“UBND P. Vĩnh Ninh”" in warning and "1 tin nhắn" in warning
    long_text = DEFAULTS["invitation"] + " Xin chan thanh cam on Ong/Ba da su dung dich vu cong truc tuyen."
    refused = check_template("invitation", long_text, values, max_segments=1, brandname="UBND")
    assert not refused.ok and refused.too_long and refused.warnings == []
    assert any("kể cả khi viết tắt tên đơn vị" in e and "không được gửi" in e for e in refused.errors)
