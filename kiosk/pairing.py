"""Pairing a kiosk with a unit: a one-time code typed on the kiosk buys a device token.

The clerk creates a device in the console and reads the code (or opens the pairing link) on the
kiosk; the kiosk exchanges it for a token it keeps in its browser storage. Only keyed hashes of the
code and the token are stored, so a database dump pairs nothing. Revoking a device ends its token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from kiosk.errors import KioskRevoked, KioskUnpaired, PairingRefused, PairingThrottled
from kiosk.models import KioskDevice
from sipas.audit import audit
from sipas.dossiers import note_found
from sipas.driver_statements import DriverStatement
from sipas.errors import ValidationError
from sipas.models import Dossier, Unit
from sipas.orm_rows import persistent
from sipas.text import is_storable
from sipas.throttle import Limit, refund, take_all

PAIRING_CODE_DIGITS = 8
MAX_PAIRING_FAILURES = 10
CONTACT_RESOLUTION = timedelta(seconds=20)


def _digest(secret_key: str, purpose: str, value: str) -> str:
    return hmac.new(secret_key.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class NewDevice:
    device: KioskDevice
    pairing_code: str


@dataclass(frozen=True)
class Paired:
    device: KioskDevice
    token: str


def create_device(session: Session, unit: Unit, *, name: str, now: datetime, secret_key: str, actor: str,
                  valid_for: timedelta) -> NewDevice:
    """A device waiting for its kiosk; the plaintext pairing code is returned once."""
    name = " ".join(name.split())[:200]
    if not name:
        raise ValidationError("Vui lòng đặt tên cho kiosk (ví dụ: Quầy 1).", field="name", detail="empty name")
    code = "".join(secrets.choice("0123456789") for _ in range(PAIRING_CODE_DIGITS))
    device = KioskDevice(unit_id=unit.id, unit=unit, public_id=secrets.token_hex(6), name=name, created_at=now,
                         created_by=actor, pairing_code_hash=_digest(secret_key, "pair", code),
                         pairing_expires_at=now + valid_for, queued_count=0)
    session.add(device)
    session.flush()
    audit(session, "kiosk.created", actor=actor, unit=unit, subject=device.public_id, name=name)
    return NewDevice(device, code)


def new_pairing_code(session: Session, device: KioskDevice, *, now: datetime, secret_key: str, actor: str,
                     valid_for: timedelta) -> str:
    """Issue a fresh code for a device (a lost code, or a kiosk whose browser storage was wiped)."""
    if device.revoked_at is not None:
        raise ValidationError("Kiosk đã bị thu hồi; hãy tạo kiosk mới.", field="device", detail="revoked")
    code = "".join(secrets.choice("0123456789") for _ in range(PAIRING_CODE_DIGITS))
    device.pairing_code_hash = _digest(secret_key, "pair", code)
    device.pairing_expires_at = now + valid_for
    audit(session, "kiosk.pairing_code", actor=actor, unit=device.unit, subject=device.public_id)
    return code


def pair(session: Session, unit: Unit, code: str, *, now: datetime, secret_key: str, client: str,
         window: timedelta = timedelta(minutes=15)) -> Paired:
    """Exchange a pairing code for a device token; attempts per (unit, client) and per client are limited.

    Never per unit alone: ten wrong codes from a stranger must not stop the clerk pairing the unit's kiosk."""
    limits = [Limit(f"kiosk-pair:{unit.id}:{client[:100]}", MAX_PAIRING_FAILURES, window),
              Limit(f"kiosk-pair-ip:{client[:100]}", MAX_PAIRING_FAILURES, window)]
    if not take_all(session, limits, now):
        raise PairingThrottled(detail=f"too many pairing attempts from {client} for {unit.code}")
    cleaned = "".join(ch for ch in code if ch.isdigit())
    device = session.scalar(select(KioskDevice).where(
        KioskDevice.unit_id == unit.id,
        KioskDevice.pairing_code_hash == _digest(secret_key, "pair", cleaned),
        KioskDevice.revoked_at.is_(None),
    )) if cleaned else None
    if device is None or device.pairing_expires_at is None or device.pairing_expires_at < now:
        raise PairingRefused(field="code", detail=f"bad pairing code for {unit.code}")
    for limit in limits:
        refund(session, limit, now)
    token_secret = secrets.token_urlsafe(32)
    device.token_hash = _digest(secret_key, "token", token_secret)
    device.pairing_code_hash = None
    device.pairing_expires_at = None
    device.paired_at = now
    device.last_contact_at = now
    audit(session, "kiosk.paired", actor=f"kiosk:{device.public_id}", unit=unit, subject=device.public_id)
    return Paired(device, f"{device.public_id}.{token_secret}")


def authenticate(session: Session, unit: Unit, token: str | None, *, now: datetime, secret_key: str,
                 device: KioskDevice | None = None) -> KioskDevice:
    """The device owning ``token`` for this unit; raises 401/403 errors with Vietnamese messages. ``device``: the
    token's device when the caller already read it (``device_with_unit``)."""
    public_id, _, token_secret = (token or "").strip().partition(".")
    if not public_id or not token_secret:
        raise KioskUnpaired(detail="no device token")
    if device is None or device.public_id != public_id:
        row = _BY_PUBLIC_ID.first(session.connection(), {"public_id": public_id})
        device = persistent(session, KioskDevice, row) if row is not None else None
    if device is None or device.token_hash is None or device.unit_id != unit.id or not hmac.compare_digest(
            device.token_hash, _digest(secret_key, "token", token_secret)):
        raise KioskUnpaired(detail="unknown device token")
    if device.revoked_at is not None:
        raise KioskRevoked(detail=f"device {public_id} revoked")
    if device.last_contact_at is None or now - device.last_contact_at >= CONTACT_RESOLUTION:
        device.last_contact_at = now  # not on every 3-second poll: one write per kiosk per 20 s is enough
    return device


# built once, Core: every poll and rating (sipas.orm_rows)
_BY_PUBLIC_ID = DriverStatement(select(KioskDevice.__table__)
                                .where(KioskDevice.__table__.c.public_id == bindparam("public_id")))


def device_with_unit(session: Session, unit_code: str, token: str | None,
                     dossier_code: str | None = None) -> tuple[Unit, KioskDevice] | None:
    """The unit and the token's device in one query, when the device belongs to that unit (every poll and rating
    of a paired kiosk); None otherwise, and the caller looks them up one by one for the precise error. Nothing
    is authenticated here: ``authenticate`` checks the token's secret.

    ``dossier_code``: the dossier a rating names, read in the same statement from the unit and handed to
    ``find_dossier`` (``note_found``); nothing about it is answered here."""
    public_id = (token or "").strip().partition(".")[0]
    if not public_id:
        return None
    with_dossier = bool(dossier_code and is_storable(dossier_code))
    row = (_DEVICE_WITH_UNIT_AND_DOSSIER if with_dossier else _DEVICE_WITH_UNIT).first(
        session.connection(), {"public_id": public_id, "code": unit_code, "dossier_code": dossier_code})
    if row is None:
        return None
    if with_dossier and row[_dossiers.c.id] is not None:
        note_found(session, persistent(session, Dossier, row))
    return persistent(session, Unit, row), persistent(session, KioskDevice, row)


_device_with_unit = (select(KioskDevice.__table__, Unit.__table__)
                     .join_from(KioskDevice.__table__, Unit.__table__,
                                KioskDevice.__table__.c.unit_id == Unit.__table__.c.id)
                     .where(KioskDevice.__table__.c.public_id == bindparam("public_id"),
                            Unit.__table__.c.code == bindparam("code")))
_DEVICE_WITH_UNIT = DriverStatement(_device_with_unit)
_dossiers = Dossier.__table__
_DEVICE_WITH_UNIT_AND_DOSSIER = DriverStatement(
    _device_with_unit.add_columns(_dossiers)
    .outerjoin(_dossiers, (_dossiers.c.unit_id == Unit.__table__.c.id)
               & (_dossiers.c.code == bindparam("dossier_code"))))


def revoke(session: Session, device: KioskDevice, *, now: datetime, actor: str) -> None:
    if device.revoked_at is None:
        device.revoked_at = now
        device.pairing_code_hash = None
        device.armed_dossier = None
        audit(session, "kiosk.revoked", actor=actor, unit=device.unit, subject=device.public_id)
