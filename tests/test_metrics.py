"""``GET /metrics``: Prometheus text with the figures from the database, latency by route, and its guard."""

from __future__ import annotations

from datetime import timedelta

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
    read: list[str] = []

    def grab(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        read.append(" ".join(statement.split()))

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", grab)
    try:
        (family,) = rating_families(session)
    finally:
        event.remove(connection, "before_cursor_execute", grab)
    assert [(labels, value) for _, labels, value in family.samples] == [({"unit": unit.code, "channel": "kiosk"}, 1)]
    assert len(read) == 1 and "FROM response " not in f"{read[0]} " and "JOIN response " not in read[0], read


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
