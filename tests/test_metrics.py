"""``GET /metrics``: Prometheus text with the figures from the database, latency by route, and its guard."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import event

from kiosk.models import KioskDevice
from sipas.clock import utcnow
from sipas.metrics import allowed
from sipas.models import ResponseChannel, SchedulerJobRun
from sipas.prometheus import Family, render
from sipas.tally import uncount_response
from sms_gateway.models import Invitation, InvitationStatus, MessageKind, MessageStatus, OutboundMessage
from sms_gateway.models_links import LinkChannel, ShortLink
from sms_gateway.webhooks import apply_status
from tests.factories import TZ, create_dossier, create_response, create_unit

LOCAL = {"REMOTE_ADDR": "127.0.0.1"}


def scrape(client, **kwargs) -> str:  # type: ignore[no-untyped-def]
    answer = client.get("/metrics", environ_base=kwargs.pop("environ_base", LOCAL), **kwargs)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.content_type == "text/plain; version=0.0.4; charset=utf-8"
    return answer.get_data(as_text=True)


def invitation(session, unit, status, *, sent=True, delivered=False,  # type: ignore[no-untyped-def]
               qr=False) -> Invitation:
    dossier = create_dossier(session, unit)
    now = utcnow()
    row = Invitation(dossier_id=dossier.id, unit_id=unit.id, instrument_code="hue12", status=status, due_at=now,
                     expires_at=now + timedelta(days=7), sent_at=now if sent else None)
    session.add(row)
    session.flush()
    if delivered:
        session.add(OutboundMessage(provider="console", invitation_id=row.id, unit_id=unit.id,
                                    kind=MessageKind.INVITATION, to_hash="h", body="b", segments=1, encoding="gsm",
                                    status=MessageStatus.DELIVERED))
    if qr:
        session.add(ShortLink(code=f"QR{row.id}x", dossier_id=dossier.id, unit_id=unit.id, instrument_code="hue12",
                              channel=LinkChannel.QR))
    return row


def _samples(session, name: str) -> tuple[str, float]:  # type: ignore[no-untyped-def]
    """The family's type and the sum of its samples, as a scrape computes them."""
    from sipas.metrics import rating_families
    from sms_gateway import metrics as sms_metrics

    (family,) = [f for f in [*rating_families(session), *sms_metrics.families(session)] if f.name == name]
    return family.kind, sum(value for _, _, value in family.samples)


def test_failed_invitations_are_a_gauge_which_a_late_report_brings_down(session):
    """`sipas_invitations_failed_total` was a counter of the invitations *now* failed: a late Twilio report that
    resolves a given-up send (FAILED -> SENT) made it go down, which Prometheus reads as a reset. The current
    counts (failed, and failed then given a QR link) are gauges now, under names without `_total`."""
    unit = create_unit(session)
    now = utcnow()
    row = invitation(session, unit, InvitationStatus.FAILED, sent=False, qr=True)
    row.last_error_code = "gave_up"  # the provider timed out on every attempt: the outcome is unknown
    message = OutboundMessage(provider="twilio", sid=None, invitation_id=row.id, unit_id=unit.id,
                              kind=MessageKind.INVITATION, to_hash="h" * 64, body="x", segments=1, encoding="GSM",
                              status=MessageStatus.UNKNOWN, created_at=now - timedelta(minutes=5))
    session.add(message)
    session.commit()
    assert _samples(session, "sipas_invitations_failed") == ("gauge", 1)
    assert _samples(session, "sipas_invitations_fallen_back") == ("gauge", 1)
    message.sid = "SM" + "0" * 32  # Twilio's late status report (the ?o= of its callback) resolves it
    apply_status(session, message, "sent", None, late=True)
    session.commit()
    assert row.status is InvitationStatus.SENT
    assert _samples(session, "sipas_invitations_failed") == ("gauge", 0)
    assert _samples(session, "sipas_invitations_fallen_back") == ("gauge", 0)


def test_ratings_are_a_gauge_since_a_deleted_ballot_line_takes_its_rating_away(session, catalogue):
    """A clerk who deletes a keyed ballot line deletes its rating (`sipas.ballots`): `sipas_ratings_total`, a
    counter, went down. The count of ratings stored now is the gauge `sipas_ratings`."""
    unit = create_unit(session)
    kept = create_response(session, catalogue, unit, channel=ResponseChannel.PAPER)
    deleted = create_response(session, catalogue, unit, dossier=create_dossier(session, unit),
                              channel=ResponseChannel.PAPER)
    session.commit()
    assert kept.id and _samples(session, "sipas_ratings") == ("gauge", 2)
    uncount_response(session, deleted, TZ)  # as sipas.ballots does, in the transaction that deletes it
    session.delete(deleted)
    session.commit()
    assert _samples(session, "sipas_ratings") == ("gauge", 1)


def test_the_ratings_gauge_reads_the_tallies_never_every_stored_rating(session, catalogue):
    """A scrape (every 15-60 s, on every web host) counted every stored rating: 3.3-5.2 s for the benchmark
    province of 1 M ratings on SQLite, about 70 s after five years of a province. It sums the monthly tallies
    (``response_tally``), kept equal to a recount by ``sipas.tally``; a unit and channel whose ratings are all
    deleted has no sample, as before."""
    from sipas.metrics import rating_families

    unit = create_unit(session)
    create_response(session, catalogue, unit, dossier=create_dossier(session, unit), channel=ResponseChannel.KIOSK)
    gone = create_response(session, catalogue, unit, dossier=create_dossier(session, unit),
                           channel=ResponseChannel.PAPER)
    uncount_response(session, gone, TZ)
    session.delete(gone)
    session.commit()
    read, (family,) = _statements_of(session, rating_families)
    assert [(labels, value) for _, labels, value in family.samples] == [({"unit": unit.code, "channel": "kiosk"}, 1)]
    assert len(read) == 1 and "FROM response " not in f"{read[0]} " and "JOIN response " not in read[0], read



def _statements_of(session, compute):  # type: ignore[no-untyped-def]
    """The statements ``compute(session)`` runs on the session's connection (whitespace folded), and its result."""
    read: list[str] = []

    def grab(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        read.append(" ".join(statement.split()))

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", grab)
    try:
        result = compute(session)
    finally:
        event.remove(connection, "before_cursor_execute", grab)
    return read, result

def _recount(session) -> list[tuple[str, list[tuple[dict[str, str], float]]]]:  # type: ignore[no-untyped-def]
    """The SMS families as the scrape computed them before ``sms_0007``: a count of every invitation."""
    from sqlalchemy import exists, func, select

    from sipas.models import Unit

    def per_unit(*conditions) -> list[tuple[dict[str, str], float]]:  # type: ignore[no-untyped-def]
        return [({"unit": unit}, count) for unit, count in session.execute(
            select(Unit.code, func.count()).select_from(Invitation).join(Unit, Unit.id == Invitation.unit_id)
            .where(*conditions).group_by(Unit.code).order_by(Unit.code))]

    by_status = [({"unit": unit, "status": str(status)}, count) for unit, status, count in session.execute(
        select(Unit.code, Invitation.status, func.count()).select_from(Invitation)
        .join(Unit, Unit.id == Invitation.unit_id)
        .group_by(Unit.code, Invitation.status).order_by(Unit.code, Invitation.status))]
    return [
        ("sipas_invitations_sent_total", per_unit(Invitation.sent_at.is_not(None))),
        ("sipas_invitations_delivered_total", per_unit(exists().where(
            OutboundMessage.invitation_id == Invitation.id, OutboundMessage.kind == MessageKind.INVITATION,
            OutboundMessage.status == MessageStatus.DELIVERED))),
        ("sipas_invitations_failed", per_unit(Invitation.status == InvitationStatus.FAILED)),
        ("sipas_invitations_fallen_back", per_unit(Invitation.status == InvitationStatus.FAILED, exists().where(
            ShortLink.dossier_id == Invitation.dossier_id, ShortLink.channel == LinkChannel.QR))),
        ("sipas_invitations", by_status),
    ]


def _scraped(session) -> list[tuple[str, list[tuple[dict[str, str], float]]]]:  # type: ignore[no-untyped-def]
    from sms_gateway import metrics as sms_metrics

    return [(family.name, [(labels, value) for _, labels, value in family.samples])
            for family in sms_metrics.families(session)]


@pytest.mark.parametrize("seed", range(4))
def test_the_sms_families_equal_a_recount_after_random_status_changes(session, seed):
    """The invitation tallies (``sms_invitation_tally``, kept by triggers; on PostgreSQL with its changes not folded
    yet, ``sms_0008``, folded now and then as the SMS cycle does) give the same samples as counting every
    invitation, whichever way an invitation was written: an ORM flush, a bulk ``UPDATE`` (the claim, the opt-out,
    the expiry), a deleted invitation, a deleted dossier (its invitations go by the foreign key's cascade)."""
    from sqlalchemy import delete, select, update

    from sipas.models import Dossier
    from sms_gateway import tally_changes

    rng = random.Random(seed)
    units = [create_unit(session) for _ in range(3)]
    statuses = list(InvitationStatus)
    rows = [invitation(session, rng.choice(units), rng.choice(statuses), sent=rng.random() < 0.5,
                       delivered=rng.random() < 0.3, qr=rng.random() < 0.3) for _ in range(30)]
    session.commit()
    for _ in range(60):
        live = rows
        row = rng.choice(live)
        action = rng.randrange(9)
        if action == 0:
            row.status = rng.choice(statuses)
        elif action == 1:
            row.sent_at = None if row.sent_at else utcnow()
        elif action == 2:
            chosen = [r.id for r in rng.sample(live, min(len(live), 4))]
            session.execute(update(Invitation).where(Invitation.id.in_(chosen))
                            .values(status=rng.choice(statuses), sent_at=utcnow()))
            session.expire_all()
        elif action == 3 and len(live) > 5:
            session.delete(row)
            rows.remove(row)
        elif action == 4 and len(live) > 5:
            session.execute(delete(Dossier).where(Dossier.id == row.dossier_id))
            session.expunge(row)
            rows.remove(row)
        elif action == 5:  # a message (a retry, a reminder), maybe reported delivered
            session.add(OutboundMessage(provider="console", invitation_id=row.id, unit_id=row.unit_id,
                                        kind=rng.choice(list(MessageKind)), to_hash="h", body="b", segments=1,
                                        encoding="gsm", status=rng.choice(list(MessageStatus))))
        elif action == 6:  # a delivery report, or a message moved or let go of its invitation
            messages = session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
            if messages:
                message = rng.choice(messages)
                change = rng.randrange(3)
                if change == 0:
                    message.status = rng.choice([MessageStatus.DELIVERED, MessageStatus.UNDELIVERED])
                elif change == 1:
                    message.invitation_id = rng.choice([None, rng.choice(live).id])
                else:
                    session.delete(message)
        elif action == 7:
            session.execute(update(OutboundMessage).where(OutboundMessage.invitation_id == row.id)
                            .values(status=MessageStatus.DELIVERED))
            session.expire_all()
        else:
            rows.append(invitation(session, rng.choice(units), rng.choice(statuses), sent=rng.random() < 0.5,
                                   delivered=rng.random() < 0.5))
        if rng.random() < 0.3:
            session.commit()
        if rng.random() < 0.1:  # the SMS cycle's bookkeeping folds the pending changes (PostgreSQL, sms_0008)
            tally_changes.fold(session)
    session.commit()
    assert _scraped(session) == _recount(session)


def test_the_sms_families_read_no_invitation_beyond_the_failed_ones(session):
    """A scrape (every 15-60 s, on every web host) counted every invitation ever made, five times, and the
    delivered ones through ``sms_outbound``: 4.9-14.7 s per scrape after two years of a province (2 M invitations
    and messages, SQLite). Sent, delivered, failed and by status now sum the tallies (a few rows per unit); fallen
    back reads the failed invitations (the live ones a clerk resolves) by the status index."""
    unit = create_unit(session)
    invitation(session, unit, InvitationStatus.DELIVERED, delivered=True)
    invitation(session, unit, InvitationStatus.FAILED, sent=False, qr=True)
    session.commit()
    read, _ = _statements_of(session, _scraped)
    connection = session.connection()
    invitation_reads = [s for s in read if "FROM sms_invitation " in f"{s} " or "JOIN sms_invitation " in f"{s} "]
    assert len(read) == 5 and len(invitation_reads) == 1, read
    (fallen_back,) = invitation_reads
    assert "short_link" in fallen_back and not any("sms_outbound" in statement for statement in read), read
    if connection.dialect.name == "sqlite":  # PostgreSQL plans an empty table by its statistics
        plan = " ".join(row[-1] for row in connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + fallen_back, (str(InvitationStatus.FAILED), str(LinkChannel.QR))))
        assert "SEARCH sms_invitation USING INDEX ix_sms_invitation_status" in plan, plan


def test_the_invitation_tallies_are_backfilled_by_their_migration(session, database_url):
    """``sms_0007`` counts the invitations already there (a database upgraded after years of sending)."""
    from alembic import command

    from sipas.migrate import alembic_config, upgrade

    units = [create_unit(session) for _ in range(2)]
    for number in range(12):
        invitation(session, units[number % 2], list(InvitationStatus)[number % 9], sent=number % 3 == 0,
                   delivered=number % 4 == 0, qr=number % 5 == 0)
    session.commit()
    expected = _recount(session)
    session.close()
    command.downgrade(alembic_config(database_url), "sms_0006")
    upgrade(database_url)
    assert _scraped(session) == expected


def test_the_pending_tally_changes_are_folded_by_the_downgrade_of_sms_0008(session, database_url):
    """On PostgreSQL ``sms_0008``'s triggers leave changes for the SMS cycle to fold: a downgrade folds those
    still pending before it drops their table, and its upserting triggers count from there (on SQLite the table
    is always empty)."""
    from alembic import command
    from sqlalchemy import text

    from sipas.migrate import alembic_config, upgrade

    units = [create_unit(session) for _ in range(2)]
    rows = [invitation(session, units[number % 2], InvitationStatus.SENT, delivered=number % 3 == 0)
            for number in range(6)]
    session.commit()
    for row in rows[:3]:
        row.status = InvitationStatus.ANSWERED
    session.commit()
    expected = _recount(session)
    session.close()
    counted = ("SELECT unit_id, status, sent_at IS NOT NULL, delivered_messages > 0, COUNT(*) FROM sms_invitation"
               " GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4")
    tallied = ("SELECT unit_id, status, sent, delivered, invitations FROM sms_invitation_tally"
               " WHERE invitations <> 0 ORDER BY 1, 2, 3, 4")
    command.downgrade(alembic_config(database_url), "sms_0007")
    with session.connection() as connection:
        assert connection.execute(text(tallied)).all() == connection.execute(text(counted)).all()
        connection.execute(text("UPDATE sms_invitation SET status = 'expired' WHERE status = 'sent'"))
        assert connection.execute(text(tallied)).all() == connection.execute(text(counted)).all()
        connection.execute(text("UPDATE sms_invitation SET status = 'sent' WHERE status = 'expired'"))
        connection.commit()
    session.close()
    upgrade(database_url)
    assert _scraped(session) == expected


def test_ratings_invitations_kiosk_queues_and_job_runs_come_from_the_database(client, session, catalogue):
    ward, other = create_unit(session, code="W100"), create_unit(session, code="W200")
    for _ in range(2):
        create_response(session, catalogue, ward, dossier=create_dossier(session, ward), channel=ResponseChannel.KIOSK)
    create_response(session, catalogue, ward, channel=ResponseChannel.PAPER)
    create_response(session, catalogue, other, dossier=create_dossier(session, other), channel=ResponseChannel.KIOSK)
    invitation(session, ward, InvitationStatus.DELIVERED, delivered=True)
    invitation(session, ward, InvitationStatus.SENT)
    invitation(session, ward, InvitationStatus.FAILED, sent=False, qr=True)
    invitation(session, ward, InvitationStatus.FAILED, sent=False)
    now = utcnow()
    session.add(KioskDevice(unit_id=ward.id, public_id="K1", paired_at=now, queued_count=4, rejected_count=1))
    session.add(KioskDevice(unit_id=ward.id, public_id="K2", paired_at=now, revoked_at=now, queued_count=9))
    session.add(SchedulerJobRun(job_id="sms_gateway.send_due", holder="h:1", token=1, outcome="ok",
                                started_at=now - timedelta(seconds=3), finished_at=now - timedelta(seconds=1)))
    session.commit()

    text = scrape(client)
    assert 'sipas_ratings{unit="W100",channel="kiosk"} 2' in text
    assert 'sipas_ratings{unit="W100",channel="paper"} 1' in text
    assert 'sipas_ratings{unit="W200",channel="kiosk"} 1' in text
    assert "# TYPE sipas_ratings gauge" in text
    assert 'sipas_invitations_sent_total{unit="W100"} 2' in text
    assert "# TYPE sipas_invitations_sent_total counter" in text  # the 0.0.4 format: the name as sampled
    assert 'sipas_invitations_delivered_total{unit="W100"} 1' in text
    assert 'sipas_invitations_failed{unit="W100"} 2' in text
    assert 'sipas_invitations_fallen_back{unit="W100"} 1' in text
    assert 'sipas_invitations{unit="W100",status="failed"} 2' in text
    assert 'sipas_kiosk_queue_length{unit="W100",kiosk="K1"} 4' in text
    assert 'sipas_kiosk_rejected_count{unit="W100",kiosk="K1"} 1' in text
    assert 'kiosk="K2"' not in text  # a revoked kiosk reports nothing
    assert 'sipas_scheduler_job_last_duration_seconds{job="sms_gateway.send_due",outcome="ok"} 2' in text
    assert 'sipas_scheduler_job_runs_last_hour{job="sms_gateway.send_due",outcome="ok"} 1' in text


def test_request_latency_is_a_histogram_by_route_never_by_path(client, session):
    for _ in range(3):
        assert client.get("/r/Ab3dE6gH9k").status_code in (200, 404, 410)
    client.get("/healthz")
    text = scrape(client)
    assert "Ab3dE6gH9k" not in text
    assert 'sipas_http_request_duration_seconds_count{route="/r/<code>",method="GET"} 3' in text
    assert 'sipas_http_request_duration_seconds_bucket{route="/r/<code>",method="GET",le="+Inf"} 3' in text
    assert 'sipas_http_request_duration_seconds_count{route="/healthz",method="GET"} 1' in text
    assert "# TYPE sipas_http_request_duration_seconds histogram" in text


def test_histograms_written_by_other_worker_processes_are_summed(app, client):
    from sipas.request_metrics import RequestHistograms

    other_worker = RequestHistograms(app.extensions["sipas_request_histograms"].directory)
    for _ in range(5):
        other_worker.observe("/healthz", "GET", 0.002)
    other_worker.flush()
    other_worker.path.rename(other_worker.directory / "otherhost-99999.json")  # another process's file
    client.get("/healthz")
    text = scrape(client)
    assert 'sipas_http_request_duration_seconds_count{route="/healthz",method="GET"} 6' in text


def test_without_a_token_only_a_direct_local_connection_may_scrape(client):
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 403
    refused = client.get("/metrics", environ_base=LOCAL, headers={"X-Forwarded-For": "203.0.113.9"})
    assert refused.status_code == 403 and refused.get_json()["error"] == "metrics_forbidden"
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200


def test_with_a_token_only_the_bearer_may_scrape(database_url, tmp_path):
    from sipas.app import create_app
    from sipas.settings import Settings
    from sipas.storage import get_database

    settings = Settings.from_env({"SIPAS_METRICS_TOKEN": "s3cret-token"}, database_url=database_url,
                                 secret_key="k", instance_dir=tmp_path / "i", secure_cookies=False, testing=True)
    application = create_app(settings)
    try:
        client = application.test_client()
        assert client.get("/metrics", environ_base=LOCAL).status_code == 403
        wrong = {"Authorization": "Bearer nope"}
        assert client.get("/metrics", environ_base=LOCAL, headers=wrong).status_code == 403
        right = {"Authorization": "Bearer s3cret-token", "X-Forwarded-For": "198.51.100.1"}
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.0.0.5"}, headers=right).status_code == 200
    finally:
        get_database(application).dispose()


def test_guard_rules():
    assert allowed("", None, "127.0.0.1", None) and allowed("", None, "::1", "")
    assert not allowed("", None, "127.0.0.1", "1.2.3.4") and not allowed("", None, "10.0.0.1", None)
    assert allowed("t", "Bearer t", "10.0.0.1", "1.2.3.4") and not allowed("t", "t", "127.0.0.1", None)
    assert not allowed("t", None, "127.0.0.1", None)


def test_text_format_escapes_labels_and_writes_cumulative_buckets():
    family = Family("x_seconds", "histogram", "Help.")
    family.add_histogram({"route": 'a"b\\c'}, (0.1, 1.0), [1, 2, 3], 7.5)
    text = render([family])
    assert 'x_seconds_bucket{route="a\\"b\\\\c",le="0.1"} 1' in text
    assert 'x_seconds_bucket{route="a\\"b\\\\c",le="1"} 3' in text
    assert 'x_seconds_bucket{route="a\\"b\\\\c",le="+Inf"} 6' in text
    assert 'x_seconds_sum{route="a\\"b\\\\c"} 7.5' in text and text.endswith("\n")


def test_a_metrics_folder_that_cannot_be_written_never_fails_a_request(database_url, tmp_path, caplog):
    from sipas.app import create_app
    from sipas.settings import Settings
    from sipas.storage import get_database

    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    settings = Settings.from_env({"SIPAS_METRICS_DIR": str(not_a_folder / "metrics")}, database_url=database_url,
                                 secret_key="k", instance_dir=tmp_path / "i", secure_cookies=False, testing=True)
    application = create_app(settings)
    try:
        client = application.test_client()
        assert client.get("/healthz").status_code == 200
        assert "sipas_http_request_duration_seconds" in scrape(client)
        assert any("request latency not written" in r.getMessage() for r in caplog.records)
    finally:
        get_database(application).dispose()
