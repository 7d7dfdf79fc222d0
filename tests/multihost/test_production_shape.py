"""The production shape on this machine: PostgreSQL, two gunicorn web instances (two "hosts": their own
instance folders and ports), one scheduler (a second one stays idle), and nginx from Debian with a
self-signed certificate in front, configured from the shipped ``deploy/nginx/sipas.conf``.

Through nginx: a kiosk rating, a Twilio webhook signed against the public https URL, a phone-form rating, a
notice download and a console session that holds whichever instance answers; then one web instance is
stopped and the service goes on. Logs are JSON lines (``SIPAS_LOG_FORMAT=json``) without personal data.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date, timedelta
from datetime import time as clock_time
from pathlib import Path

import pytest
import requests
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from aggregator.notices import service
from sipas.clock import Period, utcnow
from sipas.models import Dossier, IntakeChannel, Response, ResponseChannel, SchedulerLock
from sipas.settings import ROOT_DIR, Settings
from sipas.storage import Database
from sms_gateway.links import issue_link
from sms_gateway.sending import run_cycle
from sms_gateway.settings import SmsSettings
from tests.aggregator.fixtures import NOW, build_quarter
from tests.factories import PASSWORD, SECRET, answers_for, create_clerk, create_dossier, create_unit
from tests.faults.conftest import create_postgres_database, drop_postgres_database
from tests.faults.load import Server, free_port, server_env
from tests.kiosk.helpers import new_device
from tests.multihost.nginx import Nginx
from tests.notices.conftest import FAKE_SOFFICE
from tests.sms_gateway.conftest import PHONE, TWILIO_ENV, RecordingProvider

pytestmark = pytest.mark.slow
UNIT = "P-MULTIHOST"
RATED = ("HS-KIOSK-1", "HS-KIOSK-2", "HS-KIOSK-3", "HS-PHONE-1", "HS-SMS-1")


def _wait_for(condition, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _seed(settings: Settings, catalogue) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A ward with a paired kiosk, dossiers to rate by kiosk, phone form and SMS reply, an issued notice, a clerk."""
    database = Database(settings)
    now = utcnow()
    try:
        with database.session() as session:
            unit = create_unit(session, code=UNIT, name="Phường Nhiều Máy", allow_anonymous=False,
                               signatory_name="Phạm Thị Dung")
            _device, _code, token = new_device(session, unit, secret=SECRET)

            def returned(code: str, **extra):  # type: ignore[no-untyped-def]
                return create_dossier(session, unit, code=code, received_at=now - timedelta(days=3),
                                      returned_at=now - timedelta(hours=2), now=now - timedelta(hours=2), **extra)

            for code in ("HS-KIOSK-1", "HS-KIOSK-2", "HS-KIOSK-3"):
                returned(code)
            link = issue_link(session, returned("HS-PHONE-1"), instrument_code="hue12", channel="sms", now=now,
                              expires_at=now + timedelta(days=7))
            returned("HS-SMS-1", intake_channel=IntakeChannel.ONLINE_FULL, phone=PHONE, sms_consent=True)
            clerk = create_clerk(session, unit)
            build_quarter(session, catalogue, unit)
            quarter = Period.quarter(2026, 1)
            report = service.compute_report(session, catalogue, unit, quarter, settings=settings, now=NOW)
            service.issue_notice(session, unit, report, service.IssueRequest(quarter, 3, date(2026, 4, 6)),
                                 settings=settings, actor="test", now=NOW)
            seeded = {"kiosk_token": token or "", "link": link.code, "clerk": clerk.username}
        sms = replace(SmsSettings.from_settings(settings), window_start=clock_time(0, 0),
                      window_end=clock_time(23, 59), daily_cap=10)
        run_cycle(database, settings, now=now - timedelta(hours=1), provider=RecordingProvider(), sms=sms)
    finally:
        database.dispose()
    return seeded


def _kiosk_rating(http: requests.Session, base: str, seeded: dict[str, str], code: str, answers) -> None:  # type: ignore[no-untyped-def]
    answer = http.post(f"{base}/kiosk/{UNIT}/api/submit", headers={"X-Kiosk-Token": seeded["kiosk_token"]},
                       json={"key": f"multihost-{code}", "instrument": "hue12", "answers": answers,
                             "dossier_code": code, "queued": 0}, timeout=15)
    assert answer.status_code in (200, 201), answer.text


def test_two_web_instances_one_scheduler_behind_nginx(postgres_server: str, catalogue, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    name = f"sipas_multihost_{os.getpid()}"
    database_url = create_postgres_database(postgres_server, name)
    https_port, http_port = free_port(), free_port()
    public = f"https://localhost:{https_port}"
    soffice = tmp_path / "soffice-stand-in"  # the PDF conversion is the notices tests' business
    soffice.write_text(FAKE_SOFFICE)
    soffice.chmod(0o755)
    common = {"SIPAS_PUBLIC_BASE_URL": public, "SIPAS_PROXY_COUNT": "1", "SIPAS_LOG_FORMAT": "json",
              "SIPAS_SCHEDULER_LEASE_SECONDS": "6", "SIPAS_SOFFICE": str(soffice), "SIPAS_BACKUP_ENABLED": "false"}
    settings = Settings.from_env(TWILIO_ENV | common, database_url=database_url, secret_key=SECRET,
                                 instance_dir=tmp_path / "seed", secure_cookies=False)
    # two "hosts": each its own instance folder (so its own metrics folder), the same SIPAS_SECRET_KEY
    webs = [Server(server_env(database_url, tmp_path / f"host{n}") | common | {"SIPAS_WORKERS": "1"},
                   tmp_path / f"host{n}.log") for n in (1, 2)]
    schedulers: list[subprocess.Popen[bytes]] = []
    nginx = Nginx(tmp_path / "nginx", https_port=https_port, http_port=http_port, upstreams=[w.port for w in webs])
    database = Database(settings)
    try:
        seeded = _seed(settings, catalogue)
        for web in webs:
            web.start()
        env = webs[0].env
        with (tmp_path / "scheduler.log").open("wb") as scheduler_log:
            schedulers.append(subprocess.Popen([sys.executable, "-m", "sipas.cli", "scheduler"], env=env,
                                               cwd=ROOT_DIR, stdout=scheduler_log, stderr=subprocess.STDOUT,
                                               start_new_session=True))

        def lease_holder() -> str | None:
            with database.read_sessionmaker() as session:
                return session.scalar(select(SchedulerLock.holder))

        holder = _wait_for(lease_holder, 40, "the scheduler's lease")
        assert holder.endswith(f":{schedulers[0].pid}")
        second = subprocess.run([sys.executable, "-m", "sipas.cli", "scheduler"], env=env, cwd=ROOT_DIR,
                                capture_output=True, text=True, timeout=60)
        assert second.returncode != 0 and "Đã có tiến trình lập lịch khác đang chạy" in second.stderr
        assert lease_holder() == holder
        nginx.start()

        http = requests.Session()
        http.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would replace our certificate
        http.verify = str(nginx.cert)
        answers = answers_for(catalogue)
        # a kiosk rating and the phone form, through nginx
        _kiosk_rating(http, public, seeded, "HS-KIOSK-1", answers)
        token = URLSafeSerializer(SECRET, salt="sipas.link-form").dumps(seeded["link"])
        phone = http.post(f"{public}/r/{seeded['link']}", headers={"X-CSRFToken": token},
                          json={"answers": answers, "idempotency_key": "multihost-phone-1"}, timeout=15)
        assert phone.status_code in (200, 201), phone.text
        # a Twilio webhook, signed against the public https URL (ProxyFix gives sipas the scheme)
        params = {"MessageSid": "SM" + "7" * 32, "SmsSid": "SM" + "7" * 32, "AccountSid": "AC" + "0" * 32,
                  "From": PHONE, "To": "+15005550006", "Body": "1 1 1 1 1 1 1 1 1 1 1 1", "NumMedia": "0"}
        signature = RequestValidator(TWILIO_ENV["SIPAS_TWILIO_AUTH_TOKEN"]).compute_signature(
            f"{public}/sms/twilio/inbound", params)
        reply = http.post(f"{public}/sms/twilio/inbound", data=params, headers={"X-Twilio-Signature": signature},
                          timeout=15)
        assert reply.status_code == 200 and "da danh gia ho so" in reply.text, reply.text
        forged = http.post(f"{public}/sms/twilio/inbound", data=params | {"Body": "1 1 1"},
                           headers={"X-Twilio-Signature": signature}, timeout=15)
        assert forged.status_code == 403
        # the issued notice, through nginx
        pdf = http.get(f"{public}/cong-khai/{UNIT}/2026/3.pdf", timeout=15)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and pdf.headers["Cache-Control"]
        html = http.get(f"{public}/cong-khai/{UNIT}/2026/3.html", timeout=15)
        assert html.status_code == 200 and "03/TB-UBND" in html.text
        # a console session holds on whichever instance answers (nginx alternates between them)
        page = http.get(f"{public}/console/login", timeout=15)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        login = http.post(f"{public}/console/login", data={"username": seeded["clerk"], "password": PASSWORD,
                                                         "csrf_token": csrf}, allow_redirects=False, timeout=15,
                          headers={"Referer": f"{public}/console/login"})  # checked on https, as browsers send
        assert login.status_code == 302, login.text
        for _ in range(4):
            console = http.get(f"{public}/console/", allow_redirects=False, timeout=15)
            assert console.status_code == 200, (console.status_code, console.headers.get("Location"))
        # both instances answered, and /metrics is not served through the proxy
        assert http.get(f"{public}/metrics", timeout=15).status_code == 403
        for web in webs:
            assert '"path": "/console/"' in web.log.read_text(encoding="utf-8")

        # one web instance stops: the service goes on through the other
        webs[0].stop()
        for code in ("HS-KIOSK-2", "HS-KIOSK-3"):
            _kiosk_rating(http, public, seeded, code, answers)
        assert http.get(f"{public}/cong-khai/{UNIT}/2026/3.html", timeout=15).status_code == 200
        assert http.get(f"{public}/console/", allow_redirects=False, timeout=15).status_code == 200
        with database.read_sessionmaker() as session:
            rated = dict(session.execute(select(Dossier.code, Response.channel).join(Response.dossier)
                                         .where(Dossier.code.in_(RATED))).all())
            kiosk_total = session.scalar(select(func.count()).select_from(Response)
                                         .where(Response.channel == ResponseChannel.KIOSK))
        assert rated == {"HS-KIOSK-1": ResponseChannel.KIOSK, "HS-KIOSK-2": ResponseChannel.KIOSK,
                         "HS-KIOSK-3": ResponseChannel.KIOSK, "HS-PHONE-1": ResponseChannel.SMS,
                         "HS-SMS-1": ResponseChannel.SMS}
        with requests.Session() as direct:
            direct.trust_env = False
            metrics = direct.get(f"{webs[1].url}/metrics", timeout=15)  # from this machine, not via nginx
        assert metrics.status_code == 200
        assert f'sipas_ratings{{unit="{UNIT}",channel="kiosk"}} {kiosk_total}' in metrics.text

        # JSON log lines, no phone number and no link code in any log
        for web in webs:
            text = web.log.read_text(encoding="utf-8")
            lines = [json.loads(line) for line in text.splitlines()]  # every line is JSON
            assert any(line["logger"] == "gunicorn.access" for line in lines)
            assert PHONE[3:] not in text and seeded["link"] not in text
        scheduler_log_lines = [json.loads(line) for line in (tmp_path / "scheduler.log").read_text(
            encoding="utf-8").splitlines()]  # every line is JSON
        assert any(line["message"].startswith("scheduler started as ") for line in scheduler_log_lines)
        nginx_access = (nginx.folder / "logs" / "access.log").read_text(encoding="utf-8")
        assert "/r/***" in nginx_access and seeded["link"] not in nginx_access
    finally:
        database.dispose()
        nginx.stop()
        for process in schedulers:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=20)
        for web in webs:
            web.stop()
        drop_postgres_database(postgres_server, name)
