"""The real server under a mixed load, for the fault tests: gunicorn with the production settings on a free
127.0.0.1 port, and four client threads (kiosk, phone form, integration API, signed Twilio replies).

Every client behaves like the real one: a request that gets no answer (connection refused or reset, a 5xx)
is sent again, unchanged (same idempotency key, same MessageSid), until it is acknowledged. What a client
was told is kept per rating, so a test can compare what the server acknowledged with what the database holds.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import time as clock_time
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from sipas.clock import utcnow
from sipas.models import Dossier, IntakeChannel, Response
from sipas.settings import ROOT_DIR, Settings
from sipas.storage import Database
from sms_gateway.links import issue_link
from sms_gateway.sending import run_cycle
from sms_gateway.settings import SmsSettings
from tests.factories import SECRET, answers_for, create_dossier, create_key, create_unit
from tests.kiosk.helpers import new_device
from tests.sms_gateway.conftest import TWILIO_ENV, RecordingProvider

CHANNELS = ("kiosk", "phone", "api", "sms")
PUBLIC = TWILIO_ENV["SIPAS_PUBLIC_BASE_URL"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database_url: str, instance_dir: Path) -> dict[str, str]:
    return {**os.environ, **TWILIO_ENV, "SIPAS_DATABASE_URL": database_url, "SIPAS_SECRET_KEY": SECRET,
            "SIPAS_INSTANCE_DIR": str(instance_dir), "SIPAS_SECURE_COOKIES": "false",
            "SIPAS_KIOSK_MIN_INTERVAL_SECONDS": "0", "SIPAS_THREADS": "4"}


class Server:
    """gunicorn (master and two workers) in a process group of its own, so the whole server can be killed."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log, self.port = env, log, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 40) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--config", str(ROOT_DIR / "deploy" / "gunicorn.conf.py"),
                 "--bind", f"127.0.0.1:{self.port}", "--workers", "2", "sipas.wsgi:create()"],
                env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT_DIR)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the server exited: {self.log.read_text()[-3000:]}"
            try:
                if requests.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise AssertionError("the server did not start")

    def kill(self) -> None:
        """SIGKILL to the whole process group: master and workers die mid-request, nothing is flushed."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


@dataclass
class Rating:
    """One rating a client sends until the server acknowledges it."""

    channel: str
    dossier_code: str
    path: str
    json: dict[str, Any] | None = None
    form: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    acknowledged: bool = False
    answers: list[int] = field(default_factory=list)  # status codes received, in order
    unanswered: int = 0  # sends that got no answer (connection refused or reset, timeout)

    def is_acknowledgement(self, response: requests.Response) -> bool:
        if self.channel == "sms":
            return response.status_code == 200 and "da danh gia ho so" in response.text
        return response.status_code in (200, 201)


def seed(settings: Settings, catalogue, per_channel: int) -> list[Rating]:  # type: ignore[no-untyped-def]
    """Returned dossiers, a paired kiosk, short links, an API key and sent SMS invitations; one rating each."""
    database = Database(settings)
    now = utcnow()
    ratings: list[Rating] = []
    phones = [f"+849123{n:05d}" for n in range(per_channel)]
    try:
        with database.session() as session:
            unit = create_unit(session, code="P-FAULTS", allow_anonymous=False)

            def dossier(channel: str, index: int, **extra: Any) -> Dossier:
                return create_dossier(session, unit, code=f"HS-{channel.upper()}-{index:03d}",
                                      received_at=now - timedelta(days=3), returned_at=now - timedelta(hours=2),
                                      now=now - timedelta(hours=2), **extra)

            _device, _code, token = new_device(session, unit, secret=SECRET)
            api_key = create_key(session, unit)
            signer = URLSafeSerializer(SECRET, salt="sipas.link-form")
            answers = answers_for(catalogue)
            for index in range(per_channel):
                kiosk = dossier("kiosk", index)
                ratings.append(Rating("kiosk", kiosk.code, f"/kiosk/{unit.code}/api/submit",
                                      json={"key": f"kiosk-fault-{index:04d}", "instrument": "hue12",
                                            "answers": answers, "dossier_code": kiosk.code, "queued": 0},
                                      headers={"X-Kiosk-Token": token or ""}))
                phone = dossier("phone", index)
                link = issue_link(session, phone, instrument_code="hue12", channel="sms", now=now,
                                  expires_at=now + timedelta(days=7))
                ratings.append(Rating("phone", phone.code, f"/r/{link.code}",
                                      json={"answers": answers, "idempotency_key": f"phone-fault-{index:04d}"},
                                      headers={"X-CSRFToken": signer.dumps(link.code)}))
                api = dossier("api", index)
                ratings.append(Rating("api", api.code, "/api/v1/responses",
                                      json={"instrument": "hue12", "channel": "api", "dossier_code": api.code,
                                            "answers": answers, "idempotency_key": f"api-fault-{index:04d}"},
                                      headers={"Authorization": f"Bearer {api_key}"}))
                sms = dossier("sms", index, intake_channel=IntakeChannel.ONLINE_FULL, phone=phones[index],
                              sms_consent=True)
                sid = f"SM{index:032d}"
                params = {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "0" * 32, "From": phones[index],
                          "To": "+15005550006", "Body": "1 1 1 1 1 1 1 1 1 1 1 1", "NumMedia": "0"}
                signature = RequestValidator(TWILIO_ENV["SIPAS_TWILIO_AUTH_TOKEN"]).compute_signature(
                    f"{PUBLIC}/sms/twilio/inbound", params)
                ratings.append(Rating("sms", sms.code, "/sms/twilio/inbound", form=params,
                                      headers={"X-Twilio-Signature": signature}))
        sms_settings = replace(SmsSettings.from_settings(settings), window_start=clock_time(0, 0),
                               window_end=clock_time(23, 59), daily_cap=10)
        run_cycle(database, settings, now=now - timedelta(hours=1), provider=RecordingProvider(), sms=sms_settings)
    finally:
        database.dispose()
    return ratings


class Load:
    """One thread per channel sends its ratings in order, each until acknowledged (bounded by ``deadline``)."""

    def __init__(self, base_url: Callable[[], str], ratings: list[Rating], *, deadline: float) -> None:
        self.base_url, self.ratings, self.deadline = base_url, ratings, deadline
        self.refused: list[tuple[Rating, int, str]] = []
        self.server_errors: list[tuple[int, str | None]] = []  # 5xx answers: status, Retry-After
        self.threads = [threading.Thread(target=self._drive, args=(channel,), daemon=True) for channel in CHANNELS]

    def start(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=max(1.0, self.deadline - time.monotonic() + 5))

    def acknowledged(self) -> list[Rating]:
        return [r for r in self.ratings if r.acknowledged]

    def wait_for_acknowledgements(self, count: int, *, per_channel: int = 0) -> None:
        """Until ``count`` ratings in all, and ``per_channel`` of each channel, were acknowledged."""
        while len(self.acknowledged()) < count or any(
                sum(r.channel == channel for r in self.acknowledged()) < per_channel for channel in CHANNELS):
            assert time.monotonic() < self.deadline, "the load made no progress"
            time.sleep(0.02)

    def _drive(self, channel: str) -> None:
        http = requests.Session()
        try:
            for rating in (r for r in self.ratings if r.channel == channel):
                while not rating.acknowledged and time.monotonic() < self.deadline:
                    try:
                        response = http.post(f"{self.base_url()}{rating.path}", json=rating.json, data=rating.form,
                                             headers=rating.headers, timeout=10)
                    except requests.RequestException:
                        rating.unanswered += 1
                        time.sleep(0.05)  # no answer: the server is down or restarting; send it again
                        continue
                    rating.answers.append(response.status_code)
                    if rating.is_acknowledgement(response):
                        rating.acknowledged = True
                    elif response.status_code < 500:
                        self.refused.append((rating, response.status_code, response.text[:300]))
                        break
                    else:
                        self.server_errors.append((response.status_code, response.headers.get("Retry-After")))
                        time.sleep(0.05)
        finally:
            http.close()


def responses_per_dossier(database_url: str) -> dict[str, int]:
    """How many ratings the database holds for each dossier code."""
    settings = Settings.from_env({}, database_url=database_url, secret_key=SECRET)
    database = Database(settings)
    try:
        with database.read_sessionmaker() as session:
            rows = session.execute(select(Dossier.code, func.count(Response.id))
                                   .join(Response, Response.dossier_id == Dossier.id).group_by(Dossier.code))
            return {code: count for code, count in rows}
    finally:
        database.dispose()
