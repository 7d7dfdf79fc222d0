"""A clerk records a returned dossier from the console; odd request text is refused at the door."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from sipas.models import AuditEvent, Dossier, Role
from tests.factories import PASSWORD, create_clerk, create_dossier, create_unit, login


def _token(client, path: str) -> str:  # type: ignore[no-untyped-def]
    page = client.get(path).get_data(as_text=True)
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_a_clerk_marks_a_dossier_returned_and_it_can_be_rated(client, session) -> None:
    unit = create_unit(session)
    dossier = create_dossier(session, unit, code="HS-TRA-1", returned=False, received_at=datetime(2026, 1, 5, 2,
                                                                                                  tzinfo=UTC))
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    page = f"/console/dossiers/{unit.code}/HS-TRA-1"
    assert 'data-testid="return-form"' in client.get(page).get_data(as_text=True)
    done = client.post("/console/dossiers/return", data={"unit": unit.code, "code": "HS-TRA-1", "returned_at": "",
                                                         "csrf_token": _token(client, page)})
    assert done.status_code == 302 and done.headers["Location"].endswith(page)
    shown = client.get(page).get_data(as_text=True)
    assert "Đã ghi nhận trả kết quả" in shown and 'data-testid="return-form"' not in shown
    session.expire_all()
    assert session.get(Dossier, dossier.id).returned_at is not None
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "dossier.updated"))
    assert event is not None and event.subject == "HS-TRA-1" and event.actor == f"user:{clerk.username}"


def test_a_return_time_in_the_future_or_twice_is_refused_with_a_reason(client, session) -> None:
    unit = create_unit(session)
    create_dossier(session, unit, code="HS-TRA-2", returned=False)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    page = f"/console/dossiers/{unit.code}/HS-TRA-2"
    future = client.post("/console/dossiers/return", follow_redirects=True,
                         data={"unit": unit.code, "code": "HS-TRA-2", "returned_at": "2099-01-01T08:00",
                               "csrf_token": _token(client, page)})
    assert "Thời điểm trả kết quả ở tương lai" in future.get_data(as_text=True)
    client.post("/console/dossiers/return", data={"unit": unit.code, "code": "HS-TRA-2",
                                                  "csrf_token": _token(client, page)})
    again = client.post("/console/dossiers/return", follow_redirects=True,
                        data={"unit": unit.code, "code": "HS-TRA-2", "csrf_token": _token(client, page)})
    assert "đã được trả kết quả trước đó" in again.get_data(as_text=True)


def test_leaders_and_other_units_cannot_mark_returned(client, session) -> None:
    unit, other = create_unit(session), create_unit(session)
    create_dossier(session, other, code="HS-KHAC", returned=False)
    leader = create_clerk(session, unit, role=Role.LEADER)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, leader)
    token = _token(client, "/console/")
    assert client.post("/console/dossiers/return", data={"unit": unit.code, "code": "X",
                                                         "csrf_token": token}).status_code == 403
    client.get("/console/logout")
    login(client, clerk)
    refused = client.post("/console/dossiers/return", data={"unit": other.code, "code": "HS-KHAC",
                                                            "csrf_token": _token(client, "/console/")})
    assert refused.status_code == 404


def test_nul_characters_in_console_requests_are_a_clear_400(client, session) -> None:
    unit = create_unit(session)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    for path in ("/console/dossiers?q=%00", "/console/dossiers?unit=%00", f"/console/dossiers/{unit.code}/%00"):
        response = client.get(path)
        assert response.status_code == 400, path
        assert "ký tự không hợp lệ" in response.get_data(as_text=True)


def test_a_very_long_or_odd_username_is_just_a_failed_login(client, session) -> None:
    for username in ("x" * 300, "hoa\x01", "tên dài " * 40):
        response = client.post("/console/login", data={"username": username, "password": PASSWORD,
                                                       "csrf_token": _token(client, "/console/login")})
        assert response.status_code == 401, username
