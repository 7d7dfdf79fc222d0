"""From a returned online dossier to one rating: the console provider's outbox, the link, once only."""

from __future__ import annotations

import dataclasses
import re
from datetime import time, timedelta

from sqlalchemy import select

from sipas.clock import utcnow
from sipas.models import IntakeChannel, Response, ResponseChannel
from sipas.storage import get_database
from sms_gateway.sending import run_cycle
from sms_gateway.settings import SmsSettings
from tests.factories import answers_for, create_clerk, create_dossier, create_unit, login
from tests.sms_links.conftest import csrf_token, fresh


def test_invitation_from_the_outbox_opens_the_form_and_rates_once(app, client, session, settings, catalogue):
    unit = create_unit(session, name="Phường Phú Hội")
    clerk = create_clerk(session, unit)
    now = utcnow()
    dossier = create_dossier(session, unit, received_at=now - timedelta(days=3), returned_at=now - timedelta(hours=1),
                             intake_channel=IntakeChannel.ONLINE_FULL, phone="+84912345678", sms_consent=True)
    session.commit()
    login(client, clerk)
    editor = f"/console/sms/{unit.code}/templates/invitation"
    wording = "{don_vi}: ho so {ma_ho_so} da tra ket qua. Xin danh gia tai {link}"
    token = csrf_token(client.get(editor).get_data(as_text=True))
    assert client.post(editor, data={"csrf_token": token, "text": wording, "action": "save"}).status_code == 302

    always = dataclasses.replace(SmsSettings.from_settings(settings), window_start=time(0, 0),
                                 window_end=time(23, 59, 59, 999999))
    run_cycle(get_database(app), settings, now=now, sms=always)
    outbox = client.get(f"/console/sms/{unit.code}/outbox").get_data(as_text=True)
    assert "Phuong Phu Hoi: ho so" in outbox and dossier.code in outbox and "•678" in outbox
    assert "912345678" not in outbox
    url = re.search(r"(http://\S+/r/([A-Za-z0-9]{10,}))", outbox)
    assert url is not None and url.group(1).startswith(settings.public_base_url)
    path = f"/r/{url.group(2)}"

    citizen = app.test_client()  # no console session
    form = citizen.get(path)
    assert form.status_code == 200
    data = {f"a_{code}": option for code, option in answers_for(catalogue).items()}
    data.update(csrf_token=csrf_token(form.get_data(as_text=True)), submit_key="once")
    assert citizen.post(path, data=data).status_code == 200
    assert citizen.post(path, data={**data, "submit_key": "twice"}).status_code == 409
    fresh(session)
    responses = session.scalars(select(Response)).all()
    assert [(r.dossier_id, r.channel) for r in responses] == [(dossier.id, ResponseChannel.SMS)]

    run_cycle(get_database(app), settings, now=now + timedelta(minutes=5), sms=always)
    listing = client.get(f"/console/sms/{unit.code}/invitations").get_data(as_text=True)
    assert dossier.code in listing and "Đã đánh giá" in listing and "đã dùng" in listing
