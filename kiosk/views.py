"""The kiosk page ``/kiosk/<unit>`` and its JSON endpoints, authenticated by the device token header."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, render_template, request, url_for

from kiosk import pairing, picker, services
from kiosk.config import instrument_payload, kiosk_rules, timings
from kiosk.models import KioskDevice
from kiosk.submission import named_form
from sipas.api.errors import register_api_errors
from sipas.catalogue import Instrument
from sipas.clock import utcnow
from sipas.context import get_catalogue, get_settings
from sipas.errors import UnknownUnit, ValidationError
from sipas.models import ResponseChannel, Unit
from sipas.parsing import parse_timestamp
from sipas.responses import ResponseInput, checked_comment, resolve_instrument
from sipas.storage import db_session, lock_on_write
from sipas.units import get_unit

log = logging.getLogger(__name__)
TOKEN_HEADER = "X-Kiosk-Token"

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk", template_folder="templates", static_folder="static",
               static_url_path="/static")
api = Blueprint("kiosk_api", __name__, url_prefix="/kiosk/<unit_code>/api")
register_api_errors(api)


def _unit(code: str) -> Unit:
    try:
        return get_unit(db_session(), code)
    except UnknownUnit:
        abort(404)


def _paired(unit_code: str, dossier_code: str | None = None) -> tuple[Unit, KioskDevice]:
    """The unit and the authenticated device of a kiosk request: one query for a paired kiosk of the unit (with
    the dossier a rating names, ``dossier_code``); otherwise the unit (404) and the device (401/403) one by one,
    for the precise answer."""
    session, token = db_session(), request.headers.get(TOKEN_HEADER)
    found = pairing.device_with_unit(session, unit_code, token, dossier_code)
    unit = found[0] if found is not None else _unit(unit_code)
    return unit, pairing.authenticate(session, unit, token, now=utcnow(), secret_key=secret_key(),
                                      device=found[1] if found is not None else None)


def _instrument(unit: Unit) -> Instrument:
    """The form the unit's kiosk shows now; the page and the polls agree on it (the kiosk reloads on a change)."""
    return resolve_instrument(get_catalogue(), unit.default_instrument, utcnow(), get_settings().tz)


def _device_info(unit: Unit, device: KioskDevice) -> dict[str, Any]:
    instrument = _instrument(unit)
    return {"device": {"id": device.public_id, "name": device.name},
            "instrument": {"code": instrument.code, "version": instrument.version}}


def secret_key() -> str:
    """The app's secret (SIPAS_SECRET_KEY or the instance file), keying the code and token hashes."""
    return str(current_app.config["SECRET_KEY"])


def _named_dossier() -> str | None:
    """The dossier code a rating's body names, as the rating reads it (stripped), or None; the body itself is
    checked after the device (a wrong token is answered first)."""
    data = request.get_json(silent=True)
    code = data.get("dossier_code") if isinstance(data, dict) else None
    return code.strip() or None if isinstance(code, str) else None


def _json() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError("Yêu cầu không hợp lệ.", detail="expected a JSON object")
    return data


@bp.get("/<unit_code>")
def page(unit_code: str):  # type: ignore[no-untyped-def]
    """The full-screen kiosk; it pairs itself first when the browser holds no device token."""
    unit = _unit(unit_code)
    instrument = _instrument(unit)
    config = {
        "unit": unit.code,
        "unit_name": unit.name,
        "allow_anonymous": unit.allow_anonymous,
        "api": url_for("kiosk_api.armed", unit_code=unit.code).rsplit("/", 1)[0],
        "static": url_for("kiosk.static", filename="kiosk/").rstrip("/") + "/",
        "timings": timings(request.args),
    }
    return render_template("kiosk/kiosk.html", unit=unit, config=config, instrument=instrument_payload(instrument))


@api.post("/pair")
def pair(unit_code: str):  # type: ignore[no-untyped-def]
    """Trade the one-time pairing code for the device token."""
    unit = _unit(unit_code)
    session = db_session()
    try:
        paired = pairing.pair(session, unit, str(_json().get("code", "")), now=utcnow(),
                              secret_key=secret_key(), client=request.remote_addr or "?")
    except pairing.PairingRefused:
        session.commit()  # keep the failure count
        raise
    session.commit()
    log.info("kiosk %s paired with %s", paired.device.public_id, unit.code)
    return jsonify(token=paired.token, device={"id": paired.device.public_id, "name": paired.device.name})


@api.post("/lookup")
def lookup(unit_code: str):  # type: ignore[no-untyped-def]
    """A dossier code → its procedure name only (never personal data), if it can be rated now."""
    unit = _paired(unit_code)[0]
    session = db_session()
    dossier = services.rateable_dossier(session, unit, str(_json().get("code", "")))
    session.commit()
    return jsonify(code=dossier.code, procedure=dossier.procedure or "Thủ tục hành chính")


@api.post("/recent")
def recent(unit_code: str):  # type: ignore[no-untyped-def]
    """The last digits of a receipt's code → the unit's recently returned dossiers with that sequence
    (procedure name and return day only: the list is on a public screen; see kiosk/picker.py)."""
    unit = _paired(unit_code)[0]
    session = db_session()
    matches = picker.recent_matches(session, unit, str(_json().get("digits", "")), now=utcnow(),
                                    tz=get_settings().tz)
    session.commit()
    return jsonify(matches=[{"code": m.code, "procedure": m.procedure, "returned_on": m.returned_on}
                            for m in matches])


@api.post("/submit")
@lock_on_write
def submit(unit_code: str):  # type: ignore[no-untyped-def]
    """Store a rating exactly once (idempotency key); a resend of a stored key is acknowledged."""
    unit, device = _paired(unit_code, _named_dossier())
    data = _json()
    key = str(data.get("key") or request.headers.get("Idempotency-Key") or "").strip()
    if not 8 <= len(key) <= 100:
        raise ValidationError("Thiếu mã gửi (idempotency key).", field="key", detail="bad idempotency key")
    submitted_at = _submitted_at(data.get("submitted_at"))
    form = named_form(data, unit.default_instrument, get_catalogue())
    session = db_session()
    response_input = ResponseInput(
        instrument=form.code, channel=ResponseChannel.KIOSK,
        answers=services.parse_answers(data.get("answers")), dossier_code=str(data.get("dossier_code") or "") or None,
        submitted_at=submitted_at, comment=checked_comment(data.get("comment")), idempotency_key=key,
        source=services.taken_by(session, device, data.get("device_id")),
    )
    settings = get_settings()
    health = "queued" in data or "rejected" in data
    recorded = services.submit(session, get_catalogue(), device, response_input, now=utcnow(), tz=settings.tz,
                               rules=kiosk_rules(settings), alone=not health)
    if health:
        services.heartbeat(device, queued=data.get("queued"), rejected=data.get("rejected"), now=utcnow())
    session.commit()
    log.info("kiosk %s %s response %s", device.public_id, "replayed" if recorded.replayed else "stored",
             recorded.response.id)
    return jsonify(status="replayed" if recorded.replayed else "stored", key=key), 200 if recorded.replayed else 201


def _submitted_at(raw: object) -> datetime | None:
    """When the citizen confirmed (a queued rating arrives later); unreadable → the server's time."""
    if not raw:
        return None
    try:
        return parse_timestamp(str(raw), get_settings().tz, field="submitted_at")
    except ValidationError:
        return None


@api.post("/heartbeat")
def heartbeat(unit_code: str):  # type: ignore[no-untyped-def]
    """The kiosk reports it is alive, how many ratings wait in its queue and how many the server refused."""
    unit, device = _paired(unit_code)
    data = _json()
    services.heartbeat(device, queued=data.get("queued"), rejected=data.get("rejected"),
                       client_time=data.get("client_time"), now=utcnow())
    db_session().commit()
    return jsonify(ok=True, **_device_info(unit, device))


@api.post("/armed")
def armed(unit_code: str):  # type: ignore[no-untyped-def]
    """Polled on the start screen: the dossier a clerk armed for this kiosk, handed over once.

    A POST: handing over changes state (and so does the device's contact time), and on SQLite a GET's
    read transaction cannot take the write lock under load."""
    unit, device = _paired(unit_code)
    session = db_session()
    dossier = services.take_armed(session, device, now=utcnow())
    session.commit()
    if dossier is None:
        return jsonify(armed=None, **_device_info(unit, device))
    log.info("kiosk %s took armed dossier %s", device.public_id, dossier.code)
    return jsonify(armed={"code": dossier.code, "procedure": dossier.procedure or "Thủ tục hành chính"},
                   **_device_info(unit, device))
