"""The reply parser: a table of real-looking messages, merging partial answers, and no input raises."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipas.catalogue import NOT_APPLICABLE
from sms_gateway.replies import ParsedReply, ReplyKind, merge_ratings, parse_reply, positions

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
    ("230301-0001, 1 1", ParsedReply(R, (1, 1), dossier_code="230301-0001")),
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
])
def test_parse_reply(text: str, expected: ParsedReply) -> None:
    assert parse_reply(text) == expected


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
    parsed = parse_reply(text, opt_out_type=opt_out_type)
    assert parsed.kind in ReplyKind
    assert all(0 <= r <= 3 for r in parsed.ratings)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from("0123 ,.-/\n"), max_size=60).map("".join))
def test_digit_soup_is_ratings_or_help(text: str) -> None:
    parsed = parse_reply(text)
    digits = [int(ch) for ch in text if ch.isdigit()]
    assert parsed.kind in (ReplyKind.RATINGS, ReplyKind.HELP)
    if parsed.kind is ReplyKind.RATINGS and parsed.dossier_code is None:
        assert list(parsed.ratings) == digits
