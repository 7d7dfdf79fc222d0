"""Follow-up cases in the database: the list and its filters, the actions and their trail, SMS replies, index 8."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from aggregator.inputs import QuarterFigures, save_quarter_input
from aggregator.report import build_report
from sipas.cases import service
from sipas.cases.models import CaseStatus, FollowUpCaseEvent
from sipas.cases.reply import reply_possibility, send_reply
from sipas.clock import Period
from sipas.errors import ValidationError
from sipas.models import AuditEvent, ResponseChannel
from tests.factories import TZ, answers_for, create_clerk, create_dossier, create_response, create_unit, local

NOW = local(2026, 4, 20, 10)
TODAY = NOW.astimezone(TZ).date()


def _unhappy(catalogue, criterion: str = "tc04") -> dict[str, str]:  # type: ignore[no-untyped-def]
    return answers_for(catalogue, on=NOW) | {criterion: "khong_hai_long"}


@pytest.fixture
def ward(session, catalogue):  # type: ignore[no-untyped-def]
    unit = create_unit(session, allow_anonymous=True)
    happy = create_response(session, catalogue, unit, submitted_at=local(2026, 4, 1), comment="Cảm ơn", now=NOW)
    unhappy = create_response(session, catalogue, unit, answers=_unhappy(catalogue), submitted_at=local(2026, 4, 2),
                              now=NOW)
    asks = create_response(session, catalogue, unit, channel=ResponseChannel.PAPER, submitted_at=local(2026, 4, 15),
                           comment="Đề nghị bố trí thêm ghế ở chỗ chờ", now=NOW)
    old = create_response(session, catalogue, unit, answers=_unhappy(catalogue, "tc01"),
                          submitted_at=local(2026, 3, 30), now=NOW)
    session.flush()
    return unit, happy, unhappy, asks, old


def _ids(rows) -> list[int]:  # type: ignore[no-untyped-def]
    return [r.response.id for r in rows]


def test_the_list_holds_dissatisfied_and_action_comments_with_filters(session, catalogue, ward):
    unit, _happy, unhappy, asks, old = ward
    rows = service.list_cases(session, catalogue, [unit.id], service.CaseFilters(), tz=TZ, today=TODAY)
    assert _ids(rows) == [old.id, unhappy.id, asks.id]  # by due date; praise is not a case
    by_id = {r.response.id: r for r in rows}
    assert by_id[unhappy.id].dissatisfied == ("tc04",) and not by_id[unhappy.id].asks_for_action
    assert by_id[asks.id].asks_for_action and by_id[asks.id].dissatisfied == ()
    assert (by_id[unhappy.id].due.isoformat(), by_id[unhappy.id].age_days, by_id[unhappy.id].overdue) == \
        ("2026-04-12", 18, True)
    assert not by_id[asks.id].overdue and by_id[asks.id].status is CaseStatus.OPEN

    def listed(**filters) -> list[int]:  # type: ignore[no-untyped-def]
        return _ids(service.list_cases(session, catalogue, [unit.id], service.CaseFilters(**filters), tz=TZ,
                                       today=TODAY))

    assert listed(period=Period.quarter(2026, 2)) == [unhappy.id, asks.id]
    assert listed(criterion="tc01") == [old.id]
    assert listed(channel=ResponseChannel.PAPER) == [asks.id]
    assert listed(overdue=True) == [old.id, unhappy.id]
    assert listed(status=CaseStatus.IN_PROGRESS) == []
    assert listed(assignee_id=service.NO_ASSIGNEE) == [old.id, unhappy.id, asks.id]


def test_a_case_goes_from_open_to_closed_with_a_trail_in_vietnamese(session, catalogue, ward):
    unit, _happy, unhappy, _asks, _old = ward
    officer = create_clerk(session, unit, username="canbo.lan")
    officer.full_name = "Trần Thị Lan"
    row = service.find_row(session, catalogue, [unit.id], unhappy.id, tz=TZ, today=TODAY)
    assert row is not None and row.case is None
    case = service.ensure_case(session, row, actor="user:lead", who="Nguyễn Văn An", now=NOW)
    service.assign(session, case, officer, actor="user:lead", who="Nguyễn Văn An", now=NOW)
    assert case.status is CaseStatus.IN_PROGRESS and case.assignee_id == officer.id
    with pytest.raises(ValidationError) as refused:
        service.move(session, case, CaseStatus.ANSWERED, actor="user:canbo.lan", who="Trần Thị Lan", now=NOW, tz=TZ)
    assert "giải trình hoặc kết quả" in refused.value.message_vi
    with pytest.raises(ValidationError) as refused:
        service.record(session, case, explanation=" ", contact_made="", outcome="", actor="x", who="x", now=NOW)
    assert "ít nhất một nội dung" in refused.value.message_vi
    service.record(session, case, explanation="Cán bộ tiếp nhận đã được nhắc nhở", contact_made="Gọi điện ngày 20/4",
                   outcome="", actor="user:canbo.lan", who="Trần Thị Lan", now=NOW)
    service.move(session, case, CaseStatus.ANSWERED, actor="user:canbo.lan", who="Trần Thị Lan", now=NOW, tz=TZ)
    assert case.answered_local_date == TODAY
    with pytest.raises(ValidationError) as refused:
        service.move(session, case, CaseStatus.OPEN, actor="x", who="x", now=NOW, tz=TZ)
    assert refused.value.message_vi == "Không thể chuyển từ «Đã trả lời» sang «Chưa xử lý»."
    service.move(session, case, CaseStatus.CLOSED, actor="user:lead", who="Nguyễn Văn An", now=NOW, tz=TZ)
    session.flush()
    sentences = session.scalars(select(FollowUpCaseEvent.sentence).where(FollowUpCaseEvent.case_id == case.id)
                                .order_by(FollowUpCaseEvent.id)).all()
    assert sentences == [
        "Nguyễn Văn An tiếp nhận phản ánh; hạn trả lời 12/04/2026.",
        "Nguyễn Văn An giao xử lý cho Trần Thị Lan.",
        "Trần Thị Lan ghi nhận giải trình: Cán bộ tiếp nhận đã được nhắc nhở; liên hệ: Gọi điện ngày 20/4.",
        "Trần Thị Lan đã trả lời người dân (quá hạn 8 ngày).",
        "Nguyễn Văn An đóng phản ánh.",
    ]
    assert session.scalar(select(AuditEvent.id).where(AuditEvent.action == "cases.assigned")) is not None
    with pytest.raises(ValidationError):
        service.record(session, case, explanation="thêm", contact_made="", outcome="", actor="x", who="x", now=NOW)


def test_the_due_date_comes_from_the_unit_setting(session, catalogue, ward):
    unit, _happy, unhappy, _asks, _old = ward
    with pytest.raises(ValidationError):
        service.save_case_settings(session, unit, "0", False, actor="test")
    service.save_case_settings(session, unit, "20", True, actor="test")
    assert service.case_settings(unit) == service.CaseSettings(20, True)
    row = service.find_row(session, catalogue, [unit.id], unhappy.id, tz=TZ, today=TODAY)
    assert row is not None and row.due.isoformat() == "2026-04-22" and not row.overdue


def test_an_sms_reply_needs_the_citizens_consent(session, catalogue):
    unit = create_unit(session, allow_anonymous=True)
    consented = create_dossier(session, unit, phone="+84912345678", sms_consent=True, received_at=local(2026, 4, 1))
    refused = create_dossier(session, unit, phone="+84912345679", sms_consent=False, received_at=local(2026, 4, 1))
    sent: list[tuple[str, str]] = []

    def sender(_session, _unit_id, phone, _hash, body, _now):  # type: ignore[no-untyped-def]
        sent.append((phone, body))
        return None

    outcomes = []
    for dossier in (consented, refused, None):
        response = create_response(session, catalogue, unit, dossier=dossier, answers=_unhappy(catalogue),
                                   submitted_at=local(2026, 4, 10), now=NOW)
        row = service.find_row(session, catalogue, [unit.id], response.id, tz=TZ, today=TODAY)
        assert row is not None
        case = service.ensure_case(session, row, actor="test", who="Cán bộ", now=NOW)
        outcomes.append(send_reply(session, case, "Phường đã tiếp thu ý kiến của ông/bà.", sender, actor="test",
                                   who="Cán bộ", now=NOW))
        session.flush()
        outcomes.append(case.events[-1].sentence)
    assert sent == [("+84912345678", "Phường đã tiếp thu ý kiến của ông/bà.")]
    assert outcomes[0].possible and outcomes[1].startswith("Cán bộ gửi tin nhắn SMS trả lời")
    assert not outcomes[2].possible and outcomes[3] == \
        "Không gửi được tin nhắn trả lời: Người dân không đồng ý nhận tin nhắn SMS."
    assert "không có số điện thoại" in outcomes[5]
    assert not reply_possibility(case.response).possible
    with pytest.raises(ValidationError):
        send_reply(session, case, "  ", sender, actor="test", who="x", now=NOW)


def test_index8_in_the_report_is_computed_from_cases_unless_overridden(session, catalogue, ward):
    unit, _happy, unhappy, asks, _old = ward
    q2 = Period.quarter(2026, 2)
    now = datetime(2026, 4, 20, 3, tzinfo=UTC)

    def index8() -> float | None:
        report = build_report(session, catalogue, [unit], q2, tz=TZ, now=now, unit_label=unit.name)
        return report["scores"]["indices"].get("8")

    assert index8() == 0  # the dissatisfied rating of 2 April is unanswered past its due date
    row = service.find_row(session, catalogue, [unit.id], unhappy.id, tz=TZ, today=TODAY)
    case = service.ensure_case(session, row, actor="t", who="t", now=NOW)
    service.record(session, case, explanation="", contact_made="", outcome="Đã khắc phục", actor="t", who="t", now=NOW)
    service.move(session, case, CaseStatus.ANSWERED, actor="t", who="t", now=local(2026, 4, 11), tz=TZ)
    session.flush()
    assert index8() == 2  # answered on time; the request of 15 April is still within its due date
    save_quarter_input(session, catalogue, unit, 2026, 2,
                       QuarterFigures(index8="tu_90", index8_reason="Phản ánh qua đường dây nóng"), actor="t", now=NOW)
    session.flush()
    assert index8() == 1
    assert asks.id  # the open request does not count against the unit before 25 April


def test_opening_a_case_someone_else_just_opened_returns_theirs(session, catalogue, ward):
    unit, _happy, unhappy, _asks, _old = ward
    stale = service.find_row(session, catalogue, [unit.id], unhappy.id, tz=TZ, today=TODAY)
    fresh = service.find_row(session, catalogue, [unit.id], unhappy.id, tz=TZ, today=TODAY)
    first = service.ensure_case(session, fresh, actor="a", who="A", now=NOW)
    session.flush()
    assert stale is not None and stale.case is None
    assert service.ensure_case(session, stale, actor="b", who="B", now=NOW) is first


def test_a_case_closed_without_an_answer_stops_counting_its_days(session, catalogue, ward):
    """The column "Số ngày" counts from the rating to the answer, or to today while the case is worked on; a case closed
    without an answer (the citizen could not be reached) kept counting every day after it was closed."""
    unit, _happy, unhappy, _asks, _old = ward
    row = service.find_row(session, catalogue, [unit.id], unhappy.id, tz=TZ, today=TODAY)
    case = service.ensure_case(session, row, actor="user:lead", who="Nguyễn Văn An", now=NOW)
    service.move(session, case, CaseStatus.CLOSED, actor="user:lead", who="Nguyễn Văn An", now=NOW, tz=TZ)
    session.flush()
    for today in (TODAY, TODAY.replace(month=9)):  # closed on 20/4, rated on 2/4: 18 days, in April as in September
        later = service.find_row(session, catalogue, [unit.id], unhappy.id, tz=TZ, today=today)
        assert later is not None and later.age_days == 18 and not later.overdue
