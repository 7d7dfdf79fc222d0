"""POST /api/v1/responses: one rating from another system (portal, provincial kiosk, keyed-in paper).

At most one response per dossier and instrument: the database's unique constraint decides, so two
simultaneous submissions store one and answer the other 409 ``already_rated``.
"""

from __future__ import annotations

import hashlib
from datetime import tzinfo
from typing import Any

from flask import jsonify, request
from sqlalchemy.orm import Session

from sipas.api import bp
from sipas.api.auth import api_actor, api_key_required, current_key, names_its_dossier
from sipas.api.dossiers import scoped_unit
from sipas.api.serializers import Body, checked_text, iso, json_object
from sipas.catalogue import NOT_APPLICABLE
from sipas.clock import utcnow
from sipas.context import get_catalogue, get_settings
from sipas.errors import DomainError, ValidationError
from sipas.models import Response, ResponseChannel, Unit
from sipas.parsing import parse_response_channel
from sipas.responses import MAX_COMMENT, ResponseInput, find_by_idempotency_key, record_response
from sipas.storage import db_session, lock_on_write

MAX_ANSWERS = 100
MAX_CODE = 64
MAX_IDEMPOTENCY_KEY = 200


def parse_answers(body: Body) -> dict[str, str]:
    """``{criterion_code: option_code or "na"}`` with string keys and values; the catalogue checks the rest."""
    raw = body.object("answers")
    if len(raw) > MAX_ANSWERS:
        raise ValidationError("Quá nhiều câu trả lời.", field="answers", detail=f"more than {MAX_ANSWERS} answers")
    answers: dict[str, str] = {}
    for code, value in raw.items():
        if len(code) > MAX_CODE:
            raise ValidationError("Mã tiêu chí quá dài.", field="answers", detail="criterion code too long")
        checked_text(code, "answers")
        if value is None:
            continue  # an unanswered criterion: the service reports it as missing
        if not isinstance(value, str) or len(value) > MAX_CODE:
            raise ValidationError(f"Câu trả lời cho tiêu chí “{code}” phải là mã lựa chọn (chuỗi) hoặc “na”.",
                                  field=f"answers.{code}", detail="expected an option code string")
        checked_text(value, f"answers.{code}")
        answers[code] = NOT_APPLICABLE if value.strip().lower() == NOT_APPLICABLE else value
    return answers


def idempotency_key(body: Body, unit: Unit) -> str | None:
    """The client's key (header ``Idempotency-Key`` or field ``idempotency_key``), hashed with the unit
    (it may be longer than the column). The response's source (the API key) scopes it further, so two
    integrations can never see each other's responses through a shared key."""
    header = request.headers.get("Idempotency-Key", "").strip()
    if len(header) > MAX_IDEMPOTENCY_KEY:
        raise ValidationError("Idempotency-Key quá dài.", field="idempotency_key", detail="header too long")
    given = header or body.text("idempotency_key", max_length=MAX_IDEMPOTENCY_KEY)
    if not given:
        return None
    return "api:" + hashlib.sha256(f"{unit.id}\x00{given}".encode()).hexdigest()


def _readable_text(body: Body, name: str) -> str | None:
    try:
        return body.text(name, max_length=MAX_CODE)
    except DomainError:
        return None


def replay_of_refused_body(session: Session) -> Response | None:
    """The response stored under the request's known key, for a resend whose body failed the field checks ("a resend
    with a known key answers 200 … whatever the new body holds", docs/api.md). The key and its scope are the usual
    ones: header ``Idempotency-Key``, else the field ``idempotency_key`` when the body is a JSON object; the unit
    derived as for a stored rating (``unit``, else the covered unit holding ``dossier_code``, else the key's own; an
    unreadable field counts as absent); the API key as source. None (the refusal stands) when the request names no
    key (nothing is read then), the key or its unit cannot be read, or no response is stored under it."""
    try:
        body = Body(json_object())
    except DomainError:
        body = Body({})  # not JSON, or not an object: only the header can name the key
    try:
        if not (request.headers.get("Idempotency-Key", "").strip()
                or body.text("idempotency_key", max_length=MAX_IDEMPOTENCY_KEY)):
            return None
        unit = scoped_unit(session, _readable_text(body, "unit"), _readable_text(body, "dossier_code"))
        key = idempotency_key(body, unit)
    except DomainError:
        return None
    return find_by_idempotency_key(session, unit, f"api:{current_key().prefix}", key) if key else None


def response_json(response: Response, tz: tzinfo,
                  answers: tuple[tuple[str, str | None], ...] = ()) -> dict[str, Any]:
    """``answers``: the pairs just stored (``Recorded.answers``), else they are loaded from the response."""
    pairs = answers or tuple((a.criterion_code, a.option_code) for a in response.answers)
    return {
        "id": response.id,
        "unit": response.unit.code,
        "dossier_code": response.dossier.code if response.dossier else None,
        "instrument": response.instrument_code,
        "version": response.instrument_version,
        "channel": str(response.channel),
        "submitted_at": iso(response.submitted_at, tz),
        "answers": {code: option or NOT_APPLICABLE for code, option in pairs},
        "comment": response.comment,
    }


@bp.post("/responses")
@lock_on_write
@api_key_required
@names_its_dossier
def submit():  # type: ignore[no-untyped-def]
    """Record one response: 201 stored, 200 replay of a known idempotency key, 409 already rated."""
    settings, session, now = get_settings(), db_session(), utcnow()
    try:
        body = Body(json_object())
        instrument = body.text("instrument", max_length=MAX_CODE, required=True)
        channel_value = body.scalar("channel")
        channel = parse_response_channel(channel_value) if channel_value is not None else ResponseChannel.API
        dossier_code = body.text("dossier_code", max_length=MAX_CODE)
        submitted_at, _date_only = body.timestamp("submitted_at", settings.tz)
        answers = parse_answers(body)
        comment = body.text("comment", max_length=MAX_COMMENT)
        unit = scoped_unit(session, body.text("unit", max_length=MAX_CODE), dossier_code)
        key = idempotency_key(body, unit)
    except DomainError:
        # The key is looked up only now, as record_response does after a failed check: a new rating (or a refused
        # one without a key) costs no query more.
        previous = replay_of_refused_body(session)
        if previous is None:
            raise
        session.commit()  # the API key's use, as for any answered request
        return jsonify(response_json(previous, settings.tz)), 200
    data = ResponseInput(
        instrument=instrument or "",
        channel=channel,
        answers=answers,
        dossier_code=dossier_code,
        submitted_at=submitted_at,
        comment=comment,
        idempotency_key=key,
        source=f"api:{current_key().prefix}",
    )
    recorded = record_response(session, get_catalogue(), unit, data, now=now, tz=settings.tz, actor=api_actor(),
                               alone=True)
    session.commit()  # first: on SQLite the write lock is held until the commit, the answer needs no database
    payload = response_json(recorded.response, settings.tz, recorded.answers)
    return jsonify(payload), 200 if recorded.replayed else 201
