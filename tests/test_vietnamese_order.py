"""Vietnamese alphabetical order (``sipas.text.vietnamese_key``), without Flask: the letters a ă â b c d đ e ê g h i
k l m n o ô ơ p q r s t u ư v x y, then the tones, case-insensitive, composed and decomposed alike."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from sipas.text import vietnamese_key


def _sorted(names: list[str]) -> list[str]:
    return sorted(names, key=vietnamese_key)


def test_d_with_stroke_sorts_after_d_not_after_every_letter() -> None:
    assert _sorted(["Xây dựng", "Hộ tịch", "Đất đai", "Dân tộc", "Giáo dục"]) == [
        "Dân tộc", "Đất đai", "Giáo dục", "Hộ tịch", "Xây dựng"]
    assert sorted(["Hộ tịch", "Đất đai"]) == ["Hộ tịch", "Đất đai"]  # what code points gave


def test_the_letters_with_marks_follow_their_letter() -> None:
    assert _sorted(["Ư", "Uống", "Ơn", "Ô tô", "Ong", "Âm", "Ăn", "An", "Êm", "Em", "Bắc"]) == [
        "An", "Ăn", "Âm", "Bắc", "Em", "Êm", "Ong", "Ô tô", "Ơn", "Uống", "Ư"]
    assert _sorted(["Lâm nghiệp", "Lao động", "Lạc"]) == ["Lạc", "Lao động", "Lâm nghiệp"]  # â after every a


def test_tones_are_a_secondary_key_in_dictionary_order() -> None:
    assert _sorted(["mạ", "má", "mã", "mả", "mà", "ma"]) == ["ma", "mà", "mả", "mã", "má", "mạ"]
    assert _sorted(["mạc", "mab"]) == ["mab", "mạc"]  # the letters first, the tone only between equal letters
    assert _sorted(["Hồ", "Hô", "Hổ", "Hộ", "Hố", "Hỗ"]) == ["Hô", "Hồ", "Hổ", "Hỗ", "Hố", "Hộ"]


def test_case_insensitive_with_a_stable_order_between_cases() -> None:
    assert _sorted(["đất đai", "Dân tộc", "ĐẤT ĐAI X", "dân"]) == ["dân", "Dân tộc", "đất đai", "ĐẤT ĐAI X"]
    assert vietnamese_key("Hộ tịch")[:2] == vietnamese_key("HỘ TỊCH")[:2]
    assert _sorted(["hộ tịch", "Hộ tịch"]) == _sorted(["Hộ tịch", "hộ tịch"])


def test_a_shorter_name_and_spaces_and_digits_come_first() -> None:
    assert _sorted(["Đất đai", "Đất", "Đấtx"]) == ["Đất", "Đất đai", "Đấtx"]
    assert _sorted(["Quầy B", "Quầy 2", "Quầy A"]) == ["Quầy 2", "Quầy A", "Quầy B"]


VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyAĂÂĐÊÔƠƯáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
NAMES = st.text(alphabet=st.sampled_from(VIETNAMESE + " -.0123456789") | st.characters(codec="utf-8"), max_size=30)


@settings(max_examples=300)
@given(NAMES)
def test_composed_and_decomposed_give_the_same_key(name: str) -> None:
    assert vietnamese_key(unicodedata.normalize("NFD", name)) == vietnamese_key(unicodedata.normalize("NFC", name))


@settings(max_examples=300)
@given(st.lists(NAMES, max_size=8))
def test_a_total_order(names: list[str]) -> None:
    """Equal keys only for the same composed text: the order never depends on the input's order."""
    once = [unicodedata.normalize("NFC", n) for n in _sorted(names)]
    assert [unicodedata.normalize("NFC", n) for n in _sorted(list(reversed(names)))] == once
    assert once == [vietnamese_key(n)[2] for n in once]
