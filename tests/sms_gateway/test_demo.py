"""`make run` with the console provider: the demo dossier returned today is in the outbox at the next
allowed time; the one still waiting gets its invitation once a clerk returns it in the console
("Ghi nhận đã trả kết quả" on the dossier page)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from sipas.storage import get_database
from sms_gateway import demo
from sms_gateway.models import OutboundMessage
from sms_gateway.sending import run_cycle
from tests.factories import create_clerk, create_unit, local, login
from tests.sms_links.conftest import csrf_token


def test_demo_dossiers_reach_the_console_outbox_at_the_next_allowed_time(app, client, session, catalogue, settings):  # type: ignore[no-untyped-def]
    console = replace(settings, env={k: v for k, v in settings.env.items() if k != "SIPAS_SMS_PROVIDER"})
    ward = create_unit(session, name="Phường Phú Hội")
    clerk = create_clerk(session, ward)
    evening = local(2026, 1, 7, 22, 30)
    demo.populate(session, catalogue, console, [ward], evening, random.Random(1))
    session.commit()
    database = get_database(app)
    night = run_cycle(database, console, now=evening)
    assert night.counts == {"created": 1, "quiet_hours": 1}
    run_cycle(database, console, now=local(2026, 1, 8, 7, 0))
    session.commit()
    (first,) = session.scalars(select(OutboundMessage)).all()
    assert first.provider == "console" and "DEMO-SMS-260107-01" in first.body
    assert first.created_at == local(2026, 1, 8, 7, 0)

    login(client, clerk)
    page = client.get(f"/console/dossiers/{ward.code}/DEMO-SMS-260107-02").get_data(as_text=True)
    assert 'data-testid="return-form"' in page
    returned = client.post("/console/dossiers/return", data={
        "csrf_token": csrf_token(page), "unit": ward.code, "code": "DEMO-SMS-260107-02",
        "returned_at": "2026-01-08T09:00"})
    assert returned.status_code == 302
    session.commit()
    run_cycle(database, console, now=local(2026, 1, 8, 9, 1) + timedelta(seconds=5))
    session.commit()
    bodies = session.scalars(select(OutboundMessage.body).order_by(OutboundMessage.id)).all()
    assert len(bodies) == 2 and "DEMO-SMS-260107-02" in bodies[1]
