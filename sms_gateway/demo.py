"""Demo data for the SMS channel: a dossier returned today with consent (its invitation appears in
the console outbox at the next allowed time) and one online dossier still waiting to be returned,
so a clerk can return it on its console page ("Ghi nhận đã trả kết quả") and watch the invitation
reach the outbox at the scheduler's next cycle."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from sipas.catalogue import Catalogue
from sipas.dossiers import DossierInput, apply_dossier
from sipas.instance_secret import _instance_secret
from sipas.models import IntakeChannel, Unit
from sipas.settings import Settings

DEMO_PHONES = ("+84900000001", "+84900000002")


def populate(session: Session, catalogue: Catalogue, settings: Settings, units: list[Unit], now: datetime,
             rng: random.Random) -> None:
    if not units:
        return
    ward = units[0]
    secret = settings.secret_key or _instance_secret(settings)
    day = now.astimezone(settings.tz).strftime("%y%m%d")
    returned_today = DossierInput(
        code=f"DEMO-SMS-{day}-01", procedure="Đăng ký khai sinh", field="Hộ tịch",
        intake_channel=IntakeChannel.ONLINE_FULL, received_at=now - timedelta(days=2),
        due_at=now + timedelta(days=1), returned_at=now - timedelta(minutes=5), phone_e164=DEMO_PHONES[0],
        sms_consent=True, consent_method="online_form",
    )
    waiting = DossierInput(
        code=f"DEMO-SMS-{day}-02", procedure="Chứng thực bản sao từ bản chính", field="Chứng thực",
        intake_channel=IntakeChannel.ONLINE_PARTIAL, received_at=now - timedelta(days=1),
        due_at=now + timedelta(days=2), phone_e164=DEMO_PHONES[1], sms_consent=True, consent_method="online_form",
    )
    for data in (returned_today, waiting):
        apply_dossier(session, ward, data, tz=settings.tz, now=now, secret=secret)
    session.flush()
