"""QR slips for returned dossiers: the view-model the print pages lay out (no formatting in templates)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sipas.models import Dossier, Response, Unit
from sipas.settings import Settings
from sms_gateway.links import issue_link, last_valid_day, link_url, qr_expiry
from sms_gateway.models_links import LinkChannel
from sms_gateway.qr import qr_svg_inline

SIZES = {"a6": "A6", "80mm": "Giấy in nhiệt 80 mm"}


@dataclass(frozen=True)
class Slip:
    dossier_code: str
    procedure: str
    unit_name: str
    url: str
    qr_svg: str
    expires: str  # dd/mm/yyyy, local


@dataclass(frozen=True)
class SlipBatch:
    slips: list[Slip]
    already_rated: list[str]
    not_returned: list[str]


def is_rated(session: Session, dossier: Dossier, instrument_code: str) -> bool:
    return session.scalar(
        select(Response.id).where(Response.dossier_id == dossier.id, Response.instrument_code == instrument_code)
    ) is not None


def make_slip(session: Session, settings: Settings, dossier: Dossier, *, now: datetime) -> Slip:
    """Issue (or reuse) the dossier's QR link and build its slip. Flushes; the caller commits."""
    unit = dossier.unit
    link = issue_link(session, dossier, instrument_code=unit.default_instrument, channel=LinkChannel.QR,
                      now=now, expires_at=qr_expiry(settings, now))
    url = link_url(settings, link)
    expires = last_valid_day(link.expires_at, settings.tz).strftime("%d/%m/%Y") if link.expires_at else ""
    return Slip(dossier_code=dossier.code, procedure=dossier.procedure, unit_name=unit.name, url=url,
                qr_svg=qr_svg_inline(url), expires=expires)


def slips_for(session: Session, settings: Settings, dossiers: list[Dossier], *, now: datetime) -> SlipBatch:
    slips, rated, not_returned = [], [], []
    for dossier in dossiers:
        if dossier.returned_at is None:
            not_returned.append(dossier.code)
        elif is_rated(session, dossier, dossier.unit.default_instrument):
            rated.append(dossier.code)
        else:
            slips.append(make_slip(session, settings, dossier, now=now))
    return SlipBatch(slips, rated, not_returned)


def returned_on(session: Session, unit: Unit, day: date) -> list[Dossier]:
    """Dossiers of the unit returned on a local calendar day, in the order they were returned."""
    return list(session.scalars(
        select(Dossier).where(Dossier.unit_id == unit.id, Dossier.returned_local_date == day)
        .order_by(Dossier.returned_at, Dossier.code)
    ))
