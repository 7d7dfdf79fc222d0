"""Shared setup for kiosk tests: a unit with returned dossiers and a paired device."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kiosk.models import KioskDevice
from kiosk.pairing import create_device, pair
from sipas.models import Response
from sipas.storage import get_database
from tests.factories import create_dossier, create_unit

SECRET = "live-test-secret"


@dataclass
class KioskSetup:
    unit_code: str
    dossiers: list[str]
    procedure: str
    device_id: int
    token: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def new_device(session: Session, unit, *, secret: str = SECRET, paired: bool = True, name: str = "Quầy 1"):  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)
    new = create_device(session, unit, name=name, now=now, secret_key=secret, actor="test",
                        valid_for=timedelta(minutes=30))
    if not paired:
        return new.device, new.pairing_code, None
    paired_device = pair(session, unit, new.pairing_code, now=now, secret_key=secret, client="test")
    return paired_device.device, None, paired_device.token


def seed(app: Flask, *, instrument: str = "hue12", anonymous: bool = False, paired: bool = True,
         dossiers: int = 2, code: str | None = None) -> KioskSetup:
    with get_database(app).session() as session:
        unit = create_unit(session, default_instrument=instrument, allow_anonymous=anonymous)
        codes = []
        for index in range(dossiers):
            dossier = create_dossier(session, unit, procedure="Đăng ký khai sinh",
                                     code=(code if index == 0 and code else None))
            codes.append(dossier.code)
        device, pairing_code, token = new_device(session, unit, secret=app.config["SECRET_KEY"], paired=paired)
        setup = KioskSetup(unit.code, codes, "Đăng ký khai sinh", device.id, token)
        if pairing_code:
            setup.extra["pairing_code"] = pairing_code
        return setup


def responses(app: Flask) -> list[Response]:
    with get_database(app).sessionmaker() as session:
        return list(session.scalars(select(Response).options(selectinload(Response.answers),
                                                             selectinload(Response.dossier)).order_by(Response.id)))


def device(app: Flask, device_id: int) -> KioskDevice:
    with get_database(app).sessionmaker() as session:
        return session.get(KioskDevice, device_id)  # type: ignore[return-value]
