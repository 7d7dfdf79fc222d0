"""The kiosk page, its device API over HTTP, and the clerk's console pages."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from kiosk.models import MAX_CLOCK_SKEW_SECONDS, KioskDevice
from kiosk.pairing import revoke
from sipas.models import AuditEvent, Response, ResponseChannel, Role
from tests.factories import (
    answers_for,
    create_clerk,
    create_dossier,
    create_response,
    create_unit,
    local,
    login,
)
from tests.kiosk.helpers import new_device

SECRET = "test-secret-key"


def paired_unit(session, **unit_fields):  # type: ignore[no-untyped-def]
    unit = create_unit(session, **unit_fields)
    device, _, token = new_device(session, unit, secret=SECRET)
    session.commit()
    return unit, device, {"X-Kiosk-Token": token}


def test_kiosk_page_embeds_the_units_instrument_and_loads_only_local_assets(client, session):
    unit = create_unit(session, default_instrument="quay4", allow_anonymous=True)
    session.commit()
    page = client.get(f"/kiosk/{unit.code}?idle=3&countdown=9")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    instrument = json.loads(re.search(r'id="instrument">(.*?)</script>', html, re.S).group(1))
    config = json.loads(re.search(r'id="kiosk-config">(.*?)</script>', html, re.S).group(1))
    assert instrument["code"] == "quay4" and [c["code"] for c in instrument["criteria"]] == ["q1", "q2", "q3", "q4"]
    assert config["timings"]["idle"] == 3 and config["timings"]["countdown"] == 3 and config["allow_anonymous"]
    assert "Đánh giá không cần mã hồ sơ" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    script = client.get("/kiosk/static/kiosk/rating-flow.js")
    assert script.status_code == 200 and "export function mountRatingFlow" in script.get_data(as_text=True)
    script.close()
    assert client.get("/kiosk/KHONG-CO").status_code == 404


def test_device_api_needs_a_token_and_answers_in_vietnamese(client, session):
    unit, _device, _headers = paired_unit(session)
    response = client.post(f"/kiosk/{unit.code}/api/lookup", json={"code": "x"})
    assert response.status_code == 401
    assert response.get_json()["error"]["message"].startswith("Kiosk chưa được ghép nối")


def test_pairing_over_http_without_csrf_returns_a_working_token(client, session):
    from datetime import UTC, datetime, timedelta

    from kiosk.pairing import create_device

    unit = create_unit(session)
    new = create_device(session, unit, name="Quầy 2", now=datetime.now(UTC), secret_key=SECRET, actor="test",
                        valid_for=timedelta(minutes=30))
    session.commit()
    wrong = client.post(f"/kiosk/{unit.code}/api/pair", json={"code": "1"})
    assert wrong.status_code == 403 and "Mã ghép nối không đúng" in wrong.get_json()["error"]["message"]
    paired = client.post(f"/kiosk/{unit.code}/api/pair", json={"code": new.pairing_code})
    assert paired.status_code == 200
    token = paired.get_json()["token"]
    beat = client.post(f"/kiosk/{unit.code}/api/heartbeat", json={"queued": 4}, headers={"X-Kiosk-Token": token})
    assert beat.status_code == 200 and beat.get_json()["device"]["name"] == "Quầy 2"
    session.rollback()
    session.expire_all()
    assert session.get(KioskDevice, new.device.id).queued_count == 4


def test_lookup_gives_the_procedure_only_never_personal_data(client, session):
    unit, _device, headers = paired_unit(session)
    dossier = create_dossier(session, unit, procedure="Đăng ký kết hôn", phone="+84912345678", sms_consent=True)
    session.commit()
    response = client.post(f"/kiosk/{unit.code}/api/lookup", json={"code": dossier.code}, headers=headers)
    assert response.status_code == 200
    assert response.get_json() == {"code": dossier.code, "procedure": "Đăng ký kết hôn"}
    missing = client.post(f"/kiosk/{unit.code}/api/lookup", json={"code": "000"}, headers=headers)
    assert missing.status_code == 404 and missing.get_json()["error"]["message"] == "Không tìm thấy hồ sơ với mã này."


def test_submit_stores_once_and_acknowledges_resends(client, session, catalogue):
    unit, device, headers = paired_unit(session)
    dossier = create_dossier(session, unit)
    session.commit()
    body = {"key": "3b8f1f5e-0000-4000-8000-000000000001", "instrument": "hue12",
            "answers": {**answers_for(catalogue), "tc02": "na"}, "comment": "Cán bộ   tận tình",
            "dossier_code": dossier.code, "submitted_at": "2026-01-08T09:00:00+07:00", "queued": 0}
    first = client.post(f"/kiosk/{unit.code}/api/submit", json=body, headers=headers)
    again = client.post(f"/kiosk/{unit.code}/api/submit", json=body, headers=headers)
    assert (first.status_code, first.get_json()["status"]) == (201, "stored")
    assert (again.status_code, again.get_json()["status"]) == (200, "replayed")
    stored = list(session.scalars(select(Response)))
    assert len(stored) == 1 and stored[0].comment == "Cán bộ tận tình" and stored[0].source == device.source
    assert {a.criterion_code: a.option_code for a in stored[0].answers}["tc02"] is None
    session.execute(update(KioskDevice).values(last_submission_at=None))  # leave the minimum interval out of this
    session.commit()
    duplicate = client.post(f"/kiosk/{unit.code}/api/submit", json={**body, "key": "another-key-0001"},
                            headers=headers)
    assert duplicate.status_code == 409  # one rating per dossier; the refusal is audited
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "response.duplicate_refused"))


def test_a_rating_refused_as_already_rated_leaves_the_kiosks_interval_and_last_rating_as_they_were(
        client, session, catalogue):
    """A kiosk rating refused as already rated (409: queued offline while the citizen also answered the SMS) took
    the device's minimum interval and set its "Phiếu gần nhất" though nothing was stored — the gate's claim stayed
    (PostgreSQL) or was made before the write (SQLite), and the refusal's commit kept it with the audit event. The
    refusal now gives them back; its audit event stays."""
    unit, device, headers = paired_unit(session, allow_anonymous=True)
    rated_meanwhile = create_dossier(session, unit)
    create_response(session, catalogue, unit, dossier=rated_meanwhile, channel=ResponseChannel.SMS)
    session.commit()
    body = {"instrument": "hue12", "answers": answers_for(catalogue)}
    refused = client.post(f"/kiosk/{unit.code}/api/submit", headers=headers, json={
        **body, "key": "queued-offline-0001", "dossier_code": rated_meanwhile.code})
    assert refused.status_code == 409
    session.expire_all()
    assert session.get(KioskDevice, device.id).last_submission_at is None  # the console's "Phiếu gần nhất": —
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "response.duplicate_refused"))
    nxt = client.post(f"/kiosk/{unit.code}/api/submit", headers=headers, json={**body, "key": "next-citizen-0001"})
    assert nxt.status_code == 201, nxt.get_json()  # the next citizen is not held back by a rating never stored
    session.rollback()  # reads anew: SQLite's read transaction, begun by the audit query, saw the former state
    assert session.get(KioskDevice, device.id).last_submission_at is not None


def test_a_kiosk_clock_a_day_behind_neither_refuses_nor_misdates_its_ratings(client, session, catalogue,
                                                                            monkeypatch):
    """A kiosk whose clock was a day behind (every heartbeat measured it) had every rating of a dossier returned
    that day refused ('Thời điểm đánh giá trước ngày trả kết quả của hồ sơ.', 422, then kept aside on the kiosk,
    never counted) and its anonymous ratings dated a day early: its time is now corrected by the measured offset,
    so a rating queued offline keeps its real time, and one still dated before the dossier's return is the
    server's now."""
    now = local(2026, 3, 2, 10, 0)
    clock = [now]
    monkeypatch.setattr("kiosk.views.utcnow", lambda: clock[0])
    unit, _device, headers = paired_unit(session, allow_anonymous=True)
    dossier = create_dossier(session, unit, received_at=local(2026, 3, 2, 8, 0), due_at=local(2026, 3, 4),
                             returned_at=local(2026, 3, 2, 9, 55))
    session.commit()
    behind = timedelta(days=1)
    assert client.post(f"/kiosk/{unit.code}/api/heartbeat", json={"client_time": (now - behind).isoformat()},
                       headers=headers).status_code == 200
    body = {"instrument": "hue12", "answers": answers_for(catalogue, on=now)}
    rated = client.post(f"/kiosk/{unit.code}/api/submit", headers=headers, json={
        **body, "key": "clock-behind-0001", "dossier_code": dossier.code, "submitted_at": (now - behind).isoformat()})
    assert rated.status_code == 201, rated.get_json()
    clock[0] = now + timedelta(minutes=1)
    queued = client.post(f"/kiosk/{unit.code}/api/submit", headers=headers, json={
        **body, "key": "clock-behind-0002", "submitted_at": (now - behind - timedelta(hours=3)).isoformat()})
    assert queued.status_code == 201, queued.get_json()
    stored = {r.idempotency_key: r.submitted_at for r in session.scalars(select(Response))}
    assert stored == {"clock-behind-0001": now, "clock-behind-0002": now - timedelta(hours=3)}


def test_a_queued_rating_resent_after_re_pairing_is_not_stored_twice(client, session, catalogue):
    """A rating stored whose answer was lost stays in the kiosk's queue, which is the unit's and outlives a
    revocation (queue.js: sipas-kiosk:<unit>:queue); the browser paired again as a new device resent it under its
    own source, and keys are unique per unit and source: the citizen's rating was stored twice. The queued rating
    names the device that took it (device_id), and the resend is looked up and stored under that device's source
    when it is of the same unit."""
    unit, old, old_headers = paired_unit(session, allow_anonymous=True)
    _other_unit, stranger, _ = paired_unit(session, allow_anonymous=True)
    body = {"key": "0b5d1a40-aaaa-4bbb-8ccc-000000000001", "instrument": "hue12", "answers": answers_for(catalogue),
            "device_id": old.public_id}
    assert client.post(f"/kiosk/{unit.code}/api/submit", json=body, headers=old_headers).status_code == 201
    # the answer never reached the kiosk; the clerk revokes it ("Thu hồi") and pairs the same browser again
    revoke(session, session.get(KioskDevice, old.id), now=old.paired_at, actor="test")
    new, _, new_token = new_device(session, unit, secret=SECRET)
    session.commit()
    headers = {"X-Kiosk-Token": new_token}
    resent = client.post(f"/kiosk/{unit.code}/api/submit", json=body, headers=headers)
    assert (resent.status_code, resent.get_json()["status"]) == (200, "replayed")
    assert session.scalars(select(Response.source)).all() == [old.source]
    # a rating the new device takes is its own; one naming another unit's device is the sender's too
    session.execute(update(KioskDevice).values(last_submission_at=None))
    session.commit()
    assert client.post(f"/kiosk/{unit.code}/api/submit", headers=headers, json={
        **body, "key": "new-device-key-0001", "device_id": new.public_id}).status_code == 201
    session.execute(update(KioskDevice).values(last_submission_at=None))
    session.commit()
    assert client.post(f"/kiosk/{unit.code}/api/submit", headers=headers, json={
        **body, "key": "foreign-device-0001", "device_id": stranger.public_id}).status_code == 201
    assert {r.idempotency_key: r.source for r in session.scalars(select(Response).where(
        Response.unit_id == unit.id))} == {body["key"]: old.source, "new-device-key-0001": new.source,
                                           "foreign-device-0001": new.source}


def test_too_fast_submission_gets_429_with_retry_after(client, session, catalogue):
    unit, _device, headers = paired_unit(session, allow_anonymous=True)
    body = {"instrument": "hue12", "answers": answers_for(catalogue)}
    assert client.post(f"/kiosk/{unit.code}/api/submit", json={**body, "key": "fast-key-0001"},
                       headers=headers).status_code == 201
    refused = client.post(f"/kiosk/{unit.code}/api/submit", json={**body, "key": "fast-key-0002"}, headers=headers)
    assert refused.status_code == 429
    error = refused.get_json()["error"]
    assert error["code"] == "too_fast" and 1 <= int(error["retry_after"]) <= 10
    replay = client.post(f"/kiosk/{unit.code}/api/submit", json={**body, "key": "fast-key-0001"}, headers=headers)
    assert replay.status_code == 200


def test_console_pairs_lists_arms_and_revokes_kiosks(client, session):
    unit = create_unit(session, name="Phường Phú Hội")
    dossier = create_dossier(session, unit)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    page = client.get("/console/kiosks")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    created = client.post("/console/kiosks/new", data={"unit": unit.code, "name": "Quầy 1", "csrf_token": token})
    html = created.get_data(as_text=True)
    code = re.search(r'data-testid="pairing-code">(\d{8})<', html).group(1)
    assert f"/kiosk/{unit.code}#pair={code}" in html
    assert client.post(f"/kiosk/{unit.code}/api/pair", json={"code": code}).status_code == 200
    device = session.scalar(select(KioskDevice).where(KioskDevice.unit_id == unit.id))
    listing = client.get("/console/kiosks").get_data(as_text=True)
    assert "Đang hoạt động" in listing and "Vừa xong" in listing and code not in listing
    assert re.search(r'data-testid="queued">0<.*data-testid="flagged">0<', listing, re.S)
    armed = client.post(f"/console/kiosks/{device.id}/arm", data={"dossier_code": dossier.code, "csrf_token": token},
                        follow_redirects=True)
    assert f"sẽ mời công dân đánh giá hồ sơ {dossier.code}" in armed.get_data(as_text=True)
    revoked = client.post(f"/console/kiosks/{device.id}/revoke", data={"csrf_token": token}, follow_redirects=True)
    assert "Đã thu hồi" in revoked.get_data(as_text=True)
    session.rollback()
    session.expire_all()
    assert session.get(KioskDevice, device.id).revoked_at is not None


def test_console_hides_other_units_kiosks_and_refuses_leaders(client, session):
    unit, other = create_unit(session), create_unit(session)
    foreign, _, _ = new_device(session, other, secret=SECRET, name="Quầy lạ")
    clerk = create_clerk(session, unit)
    leader = create_clerk(session, unit, role=Role.LEADER)
    session.commit()
    login(client, clerk)
    assert "Quầy lạ" not in client.get("/console/kiosks").get_data(as_text=True)
    page = client.get("/console/kiosks").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post(f"/console/kiosks/{foreign.id}/revoke", data={"csrf_token": token}).status_code == 404
    client.post("/console/logout", data={"csrf_token": token})
    login(client, leader)
    assert client.get("/console/kiosks").status_code == 403


def test_hashes_are_keyed_with_the_apps_secret_even_without_sipas_secret_key(settings):
    import dataclasses
    from datetime import UTC, datetime, timedelta

    from kiosk.pairing import create_device
    from sipas.app import create_app
    from sipas.storage import get_database

    app = create_app(dataclasses.replace(settings, secret_key=""))  # the instance file provides the key
    assert app.config["SECRET_KEY"]
    try:
        with get_database(app).session() as session:
            unit = create_unit(session)
            code = create_device(session, unit, name="Quầy 1", now=datetime.now(UTC),
                                 secret_key=app.config["SECRET_KEY"], actor="test",
                                 valid_for=timedelta(minutes=5)).pairing_code
            unit_code = unit.code
        client = app.test_client()
        paired = client.post(f"/kiosk/{unit_code}/api/pair", json={"code": code})
        assert paired.status_code == 200
        headers = {"X-Kiosk-Token": paired.get_json()["token"]}
        assert client.post(f"/kiosk/{unit_code}/api/heartbeat", json={}, headers=headers).status_code == 200
    finally:
        get_database(app).dispose()


def test_cli_prints_a_pairing_code_the_kiosk_can_use(settings, session, monkeypatch):
    from click.testing import CliRunner

    from sipas import cli as cli_module
    from sipas.app import create_app
    from sipas.storage import get_database

    unit = create_unit(session)
    session.commit()
    monkeypatch.setenv("SIPAS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SIPAS_INSTANCE_DIR", str(settings.instance_dir))
    monkeypatch.setenv("SIPAS_SECRET_KEY", "cli-kiosk-secret")
    cli_module._add_extra_commands()
    result = CliRunner().invoke(cli_module.cli, ["kiosk-pair", "--unit", unit.code, "--name", "Quầy 3"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    code = re.search(r"^(\d{8})$", result.output, re.M).group(1)
    app = create_app(settings.__class__.from_env())
    try:
        paired = app.test_client().post(f"/kiosk/{unit.code}/api/pair", json={"code": code})
        assert paired.status_code == 200 and paired.get_json()["device"]["name"] == "Quầy 3"
    finally:
        get_database(app).dispose()
    missing = CliRunner().invoke(cli_module.cli, ["kiosk-pair", "--unit", "KHONG-CO"])
    assert missing.exit_code != 0 and "Không tìm thấy đơn vị" in missing.output


def test_console_counts_flagged_bursts_per_kiosk(client, session, catalogue):
    from datetime import UTC, datetime, timedelta

    from kiosk.services import KioskRules, submit
    from sipas.models import ResponseChannel
    from sipas.responses import ResponseInput
    from tests.factories import TZ

    unit, device, _headers = paired_unit(session, allow_anonymous=True)
    now = datetime.now(UTC)
    for i in range(3):
        data = ResponseInput(instrument="hue12", channel=ResponseChannel.KIOSK, answers=answers_for(catalogue),
                             idempotency_key=f"burst-view-{i}")
        submit(session, catalogue, device, data, now=now + timedelta(seconds=i), tz=TZ,
               rules=KioskRules(min_interval=timedelta(0)))
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    listing = client.get("/console/kiosks").get_data(as_text=True)
    assert 'data-testid="flagged">3<' in listing


def test_submit_refuses_an_instrument_other_than_the_units_kiosk_form(client, session, catalogue):
    unit, _device, headers = paired_unit(session, default_instrument="quay4", allow_anonymous=True)
    body = {"key": "instrument-key-01", "instrument": "hue12", "answers": answers_for(catalogue, "hue12")}
    refused = client.post(f"/kiosk/{unit.code}/api/submit", json=body, headers=headers)
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "kiosk_instrument_refused" and error["field"] == "instrument"
    assert error["message"].startswith("Phiếu đánh giá không theo bộ câu hỏi")
    assert session.scalar(select(Response.id)) is None
    quay4 = {**body, "instrument": "quay4", "answers": answers_for(catalogue, "quay4")}
    assert client.post(f"/kiosk/{unit.code}/api/submit", json=quay4, headers=headers).status_code == 201


def test_polls_name_the_units_current_instrument_so_the_kiosk_can_follow_a_change(client, session):
    unit, _device, headers = paired_unit(session, default_instrument="quay4")
    armed = client.post(f"/kiosk/{unit.code}/api/armed", headers=headers, json={}).get_json()
    assert armed["armed"] is None and armed["instrument"] == {"code": "quay4", "version": "2018.1"}
    session.execute(update(type(unit)).where(type(unit).id == unit.id).values(default_instrument="tt01_2018"))
    session.commit()
    beat = client.post(f"/kiosk/{unit.code}/api/heartbeat", json={"queued": 0}, headers=headers).get_json()
    assert beat["instrument"]["code"] == "tt01_2018"


def test_rejected_ratings_reported_by_the_kiosk_show_in_the_console(client, session):
    unit, _device, headers = paired_unit(session, name="Phường Phú Hội")
    clerk = create_clerk(session, unit)
    session.commit()
    beat = client.post(f"/kiosk/{unit.code}/api/heartbeat", json={"queued": 1, "rejected": 2}, headers=headers)
    assert beat.status_code == 200
    login(client, clerk)
    listing = client.get("/console/kiosks").get_data(as_text=True)
    assert re.search(r'data-testid="queued">1<.*data-testid="rejected">2<.*Cần kiểm tra', listing, re.S)
    client.post(f"/kiosk/{unit.code}/api/heartbeat", json={"queued": 0, "rejected": 0}, headers=headers)
    listing = client.get("/console/kiosks").get_data(as_text=True)
    assert 'data-testid="rejected">0<' in listing and "Cần kiểm tra" not in listing


def test_the_console_warns_about_a_kiosk_whose_clock_is_wrong_as_the_doctor_does(client, session, monkeypatch):
    """The console said only "Đang hoạt động" of a kiosk whose clock was 27 hours off, although every heartbeat
    measured it and ``sipas doctor`` reported it: the kiosk's row now says how far off and what to do, beyond the
    doctor's threshold (2 minutes) only."""
    now = datetime.now(UTC)
    monkeypatch.setattr("kiosk.views.utcnow", lambda: now)  # the offset measured to the second
    unit, device, headers = paired_unit(session)
    right, _, right_token = new_device(session, unit, secret=SECRET, name="Quầy 2")
    clerk = create_clerk(session, unit)
    session.commit()
    for token, kiosk_time in ((headers["X-Kiosk-Token"], now - timedelta(days=1, hours=3)),
                              (right_token, now + timedelta(seconds=MAX_CLOCK_SKEW_SECONDS))):
        assert client.post(f"/kiosk/{unit.code}/api/heartbeat", json={"client_time": kiosk_time.isoformat()},
                           headers={"X-Kiosk-Token": token}).status_code == 200
    login(client, clerk)
    html = client.get("/console/kiosks").get_data(as_text=True)
    rows = {public_id: row for public_id, row in re.findall(r'<tr data-kiosk="(\w+)">(.*?)</tr>', html, re.S)}
    assert "Đang hoạt động" in rows[device.public_id]
    assert "Đồng hồ máy chậm 1 ngày 3 giờ — chỉnh giờ máy" in rows[device.public_id]
    assert "Đang hoạt động" in rows[right.public_id] and "Đồng hồ" not in rows[right.public_id]


def test_submit_takes_back_the_heartbeats_instrument_object_and_checks_instrument_version(client, session, catalogue):
    unit, _device, headers = paired_unit(session, allow_anonymous=True)
    session.commit()
    beat = client.post(f"/kiosk/{unit.code}/api/heartbeat", json={"queued": 0}, headers=headers).get_json()
    session.execute(update(KioskDevice).values(last_submission_at=None))
    session.commit()
    answers = answers_for(catalogue)
    as_object = {"key": "object-key-0001", "instrument": beat["instrument"], "answers": answers}
    stored = client.post(f"/kiosk/{unit.code}/api/submit", json=as_object, headers=headers)
    assert stored.status_code == 201, stored.get_json()
    session.execute(update(KioskDevice).values(last_submission_at=None))
    session.commit()
    unknown = {"key": "version-key-0001", "instrument": "hue12", "instrument_version": "1999.9", "answers": answers}
    refused = client.post(f"/kiosk/{unit.code}/api/submit", json=unknown, headers=headers)
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert (error["code"], error["field"]) == ("unknown_instrument_version", "instrument_version")
    assert "Phiên bản bộ câu hỏi" in error["message"]
    garbage = client.post(f"/kiosk/{unit.code}/api/submit", headers=headers,
                          json={"key": "garbage-key-0001", "instrument": {"code": ["hue12"]}, "answers": answers})
    assert garbage.status_code == 422 and garbage.get_json()["error"]["field"] == "instrument.code"
    detail = garbage.get_json()["error"]["detail"]
    assert detail == "instrument.code must be a string of at most 64 characters"  # no Python repr
    assert len(session.scalars(select(Response)).all()) == 1


def test_device_polls_never_rewrite_the_clerks_session_cookie(client, session):
    """A kiosk tab in the clerk's browser polls every second with the clerk's cookie; a poll answered
    after a console page added the CSRF token wrote its stale copy back (CI: "The CSRF session token is
    missing" on the clerk's next click). Only a person's pages refresh the cookie."""
    unit, _device, headers = paired_unit(session)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    assert "session=" in client.get("/console/kiosks").headers.get("Set-Cookie", "")  # a page still refreshes it
    polls = [client.post(f"/kiosk/{unit.code}/api/armed", json={}, headers=headers),
             client.post(f"/kiosk/{unit.code}/api/heartbeat", json={"queued": 0}, headers=headers),
             client.get("/kiosk/static/kiosk/kiosk.js"),
             client.get("/api/v1/instruments")]
    polls[2].close()
    assert [p.headers.get("Set-Cookie") for p in polls] == [None] * 4
    assert polls[0].status_code == 200 and polls[1].status_code == 200


def test_a_device_token_answers_for_its_own_unit_only(client, session):
    """The unit and the device are read in one query; a token shown to another unit, an unknown unit or a
    wrong secret still get their own precise answers."""
    unit, device, headers = paired_unit(session)
    other = create_unit(session)
    session.commit()
    assert client.post(f"/kiosk/{unit.code}/api/armed", headers=headers, json={}).status_code == 200
    elsewhere = client.post(f"/kiosk/{other.code}/api/armed", headers=headers, json={})
    assert elsewhere.status_code == 401 and elsewhere.get_json()["error"]["code"] == "kiosk_unpaired"
    assert client.post("/kiosk/KHONG-CO/api/armed", headers=headers, json={}).status_code == 404
    forged = {"X-Kiosk-Token": device.public_id + ".khong-dung"}
    wrong = client.post(f"/kiosk/{unit.code}/api/armed", headers=forged, json={})
    assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "kiosk_unpaired"
