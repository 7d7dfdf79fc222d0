"""POST /api/v1/dossiers (create or update by code) and GET /api/v1/dossiers/<code>.

The one-stop system calls POST when a dossier is received and again when its result is returned;
the second call may carry only ``code`` and ``returned_at``: fields absent from the body keep their
stored values. Channels add their own data to the dossier JSON through ``DOSSIER_JSON_EXTENDERS``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Collection
from datetime import datetime, timedelta, tzinfo
from typing import Any

from flask import current_app, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sipas.api import bp
from sipas.api.auth import api_actor, api_key_required, current_key, resolve_unit
from sipas.api.serializers import Body, checked_text, iso, json_object, mask_phone
from sipas.catalogue import Catalogue
from sipas.clock import local_date, utcnow
from sipas.context import get_catalogue, get_settings
from sipas.dossiers import CONSENT_WORDING_VERSION, DossierInput, find_dossier, upsert_dossier
from sipas.errors import UnknownDossier, ValidationError
from sipas.models import Dossier, IntakeChannel, Response, Unit
from sipas.parsing import INTAKE_LABELS_VI, parse_bool, parse_intake_channel, parse_phone
from sipas.storage import db_session
from sipas.timeliness import timeliness
from sipas.units import descendant_ids

FUTURE_TOLERANCE = timedelta(minutes=5)

#: ``f(session, dossier) -> dict`` merged into every dossier JSON (e.g. the SMS invitations).
DOSSIER_JSON_EXTENDERS: list[Callable[[Session, Dossier], dict[str, Any]]] = []


def scoped_unit(session: Session, unit_code: str | None, dossier_code: str | None) -> Unit:
    """The unit a request acts on: ``unit`` if given (and covered by the key); otherwise the covered
    unit that already holds ``dossier_code``; otherwise the key's own unit."""
    if unit_code:
        return resolve_unit(unit_code)
    own = current_key().unit
    if not dossier_code:
        return own
    scope = descendant_ids(session, own)  # not walked for a rating without a dossier (paper ballots)
    if len(scope) == 1:
        return own
    holders = list(session.scalars(
        select(Unit).join(Dossier, Dossier.unit_id == Unit.id)
        .where(Dossier.code == dossier_code, Unit.id.in_(scope)).order_by(Unit.code)
    ))
    if len(holders) > 1:
        raise ValidationError("Mã hồ sơ này có ở nhiều đơn vị; hãy gửi kèm mã đơn vị (unit).", field="unit",
                              detail=f"dossier code in {len(holders)} units: " + ", ".join(u.code for u in holders))
    return holders[0] if holders else own


RETURNED_SLACK = timedelta(days=1)  # clocks and time zones differ; a result returned next year does not exist


def _same_day_floor(value: datetime | None, date_only: bool, received_at: datetime, tz: tzinfo) -> datetime | None:
    """A date alone means a local date: returned "today" on a dossier received today at 09:00 is
    stored as the receipt instant, not as a midnight that would precede it."""
    if value is not None and date_only and local_date(value, tz) == local_date(received_at, tz):
        return max(value, received_at)
    return value


def _composed(text: str | None) -> str:
    """Vietnamese typed as decomposed marks ("Unicode tổ hợp") in its composed form; "" for none."""
    return unicodedata.normalize("NFC", text) if text else ""


def dossier_input(body: Body, code: str, existing: Dossier | None, tz: tzinfo,
                  phone_regions: Collection[str] | None = ("VN",)) -> DossierInput:
    """Merge the body over the stored dossier (absent fields keep their values; null clears a date)."""

    def kept(name: str, parsed: Any, default: Any) -> Any:
        if body.has(name):
            return parsed
        return getattr(existing, name) if existing is not None else default

    received_at, _received_date_only = body.timestamp("received_at", tz, required=existing is None)
    if received_at is None:
        if body.has("received_at"):
            raise ValidationError("Ngày tiếp nhận không được để trống.", field="received_at", detail="null")
        assert existing is not None
        received_at = existing.received_at
    elif received_at > utcnow() + RETURNED_SLACK:
        raise ValidationError("Ngày tiếp nhận chưa đến: không thể ghi nhận hồ sơ tiếp nhận trong tương lai.",
                              field="received_at", detail="received_at in the future")
    due_at, due_date_only = body.timestamp("due_at", tz)
    returned_at, returned_date_only = body.timestamp("returned_at", tz)
    if returned_at is not None and returned_at > utcnow() + RETURNED_SLACK:
        raise ValidationError("Ngày trả kết quả chưa đến: không thể ghi nhận hồ sơ trả trong tương lai.",
                              field="returned_at", detail="returned_at in the future")
    channel = body.scalar("intake_channel")
    phone = body.text("phone", max_length=40)
    consent = body.scalar("sms_consent")
    return DossierInput(
        code=code,
        received_at=received_at,
        # composed (NFC), as the imports store them: the reports group and filter by the field's exact text
        procedure=kept("procedure", _composed(body.text("procedure", max_length=500)), ""),
        field=kept("field", _composed(body.text("field", max_length=200)), ""),
        intake_channel=parse_intake_channel(channel) if channel is not None else
        existing.intake_channel if existing is not None else IntakeChannel.DIRECT,
        due_at=kept("due_at", _same_day_floor(due_at, due_date_only, received_at, tz), None),
        returned_at=kept("returned_at", _same_day_floor(returned_at, returned_date_only, received_at, tz), None),
        phone_e164=parse_phone(phone, regions=phone_regions) if phone else None,
        sms_consent=parse_bool(consent, field="sms_consent") if consent is not None else None,
        consent_method=body.text("sms_consent_method", max_length=32) or "api",
        consent_wording_version=body.text("sms_consent_wording_version", max_length=32) or CONSENT_WORDING_VERSION,
    )


def dossier_json(session: Session, dossier: Dossier, *, catalogue: Catalogue, tz: tzinfo,
                 now: datetime) -> dict[str, Any]:
    """The dossier, its timeliness at ``now`` and its rating status per instrument in effect."""
    status = timeliness(dossier.due_at, dossier.returned_at, now, tz)
    rated = {r.instrument_code: r for r in session.scalars(select(Response).where(Response.dossier_id == dossier.id))}
    ratings = []
    for instrument in catalogue.latest(local_date(now, tz)):
        response = rated.get(instrument.code)
        ratings.append({
            "instrument": instrument.code,
            "rated": response is not None,
            "version": response.instrument_version if response else None,
            "channel": str(response.channel) if response else None,
            "submitted_at": iso(response.submitted_at, tz) if response else None,
        })
    contact = dossier.contact
    data: dict[str, Any] = {
        "code": dossier.code,
        "unit": dossier.unit.code,
        "procedure": dossier.procedure,
        "field": dossier.field,
        "intake_channel": str(dossier.intake_channel),
        "intake_channel_label": INTAKE_LABELS_VI[dossier.intake_channel],
        "received_at": iso(dossier.received_at, tz),
        "due_at": iso(dossier.due_at, tz),
        "returned_at": iso(dossier.returned_at, tz),
        "timeliness": str(status),
        "timeliness_label": status.label_vi,
        "phone": mask_phone(contact.phone_e164 if contact else None),
        "phone_erased": bool(contact and contact.erased_at),
        "sms_consent": bool(contact and contact.sms_consent),
        "sms_consent_at": iso(contact.consent_at, tz) if contact else None,
        "sms_consent_method": contact.consent_method if contact else None,
        "sms_consent_wording_version": contact.consent_wording_version if contact else None,
        "ratings": ratings,
        "created_at": iso(dossier.created_at, tz),
        "updated_at": iso(dossier.updated_at, tz),
    }
    for extend in DOSSIER_JSON_EXTENDERS:
        data.update(extend(session, dossier))
    return data


@bp.post("/dossiers")
@api_key_required
def upsert():  # type: ignore[no-untyped-def]
    """Create (201) or update (200) a dossier by its code."""
    body = Body(json_object())
    settings, session, now = get_settings(), db_session(), utcnow()
    code = body.text("code", max_length=64, required=True)
    assert code is not None
    unit_code = body.text("unit", max_length=64)
    consent_at, _ = body.timestamp("sms_consent_at", settings.tz)
    if consent_at is not None and consent_at > now + FUTURE_TOLERANCE:
        raise ValidationError("Thời điểm đồng ý nhận tin nhắn ở tương lai.", field="sms_consent_at",
                              detail="sms_consent_at in the future")
    for attempt in (1, 2):
        # Two simultaneous first calls for one new code: the unique (unit, code) constraint refuses the
        # second insert (PostgreSQL); it then finds the row the first one committed and updates it.
        try:
            with session.begin_nested():
                unit = scoped_unit(session, unit_code, code)
                data = dossier_input(body, code, find_dossier(session, unit, code), settings.tz,
                                     settings.phone_regions)
                result = upsert_dossier(session, unit, data, tz=settings.tz, now=now,
                                        secret=current_app.config["SECRET_KEY"], actor=api_actor())
                contact = result.dossier.contact
                if consent_at is not None and contact is not None and contact.consent_at == now:
                    contact.consent_at = consent_at  # the consent was given earlier, at the counter
                session.flush()
            break
        except IntegrityError:
            if attempt == 2:
                raise
    payload = dossier_json(session, result.dossier, catalogue=get_catalogue(), tz=settings.tz, now=now)
    session.commit()
    return jsonify(payload), 201 if result.created else 200


@bp.get("/dossiers/<path:code>")
@api_key_required
def show(code: str):  # type: ignore[no-untyped-def]
    """A dossier with its timeliness and rating status; the phone number is masked."""
    settings, session, now = get_settings(), db_session(), utcnow()
    unit_code = checked_text(request.args.get("unit", "").strip(), "unit")
    code = checked_text(code, "code")
    if len(unit_code) > 64 or len(code) > 64:
        raise ValidationError("Mã quá dài.", field="unit" if len(unit_code) > 64 else "code", detail="too long")
    # A GET stays a read: never flush the key's last-used time. On SQLite a read transaction that
    # turns into a write fails at once ("database is locked") when another connection wrote meanwhile.
    with session.no_autoflush:
        unit = scoped_unit(session, unit_code or None, code)
        dossier = find_dossier(session, unit, code)
        if dossier is None:
            raise UnknownDossier(field="code", detail=f"no dossier {code!r} in {unit.code}")
        return jsonify(dossier_json(session, dossier, catalogue=get_catalogue(), tz=settings.tz, now=now))
