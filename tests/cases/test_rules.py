"""The follow-up case rules, without a database or Flask."""

from __future__ import annotations

from datetime import date

import pytest

from sipas.cases.models import CaseStatus
from sipas.cases.rules import (
    CaseFacts,
    age_days,
    asks_for_action,
    can_move,
    check_due_days,
    due_date,
    index8,
    is_overdue,
)

TODAY = date(2026, 4, 20)


@pytest.mark.parametrize("comment", [
    "Đề nghị bố trí thêm ghế chờ", "de nghi bo tri them ghe", "Cán bộ hẹn lại nhiều lần", "Trả kết quả chậm quá",
    "Mong phường cải thiện chỗ để xe", "Tôi muốn khiếu nại về thái độ", "Hồ sơ bị sai tên, phải đi lại",
    "Chưa được hướng dẫn rõ ràng", "Trả kết quả trễ hẹn", "Cán bộ thái độ không tốt", "Xin cho hỏi lệ phí bao nhiêu",
    "Thái độ cáu gắt", "Cán bộ làm việc chậm", "Tôi phàn nàn về việc xếp hàng", "Xin cảm ơn, nhưng đề nghị bớt giấy tờ",
])
def test_a_comment_asking_for_action_is_recognised(comment):
    assert asks_for_action(comment)


@pytest.mark.parametrize("comment", [None, "", "   ", "Cảm ơn cán bộ rất nhiệt tình", "Tốt", "Rất hài lòng",
                                     "cam on nhieu", "Cảm ơn lời hướng dẫn tận tình",
                                     # these opened cases (index 8 lost its points when nobody "answered" them,
                                     # and QĐ 766 would count them as petitions): "xin", "chăm", "trẻ", "thái độ",
                                     # "phàn nàn" read without their context
                                     "Xin cảm ơn cán bộ", "Cán bộ chăm chỉ, nhiệt tình", "Cán bộ trẻ, nhiệt tình",
                                     "Thái độ phục vụ rất tốt", "Rất hài lòng, không có gì phàn nàn",
                                     "xin chan thanh cam on", "Không có ý kiến gì"])
def test_thanks_and_praise_ask_for_nothing(comment):
    assert not asks_for_action(comment)


def test_due_date_and_unit_setting():
    assert due_date(date(2026, 4, 1), 10) == date(2026, 4, 11)
    assert check_due_days(15) == 15
    for bad in (None, 0, 91, "10", True, -3):
        assert check_due_days(bad) == 10


def test_statuses_move_forward_and_an_answer_can_be_reopened_but_a_closed_case_is_final():
    assert can_move(CaseStatus.OPEN, CaseStatus.IN_PROGRESS) and can_move(CaseStatus.IN_PROGRESS, CaseStatus.ANSWERED)
    assert can_move(CaseStatus.ANSWERED, CaseStatus.CLOSED) and can_move(CaseStatus.ANSWERED, CaseStatus.IN_PROGRESS)
    assert not can_move(CaseStatus.IN_PROGRESS, CaseStatus.OPEN)
    assert not any(can_move(CaseStatus.CLOSED, target) for target in CaseStatus)


def test_overdue_and_age():
    due = date(2026, 4, 10)
    assert is_overdue(CaseStatus.OPEN, None, due, TODAY) and is_overdue(CaseStatus.IN_PROGRESS, None, due, TODAY)
    assert not is_overdue(CaseStatus.OPEN, None, due, due)  # due today: not yet late
    assert not is_overdue(CaseStatus.ANSWERED, date(2026, 4, 12), due, TODAY)
    assert not is_overdue(CaseStatus.CLOSED, None, due, TODAY)
    assert age_days(date(2026, 4, 1), None, TODAY) == 19 and age_days(date(2026, 4, 1), date(2026, 4, 3), TODAY) == 2


def _answered(on_time: bool) -> CaseFacts:
    return CaseFacts(CaseStatus.ANSWERED, date(2026, 4, 10), date(2026, 4, 9 if on_time else 11))


def test_index8_thresholds_of_tt01_2018():
    # no case at all, or every decided case answered on time: 2 points
    assert (index8([], TODAY).option, index8([], TODAY).points) == ("khong_co_hoac_du", 2)
    assert index8([_answered(True)] * 5, TODAY).points == 2
    # 9 of 10 on time = 90 %: 1 point; 8 of 9 = 88.9 %: 0 points
    nine = index8([_answered(True)] * 9 + [_answered(False)], TODAY)
    assert (nine.option, nine.points, nine.on_time, nine.decided, nine.on_time_percent) == ("tu_90", 1, 9, 10, 90)
    assert index8([_answered(True)] * 8 + [_answered(False)], TODAY).option == "duoi_90"
    # one case unanswered past its due date ("còn tồn đọng"): 0 points whatever the rate
    backlog = index8([_answered(True)] * 20 + [CaseFacts(CaseStatus.OPEN, date(2026, 4, 10), None)], TODAY)
    assert (backlog.points, backlog.outstanding, backlog.decided) == (0, 1, 21)
    # a case still within its due date is not judged yet; a case closed without an answer counts, never on time
    pending = index8([_answered(True), CaseFacts(CaseStatus.IN_PROGRESS, date(2026, 4, 30), None)], TODAY)
    assert (pending.points, pending.cases, pending.decided) == (2, 2, 1)
    closed = index8([_answered(True)] * 9 + [CaseFacts(CaseStatus.CLOSED, date(2026, 4, 10), None)], TODAY)
    assert (closed.points, closed.decided, closed.on_time) == (1, 10, 9)
