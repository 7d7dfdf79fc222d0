"""Folding Vietnamese text: the per-character table (``sipas.text.strip_diacritics``) gives what decomposing the
whole string gives, and the one-pass action check what one search per phrase gives."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from sipas.cases.rules import ACTION_WORDS, asks_for_action
from sipas.text import fold, strip_diacritics

VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyAĂÂĐÊÔƠƯáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
TEXT = st.text(alphabet=st.sampled_from(VIETNAMESE + " ,.!?0123456789\u0301\u0323\u0309") | st.characters(
    codec="utf-8", categories=["L", "M", "N", "P", "Z"]), max_size=60)


def _whole_string(text: str) -> str:
    """The definition: decompose the whole text, drop the marks."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


@settings(max_examples=400)
@given(TEXT)
def test_the_character_table_strips_as_the_whole_string_does(text: str) -> None:
    assert strip_diacritics(text) == _whole_string(text)


@settings(max_examples=400)
@given(st.lists(st.sampled_from([*ACTION_WORDS, "cảm ơn", "rất tốt", "nhanh", "đề", "nghị", "chậm", "trễ hẹn",
                                 "SAI", "xin-lỗi", "...", "d e nghi"]), max_size=8).map(" ".join))
def test_one_pass_finds_what_one_search_per_phrase_finds(comment: str) -> None:
    words = f" {fold(comment)} "
    assert asks_for_action(comment) == any(f" {phrase} " in words for phrase in ACTION_WORDS)


def test_known_folds() -> None:
    assert fold("Mã hồ sơ") == "ma ho so" and fold("ĐỀ NGHỊ xử lý") == "de nghi xu ly"
    assert strip_diacritics("Nguyễn Thị Ánh") == "Nguyen Thi Anh" and strip_diacritics("e\u0301") == "e"
