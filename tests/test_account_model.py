"""The account model (global admin, unit/district admin, clerk, leader) and tenant isolation in the console."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from kiosk.models import KioskDevice
from sipas.account_policy import can_grant, can_manage_user, can_reset_password, manageable_users
from sipas.accounts import create_api_key, create_user
from sipas.models import ApiKey, AuditEvent, ImportJob, Role, Unit, UnitKind, User
from sipas.models_ballots import BallotBatch
from tests.factories import (
    PASSWORD,
    answers_for,
    create_clerk,
    create_district_with_wards,
    create_dossier,
    create_response,
    create_unit,
    login,
)


def _csrf(client) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/console/login").get_data(as_text=True)
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def _admin(session, units, username=None):  # type: ignore[no-untyped-def]
    return create_user(session, username=username or f"qt{len(units)}{units[0].code if units else 'all'}",
                       password=PASSWORD, role=Role.ADMIN, units=list(units), actor="test")


def test_policy_keeps_a_ward_admin_inside_its_ward(session):
    ward_a, ward_b = create_unit(session), create_unit(session)
    root = _admin(session, [], username="root")
    ward_admin = _admin(session, [ward_a], username="qt.a")
    clerk_a, clerk_b = create_clerk(session, ward_a), create_clerk(session, ward_b)
    assert can_manage_user(session, root, ward_admin)
    assert can_manage_user(session, ward_admin, clerk_a)
    assert not can_manage_user(session, ward_admin, clerk_b)
    assert not can_manage_user(session, ward_admin, root)
    assert not can_manage_user(session, clerk_a, clerk_a)
    assert can_grant(session, ward_admin, Role.CLERK, [ward_a])
    assert not can_grant(session, ward_admin, Role.CLERK, [ward_b])
    assert not can_grant(session, ward_admin, Role.ADMIN, [])  # a global admin
    assert can_grant(session, root, Role.ADMIN, [])
    assert can_reset_password(session, ward_admin, clerk_a) and not can_reset_password(session, ward_admin, ward_admin)
    assert not can_reset_password(session, root, root) and not can_reset_password(session, ward_admin, clerk_b)
    district, (ward_c, ward_d) = create_district_with_wards(session)
    district_admin, wider = _admin(session, [district], username="qt.quan"), _admin(session, [ward_a, ward_c])
    everyone = [root, ward_admin, clerk_a, clerk_b, district_admin, wider, create_clerk(session, ward_d)]
    for actor in everyone:  # the list pages use manageable_users: the same answer as can_manage_user
        assert manageable_users(session, actor) == sorted(
            (u for u in everyone if can_manage_user(session, actor, u)), key=lambda u: u.username)
    assert {u.username for u in manageable_users(session, district_admin)} == {"qt.quan", everyone[-1].username}


def test_a_ward_admin_cannot_take_over_the_deployment(client, session):
    ward_a, ward_b = create_unit(session), create_unit(session)
    root = _admin(session, [], username="root")
    ward_admin = _admin(session, [ward_a], username="qt.a")
    session.commit()
    login(client, ward_admin)
    token = _csrf(client)
    assert client.post(f"/console/users/{root.id}/password", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/console/users/{root.id}/active", data={"csrf_token": token}).status_code == 404
    assert client.post("/console/users", data={"csrf_token": token, "username": "root2",
                                               "role": "admin"}).status_code == 403
    assert client.post("/console/users", data={"csrf_token": token, "username": "spy", "role": "clerk",
                                               "units": [str(ward_b.id)]}).status_code == 403
    page = client.get("/console/users").get_data(as_text=True)
    assert "root" not in page and ward_b.code not in page
    assert client.post("/console/users", data={"csrf_token": token, "username": "canbo.a", "role": "clerk",
                                               "units": [str(ward_a.id)]}).status_code == 302
    session.expire_all()
    assert set(session.scalars(select(User.username))) == {"root", "qt.a", "canbo.a"}


def test_a_ward_admin_who_ticks_no_unit_gets_the_message_not_a_403(client, session):
    """A clerk or leader with no unit is an empty field, not a grant beyond the scope: a ward admin who forgot to
    tick its ward got the 'no permission' page (can_grant is False for no unit), where a global admin reads
    'Cán bộ và lãnh đạo cần được gán ít nhất một đơn vị.' (docs/accounts.md: 400/422, the typed values kept)."""
    ward = create_unit(session)
    ward_admin = _admin(session, [ward], username="qt.a")
    clerk = create_clerk(session, ward, username="canbo.a")
    session.commit()
    login(client, ward_admin)
    token = _csrf(client)
    answer = client.post("/console/users", data={"csrf_token": token, "username": "hoa", "full_name": "Lê Thị Hoa",
                                                  "role": "clerk"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and 'value="Lê Thị Hoa"' in html
    assert "Cán bộ và lãnh đạo cần được gán ít nhất một đơn vị." in html
    changed = client.post(f"/console/users/{clerk.id}/role", data={"csrf_token": token, "role": "leader"},
                          follow_redirects=True)
    assert changed.status_code == 200  # as for a global admin: back to the list with the message
    assert "Cán bộ và lãnh đạo cần được gán ít nhất một đơn vị." in changed.get_data(as_text=True)
    session.expire_all()
    assert session.get(User, clerk.id).role is Role.CLERK
    assert session.scalar(select(User).where(User.username == "hoa")) is None


def test_logout_password_change_and_locking_end_the_session_server_side(client, app, session):
    unit = create_unit(session)
    root = _admin(session, [], username="root")
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    stolen = app.test_client()
    stolen.set_cookie("session", client.get_cookie("session").value)
    assert stolen.get("/console/").status_code == 200
    client.post("/console/logout", data={"csrf_token": _csrf(client)})
    assert stolen.get("/console/").status_code == 302  # the copied cookie no longer works
    login(client, clerk)
    admin = app.test_client()
    login(admin, root)
    admin.post(f"/console/users/{clerk.id}/active", data={"csrf_token": _csrf(admin)})
    assert client.get("/console/").status_code == 302
    admin.post(f"/console/users/{clerk.id}/active", data={"csrf_token": _csrf(admin)})  # unlocked, must log in again
    login(client, clerk)
    assert client.get("/console/").status_code == 200
    admin.post(f"/console/users/{clerk.id}/password", data={"csrf_token": _csrf(admin)})
    assert client.get("/console/").status_code == 302


def test_account_events_are_shown_to_the_admins_entitled(client, app, session):
    ward_a, ward_b = create_unit(session), create_unit(session)
    root = _admin(session, [], username="root")
    ward_admin = _admin(session, [ward_a], username="qt.a")
    clerk_a, clerk_b = create_clerk(session, ward_a, username="canbo.a"), create_clerk(session, ward_b,
                                                                                       username="canbo.b")
    session.commit()
    login(client, root)
    for target in (clerk_a, clerk_b):
        client.post(f"/console/users/{target.id}/password", data={"csrf_token": _csrf(client)})
    wrong = app.test_client()
    wrong.post("/console/login", data={"csrf_token": _csrf(wrong), "username": "canbo.a", "password": "sai-mat-khau"})
    page = client.get("/console/audit?action=user.").get_data(as_text=True)
    assert "root đã đặt lại mật khẩu (canbo.a)" in page and "user:root đã" not in page
    assert "root đã đặt lại mật khẩu (canbo.b)" in page
    assert "đăng nhập sai mật khẩu (canbo.a)" in page
    scoped = app.test_client()
    login(scoped, ward_admin)
    page = scoped.get("/console/audit?action=user.").get_data(as_text=True)
    assert "đặt lại mật khẩu (canbo.a)" in page and "(canbo.b)" not in page
    assert "qt.a đã đăng nhập (qt.a)" in scoped.get("/console/audit?action=user.login").get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "user.login_failed")) is not None


# --- The URL-map walk: every rule, every method, as each role × own / other unit. ---------------------------

# Routes outside the console authenticate otherwise (API keys, kiosk pairing, webhook signatures, public pages).
NOT_CONSOLE = {
    "index", "healthz", "favicon", "static", "api.upsert", "api.show", "api.list_instruments",
    "aggregator_api.reports", "api.submit", "public_notices.unit", "public_notices.download", "public_notices.notice",
    "public_notices.verify", "public_notices.missing", "kiosk.page", "kiosk.static",
    "kiosk_api.armed", "kiosk_api.heartbeat", "kiosk_api.lookup", "kiosk_api.pair", "kiosk_api.recent",
    "kiosk_api.submit",
    "sms_phone.form", "sms_phone.submit", "sms_phone.qr_png_view", "sms_phone.qr_svg_view",
    "sms_webhooks.http_inbound", "sms_webhooks.twilio_inbound", "sms_webhooks.twilio_status", "zalo_events.events",
    "sms_webhooks.http_status",  # a key per message in its callback URL: test_http_delivery_reports.py
    "metrics",  # a bearer token (SIPAS_METRICS_TOKEN) or the server itself: tests/test_metrics*.py
}
PUBLIC_CONSOLE = {"console.login", "console.logout", "console.static"}
EVERYONE = {"global", "district_admin", "ward_admin", "clerk", "leader"}
WORKERS = {"global", "district_admin", "ward_admin", "clerk"}
ADMINS = {"global", "district_admin", "ward_admin"}
# Both wards of the fixture lie in the district: its admin, like the global admin, reaches the other ward too.
REACHES_OTHER_WARD = {"global", "district_admin"}
# endpoint → roles allowed on their own unit's objects; on the other ward's objects only REACHES_OTHER_WARD are.
ALLOWED = {
    "console.home": EVERYONE, "console.audit_log": EVERYONE, "console.dossiers": EVERYONE,
    "console.dossier_detail": EVERYONE, "console.dossier_import": WORKERS, "console.dossier_return": WORKERS,
    "console.dossier_import_template": WORKERS, "console.dossier_import_job": WORKERS,
    "console.dossier_import_progress": WORKERS, "console.dossier_import_retry": WORKERS,
    "console.ballots": WORKERS, "console.ballot_batch_create": WORKERS, "console.ballot_batch": WORKERS,
    "console.ballot_line_save": WORKERS, "console.ballot_batch_close": WORKERS, "console.ballot_batch_reopen": WORKERS,
    "console.ballot_line_delete": WORKERS, "console.ballot_handed_out": WORKERS,
    "console.ballot_entry_finish": WORKERS, "console.ballot_resolve": WORKERS, "console.ballot_batch_confirm": WORKERS,
    "console.change_password": EVERYONE, "console.units": EVERYONE,
    "console.create_unit_page": ADMINS, "console.unit_settings": WORKERS,
    "console.users": ADMINS, "console.create_account": ADMINS, "console.toggle_active": ADMINS,
    "console.reset_password": ADMINS, "console.change_account_role": ADMINS,
    "console.api_keys": ADMINS, "console.create_key": ADMINS, "console.revoke_key": ADMINS,
    "console.cases": EVERYONE, "console.case_detail": EVERYONE, "console.case_action": WORKERS,
    "console.case_settings": ADMINS,
    "aggregator.dashboard": EVERYONE, "aggregator.export_xlsx": EVERYONE, "aggregator.export_csv": EVERYONE,
    "aggregator.inputs": WORKERS,
    "kiosk_console.index": WORKERS, "kiosk_console.create": WORKERS, "kiosk_console.arm": WORKERS,
    "kiosk_console.new_code": WORKERS, "kiosk_console.revoke": WORKERS,
    "sms_console.index": EVERYONE, "sms_console.slips_form": EVERYONE, "sms_console.slip": WORKERS,
    "sms_console.slips_day": WORKERS, "sms_console.ballot_print_form": EVERYONE, "sms_console.ballot_pdf": EVERYONE,
    "sms_console.ballot_day_pdf": WORKERS,
    "sms_console.blank_ballot_pdf": WORKERS,
    "sms_console.erase": WORKERS, "sms_console.invitation_settings": WORKERS,
    "sms_console.invitations": WORKERS, "sms_console.outbox": WORKERS, "sms_console.templates": WORKERS,
    "sms_console.template_edit": WORKERS, "sms_console.template_check": WORKERS,
    "zalo_console.page": ADMINS, "zalo_console.token": {"global"},  # one OA for the installation
    "zalo_console.unit_options": ADMINS,
    "notices.index": EVERYONE, "notices.draft": EVERYONE, "notices.wording": WORKERS, "notices.issue": WORKERS,
    "notices.issued": set(),  # no issued notice in the fixture: 404 for everyone
    # A draft's PDF by its content key (a capability known to whoever rendered the draft): login required, and
    # no conversion in the fixture, so 404 for everyone.
    "notices.pdf_status": set(), "notices.pdf_file": set(),
}
# Routes whose path names no unit's object (a blank import template): the other side is allowed too.
UNSCOPED_PATH = {"console.dossier_import_template": {"kind": "dossiers"}}
# Routes that take their unit (and dossier) from the query string or the form rather than the path.
UNIT_IN_QUERY = {"console.create_key", "console.ballot_batch_create", "console.cases", "console.case_settings",
                 "console.create_unit_page", "console.dossier_return", "console.dossiers",
                 "notices.wording", "kiosk_console.create",
                 "sms_console.slip", "notices.draft", "notices.index", "notices.issue", "aggregator.dashboard",
                 "aggregator.export_xlsx", "aggregator.export_csv", "aggregator.inputs"}


def _denied(response) -> bool:  # type: ignore[no-untyped-def]
    if response.status_code in (403, 404):
        return True
    return response.status_code == 302 and "/console/login" in response.headers.get("Location", "")


@pytest.fixture
def world(session, catalogue):  # type: ignore[no-untyped-def]
    district, (ward_a, ward_b) = create_district_with_wards(session)
    actors = {"global": _admin(session, [], username="root"),
              "district_admin": _admin(session, [district], username="qt.quan"),
              "ward_admin": _admin(session, [ward_a], username="qt.a"),
              "clerk": create_clerk(session, ward_a), "leader": create_clerk(session, ward_a, role=Role.LEADER)}
    params = {}
    for side, unit in (("own", ward_a), ("other", ward_b)):
        target = create_clerk(session, unit)
        dossier = create_dossier(session, unit)
        device = KioskDevice(unit_id=unit.id, public_id=f"dev{unit.id}", name="Quầy 1")
        job = ImportJob(unit_id=unit.id, kind="dossiers", filename="ho-so.xlsx", upload_path="", actor="test")
        batch = BallotBatch(unit_id=unit.id, instrument_code="quay4", batch_date=date(2026, 1, 5), handed_out=5,
                            first_clerk="user:someone")
        session.add_all([device, job, batch])
        session.flush()
        key, _plaintext = create_api_key(session, unit, name="Một cửa", actor="test")
        unhappy = create_response(session, catalogue, unit, dossier=dossier,
                                  answers=answers_for(catalogue) | {"tc01": "khong_hai_long"})
        params[side] = {"key_id": key.id, "job_id": job.id, "batch_id": batch.id, "position": 1, "user_id": target.id,
                        "unit_code": unit.code,
                        "code": unit.code, "device_id": device.id,
                        "notice_id": 999999, "response_id": unhappy.id,
                        "key": "0" * 64, "fmt": "docx", "kind": "invitation", "filename": "x.css"}
        params[side + "_dossier"] = dossier.code
    session.commit()
    return actors, params


def test_every_console_route_admits_exactly_the_allowed_roles(app, session, world):
    actors, params = world
    failures = []
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint == "console.logout", r.rule))
    unknown = {r.endpoint for r in rules} - NOT_CONSOLE - PUBLIC_CONSOLE - set(ALLOWED)
    assert not unknown, f"routes without an entry in the access table: {sorted(unknown)}"
    for role, user in [*actors.items(), ("anonymous", None)]:
        client = app.test_client()
        if user is not None:
            login(client, user)
        token = _csrf(client)
        for rule in rules:
            if rule.endpoint in NOT_CONSOLE or rule.endpoint in PUBLIC_CONSOLE:
                continue
            for side in ("own", "other"):
                values = {name: params[side][name] for name in rule.arguments if name != "code"
                          or "dossier" not in rule.endpoint}
                if "code" in rule.arguments:
                    values["code"] = params[side + "_dossier"] if "dossier" in rule.endpoint else params[side]["code"]
                values |= UNSCOPED_PATH.get(rule.endpoint, {})
                path = rule.build(values, append_unknown=False)[1]
                scoped = (bool(rule.arguments) and rule.endpoint not in UNSCOPED_PATH) or rule.endpoint in UNIT_IN_QUERY
                query = {"parent": params[side]["unit_code"], "unit": params[side]["unit_code"],
                         "name": "Phường Mới", "dossier": params[side + "_dossier"],
                         "code": params[side + "_dossier"]}
                expected = role in ALLOWED[rule.endpoint] and (side == "own" or not scoped
                                                               or role in REACHES_OTHER_WARD)
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    if method == "GET":
                        response = client.get(path, query_string=query)
                    else:
                        response = client.open(path, method=method, data=query | {"csrf_token": token})
                    if response.status_code >= 500:
                        failures.append(f"{role} {method} {path} ({side}): {response.status_code}")
                    elif _denied(response) == expected:
                        failures.append(f"{role} {method} {path} ({side}): {response.status_code}, "
                                        f"expected {'allowed' if expected else 'denied'}")
                    # The session ended (a logout, a changed password)? Asked of the lightest signed-in page.
                    if user is not None and client.get("/console/password").status_code != 200:
                        login(client, user)
                        token = _csrf(client)
    assert not failures, "\n".join(failures)


def test_admins_change_roles_and_units_only_within_their_scope(client, app, session):
    ward_a, ward_b = create_unit(session), create_unit(session)
    ward_admin = _admin(session, [ward_a], username="qt.a")
    clerk = create_clerk(session, ward_a, username="canbo.a")
    session.commit()
    other = app.test_client()
    login(other, clerk)
    login(client, ward_admin)
    token = _csrf(client)
    path = f"/console/users/{clerk.id}/role"
    assert client.post(path, data={"csrf_token": token, "role": "admin"}).status_code == 403  # global admin
    assert client.post(path, data={"csrf_token": token, "role": "clerk",
                                   "units": [str(ward_b.id)]}).status_code == 403
    assert other.get("/console/").status_code == 200
    assert client.post(path, data={"csrf_token": token, "role": "leader",
                                   "units": [str(ward_a.id)]}).status_code == 302
    session.expire_all()
    assert session.get(User, clerk.id).role is Role.LEADER
    assert other.get("/console/").status_code == 302  # the role change ended the clerk's session
    page = client.get("/console/audit?action=user.role").get_data(as_text=True)
    assert "qt.a đã đổi vai trò hoặc đơn vị của tài khoản (canbo.a)" in page


def test_api_keys_are_created_named_revoked_and_show_their_last_use(client, app, session):
    ward_a, ward_b = create_unit(session), create_unit(session)
    ward_admin = _admin(session, [ward_a], username="qt.a")
    foreign, _ = create_api_key(session, ward_b, name="Khóa phường khác", actor="test")
    session.commit()
    login(client, ward_admin)
    page = client.post("/console/keys", data={"csrf_token": _csrf(client), "unit": ward_a.code,
                                              "name": "Một cửa tỉnh"}, follow_redirects=True).get_data(as_text=True)
    plaintext = page.split("hãy lưu lại): ", 1)[1].split("<", 1)[0].strip()
    assert "Khóa phường khác" not in page and "chưa dùng" in page
    api = app.test_client()
    assert api.get("/api/v1/instruments", headers={"Authorization": f"Bearer {plaintext}"}).status_code == 200
    assert client.post("/console/keys", data={"csrf_token": _csrf(client), "unit": ward_b.code,
                                              "name": "x"}).status_code == 404
    assert client.post(f"/console/keys/{foreign.id}/revoke", data={"csrf_token": _csrf(client)}).status_code == 404
    session.expire_all()
    key = session.scalar(select(ApiKey).where(ApiKey.name == "Một cửa tỉnh"))
    client.post(f"/console/keys/{key.id}/revoke", data={"csrf_token": _csrf(client)})
    assert api.get("/api/v1/instruments", headers={"Authorization": f"Bearer {plaintext}"}).status_code == 401
    page = client.get("/console/audit?action=apikey").get_data(as_text=True)
    assert "qt.a đã tạo khóa API" in page and "qt.a đã thu hồi khóa API" in page


def test_units_are_created_from_the_console_within_scope(client, session):
    district = create_unit(session, code="Q1", name="Quận Một", kind=UnitKind.DISTRICT)
    ward_b = create_unit(session)
    district_admin = _admin(session, [district], username="qt.q1")
    session.commit()
    login(client, district_admin)
    token = _csrf(client)
    assert client.post("/console/units", data={"csrf_token": token, "code": "TOP", "name": "Tỉnh Mới",
                                               "kind": "province"}).status_code == 403
    assert client.post("/console/units", data={"csrf_token": token, "code": "PX", "name": "Phường X",
                                               "parent": ward_b.code}).status_code == 404
    assert client.post("/console/units", data={"csrf_token": token, "code": "P-MOI", "name": "Phường Mới",
                                               "kind": "ward", "parent": "Q1"}).status_code == 302
    session.expire_all()
    created = session.scalar(select(Unit).where(Unit.code == "P-MOI"))
    assert created is not None and created.parent_id == district.id
    assert "P-MOI" in client.get("/console/units").get_data(as_text=True)  # in the district admin's scope


def test_an_admin_cannot_reset_its_own_password_without_the_current_one(client, session):
    """A session left open (or stolen) must not be able to swap the admin's password for a new one: resetting
    one's own account goes through /console/password, which asks for the current password."""
    ward_a = create_unit(session)
    for admin in (_admin(session, [], username="root"), _admin(session, [ward_a], username="qt.a")):
        session.commit()
        login(client, admin)
        before = admin.password_hash
        assert client.post(f"/console/users/{admin.id}/password",
                           data={"csrf_token": _csrf(client)}).status_code == 404
        session.expire_all()
        assert session.get(User, admin.id).password_hash == before
        assert "Cấp mật khẩu mới" not in client.get("/console/users").get_data(as_text=True).split(
            f"<td>{admin.username}</td>", 1)[1].split("</tr>", 1)[0]
        client.post("/console/logout", data={"csrf_token": _csrf(client)})
