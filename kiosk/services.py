"""What a paired kiosk may do: look a dossier up, submit a rating, report its health, take an armed dossier."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from kiosk.errors import InstrumentRefused, NotArmable, TooFast
from kiosk.models import KioskDevice, source_of
from sipas.audit import audit
from sipas.catalogue import Catalogue
from sipas.dossiers import find_dossier
from sipas.driver_statements import DriverStatement
from sipas.errors import AlreadyRated, DomainError, DossierNotReturned, UnknownDossier, ValidationError
from sipas.models import Dossier, Response, ResponseChannel, Unit
from sipas.rating_statement import Gate, GateClosed
from sipas.responses import Recorded, ResponseInput, find_by_idempotency_key, prepare_response, store_response
from sipas.text import is_storable


@dataclass(frozen=True)
class KioskRules:
    """Abuse limits, from ``SIPAS_KIOSK_*`` settings."""

    min_interval: timedelta = timedelta(seconds=10)
    #: After the unit switches its kiosk form, a rating begun under the old one is still taken if the
    #: citizen submitted it within this time (kiosk pages switch at their start screen, never mid-flow).
    form_change_grace: timedelta = timedelta(minutes=15)
    burst_count: int = 3
    burst_window: timedelta = timedelta(minutes=10)
    arm_for: timedelta = timedelta(minutes=10)


def rated(session: Session, dossier: Dossier, instrument: str) -> bool:
    return session.scalar(select(Response.id).where(Response.dossier_id == dossier.id,
                                                    Response.instrument_code == instrument)) is not None


def rateable_dossier(session: Session, unit: Unit, code: str) -> Dossier:
    """The dossier a citizen may rate now, or the precise reason why not."""
    code = code.strip()
    if not code:
        raise ValidationError("Vui lòng nhập mã hồ sơ.", field="dossier_code", detail="empty code")
    if len(code) > 64:
        raise ValidationError("Mã hồ sơ không hợp lệ.", field="dossier_code", detail="bad code")
    dossier = find_dossier(session, unit, code)
    if dossier is None:
        raise UnknownDossier(field="dossier_code", detail=f"no dossier {code!r} in {unit.code}")
    if dossier.returned_at is None:
        raise DossierNotReturned(field="dossier_code", detail=f"dossier {code} not returned")
    if rated(session, dossier, unit.default_instrument):
        raise AlreadyRated(field="dossier_code", detail=f"{code} already rated")
    return dossier


def submit(session: Session, catalogue: Catalogue, device: KioskDevice, data: ResponseInput, *,
           now: datetime, tz: tzinfo, rules: KioskRules, alone: bool = False) -> Recorded:
    """Store a kiosk rating once. A resend of a stored key is acknowledged even inside the minimum interval, or
    when its form or dossier would now be refused. ``alone``: the caller commits right after, writing
    nothing more (``store_response``).

    Only the instrument the unit chose for its kiosk is taken (a kiosk cannot pick another form), or
    the one it replaced for a rating submitted before the switch or soon after (begun under it).

    The key is not looked up first (a query on every rating for a rare resend): a resend that passes the checks
    is found by the insert (its unique constraint) and gives the device's interval back; one that a check
    refuses (the interval, the form, the dossier) is looked up then, and the stored response still wins.
    """
    try:
        return _submit(session, catalogue, device, data, now=now, tz=tz, rules=rules, alone=alone)
    except DomainError:
        if data.idempotency_key and is_storable(data.idempotency_key):  # prepare_response refuses the others
            previous = find_by_idempotency_key(session, device.unit, data.source or device.source,
                                               data.idempotency_key)
            if previous is not None:
                return Recorded(previous, replayed=True)
        raise


def taken_by(session: Session, device: KioskDevice, public_id: object) -> str:
    """The source a kiosk rating is stored under: that of the device that took it (``device_id``, which the kiosk's
    queue keeps with each rating) when it is another device of the same unit, else the sending device's.

    The queue is the unit's (``queue.js``) and outlives a revocation: a rating the kiosk took before it was paired
    again as a new device, stored but its answer lost, is resent by the new device. Its key is the old device's
    (keys are unique per unit and source), so it is looked up and stored under the old device's source: found,
    not stored twice. Only such a resend costs a query; an unknown device, or another unit's, is the sender."""
    if not isinstance(public_id, str) or not public_id or public_id == device.public_id or len(public_id) > 32:
        return device.source
    unit_id = session.scalar(_UNIT_OF_DEVICE, {"public_id": public_id})
    return source_of(public_id) if unit_id == device.unit_id else device.source


def _submit(session: Session, catalogue: Catalogue, device: KioskDevice, data: ResponseInput, *,
            now: datetime, tz: tzinfo, rules: KioskRules, alone: bool) -> Recorded:
    unit = device.unit
    code = (data.dossier_code or "").strip()
    dossier = find_dossier(session, unit, code) if code else None  # read with the device (note_found): no query
    submitted_at = corrected_time(data.submitted_at, device.clock_offset_seconds, now=now,
                                  returned_at=dossier.returned_at if dossier is not None else None)
    if not _form_accepted(unit, data.instrument, submitted_at, rules):
        raise InstrumentRefused(field="instrument",
                                detail=f"{unit.code} kiosks use {unit.default_instrument}, not {data.instrument!r}")
    stored = ResponseInput(instrument=data.instrument, channel=ResponseChannel.KIOSK, answers=data.answers,
                           dossier_code=data.dossier_code or None, submitted_at=submitted_at,
                           comment=data.comment, idempotency_key=data.idempotency_key,
                           source=data.source or device.source)
    # every read first, the device's interval (a write: on SQLite it takes the write lock) only then
    prepared = prepare_response(session, catalogue, unit, stored, now=now, tz=tz, dossier=dossier)
    last_submission = device.last_submission_at
    if session.get_bind().dialect.name == "postgresql":  # the interval claimed in the rating's statement
        armed_here = prepared.dossier is not None and device.armed_dossier_id == prepared.dossier.id
        try:
            recorded = store_response(session, prepared, now=now, tz=tz, actor=device.source,
                                      gate=claim_gate(device, now=now, interval=rules.min_interval),
                                      alone=alone and prepared.dossier is not None and not armed_here)
        except GateClosed:
            raise _too_fast(session, device, now=now, interval=rules.min_interval) from None
        except DomainError:  # the gate's claim stays when the rating is refused (rating_statement.Gate)
            _give_back(session, device, claimed=now, previous=last_submission)
            raise
        set_committed_value(device, "last_submission_at", now)
    else:
        claim_interval(session, device, now=now, interval=rules.min_interval)
        try:
            recorded = store_response(session, prepared, now=now, tz=tz, actor=device.source)
        except DomainError:  # committed with the refusal's audit event (keeps_audit)
            _give_back(session, device, claimed=now, previous=last_submission)
            raise
    if recorded.replayed:  # a resend: the next rating's interval runs from the stored one, as before it
        _give_back(session, device, claimed=now, previous=last_submission)
        return recorded
    if device.armed_dossier is not None and device.armed_dossier.id == recorded.response.dossier_id:
        device.armed_dossier = None
        device.armed_until = None
    if recorded.response.dossier_id is None:
        flag_burst(session, device, recorded.response, now=now, rules=rules)
    return recorded


MAX_QUEUED_AGE = timedelta(days=30)


def corrected_time(submitted_at: datetime | None, clock_offset_seconds: int | None, *, now: datetime,
                   returned_at: datetime | None) -> datetime:
    """When the citizen confirmed, on the server's clock: the kiosk's time less its clock's offset measured at the
    last heartbeat, so a rating queued offline hours ago keeps its real time even from a kiosk whose clock is off.

    A kiosk clock far off must not refuse or misdate the rating: a time still in the future after the correction,
    before the dossier's return (it cannot have been rated earlier) or older than a queue can be is the server's
    now. A kiosk that never reported its clock is taken at its word, within those bounds."""
    if submitted_at is None:
        return now
    corrected = submitted_at - timedelta(seconds=clock_offset_seconds or 0)
    if corrected > now or corrected < now - MAX_QUEUED_AGE or (returned_at is not None and corrected < returned_at):
        return now
    return corrected


def claim_interval(session: Session, device: KioskDevice, *, now: datetime, interval: timedelta) -> None:
    """Take the device's submission slot or raise TooFast: one conditional UPDATE, so of parallel
    submissions only one can find the interval over (a read-then-write let 7 of 16 through)."""
    # on the driver's cursor (sipas.driver_statements): the first write of a kiosk rating on SQLite, where
    # ``Session.execute`` cost 8 % of the rating's CPU
    connection = session.connection()
    if interval.total_seconds() <= 0:
        _DRIVER_SET_LAST_SUBMISSION.run(connection, {"device": device.id, "now": now})
        set_committed_value(device, "last_submission_at", now)
        return
    claimed = _DRIVER_CLAIM_INTERVAL.rowcount(connection, {"device": device.id, "now": now, "since": now - interval})
    if claimed:
        set_committed_value(device, "last_submission_at", now)
        return
    raise _too_fast(session, device, now=now, interval=interval)


def _give_back(session: Session, device: KioskDevice, *, claimed: datetime, previous: datetime | None) -> None:
    """The device's interval and last rating ("Phiếu gần nhất") as they were before a rating that stored nothing
    new (a resend, a refusal) claimed them at ``claimed``; a later claim, if any, is left alone. One statement, on
    those paths only: a stored rating pays nothing for it."""
    session.execute(_GIVE_BACK, {"device": device.id, "claimed": claimed, "now": previous})
    set_committed_value(device, "last_submission_at", previous)


def claim_gate(device: KioskDevice, *, now: datetime, interval: timedelta) -> Gate:
    """``claim_interval`` in the rating's statement (PostgreSQL): the rating is written only when the slot was
    taken. Under READ COMMITTED the ``UPDATE`` re-checks a row another submission changed meanwhile, so of
    parallel submissions only one finds the interval over, as with the separate statement."""
    return Gate("kiosk_interval", _CLAIM_PART, None, {
        "g_device": device.id, "g_now": now, "g_since": now - interval if interval.total_seconds() > 0 else None})


def _too_fast(session: Session, device: KioskDevice, *, now: datetime, interval: timedelta) -> TooFast:
    session.refresh(device, ["last_submission_at"])
    last = device.last_submission_at or now
    wait = (last + interval - now).total_seconds()
    return TooFast(retry_after=max(1, int(wait + 0.999)), detail=f"device {device.public_id} too fast")


# Built once (a statement's cache key is memoised on the object: docs/performance.md); Core, so no flush.
_devices = KioskDevice.__table__
_SET_LAST_SUBMISSION = (update(_devices).where(_devices.c.id == bindparam("device"))
                        .values(last_submission_at=bindparam("now")))
_CLAIM_INTERVAL = _SET_LAST_SUBMISSION.where(or_(_devices.c.last_submission_at.is_(None),
                                                 _devices.c.last_submission_at <= bindparam("since")))
_DRIVER_SET_LAST_SUBMISSION = DriverStatement(_SET_LAST_SUBMISSION)
_DRIVER_CLAIM_INTERVAL = DriverStatement(_CLAIM_INTERVAL)
_UNIT_OF_DEVICE = select(_devices.c.unit_id).where(_devices.c.public_id == bindparam("public_id"))
_GIVE_BACK = _SET_LAST_SUBMISSION.where(_devices.c.last_submission_at == bindparam("claimed"))
_CLAIM_PART = (f"UPDATE {_devices.name} SET last_submission_at = CAST(:g_now AS timestamptz)\n"
               "  WHERE id = CAST(:g_device AS integer) AND (CAST(:g_since AS timestamptz) IS NULL\n"
               "    OR last_submission_at IS NULL OR last_submission_at <= CAST(:g_since AS timestamptz)) RETURNING id")


def _form_accepted(unit: Unit, instrument: str, submitted_at: datetime, rules: KioskRules) -> bool:
    if instrument == unit.default_instrument:
        return True
    changed = unit.instrument_changed_at
    return (instrument == unit.previous_instrument and changed is not None
            and submitted_at <= changed + rules.form_change_grace)


def _answer_key(response: Response) -> tuple[tuple[str, str | None], ...]:
    return tuple((a.criterion_code, a.option_code) for a in response.answers)


def flag_burst(session: Session, device: KioskDevice, response: Response, *, now: datetime,
               rules: KioskRules) -> None:
    """Flag (never drop) identical anonymous ratings one kiosk took in a burst, for review.

    The window is on the citizens' submission times, so ratings queued during an outage and arriving
    together are not mistaken for a burst.
    """
    at = response.submitted_at
    recent = list(session.scalars(
        select(Response).options(selectinload(Response.answers)).where(
            Response.source == response.source, Response.dossier_id.is_(None),
            Response.instrument_code == response.instrument_code,
            Response.submitted_at >= at - rules.burst_window, Response.submitted_at <= at + rules.burst_window,
        )))
    same = [r for r in recent if _answer_key(r) == _answer_key(response)]
    if len(same) < rules.burst_count:
        return
    newly = [r for r in same if not r.flagged]
    for item in newly:
        item.flagged = True
    if newly:
        audit(session, "kiosk.burst_flagged", actor=device.source, unit=device.unit, subject=device.public_id,
              responses=sorted(r.id for r in same), count=len(same),
              window_seconds=int(rules.burst_window.total_seconds()))


def _count(value: object) -> int | None:
    """A count the kiosk reports, bounded; anything but a whole number is ignored."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return max(0, min(value, 100_000))


MAX_REPORTED_OFFSET = 10 * 365 * 86400


def clock_offset(client_time: object, now: datetime) -> int | None:
    """Seconds the kiosk's clock is ahead of the server's (negative: behind); None when unreadable."""
    if not isinstance(client_time, str) or len(client_time) > 40:
        return None
    try:
        reported = datetime.fromisoformat(client_time.replace("Z", "+00:00"))
    except ValueError:
        return None
    if reported.tzinfo is None:
        return None
    offset = round((reported - now).total_seconds())
    return max(-MAX_REPORTED_OFFSET, min(offset, MAX_REPORTED_OFFSET))


def heartbeat(device: KioskDevice, *, queued: object = None, rejected: object = None, client_time: object = None,
              now: datetime) -> None:
    """The kiosk is alive; it holds ``queued`` ratings to send and ``rejected`` ones the server refused;
    ``client_time`` (its clock, ISO 8601 with offset) gives how far its clock is off."""
    device.last_contact_at = now
    if (offset := clock_offset(client_time, now)) is not None:
        device.clock_offset_seconds = offset
    if (count := _count(queued)) is not None:
        device.queued_count = count
    if (count := _count(rejected)) is not None:
        device.rejected_count = count


def arm(session: Session, device: KioskDevice, code: str, *, now: datetime, actor: str, rules: KioskRules) -> Dossier:
    """The clerk hands the kiosk the dossier just returned, so the citizen only rates."""
    if device.status != "active":
        raise NotArmable("Kiosk chưa ghép nối hoặc đã bị thu hồi.", field="device", detail=device.status)
    dossier = rateable_dossier(session, device.unit, code)
    device.armed_dossier = dossier
    device.armed_until = now + rules.arm_for
    audit(session, "kiosk.armed", actor=actor, unit=device.unit, subject=dossier.code, device=device.public_id)
    return dossier


def take_armed(session: Session, device: KioskDevice, *, now: datetime) -> Dossier | None:
    """Hand the armed dossier to the kiosk once; an expired or already rated one is dropped."""
    dossier = device.armed_dossier
    if dossier is None:
        return None
    expired = device.armed_until is not None and device.armed_until < now
    device.armed_dossier = None
    device.armed_until = None
    if expired or rated(session, dossier, device.unit.default_instrument):
        return None
    return dossier


def parse_answers(raw: object) -> Mapping[str, str]:
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise ValidationError("Câu trả lời không hợp lệ.", field="answers", detail="answers must map str to str")
    return raw
