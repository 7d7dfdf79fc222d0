"""Kiosk services: pairing, authentication, exactly-once submission, abuse limits, arming."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from kiosk.audio_build import check as audio_missing
from kiosk.errors import (
    InstrumentRefused,
    KioskRevoked,
    KioskUnpaired,
    NotArmable,
    PairingRefused,
    PairingThrottled,
    TooFast,
)
from kiosk.pairing import authenticate, create_device, new_pairing_code, pair, revoke
from kiosk.services import KioskRules, arm, heartbeat, rateable_dossier, submit, take_armed
from sipas.errors import AlreadyRated, DossierNotReturned, UnknownDossier
from sipas.models import AuditEvent, Response, ResponseChannel
from sipas.responses import ResponseInput
from sipas.units import change_kiosk_instrument
from tests.factories import TZ, answers_for, create_dossier, create_response, create_unit
from tests.kiosk.helpers import new_device

SECRET = "test-secret-key"
NOW = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
RULES = KioskRules(min_interval=timedelta(seconds=10), burst_count=3, burst_window=timedelta(minutes=10))


def rating(catalogue, key: str, *, dossier: str | None = None, instrument: str = "hue12", option: int = 0):  # type: ignore[no-untyped-def]
    return ResponseInput(instrument=instrument, channel=ResponseChannel.KIOSK,
                         answers=answers_for(catalogue, instrument, option, on=NOW), dossier_code=dossier,
                         idempotency_key=key)


def test_pairing_code_buys_one_token_and_only_hashes_are_stored(session):
    unit = create_unit(session)
    new = create_device(session, unit, name="  Quầy   1 ", now=NOW, secret_key=SECRET, actor="test",
                        valid_for=timedelta(minutes=30))
    assert len(new.pairing_code) == 8 and new.pairing_code.isdigit() and new.device.name == "Quầy 1"
    assert new.device.status == "pending" and new.pairing_code not in (new.device.pairing_code_hash or "")
    paired = pair(session, unit, new.pairing_code, now=NOW, secret_key=SECRET, client="1.2.3.4")
    assert paired.device.status == "active" and paired.token.startswith(new.device.public_id + ".")
    assert paired.token.split(".", 1)[1] not in (paired.device.token_hash or "")
    with pytest.raises(PairingRefused):
        pair(session, unit, new.pairing_code, now=NOW, secret_key=SECRET, client="1.2.3.4")  # spent
    assert authenticate(session, unit, paired.token, now=NOW + timedelta(minutes=1), secret_key=SECRET) is new.device
    assert new.device.last_contact_at == NOW + timedelta(minutes=1)


def test_expired_or_foreign_pairing_codes_are_refused_and_failures_throttle(session):
    unit, other = create_unit(session), create_unit(session)
    new = create_device(session, unit, name="Quầy 1", now=NOW, secret_key=SECRET, actor="test",
                        valid_for=timedelta(minutes=30))
    with pytest.raises(PairingRefused):
        pair(session, other, new.pairing_code, now=NOW, secret_key=SECRET, client="a")
    with pytest.raises(PairingRefused):
        pair(session, unit, new.pairing_code, now=NOW + timedelta(minutes=31), secret_key=SECRET, client="a")
    later = NOW + timedelta(minutes=45)  # a fresh 15-minute window
    fresh = new_pairing_code(session, new.device, now=later, secret_key=SECRET, actor="test",
                             valid_for=timedelta(minutes=30))
    for _ in range(10):  # 10 attempts per (unit, client) and window
        with pytest.raises(PairingRefused):
            pair(session, unit, "00000000", now=later, secret_key=SECRET, client="a")
    with pytest.raises(PairingThrottled):
        pair(session, unit, fresh, now=later, secret_key=SECRET, client="a")
    # ...from that client only: a stranger's wrong codes do not lock pairing for the whole unit
    assert pair(session, unit, fresh, now=later, secret_key=SECRET, client="b").device.unit_id == unit.id


def test_tokens_are_bound_to_their_unit_and_die_on_revocation(session):
    unit, other = create_unit(session), create_unit(session)
    device, _, token = new_device(session, unit, secret=SECRET)
    with pytest.raises(KioskUnpaired):
        authenticate(session, other, token, now=NOW, secret_key=SECRET)
    with pytest.raises(KioskUnpaired):
        authenticate(session, unit, token[:-2] + "xx", now=NOW, secret_key=SECRET)
    with pytest.raises(KioskUnpaired):
        authenticate(session, unit, None, now=NOW, secret_key=SECRET)
    revoke(session, device, now=NOW, actor="test")
    with pytest.raises(KioskRevoked) as refused:
        authenticate(session, unit, token, now=NOW, secret_key=SECRET)
    assert refused.value.http_status == 403 and "thu hồi" in refused.value.message_vi


def test_submission_is_stored_once_and_a_resend_inside_the_interval_is_acknowledged(session, catalogue):
    unit = create_unit(session)
    dossier = create_dossier(session, unit)
    device, _, _ = new_device(session, unit, secret=SECRET)
    first = submit(session, catalogue, device, rating(catalogue, "key-00000001", dossier=dossier.code), now=NOW,
                   tz=TZ, rules=RULES)
    assert not first.replayed and first.response.channel is ResponseChannel.KIOSK
    assert first.response.source == f"kiosk:{device.public_id}" and first.response.dossier_id == dossier.id
    again = submit(session, catalogue, device, rating(catalogue, "key-00000001", dossier=dossier.code),
                   now=NOW + timedelta(seconds=1), tz=TZ, rules=RULES)
    assert again.replayed and again.response.id == first.response.id


def test_a_resend_after_the_interval_is_acknowledged_and_leaves_the_interval_as_it_was(session, catalogue):
    """The key is not looked up first: the insert finds it, and the device's interval, claimed meanwhile, is given
    back, so the next rating's interval still runs from the stored one."""
    unit = create_unit(session, allow_anonymous=True)
    device, _, _ = new_device(session, unit, secret=SECRET)
    first = submit(session, catalogue, device, rating(catalogue, "key-00000001"), now=NOW, tz=TZ, rules=RULES)
    again = submit(session, catalogue, device, rating(catalogue, "key-00000001"), now=NOW + timedelta(seconds=15),
                   tz=TZ, rules=RULES)
    assert again.replayed and again.response.id == first.response.id
    session.flush()
    session.expire(device, ["last_submission_at"])
    assert device.last_submission_at == NOW
    later = submit(session, catalogue, device, rating(catalogue, "key-00000002", option=1),
                   now=NOW + timedelta(seconds=16), tz=TZ, rules=RULES)  # 16 s after the stored rating
    assert not later.replayed
    assert session.scalar(select(func.count()).select_from(Response)) == 2


def test_a_kiosk_can_submit_only_the_instrument_its_unit_chose(session, catalogue):
    unit = create_unit(session, default_instrument="quay4", allow_anonymous=True)
    dossier = create_dossier(session, unit)
    device, _, _ = new_device(session, unit, secret=SECRET)
    for other in ("hue12", "tt01_2018"):
        with pytest.raises(InstrumentRefused) as refused:
            submit(session, catalogue, device, rating(catalogue, f"key-{other}", dossier=dossier.code,
                                                      instrument=other), now=NOW, tz=TZ, rules=RULES)
        assert refused.value.code == "kiosk_instrument_refused" and refused.value.http_status == 422
        assert refused.value.field == "instrument" and "bộ câu hỏi" in refused.value.message_vi
    assert device.last_submission_at is None  # a refusal does not start the minimum interval
    stored = submit(session, catalogue, device, rating(catalogue, "key-quay4-01", dossier=dossier.code,
                                                       instrument="quay4"), now=NOW, tz=TZ, rules=RULES)
    assert stored.response.instrument_code == "quay4"


def test_ratings_begun_under_the_previous_form_are_taken_after_the_unit_switches(session, catalogue):
    unit = create_unit(session, default_instrument="quay4", allow_anonymous=True)
    device, _, _ = new_device(session, unit, secret=SECRET)
    change_kiosk_instrument(unit, "hue12", now=NOW)
    queued = rating(catalogue, "key-queued-01", instrument="quay4")
    queued = replace(queued, submitted_at=NOW - timedelta(hours=2))  # rated offline before the switch
    later = NOW + timedelta(hours=3)
    assert submit(session, catalogue, device, queued, now=later, tz=TZ, rules=RULES).response.instrument_code == "quay4"
    mid_flow = replace(rating(catalogue, "key-midflow-1", instrument="quay4"), submitted_at=NOW + timedelta(minutes=4))
    assert not submit(session, catalogue, device, mid_flow, now=later + timedelta(minutes=1), tz=TZ,
                      rules=RULES).replayed
    stale = replace(rating(catalogue, "key-stale-001", instrument="quay4"), submitted_at=NOW + timedelta(minutes=20))
    with pytest.raises(InstrumentRefused):
        submit(session, catalogue, device, stale, now=later + timedelta(minutes=2), tz=TZ, rules=RULES)
    assert (unit.default_instrument, unit.previous_instrument) == ("hue12", "quay4")


def test_a_rating_stored_before_the_unit_changed_its_instrument_is_still_acknowledged(session, catalogue):
    unit = create_unit(session, default_instrument="quay4", allow_anonymous=True)
    device, _, _ = new_device(session, unit, secret=SECRET)
    first = submit(session, catalogue, device, rating(catalogue, "key-before-01", instrument="quay4"), now=NOW, tz=TZ,
                   rules=RULES)
    unit.default_instrument = "hue12"
    again = submit(session, catalogue, device, rating(catalogue, "key-before-01", instrument="quay4"),
                   now=NOW + timedelta(minutes=1), tz=TZ, rules=RULES)
    assert again.replayed and again.response.id == first.response.id


def test_heartbeat_keeps_the_queued_and_rejected_counts_and_ignores_nonsense(session):
    unit = create_unit(session)
    device, _, _ = new_device(session, unit, secret=SECRET)
    heartbeat(device, queued=3, rejected=2, now=NOW)
    assert (device.queued_count, device.rejected_count, device.last_contact_at) == (3, 2, NOW)
    heartbeat(device, queued="7", rejected=True, now=NOW + timedelta(seconds=30))
    assert (device.queued_count, device.rejected_count) == (3, 2)
    heartbeat(device, queued=-4, rejected=10**9, now=NOW + timedelta(seconds=60))
    assert (device.queued_count, device.rejected_count) == (0, 100_000)


def test_minimum_interval_refuses_a_new_rating_with_retry_after_then_accepts_it(session, catalogue):
    unit = create_unit(session, allow_anonymous=True)
    device, _, _ = new_device(session, unit, secret=SECRET)
    submit(session, catalogue, device, rating(catalogue, "key-00000001"), now=NOW, tz=TZ, rules=RULES)
    with pytest.raises(TooFast) as too_fast:
        submit(session, catalogue, device, rating(catalogue, "key-00000002", option=1),
               now=NOW + timedelta(seconds=3), tz=TZ, rules=RULES)
    assert too_fast.value.retry_after == 7 and too_fast.value.http_status == 429
    assert "sẽ tự động gửi lại" in too_fast.value.message_vi
    later = submit(session, catalogue, device, rating(catalogue, "key-00000002", option=1),
                   now=NOW + timedelta(seconds=10), tz=TZ, rules=RULES)
    assert not later.replayed


def test_identical_anonymous_bursts_are_flagged_and_audited_not_dropped(session, catalogue):
    unit = create_unit(session, allow_anonymous=True)
    device, _, _ = new_device(session, unit, secret=SECRET)
    rules = KioskRules(min_interval=timedelta(0), burst_count=3, burst_window=timedelta(minutes=10))
    stored = [submit(session, catalogue, device, rating(catalogue, f"key-burst-{i:04d}"),
                     now=NOW + timedelta(seconds=i), tz=TZ, rules=rules).response for i in range(3)]
    different = submit(session, catalogue, device, rating(catalogue, "key-other-0001", option=2),
                       now=NOW + timedelta(seconds=5), tz=TZ, rules=rules).response
    assert [r.flagged for r in stored] == [True, True, True] and not different.flagged
    events = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "kiosk.burst_flagged")))
    assert len(events) == 1 and events[0].details["count"] == 3
    assert sorted(events[0].details["responses"]) == sorted(r.id for r in stored)
    late = submit(session, catalogue, device, rating(catalogue, "key-late-0001"),
                  now=NOW + timedelta(minutes=30), tz=TZ, rules=rules).response
    assert not late.flagged  # outside the window: no longer a burst


def test_identical_ratings_queued_offline_and_arriving_together_are_not_a_burst(session, catalogue):
    unit = create_unit(session, allow_anonymous=True)
    device, _, _ = new_device(session, unit, secret=SECRET)
    rules = KioskRules(min_interval=timedelta(0), burst_count=3, burst_window=timedelta(minutes=10))
    arrived = []
    for i in range(3):
        data = ResponseInput(**{**rating(catalogue, f"key-queued-{i}").__dict__,
                                "submitted_at": NOW - timedelta(hours=3) + timedelta(minutes=20 * i)})
        arrived.append(submit(session, catalogue, device, data, now=NOW + timedelta(seconds=i), tz=TZ,
                              rules=rules).response)
    assert [r.flagged for r in arrived] == [False, False, False]


def test_ratings_with_a_dossier_are_never_counted_as_a_burst(session, catalogue):
    unit = create_unit(session)
    device, _, _ = new_device(session, unit, secret=SECRET)
    rules = KioskRules(min_interval=timedelta(0), burst_count=2)
    for i in range(3):
        dossier = create_dossier(session, unit)
        response = submit(session, catalogue, device, rating(catalogue, f"key-dossier-{i}", dossier=dossier.code),
                          now=NOW + timedelta(seconds=i), tz=TZ, rules=rules).response
        assert not response.flagged


def test_kiosk_clock_far_off_does_not_refuse_or_misdate_a_rating(session, catalogue):
    unit = create_unit(session, allow_anonymous=True)
    device, _, _ = new_device(session, unit, secret=SECRET)
    data = rating(catalogue, "key-clock-0001")
    data = ResponseInput(**{**data.__dict__, "submitted_at": NOW + timedelta(days=2)})
    recorded = submit(session, catalogue, device, data, now=NOW, tz=TZ, rules=RULES)
    assert recorded.response.submitted_at == NOW


def test_lookup_explains_why_a_dossier_cannot_be_rated(session, catalogue):
    unit = create_unit(session)
    returned = create_dossier(session, unit, procedure="Chứng thực chữ ký")
    pending = create_dossier(session, unit, returned=False)
    assert rateable_dossier(session, unit, f"  {returned.code} ").procedure == "Chứng thực chữ ký"
    with pytest.raises(UnknownDossier):
        rateable_dossier(session, unit, "khong-co")
    with pytest.raises(DossierNotReturned):
        rateable_dossier(session, unit, pending.code)
    create_response(session, catalogue, unit, dossier=returned)
    with pytest.raises(AlreadyRated):
        rateable_dossier(session, unit, returned.code)


def test_armed_dossier_is_handed_over_once_and_expires(session, catalogue):
    unit = create_unit(session)
    first, second = create_dossier(session, unit), create_dossier(session, unit)
    device, _, _ = new_device(session, unit, secret=SECRET)
    assert arm(session, device, first.code, now=NOW, actor="test", rules=RULES) is first
    assert take_armed(session, device, now=NOW + timedelta(seconds=5)) is first
    assert take_armed(session, device, now=NOW + timedelta(seconds=6)) is None
    arm(session, device, second.code, now=NOW, actor="test", rules=RULES)
    assert take_armed(session, device, now=NOW + timedelta(minutes=11)) is None  # 10 minutes by default


def test_submitting_the_armed_dossier_disarms_and_revoked_kiosks_cannot_be_armed(session, catalogue):
    unit = create_unit(session)
    dossier = create_dossier(session, unit)
    device, _, _ = new_device(session, unit, secret=SECRET)
    arm(session, device, dossier.code, now=NOW, actor="test", rules=RULES)
    submit(session, catalogue, device, rating(catalogue, "key-armed-001", dossier=dossier.code), now=NOW, tz=TZ,
           rules=RULES)
    session.flush()
    assert device.armed_dossier_id is None
    revoke(session, device, now=NOW, actor="test")
    with pytest.raises(NotArmable):
        arm(session, device, create_dossier(session, unit).code, now=NOW, actor="test", rules=RULES)


def test_committed_read_aloud_audio_covers_every_kiosk_question_and_option():
    assert audio_missing() == []


def test_every_instrument_a_unit_may_choose_for_its_kiosk_has_read_aloud_audio(catalogue):
    import json

    from kiosk.audio_build import AUDIO_DIR, spoken

    manifest = json.loads((AUDIO_DIR / "manifest.json").read_text(encoding="utf-8"))
    choices = catalogue.latest(NOW.date())  # what the console offers as a unit's kiosk form
    assert {"hue12", "quay4", "tt01_2018"} <= {i.code for i in choices}
    missing = [(i.code, text) for i in choices for c in i.citizen_criteria
               for text in (c.asked_as, c.label, *(o.label for o in c.options))
               if text not in manifest or not (AUDIO_DIR / manifest[text]).is_file()]
    assert missing == []
    assert spoken("hoàn thiện hồ sơ TTHC") == "hoàn thiện hồ sơ thủ tục hành chính"  # not spelled out


def test_every_spoken_prompt_is_shown_verbatim_by_the_kiosk_scripts():
    from kiosk.audio_build import AUDIO_DIR, EXTRA_TEXTS

    scripts = "".join(p.read_text(encoding="utf-8") for p in AUDIO_DIR.parent.glob("*.js"))
    assert [text for text in EXTRA_TEXTS if f'"{text}"' not in scripts] == []


@pytest.mark.parametrize("interval", [timedelta(0), timedelta(seconds=10)])
def test_the_interval_claim_runs_on_the_drivers_cursor(session, catalogue, monkeypatch, interval):
    """SQLite's claim of the device's interval (the first write of a kiosk rating) went through
    ``Session.execute``: 8 % of a kiosk rating's CPU in-process (py-spy, docs/performance.md). It is a
    ``DriverStatement`` now, like the rating's other statements; the claim still refuses a second rating
    inside the interval (``test_minimum_interval_refuses_a_new_rating_with_retry_after_then_accepts_it``)."""
    from sqlalchemy.orm import Session

    unit = create_unit(session, allow_anonymous=True)
    device, _, _ = new_device(session, unit, secret=SECRET)
    session.flush()
    executed = []
    original = Session.execute
    monkeypatch.setattr(Session, "execute", lambda self, statement, *a, **k: executed.append(statement)
                        or original(self, statement, *a, **k))
    rules = replace(RULES, min_interval=interval)
    submit(session, catalogue, device, rating(catalogue, "key-00000001"), now=NOW, tz=TZ, rules=rules)
    assert [s for s in map(str, executed) if "kiosk_device" in s] == [] and device.last_submission_at == NOW
    if session.get_bind().dialect.name == "sqlite":
        assert session.scalar(select(type(device).last_submission_at).where(type(device).id == device.id)) == NOW
