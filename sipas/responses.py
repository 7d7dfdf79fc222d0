"""Recording a response (phiếu) under the rules every channel shares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import Connection, bindparam, exists, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from sipas.audit import audit
from sipas.catalogue import NOT_APPLICABLE, Catalogue, Criterion, Instrument, Option
from sipas.clock import local_date
from sipas.dossiers import find_dossier
from sipas.driver_statements import DriverStatement
from sipas.errors import (
    AlreadyRated,
    DomainError,
    DossierNotReturned,
    DossierRequired,
    MissingAnswer,
    NotApplicableRefused,
    UnknownCriterion,
    UnknownDossier,
    UnknownInstrument,
    UnknownOption,
    ValidationError,
)
from sipas.instrument_records import record_use
from sipas.models import Answer, Dossier, Response, ResponseChannel, Unit
from sipas.orm_rows import loaded
from sipas.rating_statement import Gate, NoLongerReturned, write_rating
from sipas.tally import Counts, GivenAnswer, add_counts, counts_of, is_follow_up, is_negative
from sipas.text import fold, is_storable, storable
from sipas.upsert import dialect_insert

MAX_COMMENT = 2000


def checked_comment(value: object) -> str | None:
    """A citizen's comment as a form or JSON body gave it: text of at most MAX_COMMENT characters.

    Refused, not coerced: a JSON list was stored as its Python repr, and the phone form cut long
    comments where the integration API refuses them; every channel now answers the same 422."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationError("Ý kiến phải là một đoạn văn bản.", field="comment",
                              detail=f"expected a string, got {type(value).__name__}")
    if len(" ".join(storable(value).split())) > MAX_COMMENT:
        raise ValidationError(f"Ý kiến dài quá {MAX_COMMENT:,} ký tự.".replace(",", "."), field="comment",
                              detail=f"longer than {MAX_COMMENT} characters")
    return value

_NA_WORDS = {"na", "n a", "khong ap dung", "0"}


@dataclass(frozen=True)
class ResponseInput:
    instrument: str
    channel: ResponseChannel
    answers: Mapping[str, str]
    dossier_code: str | None = None
    submitted_at: datetime | None = None
    comment: str | None = None
    idempotency_key: str | None = None
    source: str | None = None
    blank_ballot: bool = False  # from a single-use QR on a blank ballot: anonymous where the unit allows, as a kiosk


@dataclass(frozen=True)
class Recorded:
    """``answers``: the (criterion, option or None) pairs just stored, so a caller can answer without
    loading them back (empty for a replay: read ``response.answers`` then)."""

    response: Response
    replayed: bool = False
    answers: tuple[tuple[str, str | None], ...] = ()


def resolve_option(criterion: Criterion, text: str) -> Option | str | None:
    """An option code or its Vietnamese label (with or without diacritics) → the Option;
    "na"/"Không áp dụng" → ``NOT_APPLICABLE``; anything else → None."""
    key = fold(text)
    if key in _NA_WORDS and key != "0":
        return NOT_APPLICABLE
    for option in criterion.options:
        if text.strip() == option.code or key == fold(option.label) or key == fold(option.code):
            return option
    return None


def resolve_instrument(catalogue: Catalogue, code: str, on: datetime, tz: tzinfo) -> Instrument:
    try:
        return catalogue.current(code, local_date(on, tz))
    except KeyError as exc:
        raise UnknownInstrument(f"Bộ tiêu chí “{code}” không tồn tại.", field="instrument",
                                detail=f"unknown instrument {code!r}") from exc
    except LookupError as exc:
        raise UnknownInstrument("Bộ tiêu chí chưa có hiệu lực vào thời điểm này.", field="instrument",
                                detail=str(exc)) from exc


def build_answers(instrument: Instrument, answers: Mapping[str, str]) -> list[GivenAnswer]:
    """Validate a full set of citizen answers; raise the first precise error."""
    criteria = {c.code: c for c in instrument.citizen_criteria}
    for code in answers:
        if code not in criteria:
            raise UnknownCriterion(f"Tiêu chí “{code}” không thuộc bộ {instrument.code}.", field=f"answers.{code}",
                                   detail=f"unknown criterion {code!r}")
    built = []
    for position, criterion in enumerate(instrument.citizen_criteria, start=1):
        raw = answers.get(criterion.code)
        if raw is None or str(raw).strip() == "":
            raise MissingAnswer(f"Chưa trả lời tiêu chí: {criterion.short_label}.", field=f"answers.{criterion.code}",
                                detail=f"missing answer for {criterion.code}")
        if str(raw).strip() == NOT_APPLICABLE:
            resolved: Option | str | None = NOT_APPLICABLE
        else:
            resolved = next((o for o in criterion.options if o.code == str(raw).strip()), None)
        if resolved is None:
            raise UnknownOption(f"Lựa chọn “{raw}” không thuộc tiêu chí {criterion.code}.",
                                field=f"answers.{criterion.code}", detail=f"unknown option {raw!r}")
        if resolved == NOT_APPLICABLE:
            if not criterion.allow_na:
                raise NotApplicableRefused(field=f"answers.{criterion.code}",
                                           detail=f"{criterion.code} does not allow not-applicable")
            built.append(GivenAnswer(criterion.code, position, None, None))
        else:
            assert isinstance(resolved, Option)
            built.append(GivenAnswer(criterion.code, position, resolved.code, resolved.points))
    return built


def _dossier_for(session: Session, unit: Unit, data: ResponseInput, submitted_at: datetime, tz: tzinfo,
                 known: Dossier | None = None) -> Dossier | None:
    if not data.dossier_code:
        if data.channel is ResponseChannel.PAPER or (
                unit.allow_anonymous and (data.channel is ResponseChannel.KIOSK or data.blank_ballot)):
            return None
        raise DossierRequired(field="dossier_code", detail=f"channel {data.channel} needs a dossier code")
    code = data.dossier_code.strip()
    dossier = known if known is not None and known.unit_id == unit.id and known.code == code else (
        find_dossier(session, unit, code))
    if dossier is None:
        raise UnknownDossier(field="dossier_code", detail=f"no dossier {data.dossier_code!r} in {unit.code}")
    if dossier.returned_at is None:
        raise _not_returned(dossier)
    # Local days, not instants: a ballot dated the day of return (a date alone, or a kiosk clock a little
    # behind) belongs to that day; a rating dated before the return would count in the wrong period.
    if local_date(submitted_at, tz) < local_date(dossier.returned_at, tz):
        raise ValidationError("Thời điểm đánh giá trước ngày trả kết quả của hồ sơ.", field="submitted_at",
                              detail=f"submitted before dossier {dossier.code} was returned")
    return dossier


def _not_returned(dossier: Dossier, *, meanwhile: bool = False) -> DossierNotReturned:
    """The citizen's refusal of a dossier not returned, whether it was so at the rating's checks or cleared since."""
    when = "since the rating's checks" if meanwhile else "yet"
    return DossierNotReturned(field="dossier_code", detail=f"dossier {dossier.code} not returned {when}")


def find_by_idempotency_key(session: Session, unit: Unit, source: str, key: str) -> Response | None:
    """The response this client (unit and source: a kiosk device, an API key, a link, a provider) stored
    under ``key``; looked up through the unique index on (unit, source, key). Another client's key is
    never found, so it can neither replay someone else's response nor make a new rating look stored."""
    found = session.scalar(_ID_BY_IDEMPOTENCY_KEY, {"unit": unit.id, "source": source, "key": key})
    return session.get(Response, found) if found is not None else None  # a replay is rare: the id first


# Statements of every rating, built once (a statement's cache key is memoised on the object: docs/performance.md).
_responses = Response.__table__
_ID_BY_IDEMPOTENCY_KEY = select(_responses.c.id).where(_responses.c.unit_id == bindparam("unit"),
                                                      _responses.c.source == bindparam("source"),
                                                      _responses.c.idempotency_key == bindparam("key"))
# SQLite's writes of a rating, on the driver's cursor (PostgreSQL: one statement for all of them,
# sipas.rating_statement)
_ANSWER_KEYS = ("response_id", "criterion_code", "position", "option_code", "points")
_INSERT_ANSWERS = DriverStatement(Answer.__table__.insert(), keys=_ANSWER_KEYS)
_RESPONSE_KEYS = ("unit_id", "dossier_id", "instrument_code", "instrument_version", "channel", "submitted_at",
                  "comment", "idempotency_key", "source", "flagged", "negative", "follow_up", "created_at")
_dossiers = Dossier.__table__
_dossier_id = bindparam("dossier_id", type_=_responses.c.dossier_id.type)
# only while its dossier, if any, is still returned: a dossier update that cleared the return date after the
# rating's checks (read before the write lock, ``sipas.storage.lock_on_write``) refuses it (``_refusal``)
_INSERT_RESPONSE = DriverStatement(
    dialect_insert("sqlite", _responses).from_select(
        _RESPONSE_KEYS,
        select(*(_dossier_id if key == "dossier_id" else bindparam(key, type_=_responses.c[key].type)
                 for key in _RESPONSE_KEYS))
        .where(or_(_dossier_id.is_(None),
                   exists().where(_dossiers.c.id == _dossier_id, _dossiers.c.returned_at.is_not(None)))))
    .on_conflict_do_nothing().returning(_responses.c.id))
_RETURNED_AT = DriverStatement(select(_dossiers.c.returned_at).where(_dossiers.c.id == bindparam("dossier")))


def record_response(
    session: Session,
    catalogue: Catalogue,
    unit: Unit,
    data: ResponseInput,
    *,
    now: datetime,
    tz: tzinfo,
    actor: str,
    dossier: Dossier | None = None,
    alone: bool = False,
) -> Recorded:
    """Store one response, at most one per dossier and instrument (the database decides).

    ``dossier``: the dossier ``data.dossier_code`` names when the caller has it loaded in this transaction (an SMS
    invitation's, a short link's), so it is not looked up again; the same checks apply to it.

    A resend with a key this unit and source already stored returns that response (``replayed=True``). A refused
    duplicate is audited and raises ``AlreadyRated``; the caller commits so the audit event stays.
    ``alone``: see ``store_response``.

    The key is not looked up first: a resend passes the same checks, and the insert finds the stored key (its
    unique constraint) and answers with that response, so a new rating, by far the common case, costs one query
    less. Should a resend fail a check that its first sending passed (the dossier changed meanwhile), the key is
    looked up then, and the stored response still wins.
    """
    _check_key(data)
    try:
        prepared = prepare_response(session, catalogue, unit, data, now=now, tz=tz, dossier=dossier)
    except DomainError:
        previous = (find_by_idempotency_key(session, unit, data.source or "", data.idempotency_key)
                    if data.idempotency_key else None)
        if previous is not None:
            return Recorded(previous, replayed=True)
        raise
    return store_response(session, prepared, now=now, tz=tz, actor=actor, alone=alone)


def _check_key(data: ResponseInput) -> None:
    if data.idempotency_key and not is_storable(data.idempotency_key):
        raise ValidationError("Mã gửi (idempotency key) có ký tự không hợp lệ.", field="idempotency_key",
                              detail="control character or lone surrogate in idempotency key")
    if data.idempotency_key and not data.source:
        raise ValueError("an idempotency key needs a source to be scoped by")


@dataclass(frozen=True)
class Prepared:
    """A response checked against the rules and the stored dossier, nothing written yet (``prepare_response``)."""

    unit: Unit
    data: ResponseInput
    instrument: Instrument
    answers: list[GivenAnswer]
    dossier: Dossier | None
    submitted_at: datetime
    comment: str | None


def prepare_response(session: Session, catalogue: Catalogue, unit: Unit, data: ResponseInput, *,
                     now: datetime, tz: tzinfo, dossier: Dossier | None = None) -> Prepared:
    """Every check and read of ``record_response`` before its first write, so that a caller with a write of its
    own to make first (the kiosk's interval) still reads outside SQLite's write lock (``lock_on_write``). Does
    not look up the idempotency key: the caller did, and ``store_response`` finds a key stored meanwhile."""
    _check_key(data)
    submitted_at = data.submitted_at or now
    if (submitted_at - now).total_seconds() > 300:
        raise ValidationError("Thời điểm đánh giá ở tương lai.", field="submitted_at", detail="submitted_at in future")
    instrument = resolve_instrument(catalogue, data.instrument, submitted_at, tz)
    answers = build_answers(instrument, data.answers)
    dossier = _dossier_for(session, unit, data, submitted_at, tz, dossier)
    comment = " ".join(storable(data.comment or "").split())[:MAX_COMMENT] or None
    return Prepared(unit, data, instrument, answers, dossier, submitted_at, comment)


def store_response(session: Session, prepared: Prepared, *, now: datetime, tz: tzinfo, actor: str,
                   gate: Gate | None = None, alone: bool = False) -> Recorded:
    """Write a prepared response with its answers and counts. The unique constraints decide: a key this unit and
    source stored meanwhile is a replay, another rating of the dossier with the instrument is refused (audited,
    ``AlreadyRated``).

    ``gate`` (PostgreSQL only): a write the rating needs first, in its statement (``rating_statement.Gate``;
    ``GateClosed`` when it refused, and nothing was written). ``alone``: the rating may be its own transaction:
    the caller commits right after and writes nothing more, or nothing that must be undone with the rating (an SMS
    reply's answer: a retry of the message finds the stored rating). On PostgreSQL, when the session wrote nothing
    before, the rating's one statement is then its own transaction, committed when it returns
    (``sipas.pg_intake``)."""
    unit, data, instrument, answers, dossier = (prepared.unit, prepared.data, prepared.instrument, prepared.answers,
                                                prepared.dossier)
    negative = is_negative(instrument, answers)
    values = {"unit_id": unit.id, "dossier_id": dossier.id if dossier else None, "instrument_code": instrument.code,
              "instrument_version": instrument.version, "channel": data.channel, "submitted_at": prepared.submitted_at,
              "comment": prepared.comment, "idempotency_key": data.idempotency_key or None, "source": data.source,
              "flagged": False, "negative": negative, "follow_up": is_follow_up(negative, prepared.comment),
              "created_at": now}
    # Every row is built before the first write: on SQLite that write takes the lock (``lock_on_write``), held
    # from then on for the statements and the commit alone.
    counts = counts_of(values, answers, tz)
    answer_rows = [{"criterion_code": a.criterion_code, "position": a.position,
                    "option_code": a.option_code, "points": a.points} for a in answers]
    # The instrument version's record first (once per process, sipas.instrument_records), in the rating's
    # transaction: nothing is written after the rating.
    record_use(session, instrument, now=now)
    # The unique constraints answer by storing nothing (no exception, so no savepoint to roll back to and no unit
    # of work), and the ORM object is made from the values and the new id. PostgreSQL: all of it in one round trip
    # (sipas.rating_statement); SQLite: statement by statement.
    connection = session.connection()  # Core statements: no ORM execution layer in between
    # an object changed but not yet flushed would be written after the rating: not alone then
    alone = alone and not (session.dirty or session.new or session.deleted)
    if connection.dialect.name == "postgresql":
        try:
            new_id = write_rating(connection, values, answer_rows, counts, gate=gate, alone=alone)
        except NoLongerReturned:
            assert dossier is not None
            raise _not_returned(dossier, meanwhile=True) from None
    else:
        if gate is not None:
            raise ValueError("a gate is written in the rating's one statement, on PostgreSQL only")
        new_id = _write_separately(connection, values, answer_rows, counts)
    if new_id is None:
        if dossier is not None and connection.dialect.name != "postgresql" and (
                _RETURNED_AT.scalar(connection, {"dossier": dossier.id}) is None):
            raise _not_returned(dossier, meanwhile=True)  # (PostgreSQL: ``write_rating`` tells)
        if data.idempotency_key and data.source:
            previous = find_by_idempotency_key(session, unit, data.source, data.idempotency_key)
            if previous is not None:
                return Recorded(previous, replayed=True)
        audit(session, "response.duplicate_refused", actor=actor, unit=unit,
              subject=dossier.code if dossier else None, instrument=instrument.code, channel=str(data.channel))
        raise AlreadyRated(field="dossier_code",
                           detail=f"{dossier.code if dossier else '-'} already rated with {instrument.code}")
    response = loaded(session, Response, {"id": new_id, **values})  # persistent, as if loaded: nothing to flush
    # The dossier and unit at hand, as if loaded: a caller's ``response.dossier`` (the API's answer) reads
    # nothing back.
    set_committed_value(response, "dossier", dossier)
    set_committed_value(response, "unit", unit)
    return Recorded(response, answers=tuple((a.criterion_code, a.option_code) for a in answers))


def _write_separately(connection: Connection, values: dict[str, Any], answer_rows: list[dict[str, Any]],
                      counts: Counts) -> int | None:
    """``rating_statement.write_rating`` as separate statements (SQLite): the response, and only when it was
    stored (None when a unique constraint stored nothing) its answers in one multi-row INSERT (the rows
    ``response.answers`` loads if anyone reads it) and its counts."""
    found = _INSERT_RESPONSE.returned(connection, values)
    if found is None:
        return None
    new_id = found[0]
    _INSERT_ANSWERS.executemany(connection, [row | {"response_id": new_id} for row in answer_rows])
    add_counts(connection, counts)
    return int(new_id)
