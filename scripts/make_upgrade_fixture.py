"""Build the database a past release leaves behind, for tests/test_upgrade_from_release.py.

Run it with the *old release's* code first on the import path, from a checkout of that release, so every
table is created by that release's migrations and filled by that release's services::

    git worktree add /tmp/v010 v0.1.0
    cd /tmp/v010 && PYTHONPATH=/tmp/v010 /path/to/sipas/.venv/bin/python \\
        /path/to/sipas/scripts/make_upgrade_fixture.py sqlite:////tmp/sipas-v0.1.0.db

(tests/fixtures/upgrade/README.md has the whole procedure, PostgreSQL dump included.) The data: the demo
(``create_demo`` with a fixed seed and clock), plus what the demo leaves empty: a paired kiosk, an SMS
invitation sent through the console provider and answered by SMS, an opt-out, an invalid number, a reply
template, a QR short link, an issued quarterly notice, a failed login. It fails if any table stays empty.
"""

from __future__ import annotations

import hashlib
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

NOW = datetime(2026, 10, 8, 3, 30, tzinfo=UTC)  # a Thursday, 10:30 in Ha Noi: inside the SMS window
SECRET = "upgrade-fixture-secret-key-0123456789abcdef"


def main(database_url: str) -> None:
    import sipas
    from sipas.migrate import upgrade
    from sipas.settings import Settings
    from sipas.storage import Database

    print(f"code: {Path(sipas.__file__).parent}", file=sys.stderr)
    upgrade(database_url)
    settings = Settings.from_env({"SIPAS_DATABASE_URL": database_url, "SIPAS_SECRET_KEY": SECRET,
                                  "SIPAS_PUBLIC_BASE_URL": "https://danhgia.example.vn",
                                  "SIPAS_SMS_PROVIDER": "console", "SIPAS_INSTANCE_DIR": "/tmp/sipas-fixture"})
    database = Database(settings)
    _demo(database, settings)
    _kiosk(database, settings)
    _sms(database, settings)
    _notice(database, settings)
    _rest(database, settings)
    _report(database)
    database.dispose()


def _demo(database, settings) -> None:  # type: ignore[no-untyped-def]
    from sipas.catalogue import load_catalogue
    from sipas.demo import create_demo
    from sipas.instrument_records import record_existing

    catalogue = load_catalogue(settings.config_dir)
    with database.session() as session:
        create_demo(session, catalogue, settings, secret=SECRET, seed=2026, now=NOW)
    with database.session() as session:
        record_existing(session, catalogue, now=NOW)


def _ward(session):  # type: ignore[no-untyped-def]
    from sipas.models import Unit

    return session.scalar(select(Unit).where(Unit.code == "PHUONG-PHUHOI"))


def _kiosk(database, settings) -> None:  # type: ignore[no-untyped-def]
    from kiosk.pairing import create_device, pair
    from kiosk.services import heartbeat

    with database.session() as session:
        ward = _ward(session)
        new = create_device(session, ward, name="Quầy 1", now=NOW, secret_key=SECRET, actor="admin",
                            valid_for=timedelta(minutes=30))
        paired = pair(session, ward, new.pairing_code, now=NOW, secret_key=SECRET, client="127.0.0.1")
        heartbeat(paired.device, queued=1, rejected=0, now=NOW)
        create_device(session, ward, name="Quầy 2 (chưa ghép)", now=NOW, secret_key=SECRET, actor="admin",
                      valid_for=timedelta(minutes=30))


def _sms(database, settings) -> None:  # type: ignore[no-untyped-def]
    from sipas.catalogue import load_catalogue
    from sms_gateway.inbound import InboundSms, handle_inbound
    from sms_gateway.models import Invitation
    from sms_gateway.sending import run_cycle
    from sms_gateway.webhooks import first_delivery

    summary = run_cycle(database, settings, now=NOW)
    print(f"sms cycle: {vars(summary)}", file=sys.stderr)
    catalogue = load_catalogue(settings.config_dir)
    with database.session() as session:
        invitations = session.scalars(select(Invitation).order_by(Invitation.id)).all()
        replies = [(invitations[0], " ".join(["1"] * 12), "SMfixture0001"),  # answered: a response
                   (invitations[1], "1 1", "SMfixture0002")]  # partial: a conversation
        for invitation, text, message_id in replies:
            if first_delivery(session, "console", [message_id], "reply") is None:
                raise SystemExit("delivery already seen")
            handle_inbound(session, catalogue, settings, InboundSms(
                provider="console", phone_hash=invitation.phone_hash, text=text, message_id=message_id),
                now=NOW + timedelta(minutes=10))


def _notice(database, settings) -> None:  # type: ignore[no-untyped-def]
    from aggregator.notices.service import IssueRequest, compute_report, prepare_notice, store_notice
    from sipas.catalogue import load_catalogue
    from sipas.clock import Period

    catalogue = load_catalogue(settings.config_dir)
    period = Period.containing_quarter(date(2026, 9, 30))
    with database.session() as session:
        ward = _ward(session)
        report = compute_report(session, catalogue, ward, period, settings=settings, now=NOW)
        notice = prepare_notice(session, ward, report, IssueRequest(period=period, number=12,
                                                                    issue_date=date(2026, 10, 5)),
                                settings=settings, actor="admin", now=NOW)
        notice.pdf = b"%PDF-1.7 fixture: the PDF is not what the upgrade test reads\n"
        store_notice(session, ward, notice)


def _rest(database, settings) -> None:  # type: ignore[no-untyped-def]
    """Rows the flows above do not reach: through the release's own functions where it has them."""
    from sipas import models
    from sipas.models import Dossier
    from sms_gateway.invalid_numbers import mark_invalid
    from sms_gateway.links import issue_link, qr_expiry
    from sms_gateway.models import MessageTemplate, OptOut
    from sms_gateway.optouts import opt_out

    with database.session() as session:
        dossier = session.scalar(select(Dossier).where(Dossier.returned_at.is_not(None)).order_by(Dossier.id))
        issue_link(session, dossier, instrument_code="quay4", channel="qr", now=NOW,
                   expires_at=qr_expiry(settings, NOW))
        if not session.scalar(select(func.count()).select_from(OptOut)):
            opt_out(session, hashlib.sha256(b"+84900000099").hexdigest(), now=NOW, source="sms")
        mark_invalid(session, hashlib.sha256(b"+84900000098").hexdigest(), now=NOW, error_code="21211",
                     provider="twilio")
        session.add(MessageTemplate(unit_id=_ward(session).id, kind="invitation", updated_by="admin", updated_at=NOW,
                                    text="UBND {don_vi}: moi Ong/Ba danh gia ho so {ma_ho_so} tai {lien_ket}"))
        if hasattr(models, "LoginAttempt"):  # v0.1.0; later releases count failed logins in throttle_counter
            session.add(models.LoginAttempt(key="ip:203.0.113.7", at=NOW))
        else:
            from sipas.accounts import login_limits
            from sipas.throttle import take_all

            take_all(session, login_limits("admin", "203.0.113.7", max_failures=5, window=timedelta(minutes=15)), NOW)


def _report(database) -> None:  # type: ignore[no-untyped-def]
    from sipas.models import Base
    from sipas.plugins import load_all_models

    load_all_models()
    empty = []
    with database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            count = connection.scalar(select(func.count()).select_from(table))
            print(f"{table.name:32} {count}", file=sys.stderr)
            if not count and table.name != "scheduler_lock":
                empty.append(table.name)
    if empty:
        raise SystemExit(f"tables left empty: {empty}")


if __name__ == "__main__":
    main(sys.argv[1])
