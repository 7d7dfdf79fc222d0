"""Unit settings and the audit log in the console."""

from __future__ import annotations

import re

from sqlalchemy import select

from sipas.accounts import create_user
from sipas.models import AuditEvent, Role, Unit, User
from tests.factories import PASSWORD, create_clerk, create_unit, login


def _csrf(client, path):
    page = client.get(path).get_data(as_text=True)
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_clerk_edits_the_signatory_and_the_kiosk_instrument(client, session):
    unit = create_unit(session, name="Phường Phú Hội")
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    path = f"/console/units/{unit.code}"
    response = client.post(path, data={
        "csrf_token": _csrf(client, path), "name": "Phường Phú Hội", "issuing_body": "ỦY BAN NHÂN DÂN\nPHƯỜNG PHÚ HỘI",
        "place_name": "Phú Hội", "signatory_title": "CHỦ TỊCH", "signatory_name": "Nguyễn Văn An",
        "default_instrument": "quay4", "allow_anonymous": "on"}, follow_redirects=True)
    assert "Đã lưu" in response.get_data(as_text=True)
    session.expire_all()
    stored = session.scalar(select(Unit).where(Unit.id == unit.id))
    assert (stored.signatory_name, stored.default_instrument) == ("Nguyễn Văn An", "quay4")
    assert stored.allow_anonymous is True
    assert stored.issuing_body == "ỦY BAN NHÂN DÂN\nPHƯỜNG PHÚ HỘI"
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "unit.updated")).one()
    assert event.actor == f"user:{clerk.username}"
    log = client.get("/console/audit").get_data(as_text=True)
    assert "đã sửa thông tin đơn vị" in log and "user:" not in log.split("Chi tiết kỹ thuật")[0]
    assert f'<td title="{unit.code}">{stored.name}</td>' in log  # the unit by its name, its code on hover


def test_a_deputy_signs_on_two_lines_kt_chu_tich_pho_chu_tich(client, session):
    """Nghị định 30/2020: a deputy signs "KT. CHỦ TỊCH" over "PHÓ CHỦ TỊCH". The settings page had a one-line
    field for the title and joined lines into one ("KT. CHỦ TỊCH PHÓ CHỦ TỊCH"), printed as one line."""
    unit = create_unit(session, name="Phường Phú Hội")
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    path = f"/console/units/{unit.code}"
    assert '<textarea name="signatory_title"' in client.get(path).get_data(as_text=True)
    client.post(path, data={
        "csrf_token": _csrf(client, path), "name": "Phường Phú Hội", "issuing_body": "ỦY BAN NHÂN DÂN\nPHƯỜNG PHÚ HỘI",
        "place_name": "Phú Hội", "signatory_title": " KT. CHỦ TỊCH\r\n\r\nPHÓ  CHỦ TỊCH ",
        "signatory_name": "Lê Văn Cường",
        "default_instrument": unit.default_instrument}, follow_redirects=True)
    session.expire_all()
    stored = session.scalar(select(Unit).where(Unit.id == unit.id))
    assert stored.signatory_title == "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH"


def test_units_of_others_are_not_found_and_leaders_cannot_edit(client, session):
    mine, other = create_unit(session), create_unit(session)
    leader = create_clerk(session, mine, role=Role.LEADER)
    clerk = create_clerk(session, mine)
    session.commit()
    login(client, clerk)
    assert client.get(f"/console/units/{other.code}").status_code == 404
    client.post("/console/logout", data={"csrf_token": _csrf(client, "/console/")})
    login(client, leader)
    assert client.get(f"/console/units/{mine.code}").status_code == 403


def test_admin_creates_an_account_that_can_log_in_and_locks_it(client, session):
    unit = create_unit(session)
    admin = create_clerk(session, unit, role=Role.ADMIN)
    session.commit()
    login(client, admin)
    response = client.post("/console/users", data={
        "csrf_token": _csrf(client, "/console/users"), "username": "Hoa.Le", "full_name": "Lê Thị Hoa",
        "role": "clerk", "units": [str(unit.id)]}, follow_redirects=True)
    page = response.get_data(as_text=True)
    password = page.split("chỉ hiện một lần): ", 1)[1].split("<", 1)[0].strip()
    assert len(password) == 14
    other = client.application.test_client()
    token = _csrf(other, "/console/login")
    assert other.post("/console/login", data={"username": "hoa.le", "password": password,
                                              "csrf_token": token}).status_code == 302
    session.expire_all()
    created = session.scalar(select(User).where(User.username == "hoa.le"))
    client.post(f"/console/users/{created.id}/active", data={"csrf_token": _csrf(client, "/console/users")})
    assert other.get("/console/").status_code == 302  # locked out at once


def test_clerks_cannot_manage_accounts(client, session):
    unit = create_unit(session)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    assert client.get("/console/users").status_code == 403


def test_a_refused_new_account_form_keeps_the_chosen_role_and_units(client, session):
    """A global admin creates a clerk of one ward but forgets the username: the page came back with the role
    select on its first option (Quản trị) and no ward ticked, so fixing only the username created a global admin
    (an admin without units). The refused form keeps the role and the units; a fresh form preselects no role."""
    ward = create_unit(session, name="Phường Phú Hội")
    admin = create_clerk(session, ward, role=Role.ADMIN)  # no unit: a global admin
    session.commit()
    login(client, admin)
    fresh = client.get("/console/users").get_data(as_text=True).split("Tạo tài khoản</h2>", 1)[1]
    assert re.search(r'<option value=""\s+selected', fresh) and " selected" not in fresh.split("Chọn vai trò", 1)[1]
    answer = client.post("/console/users", data={
        "csrf_token": _csrf(client, "/console/users"), "username": "", "full_name": "Lê Thị Hoa", "role": "clerk",
        "units": str(ward.id)})
    form = answer.get_data(as_text=True).split("Tạo tài khoản</h2>", 1)[1]
    assert answer.status_code == 422
    assert re.search(r'<option value="clerk"\s+selected', form), "the chosen role is lost"
    assert re.search(rf'value="{ward.id}"\s+checked', form), "the ticked ward is lost"


def test_a_new_account_needs_a_chosen_role(client, session):
    """The role select starts on an empty choice: sent as it is, the form asks for a role (422), values kept."""
    admin = create_clerk(session, create_unit(session), role=Role.ADMIN)  # no unit: a global admin
    session.commit()
    login(client, admin)
    answer = client.post("/console/users", data={
        "csrf_token": _csrf(client, "/console/users"), "username": "hoa", "full_name": "Lê Thị Hoa", "role": ""})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "Vui lòng chọn vai trò." in html and 'value="Lê Thị Hoa"' in html
    assert session.scalar(select(User).where(User.username == "hoa")) is None


def _settings(unit, **changed):  # type: ignore[no-untyped-def]
    """The settings form as the page fills it in, with ``changed`` typed over it."""
    return {"name": unit.name, "issuing_body": unit.issuing_body, "place_name": unit.place_name,
            "signatory_title": unit.signatory_title, "signatory_name": unit.signatory_name,
            "default_instrument": unit.default_instrument} | changed


def test_a_renamed_unit_s_notice_header_follows_the_new_name(client, session):
    """Wards merged and renamed in 2025: renaming "Phường An Cựu" kept the issuing body and the date line made
    from the old name, so its next notice was headed "PHƯỜNG AN CỰU" and dated "Phường An Cựu, ngày …" while its
    text said "Ủy ban nhân dân phường Thuận Hóa"."""
    from aggregator.notices.viewmodel import body_lines

    unit = create_unit(session, name="Phường An Cựu")
    typed = create_unit(session, name="Phường Vĩnh Ninh", issuing_body="UBND THÀNH PHỐ HUẾ\nUBND PHƯỜNG VĨNH NINH",
                        place_name="Huế")
    clerk = create_user(session, username="canbo.hue", password=PASSWORD, role=Role.CLERK, units=[unit, typed],
                        actor="test")
    session.commit()
    login(client, clerk)
    for target, name in ((unit, "Phường Thuận Hóa"), (typed, "Phường Vĩnh Ninh Mới")):
        path = f"/console/units/{target.code}"
        client.post(path, data={"csrf_token": _csrf(client, path)} | _settings(target, name=name))
    session.expire_all()
    renamed = session.get(Unit, unit.id)
    assert renamed.name == "Phường Thuận Hóa"
    assert body_lines(renamed) == ("ỦY BAN NHÂN DÂN", "PHƯỜNG THUẬN HÓA")
    assert renamed.place_name == "Phường Thuận Hóa"
    kept = session.get(Unit, typed.id)  # typed by hand: stays as typed
    assert (kept.name, kept.issuing_body, kept.place_name) == (
        "Phường Vĩnh Ninh Mới", "UBND THÀNH PHỐ HUẾ\nUBND PHƯỜNG VĨNH NINH", "Huế")
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "unit.updated",
                                                     AuditEvent.unit_id == unit.id)).one()
    assert event.details["fields"] == ["issuing_body", "name", "place_name"]
    log = client.get("/console/audit").get_data(as_text=True)  # the former name stays on record
    assert "đã sửa thông tin đơn vị, đổi tên “Phường An Cựu” thành “Phường Thuận Hóa”" in log


def test_a_rename_with_a_new_header_typed_in_the_same_form_keeps_the_typed_one(client, session):
    unit = create_unit(session, name="Phường An Cựu")
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    path = f"/console/units/{unit.code}"
    client.post(path, data={"csrf_token": _csrf(client, path)} | _settings(
        unit, name="Phường Thuận Hóa", issuing_body="ỦY BAN NHÂN DÂN\nPHƯỜNG THUẬN HÓA (MỚI)"))
    session.expire_all()
    stored = session.get(Unit, unit.id)
    assert stored.issuing_body == "ỦY BAN NHÂN DÂN\nPHƯỜNG THUẬN HÓA (MỚI)"
    assert stored.place_name == "Phường Thuận Hóa"


def test_unit_texts_typed_with_decomposed_marks_are_stored_composed(client, session):
    """Unikey's "Unicode tổ hợp" or a Mac types decomposed marks: a one-line issuing body "Ủy ban nhân dân phường
    Phú Hội" so typed did not begin with the composed "ỦY BAN NHÂN DÂN", and the notice was headed "ỦY BAN NHÂN DÂN"
    over "ỦY BAN NHÂN DÂN PHƯỜNG PHÚ HỘI"; a decomposed name also differed from the same name typed composed."""
    import unicodedata

    from aggregator.notices.viewmodel import body_lines

    unit = create_unit(session, name="Phường Phú Hội")
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    path = f"/console/units/{unit.code}"
    typed = {name: unicodedata.normalize("NFD", value) for name, value in _settings(
        unit, issuing_body="Ủy ban nhân dân phường Phú Hội", signatory_name="Nguyễn Thị Hồng").items()}
    client.post(path, data={"csrf_token": _csrf(client, path)} | typed)
    session.expire_all()
    stored = session.get(Unit, unit.id)
    assert body_lines(stored) == ("ỦY BAN NHÂN DÂN", "PHƯỜNG PHÚ HỘI")
    assert stored.signatory_name == "Nguyễn Thị Hồng"
    assert all(unicodedata.is_normalized("NFC", getattr(stored, name))
               for name in ("name", "issuing_body", "place_name"))
