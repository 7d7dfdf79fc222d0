"""Zalo's service-rating template (instrument ``zalo5``): ``user_feedback`` events and the ``rating/get`` pull
store each submission once, bound to the dossier by the tracking id (or, when Zalo leaves it empty, by the msg_id
sipas stored as the outbound message's sid); a second submission is a correction
(one rating per dossier is counted); the ratings are reported apart from the 12 criteria."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from sipas.models import IntakeChannel, Response
from sipas.scheduler import LeaseLost
from sipas.storage import get_database
from sms_gateway.models_zalo import ZaloRating
from sms_gateway.providers.zalo import ZaloClient
from sms_gateway.sending import run_cycle
from sms_gateway.zalo_jobs import pull_ratings
from sms_gateway.zalo_rating import load_versions, summary, version_at
from sms_gateway.zalo_settings import ZaloSettings
from sms_gateway.zalo_tokens import DatabaseTokens
from tests.factories import create_dossier, create_unit, local
from tests.scheduler_support import holding_the_lease
from tests.sms_gateway.conftest import PHONE, RecordingProvider
from tests.sms_gateway.zalo_support import grant, provider_at, zalo_settings
from tests.sms_gateway.zns_mock import Template, ZnsMock, zns  # noqa: F401  (fixture)

NOW = local(2026, 1, 7, 10, 0)
RATING_TEMPLATE = "300501"


@pytest.fixture
def settings(database_url, tmp_path, zns):  # noqa: F811
    zns.now = NOW
    zns.phones.add("84912345678")
    zns.templates[RATING_TEMPLATE] = Template(template_type=5)
    return zalo_settings(database_url, tmp_path, zns)


def rating_unit(session, correction="latest"):
    return create_unit(session, options={"zalo": {"enabled": True, "template_id": "236719",
                                                  "rating_template_id": RATING_TEMPLATE, "correction": correction}})


def send_rating_invitation(app, session, settings, zns, unit):  # noqa: F811
    database = get_database(app)
    dossier = create_dossier(session, unit, received_at=NOW - timedelta(days=3), returned_at=NOW, phone=PHONE,
                             intake_channel=IntakeChannel.ONLINE_FULL, sms_consent=True)
    session.commit()
    grant(database, zns, NOW)
    run_cycle(database, settings, now=NOW, provider=RecordingProvider(), zalo=provider_at(database, settings, NOW))
    (sent,) = zns.messages
    assert sent["template_id"] == RATING_TEMPLATE
    return dossier, sent["msg_id"]


def ratings(session) -> list[ZaloRating]:
    session.commit()
    session.expire_all()
    return list(session.scalars(select(ZaloRating).order_by(ZaloRating.id)))


def test_the_zalo5_instrument_is_versioned_configuration(settings):
    versions = load_versions(settings.config_dir)
    current = version_at(versions, datetime(2026, 6, 1).date())
    assert current.version == "2026.1" and current.stars[4] == "Rất hài lòng"


def test_a_feedback_event_is_stored_once_and_bound_to_the_dossier(app, client, session, settings, zns):  # noqa: F811
    dossier, msg_id = send_rating_invitation(app, session, settings, zns, rating_unit(session))
    event = zns.feedback_event(msg_id, 4, note="Cán bộ  nhiệt tình", feedbacks=["Nhân viên vui vẻ"])
    for _ in range(2):  # Zalo retries
        assert client.post("/zalo/events", data=event[0], headers=event[1]).status_code == 200
    (rating,) = ratings(session)
    assert (rating.dossier_id, rating.rate, rating.note, rating.feedbacks) == (dossier.id, 4, "Cán bộ nhiệt tình",
                                                                              ["Nhân viên vui vẻ"])
    assert (rating.instrument_code, rating.instrument_version, rating.counted) == ("zalo5", "2026.1", True)
    assert session.scalars(select(Response)).all() == []  # never among the 12 criteria's responses


@pytest.mark.parametrize(("rule", "counted_rate"), [("latest", 2), ("first", 5)])
def test_a_second_submission_is_a_correction_counted_once(app, client, session, settings, zns,  # noqa: F811
                                                         rule, counted_rate):
    unit = rating_unit(session, correction=rule)
    _dossier, msg_id = send_rating_invitation(app, session, settings, zns, unit)
    first = zns.feedback_event(msg_id, 5)
    zns.now = NOW + timedelta(minutes=3)
    second = zns.feedback_event(msg_id, 2, note="Sửa lại")
    for event in (first, second):
        assert client.post("/zalo/events", data=event[0], headers=event[1]).status_code == 200
    older, newer = ratings(session)
    assert newer.correction_of == older.id
    assert [r.rate for r in (older, newer) if r.counted] == [counted_rate]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    result = summary(session, [unit.id], start, start + timedelta(days=31))
    assert (result.ratings, result.average) == (1, float(counted_rate))


def test_the_pull_stores_what_the_events_missed_and_nothing_twice(app, client, session, settings, zns):  # noqa: F811
    unit = rating_unit(session)
    _dossier, msg_id = send_rating_invitation(app, session, settings, zns, unit)
    delivered = zns.feedback_event(msg_id, 3)  # this one reaches the app
    client.post("/zalo/events", data=delivered[0], headers=delivered[1])
    zns.now = NOW + timedelta(minutes=5)
    zns.feedback_event(msg_id, 4)  # this one's event is lost: only rating/get has it
    assert pulled_twice(app, settings) == (1, 0)
    stored = ratings(session)
    assert [(r.rate, r.source, r.counted) for r in stored] == [(3, "event", False), (4, "pull", True)]


def pulled_twice(app, settings) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """The ratings stored by the hourly pull an hour after the sends, run twice."""
    database = get_database(app)
    zalo = ZaloSettings.from_settings(settings)
    client = ZaloClient(zalo)
    tokens = DatabaseTokens(database, zalo, client, clock=lambda: NOW)
    later = NOW + timedelta(hours=1)
    return tuple(pull_ratings(database, settings, now=later, client=client, tokens=tokens)  # type: ignore[return-value]
                 for _ in range(2))


def feedback_with_tracking_id(zns, msg_id, rate, tracking_id):  # noqa: F811
    """A ``user_feedback`` event (and its ``rating/get`` row) carrying ``tracking_id`` instead of the one sent."""
    body, _headers = zns.feedback_event(msg_id, rate)
    zns.ratings[-1]["tracking_id"] = tracking_id
    message = json.loads(body)["message"] | {"tracking_id": tracking_id}
    return zns.signed_event({"event_name": "user_feedback", "message": message})


@pytest.mark.parametrize("tracking_id", ["", "không-phải-số", "999999", "9" * 48])
def test_a_feedback_event_without_a_usable_tracking_id_is_bound_by_its_msg_id(app, client, session, zns,  # noqa: F811
                                                                               settings, tracking_id):
    """Empty (as in the contract's ``rating/get`` example), not a number, or no invitation's id: the msg_id is the one
    sipas sent, so the rating is the dossier's all the same; a retried event is stored once."""
    from sms_gateway.models import Invitation, InvitationStatus

    dossier, msg_id = send_rating_invitation(app, session, settings, zns, rating_unit(session))
    event = feedback_with_tracking_id(zns, msg_id, 4, tracking_id)
    for _ in range(2):
        assert client.post("/zalo/events", data=event[0], headers=event[1]).status_code == 200
    assert [(r.dossier_id, r.rate, r.counted) for r in ratings(session)] == [(dossier.id, 4, True)]
    assert session.scalars(select(Invitation)).one().status is InvitationStatus.ANSWERED


def test_the_pull_binds_a_row_with_an_empty_tracking_id_as_a_correction(app, client, session, zns,  # noqa: F811
                                                                        settings):
    """The contract's ``rating/get`` row has ``"trackingId": ""``: the pull binds it by msg_id, and the dossier's rules
    hold (the later submission is the correction counted; stored once however often it is pulled)."""
    _dossier, msg_id = send_rating_invitation(app, session, settings, zns, rating_unit(session))
    first = zns.feedback_event(msg_id, 3)
    client.post("/zalo/events", data=first[0], headers=first[1])
    zns.now = NOW + timedelta(minutes=5)
    feedback_with_tracking_id(zns, msg_id, 4, "")  # its event is lost: only rating/get has it
    assert pulled_twice(app, settings) == (1, 0)
    assert [(r.rate, r.source, r.counted) for r in ratings(session)] == [(3, "event", False), (4, "pull", True)]


def test_a_rating_neither_id_binds_is_not_stored_and_says_so(app, client, session, settings, zns,  # noqa: F811
                                                            caplog):
    send_rating_invitation(app, session, settings, zns, rating_unit(session))
    zns.messages[0]["msg_id"] = "f" * 20  # a message sipas never sent (another system on the same OA)
    event = feedback_with_tracking_id(zns, "f" * 20, 5, "")
    with caplog.at_level(logging.WARNING, logger="sms_gateway.zalo_rating"):
        assert client.post("/zalo/events", data=event[0], headers=event[1]).status_code == 200
    assert ratings(session) == []
    assert any("matches no invitation" in record.getMessage() for record in caplog.records)


def test_the_pull_job_runs_only_under_the_scheduler_lease(app, settings, monkeypatch):
    from sms_gateway import zalo_jobs

    seen = []
    monkeypatch.setattr(zalo_jobs, "_context", {"settings": settings})
    monkeypatch.setattr(zalo_jobs, "pull_ratings", lambda database, s, *, now: seen.append(now) or 0)
    with pytest.raises(LeaseLost):  # no lease: refused by the fence, nothing pulled
        zalo_jobs.pull_ratings_job()
    assert seen == []
    try:
        with holding_the_lease(settings):
            zalo_jobs.pull_ratings_job()
    finally:
        zalo_jobs._context["database"].dispose()
    assert len(seen) == 1


def test_a_pull_missed_while_the_scheduler_was_down_is_made_when_it_starts(settings):
    """The hourly pull is the safety net under the events: one missed while the scheduler was down (here for three
    days) is made at start, however late: it reads the last two days whenever it runs. Registering the job again
    at start scheduled it an hour from now instead (and a restart every hour never pulled)."""
    from sms_gateway.zalo_jobs import JOB_ID
    from tests.scheduler_support import started_scheduler

    missed = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    with started_scheduler(settings) as first:
        first.modify_job(JOB_ID, next_run_time=missed)
    with started_scheduler(settings) as second:
        job = second.get_job(JOB_ID)
    assert job.next_run_time == missed and job.misfire_grace_time is None


def test_the_console_shows_zalo5_apart_with_the_mean_written_the_vietnamese_way(app, client, session, settings, zns):  # noqa: F811
    from sipas.accounts import create_user
    from sipas.models import Role
    from tests.factories import PASSWORD, login

    unit = create_unit(session, options={"zalo": {"enabled": True, "rating_template_id": RATING_TEMPLATE}})
    _dossier, msg_id = send_rating_invitation(app, session, settings, zns, unit)
    zns.now = None  # submitted today, within the page's 30 days
    event = zns.feedback_event(msg_id, 5)
    client.post("/zalo/events", data=event[0], headers=event[1])
    root = create_user(session, username="root", password=PASSWORD, role=Role.ADMIN, units=[], actor="test")
    session.commit()
    login(client, root)
    page = client.get("/console/zalo/").get_data(as_text=True)
    # the mean the Vietnamese way and as the dashboard writes it (decimal comma, two places): "5.0" was English
    assert "1 đánh giá, trung bình 5,00 sao." in page and "không tính vào tỉ lệ hài lòng của 12 tiêu chí" in page


def test_a_citizen_who_rated_in_zalo_gets_no_reminder(app, client, session, settings, zns):  # noqa: F811
    """A reminder goes "sau 48 giờ nếu chưa đánh giá": a rating in Zalo answers the invitation (it stayed open, and
    48 hours later the citizen got "nhắc đánh giá" by SMS with a link to the 12 criteria)."""
    from sms_gateway.models import Invitation, InvitationStatus

    _dossier, msg_id = send_rating_invitation(app, session, settings, zns, rating_unit(session))
    event = zns.feedback_event(msg_id, 5)
    assert client.post("/zalo/events", data=event[0], headers=event[1]).status_code == 200
    assert len(ratings(session)) == 1
    invitation = session.scalars(select(Invitation)).one()
    assert invitation.status is InvitationStatus.ANSWERED and invitation.answered_at is not None
    database, later = get_database(app), NOW + timedelta(hours=49)
    grant(database, zns, later)
    sms = RecordingProvider()
    run_cycle(database, settings, now=later, provider=sms, zalo=provider_at(database, settings, later))
    assert sms.sent == [] and len(zns.messages) == 1


def test_the_mean_of_the_stars_rounds_half_up(session) -> None:  # type: ignore[no-untyped-def]
    """33 stars from 8 ratings is 4,125: 4,13 as a Vietnamese document rounds it (Python's round gave 4,12)."""
    unit = rating_unit(session)
    dossier = create_dossier(session, unit, received_at=NOW - timedelta(days=3), returned_at=NOW)
    for n, rate in enumerate((4, 4, 4, 5, 5, 3, 4, 4)):
        session.add(ZaloRating(unit_id=unit.id, dossier_id=dossier.id, msg_id=f"m{n}", instrument_version="2026.1",
                               rate=rate, submitted_at=NOW, counted=True, source="event"))
    session.commit()
    assert summary(session, [unit.id], NOW - timedelta(days=1), NOW + timedelta(days=1)).average == 4.13
