"""The console pages of the follow-up cases: list → case → answered, the unit's rules, the SMS reply."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sipas.cases.models import CaseStatus, FollowUpCase
from sipas.models import Role
from sms_gateway.models import MessageKind, OptOut, OutboundMessage
from tests.factories import answers_for, create_clerk, create_dossier, create_response, create_unit, local, login


def _csrf(html: str) -> str:
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def _world(session, catalogue):  # type: ignore[no-untyped-def]
    unit = create_unit(session)
    clerk = create_clerk(session, unit, username="canbo.lan")
    clerk.full_name = "Trần Thị Lan"
    dossier = create_dossier(session, unit, code="HS-PA-001", phone="+84912345678", sms_consent=True,
                             received_at=local(2026, 4, 1))
    response = create_response(session, catalogue, unit, dossier=dossier, submitted_at=local(2026, 4, 3),
                               answers=answers_for(catalogue) | {"tc04": "khong_hai_long"},
                               comment="Cán bộ hẹn lại nhiều lần")
    create_response(session, catalogue, unit, dossier=create_dossier(session, unit, received_at=local(2026, 4, 1)),
                    submitted_at=local(2026, 4, 3), comment="Cảm ơn")
    session.commit()
    return unit, clerk, dossier, response


def test_a_clerk_lists_opens_and_answers_a_case(client, session, catalogue):
    unit, clerk, dossier, response = _world(session, catalogue)
    login(client, clerk)
    listing = client.get("/console/cases", query_string={"unit": unit.code}).get_data(as_text=True)
    assert "Phản ánh cần xử lý" in listing and f"Phiếu #{response.id}" in listing and "1 phản ánh" in listing
    assert "Thái độ" in listing and "Cán bộ hẹn lại nhiều lần" in listing
    ranges = ((("2026-04-01", "2026-04-03"), True), (("2026-04-04", ""), False), (("", "2026-04-02"), False),
              (("01/04/2026", "3/4/2026"), True), (("04/04/2026", ""), False))  # as a clerk types days
    for dates, listed in ranges:
        html = client.get("/console/cases", query_string=dict(zip(("from", "to"), dates, strict=True))).get_data(
            as_text=True)
        assert (f"Phiếu #{response.id}" in html) is listed, dates
    refused = client.get("/console/cases", query_string={"from": "2026-05-01", "to": "2026-04-01"}).get_data(
        as_text=True)
    assert "Khoảng thời gian không hợp lệ" in refused and f"Phiếu #{response.id}" in refused
    page = client.get(f"/console/cases/{response.id}").get_data(as_text=True)
    assert "ẩn theo quy định của đơn vị" in page and dossier.code not in page and "912345678" not in page
    token = _csrf(page)
    path = f"/console/cases/{response.id}"
    steps = [{"action": "assign", "assignee": str(clerk.id)},
             {"action": "record", "explanation": "Đã nhắc nhở cán bộ tiếp nhận", "contact_made": "Gọi điện 5/4"},
             {"action": "status", "status": "answered"}]
    for step in steps:
        assert client.post(path, data={"csrf_token": token, **step}).status_code == 303
    session.expire_all()
    case = session.scalar(select(FollowUpCase).where(FollowUpCase.response_id == response.id))
    assert case is not None and case.status is CaseStatus.ANSWERED and case.assignee_id == clerk.id
    page = client.get(path).get_data(as_text=True)
    assert "Trần Thị Lan giao xử lý cho Trần Thị Lan." in page and "Đã trả lời" in page
    answered = client.get("/console/cases", query_string={"status": "answered"}).get_data(as_text=True)
    assert f"Phiếu #{response.id}" in answered
    assert f"Phiếu #{response.id}" not in client.get("/console/cases", query_string={"status": "open"}).get_data(
        as_text=True)
    refused = client.post(path, data={"csrf_token": token, "action": "status", "status": "open"},
                          follow_redirects=True).get_data(as_text=True)
    assert "Không thể chuyển từ «Đã trả lời» sang «Chưa xử lý»" in refused


@pytest.fixture
def at_noon(monkeypatch):  # type: ignore[no-untyped-def]
    """The console's clock at noon (Việt Nam) on 5 April 2026: a reply is sent within the hours allowed, whatever
    the hour the suite runs at."""
    monkeypatch.setattr("sipas.console.cases.utcnow", lambda: local(2026, 4, 5, 12, 0))


@pytest.mark.usefixtures("at_noon")
def test_the_sms_reply_goes_through_the_provider_only_with_consent(client, session, catalogue):
    unit, clerk, _dossier, response = _world(session, catalogue)
    login(client, clerk)
    path = f"/console/cases/{response.id}"
    token = _csrf(client.get(path).get_data(as_text=True))
    done = client.post(path, data={"csrf_token": token, "action": "reply", "reply": "Phường xin tiếp thu ý kiến."},
                       follow_redirects=True).get_data(as_text=True)
    assert "Đã gửi tin nhắn trả lời người dân." in done
    sent = session.scalars(select(OutboundMessage).where(OutboundMessage.kind == MessageKind.REPLY)).all()
    assert [(m.body, m.to_hint, m.unit_id) for m in sent] == [("Phường xin tiếp thu ý kiến.", "678", unit.id)]


def test_the_unit_rule_shows_the_dossier_and_sets_the_due_date(client, session, catalogue):
    unit, _clerk, dossier, response = _world(session, catalogue)
    admin = create_clerk(session, unit, username="qt.phuong", role=Role.ADMIN)
    leader = create_clerk(session, unit, username="lanhdao", role=Role.LEADER)
    session.commit()
    login(client, admin)
    page = client.get("/console/cases/settings", query_string={"unit": unit.code}).get_data(as_text=True)
    token = _csrf(page)
    bad = client.post("/console/cases/settings", data={"csrf_token": token, "unit": unit.code, "due_days": "0"})
    assert bad.status_code == 422 and "từ 1 đến 90" in bad.get_data(as_text=True)
    assert client.post("/console/cases/settings", data={"csrf_token": token, "unit": unit.code, "due_days": "30",
                                                        "show_dossier": "on"}).status_code == 302
    login(client, leader)
    page = client.get(f"/console/cases/{response.id}").get_data(as_text=True)
    assert dossier.code in page and "hạn trả lời 03/05/2026" in page
    assert "Giao xử lý" not in page  # a leader reads, never acts
    assert client.post(f"/console/cases/{response.id}", data={"csrf_token": _csrf(page), "action": "assign"}
                       ).status_code == 403


@pytest.mark.usefixtures("at_noon")
def test_no_sms_reply_to_a_number_that_opted_out_and_the_trail_says_so(client, session, catalogue):
    unit, clerk, dossier, response = _world(session, catalogue)
    session.add(OptOut(phone_hash=dossier.contact.phone_hash, opted_out_at=local(2026, 4, 4), source="reply"))
    session.commit()
    login(client, clerk)
    path = f"/console/cases/{response.id}"
    token = _csrf(client.get(path).get_data(as_text=True))
    page = client.post(path, data={"csrf_token": token, "action": "reply", "reply": "Phường xin tiếp thu."},
                       follow_redirects=True).get_data(as_text=True)
    assert "Không gửi được tin nhắn trả lời: Số điện thoại đã từ chối nhận tin nhắn (TC/HUY)." in page
    assert session.scalars(select(OutboundMessage).where(OutboundMessage.unit_id == unit.id)).all() == []


def test_a_reply_keeps_the_sending_hours_and_the_daily_cap(client, session, catalogue, monkeypatch):
    """Domain notes §6: messages go between 07:00 and 22:00, at most three a number in 24 hours. A clerk's reply
    went at any hour and any number of times (four at 23:30–23:33 all reached the provider)."""
    _unit, clerk, _dossier, response = _world(session, catalogue)
    login(client, clerk)
    path = f"/console/cases/{response.id}"
    token = _csrf(client.get(path).get_data(as_text=True))

    def reply_at(at, text):  # type: ignore[no-untyped-def]
        monkeypatch.setattr("sipas.console.cases.utcnow", lambda: at)
        return client.post(path, data={"csrf_token": token, "action": "reply", "reply": text},
                           follow_redirects=True).get_data(as_text=True)

    night = reply_at(local(2026, 4, 5, 23, 30), "Phường xin tiếp thu.")
    assert "Chỉ được gửi tin nhắn từ 07:00 đến 22:00: hãy gửi lại từ 07:00 ngày 06/04/2026." in night
    for minute in range(3):
        assert "Đã gửi tin nhắn trả lời người dân." in reply_at(local(2026, 4, 6, 8, minute), f"Trả lời {minute}.")
    fourth = reply_at(local(2026, 4, 6, 9, 0), "Trả lời thêm.")
    assert "đã nhận 3 tin nhắn trong 24 giờ qua: hãy gửi lại sau 08:00 ngày 07/04/2026." in fourth
    sent = session.scalars(select(OutboundMessage).where(OutboundMessage.kind == MessageKind.REPLY)).all()
    assert len(sent) == 3


@pytest.mark.usefixtures("at_noon")
def test_a_closed_case_sends_no_reply_from_a_page_opened_before_it_was_closed(client, session, catalogue):
    """A closed case is final (docs/cases.md): the page hides its actions, but a reply posted from a page opened
    before another clerk closed the case reached the citizen's phone and was written into the closed case's trail."""
    unit, clerk, _dossier, response = _world(session, catalogue)
    login(client, clerk)
    path = f"/console/cases/{response.id}"
    token = _csrf(client.get(path).get_data(as_text=True))  # the page of the second clerk, still open
    assert client.post(path, data={"csrf_token": token, "action": "status", "status": "closed"}).status_code == 303
    page = client.post(path, data={"csrf_token": token, "action": "reply", "reply": "Phường xin tiếp thu ý kiến."},
                       follow_redirects=True).get_data(as_text=True)
    assert "Phản ánh đã đóng" in page
    assert session.scalars(select(OutboundMessage).where(OutboundMessage.unit_id == unit.id)).all() == []
    session.expire_all()
    case = session.scalar(select(FollowUpCase).where(FollowUpCase.response_id == response.id))
    assert case.status is CaseStatus.CLOSED and [e.action for e in case.events] == ["opened", "status"]


def test_an_unreadable_assignee_filter_is_ignored_not_a_server_error(client, session, catalogue):
    """The filter assignee=--1 passed the check (one leading "-" was meant, every one was stripped) and int() raised:
    the list answered 500. An unreadable value is ignored, as the other filters' are."""
    unit, clerk, _dossier, response = _world(session, catalogue)
    login(client, clerk)
    for value in ("--1", "-", "--", "1-", "-2", "9" * 20, "１"):
        page = client.get("/console/cases", query_string={"unit": unit.code, "assignee": value})
        assert page.status_code == 200, value
    listed = client.get("/console/cases", query_string={"unit": unit.code, "assignee": "--1"}).get_data(as_text=True)
    assert f"Phiếu #{response.id}" in listed  # ignored: every case listed
