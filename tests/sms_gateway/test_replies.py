"""The reply parser: a table of real-looking messages, merging partial answers, and no input raises."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipas.catalogue import NOT_APPLICABLE
from sms_gateway import replies
from sms_gateway.replies import (
    ParsedReply,
    ReplyKind,
    after_code,
    classify_reply,
    merge_ratings,
    parse_reply,
    positions,
)

R = ReplyKind.RATINGS


@pytest.mark.parametrize(("text", "expected"), [
    ("1 1 1 2 1 1 1 1 1 1 3 0", ParsedReply(R, (1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 3, 0))),
    ("111211111130", ParsedReply(R, (1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 3, 0))),
    ("1,1,1;2.1-1/1 1_1\n1 3 0", ParsedReply(R, (1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 3, 0))),
    ("  2 2 2 ", ParsedReply(R, (2, 2, 2))),
    ("Rất hài lòng", ParsedReply(R, (1,))),
    ("rat hai long, hai long, khong hai long, không áp dụng", ParsedReply(R, (1, 2, 3, 0))),
    ("KHÔNG HÀI LÒNG", ParsedReply(R, (3,))),
    ("chua hai long", ParsedReply(R, (3,))),
    ("hài lòng 1 2", ParsedReply(R, (2, 1, 2))),
    ("000.00.20.H57-260105-0001 1 1 1 1 1 1 1 1 1 1 1 1",
     ParsedReply(R, (1,) * 12, dossier_code="000.00.20.H57-260105-0001")),
    ("HS-B-0002: 1 2 3", ParsedReply(R, (1, 2, 3), dossier_code="HS-B-0002")),
    ("230301-0001, 1 1", ParsedReply(R, (1, 1), dossier_code="230301-0001",
                                     without_code=(2, 3, 0, 3, 0, 1, 0, 0, 0, 1, 1, 1))),
    # grouped digits are ratings, not a dossier code
    ("111-211 111-130", ParsedReply(R, (1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 3, 0))),
    ("11-12 11 11 11 30", ParsedReply(R, (1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 3, 0))),
    ("11.12.11 11.11.11", ParsedReply(R, (1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1))),
    ("1111-2111 1130", ParsedReply(R, (1, 1, 3, 0), dossier_code="1111-2111",  # long enough to be a code:
                                   without_code=(1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 3, 0))),  # the caller chooses
    # abbreviations of "không" are words of a rating, never a dossier code
    ("ko hai long", ParsedReply(R, (3,))),
    ("kg hai long", ParsedReply(R, (3,))),
    ("k hai long", ParsedReply(R, (3,))),
    ("KO HÀI LÒNG, hai long, ko ap dung", ParsedReply(R, (3, 2, 0))),
    ("khg hai long 1", ParsedReply(R, (3, 1))),
    ("ko 1 1", ParsedReply(ReplyKind.HELP)),
    ("k", ParsedReply(ReplyKind.HELP)),
    ("TC", ParsedReply(ReplyKind.OPT_OUT)),
    ("tc", ParsedReply(ReplyKind.OPT_OUT)),
    ("HUY", ParsedReply(ReplyKind.OPT_OUT)),
    ("Hủy", ParsedReply(ReplyKind.OPT_OUT)),
    ("stop", ParsedReply(ReplyKind.OPT_OUT)),
    ("Từ chối", ParsedReply(ReplyKind.OPT_OUT)),
    ("BATDAU", ParsedReply(ReplyKind.OPT_IN)),
    ("bắt đầu", ParsedReply(ReplyKind.OPT_IN)),
    ("START", ParsedReply(ReplyKind.OPT_IN)),
    ("HD", ParsedReply(ReplyKind.HELP)),
    ("", ParsedReply(ReplyKind.HELP)),
    ("Cho hỏi khi nào có kết quả?", ParsedReply(ReplyKind.HELP)),
    ("1 1 4", ParsedReply(ReplyKind.HELP)),
    ("9", ParsedReply(ReplyKind.HELP)),
    ("cảm ơn", ParsedReply(ReplyKind.HELP)),
    # full-width digits (a phone's Vietnamese or Asian keyboard) are digits: one was dropped, moving the rest up
    ("１ １ ２ １ １ １ １ １ １ １ ３ ０", ParsedReply(R, (1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 3, 0))),
    ("1 1 ２ 1 1 1 1 1 1 1 3 0", ParsedReply(R, (1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 3, 0))),
    # a courtesy word before the ratings is not a dossier code (it answered "Ông/Bà có nhiều hồ sơ")
    ("Dạ, 1 1 1 2 1 1 1 1 1 1 3 0", ParsedReply(R, (1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 3, 0))),
    ("Ok 111211111130", ParsedReply(R, (1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 3, 0))),
    ("Vâng: 1 1 1", ParsedReply(R, (1, 1, 1))),
    ("Đánh giá: 1 2 3", ParsedReply(R, (1, 2, 3))),
    ("Dạ HS-B-0002: 1 2 3", ParsedReply(R, (1, 2, 3), dossier_code="HS-B-0002")),
    ("Xin chào", ParsedReply(ReplyKind.HELP)),
    ("Abc 1 1 1", ParsedReply(ReplyKind.HELP)),  # letters without a digit are no dossier code
    # the ways to say "stop sending" that people and carriers use, the help SMS's own "Ngung nhan tin" among them
    ("Ngung nhan tin", ParsedReply(ReplyKind.OPT_OUT)),
    ("Ngừng nhận tin", ParsedReply(ReplyKind.OPT_OUT)),
    ("HUY DK", ParsedReply(ReplyKind.OPT_OUT)),
    ("Hủy ĐK", ParsedReply(ReplyKind.OPT_OUT)),
    ("Từ chối nhận tin", ParsedReply(ReplyKind.OPT_OUT)),
    ("Không nhận tin nữa", ParsedReply(ReplyKind.OPT_OUT)),
])
def test_parse_reply(text: str, expected: ParsedReply) -> None:
    assert parse_reply(text) == expected


@pytest.mark.parametrize(("text", "code", "rest"), [
    ("HS-B-0002: 1 2", "HS-B-0002", "1 2"),
    ("  hs-b-0002 1 2", "HS-B-0002", "1 2"),
    ("12-34,1 1", "12-34", "1 1"),
    ("HS-B-00021 1", "HS-B-0002", None),
    ("1 1 1", "HS-B-0002", None),
    ("HS-B-0002", "HS-B-0002", ""),
])
def test_after_code(text: str, code: str, rest: str | None) -> None:
    assert after_code(text, code) == rest


def test_twilio_opt_out_type_wins_over_the_text() -> None:
    assert parse_reply("ngừng đi mà", opt_out_type="STOP").kind is ReplyKind.OPT_OUT
    assert parse_reply("unstop", opt_out_type="START").kind is ReplyKind.OPT_IN
    assert parse_reply("info", opt_out_type="HELP").kind is ReplyKind.HELP


@pytest.fixture(scope="module")
def hue12(catalogue):  # type: ignore[no-untyped-def]
    return catalogue.current("hue12", date(2026, 1, 7)).citizen_criteria


def test_full_reply_maps_digits_to_options_by_position(hue12) -> None:  # type: ignore[no-untyped-def]
    merged = merge_ratings(hue12, {}, (1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 3, 0))
    assert merged.complete
    assert merged.answers["tc01"] == "rat_hai_long" and merged.answers["tc04"] == "hai_long"
    assert merged.answers["tc11"] == "khong_hai_long" and merged.answers["tc12"] == NOT_APPLICABLE


def test_partial_replies_continue_and_zero_is_refused_where_not_applicable_is_not_allowed(hue12) -> None:  # type: ignore[no-untyped-def]
    first = merge_ratings(hue12, {}, (0, 2, 2))
    assert [c.code for c in first.refused_na] == ["tc01"]
    assert positions(hue12, first.missing) == "1, 4, 5, 6, 7, 8, 9, 10, 11, 12"
    second = merge_ratings(hue12, first.answers, (1,) * 10)
    assert second.complete and second.answers["tc01"] == "rat_hai_long" and second.answers["tc02"] == "hai_long"
    assert merge_ratings(hue12, first.answers, (1,) * 11).too_many
    restart = merge_ratings(hue12, first.answers, (3,) * 12)
    assert restart.complete and set(restart.answers.values()) == {"khong_hai_long"}


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300), st.one_of(st.none(), st.sampled_from(["STOP", "START", "HELP", "", "x"])))
def test_no_input_raises(text: str, opt_out_type: str | None) -> None:
    parsed = classify_reply(text, opt_out_type=opt_out_type)  # the body, without parse_reply's safety net
    assert parsed.kind in ReplyKind
    assert all(0 <= r <= 3 for r in parsed.ratings)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from("0123 ,.-/\n"), max_size=60).map("".join))
def test_digit_soup_is_ratings_or_help(text: str) -> None:
    parsed = classify_reply(text)
    digits = tuple(int(ch) for ch in text if ch.isdigit())
    assert parsed.kind is (ReplyKind.RATINGS if digits else ReplyKind.HELP)
    if parsed.dossier_code is None:
        assert parsed.ratings == digits
    else:  # a long digit group may be a dossier code; the reading without it is kept
        assert sum(ch.isdigit() for ch in parsed.dossier_code) >= replies.CODE_MIN_DIGITS
        assert parsed.without_code == digits


def test_the_safety_net_answers_help_and_logs_without_the_text(monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    def broken(text, *, opt_out_type=None):  # type: ignore[no-untyped-def]
        raise ValueError(f"cannot read {text}")

    monkeypatch.setattr(replies, "classify_reply", broken)
    assert parse_reply("1 1 1 bí mật", opt_out_type=None) == ParsedReply(ReplyKind.HELP)
    (record,) = caplog.records
    assert "ValueError" in record.getMessage() and "bí mật" not in record.getMessage()
