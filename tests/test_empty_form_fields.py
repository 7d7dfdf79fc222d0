"""A form sent with its required field empty gets the server's Vietnamese message, never a 500 (issue 13 item 8).

The forms carry `novalidate` (tests/test_native_controls.py), so the browser no longer stops an empty field with
its English bubble: the server must answer it, with a 400/422 and the other typed values kept.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from kiosk.models import KioskDevice
from sipas.models import Role
from tests.factories import create_clerk, create_unit, login


def _csrf(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def _message(html: str) -> list[str]:
    """The error paragraphs of a page: a flash of category error, or a page's own alert."""
    return re.findall(r'<p [^>]*(?:class="[^"]*\berror\b[^"]*"|role="alert")[^>]*>([^<]+)<', html)


# (path, page holding the form, fields sent, status, Vietnamese message, a typed value the page keeps)
POSTS = [
    ("/console/login", "/console/login", {"username": "hoa.le", "password": ""}, 400,
     "Vui lòng nhập tên đăng nhập và mật khẩu.", 'value="hoa.le"'),
    ("/console/units", "/console/units", {"code": "PHUHOI", "name": " "}, 422,
     "Tên đơn vị: Thiếu giá trị bắt buộc.", 'value="PHUHOI"'),
    ("/console/units", "/console/units", {"code": "", "name": "Phường Phú Hội"}, 422,
     "Mã đơn vị không hợp lệ (không dấu cách, tối đa 64 ký tự).", 'value="Phường Phú Hội"'),
    ("/console/units/{unit}", "/console/units/{unit}", {"name": "", "place_name": "Phú Hội"}, 422,
     "Tên đơn vị: Thiếu giá trị bắt buộc.", "Phú Hội"),
    ("/console/keys", "/console/keys", {"name": "", "unit": "{unit}"}, 422, "Tên khóa: Thiếu giá trị bắt buộc.", None),
    ("/console/users", "/console/users", {"username": "", "full_name": "Lê Thị Hoa", "role": "clerk"}, 422,
     "Vui lòng nhập tên đăng nhập.", 'value="Lê Thị Hoa"'),
    ("/console/password", "/console/password", {"current": "", "new": "", "confirm": ""}, 400,
     "Vui lòng nhập mật khẩu hiện tại và mật khẩu mới.", None),
    ("/console/kiosks/new", "/console/kiosks", {"name": "", "unit": "{unit}"}, 422,
     "Vui lòng đặt tên cho kiosk (ví dụ: Quầy 1).", None),
    ("/console/zalo/token", "/console/kiosks", {"refresh_token": ""}, 400, "Chưa dán refresh token.", None),
    ("/console/sms/{unit}/erase", "/console/sms/{unit}/erase", {"dossier": ""}, 400, "Vui lòng nhập mã hồ sơ.", None),
    ("/console/bao-cao/so-lieu-quy", "/console/bao-cao/so-lieu-quy", {"quarter": "", "unit": "{unit}"}, 400,
     "Quý không hợp lệ, cần dạng 2026Q1.", None),
]


@pytest.fixture
def admin(client, session):
    unit = create_unit(session, name="Phường Phú Hội")
    user = create_clerk(session, unit, role=Role.ADMIN)
    session.commit()
    return unit, user


@pytest.mark.parametrize(("path", "page", "fields", "status", "message", "kept"), POSTS,
                         ids=[f"{p[0]}:{'/'.join(p[2])}" for p in POSTS])
def test_an_empty_required_field_gets_the_vietnamese_message(client, admin, path, page, fields, status, message,
                                                              kept):
    unit, user = admin
    if path != "/console/login":
        login(client, user)
    data = {name: value.format(unit=unit.code) for name, value in fields.items()}
    data["csrf_token"] = _csrf(client, page.format(unit=unit.code))
    answer = client.post(path.format(unit=unit.code), data=data)
    html = answer.get_data(as_text=True)
    assert (answer.status_code, _message(html)) == (status, [message])
    assert kept is None or kept in html


@pytest.mark.parametrize("path", ["/console/sms/{unit}/slip?dossier=+", "/console/sms/{unit}/erase?dossier="])
def test_a_lookup_sent_without_a_dossier_code_asks_for_one(client, admin, path):
    unit, user = admin
    login(client, user)
    answer = client.get(path.format(unit=unit.code))
    assert answer.status_code == 400 and "Vui lòng nhập mã hồ sơ." in answer.get_data(as_text=True)


def test_erasing_without_ticking_the_confirmation_says_so(client, session, admin):
    from tests.factories import create_dossier

    unit, user = admin
    dossier = create_dossier(session, unit)
    session.commit()
    login(client, user)
    path = f"/console/sms/{unit.code}/erase"
    answer = client.post(path, data={"dossier": dossier.code, "csrf_token": _csrf(client, path)})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "Vui lòng đánh dấu ô xác nhận" in html and dossier.code in html


def test_arming_a_kiosk_without_a_dossier_code_asks_for_one(client, session, admin):
    unit, user = admin
    login(client, user)
    token = _csrf(client, "/console/kiosks")
    created = client.post("/console/kiosks/new", data={"unit": unit.code, "name": "Quầy 1", "csrf_token": token})
    code = re.search(r'data-testid="pairing-code">(\d{8})<', created.get_data(as_text=True)).group(1)
    assert client.post(f"/kiosk/{unit.code}/api/pair", json={"code": code}).status_code == 200
    device = session.scalar(select(KioskDevice).where(KioskDevice.unit_id == unit.id))
    answer = client.post(f"/console/kiosks/{device.id}/arm", data={"dossier_code": " ", "csrf_token": token})
    assert (answer.status_code, _message(answer.get_data(as_text=True))) == (422, ["Vui lòng nhập mã hồ sơ."])


def test_the_quarter_field_emptied_on_the_inputs_page_is_named(client, admin):
    unit, user = admin
    login(client, user)
    answer = client.get("/console/bao-cao/so-lieu-quy", query_string={"unit": unit.code, "quarter": ""})
    assert answer.status_code == 200  # a GET: the current quarter is shown below the message
    assert _message(answer.get_data(as_text=True)) == ["Quý không hợp lệ, cần dạng 2026Q1."]
