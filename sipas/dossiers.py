"""Creating and updating dossiers (by code, idempotently) and their contact record."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from sipas.audit import audit
from sipas.clock import local_date
from sipas.driver_statements import DriverStatement
from sipas.errors import ValidationError
from sipas.models import Dossier, DossierContact, IntakeChannel, Response, Unit
from sipas.orm_rows import persistent
from sipas.text import is_storable

CONSENT_WORDING_VERSION = "2025.1"


@dataclass(frozen=True)
class DossierInput:
    code: str
    received_at: datetime
    procedure: str = ""
    field: str = ""
    intake_channel: IntakeChannel = IntakeChannel.DIRECT
    due_at: datetime | None = None
    returned_at: datetime | None = None
    phone_e164: str | None = None
    sms_consent: bool | None = None
    consent_method: str = "import"
    consent_wording_version: str = CONSENT_WORDING_VERSION

    def check(self) -> None:
        if not self.code or len(self.code) > 64:
            raise ValidationError("Mã hồ sơ trống hoặc dài quá 64 ký tự.", field="code", detail="bad code")
        if self.due_at is not None and self.due_at < self.received_at:
            raise ValidationError("Ngày hẹn trả trước ngày tiếp nhận.", field="due_at", detail="due before received")
        if self.returned_at is not None and self.returned_at < self.received_at:
            raise ValidationError("Ngày trả kết quả trước ngày tiếp nhận.", field="returned_at",
                                  detail="returned before received")


@dataclass(frozen=True)
class UpsertResult:
    dossier: Dossier
    created: bool
    changed: bool
    newly_returned: bool


def phone_hash(phone_e164: str, secret: str) -> str:
    """Keyed hash kept after the phone is erased: lets opt-outs and caps survive, reveals nothing."""
    return hmac.new(secret.encode(), phone_e164.encode(), hashlib.sha256).hexdigest()


def find_dossier(session: Session, unit: Unit, code: str) -> Dossier | None:
    """The unit's dossier with this code; None for a code no dossier can have (NUL: PostgreSQL would refuse it)."""
    if not is_storable(code):
        return None
    noted = session.info.get(_FOUND)
    if noted:
        found: Dossier | None = noted.pop((unit.id, code), None)
        if found is not None:
            return found
    row = _BY_CODE.first(session.connection(), {"unit": unit.id, "code": code})
    return persistent(session, Dossier, row) if row is not None else None


_FOUND = "sipas_found_dossiers"


def note_found(session: Session, dossier: Dossier) -> None:
    """A dossier this request just read with another row (the API key's lookup): the next ``find_dossier`` of its
    unit and code in this session takes it instead of asking again, once (a later one asks the database)."""
    session.info.setdefault(_FOUND, {})[(dossier.unit_id, dossier.code)] = dossier


_dossiers = Dossier.__table__
# built once, on the driver's cursor: every rating looks its dossier up (sipas.orm_rows, sipas.driver_statements)
_BY_CODE = DriverStatement(select(_dossiers).where(_dossiers.c.unit_id == bindparam("unit"),
                                                  _dossiers.c.code == bindparam("code")))


def apply_dossier(
    session: Session,
    unit: Unit,
    data: DossierInput,
    *,
    tz: tzinfo,
    now: datetime,
    secret: str,
    existing: Dossier | None = None,
    lookup: bool = True,
) -> UpsertResult:
    """Create or update one dossier; unchanged values leave the row (and ``updated_at``) untouched.

    ``existing``/``lookup`` let a bulk import pass a prefetched row instead of one query per row.
    """
    data.check()
    dossier = existing if existing is not None or not lookup else find_dossier(session, unit, data.code)
    created = dossier is None
    if dossier is not None and dossier.returned_at is not None and data.returned_at is None and (
            _rated_while_locked(session, dossier)):
        raise ValidationError(UNRETURN_RATED, field="returned_at", detail="dossier already rated")
    if dossier is not None and dossier.id is not None and data.returned_at is not None \
            and data.returned_at != dossier.returned_at:
        rated_on = first_rating_days(session, [dossier.id], tz).get(dossier.id)
        if rated_on is not None and local_date(data.returned_at, tz) > rated_on:
            raise ValidationError(return_after_rating(rated_on), field="returned_at",
                                  detail="returned after the dossier's first rating")
    if dossier is None:
        dossier = Dossier(unit_id=unit.id, code=data.code, created_at=now, updated_at=now)
        session.add(dossier)
    was_returned = dossier.returned_at is not None
    values = {
        "procedure": data.procedure,
        "field": data.field,
        "intake_channel": data.intake_channel,
        "received_at": data.received_at,
        "due_at": data.due_at,
        "returned_at": data.returned_at,
        "received_local_date": local_date(data.received_at, tz),
        "due_local_date": local_date(data.due_at, tz) if data.due_at else None,
        "returned_local_date": local_date(data.returned_at, tz) if data.returned_at else None,
    }
    changed = created
    for name, value in values.items():
        if getattr(dossier, name) != value:
            setattr(dossier, name, value)
            changed = True
    if _apply_contact(session, dossier, data, now=now, secret=secret, created=created):
        changed = True
    if changed and not created:
        dossier.updated_at = now
    return UpsertResult(dossier, created, changed, newly_returned=not was_returned and data.returned_at is not None)


CONSENT_WITHOUT_PHONE = "Chưa có số điện thoại nên không thể ghi nhận đồng ý nhận tin nhắn."
UNRETURN_RATED = "Hồ sơ đã được đánh giá nên không thể bỏ trống ngày trả kết quả."


def return_after_rating(rated_on: date) -> str:
    """The refusal of a return day later than the dossier's first rating (a rating needs the result returned)."""
    return (f"Hồ sơ đã được đánh giá ngày {rated_on:%d/%m/%Y}: ngày trả kết quả không thể sau ngày đánh giá "
            "đầu tiên.")


def first_rating_days(session: Session, dossier_ids: Collection[int], tz: tzinfo) -> dict[int, date]:
    """The local day of each rated dossier's first rating."""
    if not dossier_ids:
        return {}
    rows = session.execute(select(Response.dossier_id, func.min(Response.submitted_at))
                           .where(Response.dossier_id.in_(list(dossier_ids))).group_by(Response.dossier_id))
    return {int(dossier_id): local_date(first, tz) for dossier_id, first in rows}


def is_rated(session: Session, dossier: Dossier) -> bool:
    return session.scalar(select(Response.id).where(Response.dossier_id == dossier.id).limit(1)) is not None


def _rated_while_locked(session: Session, dossier: Dossier) -> bool:
    """Whether a dossier whose return date is about to be cleared is rated, its row locked first on PostgreSQL (a
    rating locks it before writing, ``sipas.rating_statement``): a rating still running is waited for and then
    seen, one that comes later finds the date cleared and is refused. Without the lock a rating committed between
    this check and the update left a rated dossier without a return date. SQLite: the write lock of the session
    (``BEGIN IMMEDIATE``) or of the rating serialises them."""
    if dossier.id is not None and session.get_bind().dialect.name == "postgresql":
        session.execute(select(Dossier.id).where(Dossier.id == dossier.id).with_for_update(key_share=True))
    return is_rated(session, dossier)


def _apply_contact(session: Session, dossier: Dossier, data: DossierInput, *, now: datetime, secret: str,
                   created: bool) -> bool:
    """Phone and consent. Consent is given for one number: a new number without a new consent has none."""
    if data.phone_e164 is None and data.sms_consent is None:
        return False
    contact = None if created else dossier.contact
    if contact is None:
        contact = DossierContact(dossier=dossier)
        session.add(contact)
    elif contact.erased_at is not None:
        return False  # erased on request: a later import must not bring the number back
    return update_contact(contact, data, now=now, secret=secret)


def update_contact(contact: Any, data: DossierInput, *, now: datetime, secret: str) -> bool:
    """Apply the phone and consent rules to a ``DossierContact`` or to any object with its attributes (the
    import's bulk swap works on plain rows). Returns whether anything changed."""
    if data.sms_consent and not (data.phone_e164 or contact.phone_e164):
        raise ValidationError(CONSENT_WITHOUT_PHONE, field="sms_consent", detail="consent without a phone number")
    changed = False
    phone_changed = data.phone_e164 is not None and contact.phone_e164 != data.phone_e164
    if phone_changed:
        had_number = contact.phone_e164 is not None
        contact.phone_e164 = data.phone_e164
        contact.phone_hash = phone_hash(data.phone_e164, secret)  # type: ignore[arg-type]
        changed = True
        if had_number and contact.sms_consent and data.sms_consent is None:
            contact.sms_consent = False  # the consent on record was given for the old number
            contact.consent_at, contact.consent_method, contact.consent_wording_version = now, "phone_changed", None
    renewed = phone_changed and bool(data.sms_consent)  # consent given again, for the new number
    if data.sms_consent is not None and (contact.sms_consent != data.sms_consent or renewed):
        contact.sms_consent = data.sms_consent
        contact.consent_at = now
        contact.consent_method = data.consent_method
        contact.consent_wording_version = data.consent_wording_version
        changed = True
    return changed


def upsert_dossier(
    session: Session, unit: Unit, data: DossierInput, *, tz: tzinfo, now: datetime, secret: str, actor: str
) -> UpsertResult:
    """Create or update by code; audits real changes (the dossier code, never the phone)."""
    result = apply_dossier(session, unit, data, tz=tz, now=now, secret=secret)
    if result.changed:
        session.flush()
        audit(session, "dossier.created" if result.created else "dossier.updated", actor=actor, unit=unit,
              subject=data.code)
    return result


def mark_returned(session: Session, dossier: Dossier, *, returned_at: datetime, tz: tzinfo, now: datetime,
                  secret: str, actor: str) -> UpsertResult:
    """Record that the result was handed back (the counter's own record, when the one-stop system has
    not sent it): the dossier can then be rated, and an SMS invitation becomes due if it has consent."""
    if dossier.returned_at is not None:
        raise ValidationError("Hồ sơ đã được trả kết quả trước đó.", field="returned_at", detail="already returned")
    if returned_at > now + timedelta(minutes=5):
        raise ValidationError("Thời điểm trả kết quả ở tương lai.", field="returned_at", detail="in the future")
    data = DossierInput(code=dossier.code, received_at=dossier.received_at, procedure=dossier.procedure,
                        field=dossier.field, intake_channel=dossier.intake_channel, due_at=dossier.due_at,
                        returned_at=max(returned_at, dossier.received_at) if local_date(returned_at, tz) ==
                        local_date(dossier.received_at, tz) else returned_at)
    return upsert_dossier(session, dossier.unit, data, tz=tz, now=now, secret=secret, actor=actor)


def erase_contact(session: Session, dossier: Dossier, *, now: datetime, actor: str) -> int:
    """Erase the phone number on request; the keyed hash stays so an opt-out is still honoured.

    The citizen asks for their number to be erased, not one copy of it: the same number (by its keyed hash) on
    every other dossier, of any unit, is erased with it, each in the audit log. Returns how many dossiers lost the
    number (0: this one has none)."""
    contact = dossier.contact
    if contact is None or contact.phone_e164 is None:
        return 0
    same_number = [] if contact.phone_hash is None else session.scalars(
        select(DossierContact).where(DossierContact.phone_hash == contact.phone_hash,
                                     DossierContact.phone_e164.is_not(None), DossierContact.id != contact.id)
        .order_by(DossierContact.id)).all()
    for erased in (contact, *same_number):
        erased.phone_e164 = None
        erased.sms_consent = False
        erased.erased_at = now
        audit(session, "contact.erased", actor=actor, unit=erased.dossier.unit, subject=erased.dossier.code)
    return 1 + len(same_number)
