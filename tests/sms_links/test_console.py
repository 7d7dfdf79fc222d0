"""Console pages of the SMS/QR channel: slips, template editor, outbox, invitations, erasure."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from PIL import Image
from pyzbar.pyzbar import decode
from sqlalchemy import select

from sipas.clock import utcnow
from sipas.models import AuditEvent, DossierContact, IntakeChannel, Role
from sms_gateway.models import Invitation, InvitationStatus, MessageKind, MessageTemplate, OutboundMessage
from sms_gateway.models_links import LinkChannel, ShortLink
from tests.factories import create_clerk, create_dossier, create_response, create_unit, local, login
from tests.sms_links.conftest import csrf_token, fresh


def test_console_pages_need_a_login_and_the_unit(client, session):
    unit = create_unit(session)
    other = create_unit(session)
    clerk = create_clerk(session, unit)
    session.commit()
    assert client.get(f"/console/sms/{unit.code}/slips").status_code == 302
    login(client, clerk)
    assert client.get("/console/sms/").status_code == 200
    assert client.get(f"/console/sms/{unit.code}/slips").status_code == 200
    for page in ("slips", "templates", "outbox", "invitations", "erase"):
        assert client.get(f"/console/sms/{other.code}/{page}").status_code == 404


def test_slip_for_a_returned_dossier_carries_a_qr_of_its_link(client, session, settings):
    unit = create_unit(session, name="Phường Phú Hội")
    dossier = create_dossier(session, unit, procedure="Chứng thực bản sao")
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    page = client.get(f"/console/sms/{unit.code}/slip", query_string={"dossier": dossier.code, "size": "a6"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "@page { size: 105mm 148mm" in html and f"Mã hồ sơ: {dossier.code}" in html and "<svg" in html
    assert "Mở camera hoặc Zalo" in html and "Gửi đánh giá" in html
    link = session.scalar(select(ShortLink).where(ShortLink.dossier_id == dossier.id))
    assert link.channel is LinkChannel.QR and link.expires_at is not None
    url = f"{settings.public_base_url}/r/{link.code}"
    assert url in html
    reprint = client.get(f"/console/sms/{unit.code}/slip", query_string={"dossier": dossier.code, "size": "80mm"})
    assert "size: 80mm" in reprint.get_data(as_text=True) and url in reprint.get_data(as_text=True)
    png = client.get(f"/r/{link.code}/qr.png")
    assert png.mimetype == "image/png"
    assert [d.data.decode() for d in decode(Image.open(io.BytesIO(png.data)))] == [url]
    svg = client.get(f"/r/{link.code}/qr.svg")
    assert svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    fresh(session)
    assert session.get(ShortLink, link.id).used_at is None


def test_batch_of_slips_for_a_day_skips_rated_and_other_days(client, session, catalogue):
    unit = create_unit(session)
    day = local(2026, 3, 2, 10)
    first = create_dossier(session, unit, received_at=day - timedelta(days=2), returned_at=day)
    second = create_dossier(session, unit, received_at=day - timedelta(days=2), returned_at=day + timedelta(hours=2))
    rated = create_dossier(session, unit, received_at=day - timedelta(days=2), returned_at=day + timedelta(hours=3))
    other_day = create_dossier(session, unit, received_at=day - timedelta(days=2), returned_at=day + timedelta(days=1))
    create_response(session, catalogue, unit, dossier=rated)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    html = client.get(f"/console/sms/{unit.code}/slips/day", query_string={"date": "2026-03-02"}).get_data(as_text=True)
    printed = re.findall(r'<section class="slip" data-dossier="([^"]+)"', html)
    assert printed == [first.code, second.code]
    assert f"Đã được đánh giá, không in phiếu: {rated.code}" in html
    assert other_day.code not in html
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "qr.slips_printed"))
    assert event.subject == "2026-03-02" and event.details == {"slips": 2} and event.actor == f"user:{clerk.username}"
    listing = client.get(f"/console/sms/{unit.code}/slips", query_string={"date": "2026-03-02"}).get_data(as_text=True)
    assert first.code in listing and rated.code in listing and "Đã đánh giá" in listing
    assert other_day.code not in listing
    typed = client.get(f"/console/sms/{unit.code}/slips", query_string={"date": "2/3/2026"}).get_data(as_text=True)
    assert first.code in typed and other_day.code not in typed  # a day typed as ngày/tháng/năm
    assert 'type="date"' not in typed and 'value="02/03/2026"' in typed  # no mm/dd/yyyy control
    by_hand = client.get(f"/console/sms/{unit.code}/slips/day", query_string={"date": "02/03/2026"})
    assert re.findall(r'<section class="slip" data-dossier="([^"]+)"', by_hand.get_data(as_text=True)) == printed
    empty = client.get(f"/console/sms/{unit.code}/slips/day", query_string={"date": "2026-03-05"})
    assert "Không có phiếu nào để in cho ngày 05/03/2026" in empty.get_data(as_text=True)


def test_template_editor_refuses_an_over_long_template_with_the_reason(client, session):
    unit = create_unit(session)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    url = f"/console/sms/{unit.code}/templates/invitation"
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "GSM-7" in html and "000.00.20.H57-260105-0001" in html
    accented = "{don_vi} kính mời ông/bà đánh giá mức độ hài lòng về hồ sơ {ma_ho_so} tại {link} Từ chối: TC"
    refused = client.post(url, data={"csrf_token": csrf_token(html), "text": accented, "action": "save"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Không lưu được mẫu tin nhắn" in text and "Tin nhắn quá dài" in text and "UCS-2" in text
    assert session.scalar(select(MessageTemplate)) is None
    fresh(session)  # end the read transaction: the next request writes
    plain = "{don_vi}: HS {ma_ho_so} da xong. Danh gia: {link}"
    saved = client.post(url, data={"csrf_token": csrf_token(html), "text": plain, "action": "save"})
    assert saved.status_code == 302
    fresh(session)
    stored = session.scalar(select(MessageTemplate))
    assert stored.text == plain and stored.unit_id == unit.id and stored.kind == "invitation"
    listing = client.get(f"/console/sms/{unit.code}/templates").get_data(as_text=True)
    assert plain.replace("{", "") in listing.replace("{", "") and "Riêng của đơn vị" in listing
    check = client.post(f"{url}/check", json={"text": accented}, headers={"X-CSRFToken": csrf_token(html)})
    assert check.json["encoding"] == "UCS-2" and check.json["segments"] >= 2 and not check.json["ok"]
    missing = client.post(url, data={"csrf_token": csrf_token(html), "text": "Xin chao", "action": "save"})
    assert missing.status_code == 422 and "{link}" in missing.get_data(as_text=True)


def test_templates_page_warns_when_the_units_real_name_and_link_exceed_the_limit(app, client, session, settings):
    from sipas.storage import get_database
    from sms_gateway.sending import run_cycle
    from sms_gateway.templates_text import DEFAULTS
    from tests.sms_gateway.conftest import RecordingProvider

    unit = create_unit(session, name="Ủy ban nhân dân phường Vĩnh Ninh, thành phố Huế")
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    page = client.get(f"/console/sms/{unit.code}/templates").get_data(as_text=True)
    warning = page.split('id="segment-warnings"', 1)[1].split("</div>", 1)[0]
    assert "Với tên đơn vị “Ủy ban nhân dân phường Vĩnh Ninh, thành phố Huế” và đường dẫn thật" in warning
    assert "Tin mời đánh giá" in warning and "“UBND P. Vĩnh Ninh, thành phố Huế”" in warning
    assert '<div class="flash flash-warning" role="alert" id="segment-warnings">' in page
    assert "sẽ không được gửi" not in warning
    editor = client.get(f"/console/sms/{unit.code}/templates/invitation").get_data(as_text=True)
    assert 'id="template-warnings"' in editor and "Không lưu được" not in editor

    session.add(MessageTemplate(unit_id=unit.id, kind="invitation",  # stored before the limit was lowered
                                text=DEFAULTS["invitation"] + " Tran trong cam on Ong/Ba da su dung dich vu cong."))
    create_dossier(session, unit, intake_channel=IntakeChannel.ONLINE_FULL, received_at=local(2026, 1, 5),
                   returned_at=local(2026, 1, 7, 9), phone="+84912345678", sms_consent=True)
    session.commit()
    page = client.get(f"/console/sms/{unit.code}/templates").get_data(as_text=True)
    warning = page.split('id="segment-warnings"', 1)[1].split("</div>", 1)[0]
    assert '<div class="flash flash-error" role="alert" id="segment-warnings">' in page
    assert "kể cả khi viết tắt tên đơn vị" in warning and "không được gửi" in warning

    provider = RecordingProvider()
    run_cycle(get_database(app), settings, now=local(2026, 1, 7, 10), provider=provider)
    assert provider.calls == []
    listing = client.get(f"/console/sms/{unit.code}/invitations").get_data(as_text=True)
    assert 'id="too-long-warning"' in listing and "(too_long: tin nhắn vượt giới hạn số tin" in listing


def test_the_help_preview_counts_the_questions_the_sms_asks_not_the_kiosk_s(client, session):
    """A unit whose kiosk uses the 4-question counter form gets SMS invitations on the 12 criteria (an SMS reply
    cannot answer quay4's questions 3 and 4): the help text's preview said "Tra loi 4 so" where the citizen
    receives "Tra loi 12 so"."""
    unit = create_unit(session, default_instrument="quay4")
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    editor = client.get(f"/console/sms/{unit.code}/templates/help").get_data(as_text=True)
    assert "Tra loi 12 so theo thu tu tieu chi" in editor and "Tra loi 4 so" not in editor


def test_outbox_shows_a_console_message_with_a_masked_number(client, session):
    unit = create_unit(session)
    dossier = create_dossier(session, unit, phone="+84912345678", sms_consent=True)
    now = utcnow()
    invitation = Invitation(dossier_id=dossier.id, unit_id=unit.id, instrument_code="hue12",
                            status=InvitationStatus.SENT, due_at=now, sent_at=now, expires_at=now + timedelta(days=7))
    session.add(invitation)
    session.flush()
    session.add(OutboundMessage(provider="console", sid="CONSOLE1", invitation_id=invitation.id, unit_id=unit.id,
                                kind=MessageKind.INVITATION, to_hash="h" * 64, to_hint="678",
                                body="Phuong: HS da co ket qua", segments=1, encoding="GSM-7", created_at=now))
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    html = client.get(f"/console/sms/{unit.code}/outbox").get_data(as_text=True)
    assert "Phuong: HS da co ket qua" in html and dossier.code in html and "•678" in html
    assert "0912345678" not in html and "912345678" not in html
    listing = client.get(f"/console/sms/{unit.code}/invitations").get_data(as_text=True)
    assert dossier.code in listing and "Đã gửi" in listing
    filtered = client.get(f"/console/sms/{unit.code}/invitations", query_string={"status": "failed"})
    assert dossier.code not in filtered.get_data(as_text=True)


def test_erasing_a_phone_needs_a_confirmation(client, session):
    unit = create_unit(session)
    dossier = create_dossier(session, unit, phone="+84912345678", sms_consent=True)
    clerk = create_clerk(session, unit, role=Role.CLERK)
    session.commit()
    login(client, clerk)
    url = f"/console/sms/{unit.code}/erase"
    page = client.get(url, query_string={"dossier": dossier.code})
    html = page.get_data(as_text=True)
    assert "•678" in html and "912345678" not in html
    unconfirmed = client.post(url, data={"csrf_token": csrf_token(html), "dossier": dossier.code})
    assert unconfirmed.status_code == 422 and "Vui lòng đánh dấu ô xác nhận" in unconfirmed.get_data(as_text=True)
    fresh(session)
    assert session.scalar(select(DossierContact)).phone_e164 == "+84912345678"
    fresh(session)
    done = client.post(url, data={"csrf_token": csrf_token(html), "dossier": dossier.code, "confirm": "yes"},
                       follow_redirects=True)
    assert "Đã xóa số điện thoại" in done.get_data(as_text=True)
    fresh(session)
    contact = session.scalar(select(DossierContact))
    assert contact.phone_e164 is None and contact.erased_at is not None and not contact.sms_consent
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "contact.erased")) is not None
    after = client.get(url, query_string={"dossier": dossier.code}).get_data(as_text=True)
    assert "đã được xóa lúc" in after


def test_erasing_a_phone_erases_that_number_on_every_dossier_that_has_it(client, session):
    """The citizen asks that their number be erased: the same number on their other dossiers (of this unit or
    another) goes too, else those dossiers kept it and were still invited by SMS. Another number stays."""
    unit, other_unit = create_unit(session), create_unit(session)
    asked = create_dossier(session, unit, phone="+84912345678", sms_consent=True)
    same = create_dossier(session, unit, phone="+84912345678", sms_consent=True)
    elsewhere = create_dossier(session, other_unit, phone="+84912345678", sms_consent=True)
    other_number = create_dossier(session, unit, phone="+84987654321", sms_consent=True)
    clerk = create_clerk(session, unit, role=Role.CLERK)
    session.commit()
    login(client, clerk)
    url = f"/console/sms/{unit.code}/erase"
    html = client.get(url, query_string={"dossier": asked.code}).get_data(as_text=True)
    done = client.post(url, data={"csrf_token": csrf_token(html), "dossier": asked.code, "confirm": "yes"},
                       follow_redirects=True).get_data(as_text=True)
    assert f"Đã xóa số điện thoại của hồ sơ {asked.code} và của 2 hồ sơ khác có cùng số." in done
    fresh(session)
    contacts = {c.dossier_id: c for c in session.scalars(select(DossierContact))}
    for dossier in (asked, same, elsewhere):
        contact = contacts[dossier.id]
        assert contact.phone_e164 is None and contact.erased_at is not None and not contact.sms_consent
        assert contact.phone_hash == contacts[asked.id].phone_hash  # an opt-out of the number is still honoured
    assert contacts[other_number.id].phone_e164 == "+84987654321" and contacts[other_number.id].sms_consent
    erased = session.scalars(select(AuditEvent.subject).where(AuditEvent.action == "contact.erased")).all()
    assert sorted(erased) == sorted([asked.code, same.code, elsewhere.code])


def test_unit_chooses_invitations_for_all_dossiers_or_none(client, session):
    unit = create_unit(session)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    page = client.get(f"/console/sms/{unit.code}/templates").get_data(as_text=True)
    assert 'name="enabled" value="1" checked' in page and 'name="all_dossiers" value="1" checked' not in page
    url = f"/console/sms/{unit.code}/invitation-settings"
    saved = client.post(url, data={"csrf_token": csrf_token(page), "enabled": "1", "all_dossiers": "1"})
    assert saved.status_code == 302
    fresh(session)
    assert session.get(type(unit), unit.id).options["sms"] == {"enabled": True, "all_dossiers": True}
    client.post(url, data={"csrf_token": csrf_token(page)})
    fresh(session)
    assert session.get(type(unit), unit.id).options["sms"] == {"enabled": False, "all_dossiers": False}
    again = client.get(f"/console/sms/{unit.code}/templates").get_data(as_text=True)
    assert 'name="enabled" value="1" checked' not in again


def test_slip_is_refused_for_a_dossier_not_yet_returned(client, session):
    unit = create_unit(session)
    pending = create_dossier(session, unit, returned=False)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    html = client.get(f"/console/sms/{unit.code}/slip", query_string={"dossier": pending.code}).get_data(as_text=True)
    assert f"Chưa trả kết quả, chưa thể đánh giá: {pending.code}" in html
    assert '<section class="slip"' not in html


def test_a_leader_reads_but_issues_no_rating_link(client, session):
    """A leader only reads (docs/accounts.md): the slip pages and a day's ballots issue each returned dossier's
    rating link, which a leader could then spend; the blank ballots already said "a leader only views"."""
    unit = create_unit(session)
    create_dossier(session, unit, received_at=local(2026, 1, 5), returned_at=local(2026, 1, 6))
    leader = create_clerk(session, unit, role=Role.LEADER)
    session.commit()
    login(client, leader)
    listing = client.get(f"/console/sms/{unit.code}/slips", query_string={"date": "2026-01-06"})
    assert listing.status_code == 200 and "/slip?" not in listing.get_data(as_text=True)  # no button it cannot use
    assert client.get(f"/console/sms/{unit.code}/slips/day", query_string={"date": "2026-01-06"}).status_code == 403
    assert client.get(f"/console/sms/{unit.code}/slip", query_string={"dossier": "x"}).status_code == 403
    token = csrf_token(client.get(f"/console/sms/{unit.code}/ballots").get_data(as_text=True))
    day = client.post(f"/console/sms/{unit.code}/ballots.pdf", data={"csrf_token": token, "date": "06/01/2026"})
    assert day.status_code == 403
    blank = client.get(f"/console/sms/{unit.code}/ballots.pdf", query_string={"copies": "1"})
    assert blank.status_code == 200 and blank.data.startswith(b"%PDF")  # a blank form writes nothing: allowed
    session.expire_all()
    assert session.scalars(select(ShortLink)).all() == []
    assert session.scalars(select(AuditEvent).where(AuditEvent.action.startswith("qr."))).all() == []


def test_a_slip_is_valid_through_the_whole_day_it_prints_as_its_last(client, session, settings, monkeypatch):
    """The slip says "Hạn đánh giá: 14/12/2026", which a citizen reads as "until the end of 14/12"; the link expired
    seven days to the minute after the print, so a slip printed at 16:00 on 7/12 told a citizen scanning it at 17:00
    on 14/12 that it had expired."""
    from sms_gateway import phone_views
    from sms_gateway.slips import make_slip

    unit = create_unit(session, name="Phường Phú Hội")
    dossier = create_dossier(session, unit, received_at=local(2026, 12, 1), returned_at=local(2026, 12, 3))
    slip = make_slip(session, settings, dossier, now=local(2026, 12, 7, 16, 0))
    session.commit()
    assert slip.expires == "14/12/2026"
    code = slip.url.rsplit("/", 1)[1]
    for at, status in ((local(2026, 12, 14, 17, 0), 200), (local(2026, 12, 14, 23, 59), 200),
                       (local(2026, 12, 15, 0, 0), 410)):
        monkeypatch.setattr(phone_views, "utcnow", lambda at=at: at)
        assert client.get(f"/r/{code}").status_code == status, at
