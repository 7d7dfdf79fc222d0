"""A status report that comes before the cycle records its batch is kept.

The cycle records the messages a provider took once per batch (``record_sent_many``), up to 200 sends and ~50 s
after each was taken. Twilio's status callback for a message often comes within seconds: it finds the outbound
row without its sid, resolves it through ``?o=`` and records "failed" (or "delivered"). The batch's record then
overwrote both the message and the invitation with the send's own answer ("queued" → SENT): the failure was lost,
the invitation counted as sent, was never retried, and got a reminder two days later.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from sipas.clock import utcnow
from sipas.models import IntakeChannel
from sipas.storage import get_database
from sms_gateway.models import Invitation, InvitationStatus, MessageStatus, OutboundMessage
from sms_gateway.providers import SendResult
from sms_gateway.sending import run_cycle
from sms_gateway.settings import SmsSettings
from tests.factories import create_dossier, create_unit
from tests.sms_gateway.conftest import AUTH_TOKEN, PHONE, RecordingProvider, make_settings


def _post_signed(client: Any, url: str, params: dict[str, str]) -> Any:
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
    parts = urlsplit(url)
    return client.post(f"{parts.path}?{parts.query}", data=params, headers={"X-Twilio-Signature": signature},
                       base_url="http://127.0.0.1:5000")


@pytest.mark.parametrize(("reported", "error_code", "message", "invitation"), [
    ("failed", "30003", MessageStatus.FAILED, InvitationStatus.FAILED),
    ("delivered", None, MessageStatus.DELIVERED, InvitationStatus.DELIVERED),
])
def test_a_status_report_that_comes_before_the_batch_is_recorded_is_kept(
        database_url: str, tmp_path: Path, reported: str, error_code: str | None, message: MessageStatus,
        invitation: InvitationStatus) -> None:
    from sipas.app import create_app

    settings = make_settings(database_url, tmp_path)
    app = create_app(settings)
    client = app.test_client()
    database = get_database(app)
    try:
        with database.session() as session:
            unit = create_unit(session)
            now = utcnow()
            create_dossier(session, unit, received_at=now - timedelta(days=3), returned_at=now - timedelta(hours=2),
                           intake_channel=IntakeChannel.ONLINE_FULL, phone=PHONE, sms_consent=True,
                           now=now - timedelta(hours=2))

        class Twilio(RecordingProvider):
            name = "twilio"

            def send(self, to_e164: str, body: str, *, status_callback: str | None = None,
                     request_id: str | None = None) -> SendResult:
                result = super().send(to_e164, body, status_callback=status_callback, request_id=request_id)
                assert status_callback is not None
                # Twilio's callback, while the cycle goes on with the batch (recorded at its end)
                report = {"MessageSid": result.sid or "", "MessageStatus": reported, "AccountSid": "AC" + "0" * 32}
                if error_code:
                    report["ErrorCode"] = error_code
                assert _post_signed(client, status_callback, report).status_code == 200
                return result

        sms = replace(SmsSettings.from_settings(settings), window_start=time(0, 0), window_end=time(23, 59))
        run_cycle(database, settings, now=now, provider=Twilio(), sms=sms)
        with database.read_sessionmaker() as session:
            outbound = session.scalars(select(OutboundMessage)).one()
            stored = session.scalars(select(Invitation)).one()
            assert (outbound.status, stored.status) == (message, invitation)
            assert stored.last_error_code == error_code and stored.provider_sid == outbound.sid
    finally:
        database.dispose()
