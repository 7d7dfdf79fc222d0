"""Issuing short links and building their public URL (the code never appears in logs)."""

from __future__ import annotations

import secrets
import string
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from sipas.clock import local_date, start_of_local_day
from sipas.driver_statements import DriverStatement
from sipas.models import Dossier, Unit
from sipas.orm_rows import persistent
from sipas.settings import Settings, env_int
from sms_gateway.models_links import LinkChannel, ShortLink

ALPHABET = string.ascii_letters + string.digits  # no "_" or "-": a carrier once turned "_" into "¿"
CODE_LENGTH = 10  # 62**10 ≈ 2**59.5
CODE_PATTERN = r"^[A-Za-z0-9]{10,}$"


def new_code(length: int = CODE_LENGTH) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def free_codes(session: Session, count: int) -> list[str]:
    """``count`` distinct new codes no link has yet (a clash is practically unreachable at 62**10; the unique
    constraint stays the real guard)."""
    codes: set[str] = set()
    while len(codes) < count:
        codes |= {new_code() for _ in range(count - len(codes))}
        codes -= set(session.scalars(select(ShortLink.code).where(ShortLink.code.in_(codes))))
    return sorted(codes)


def qr_link_days(settings: Settings) -> int:
    """How long a printed QR slip stays valid (``SIPAS_QR_LINK_DAYS``, default 7 days)."""
    return env_int(settings.env, "SIPAS_QR_LINK_DAYS", 7, minimum=1)


def qr_expiry(settings: Settings, now: datetime) -> datetime:
    """The end of a QR link's last day (local): ``SIPAS_QR_LINK_DAYS`` days after the first print, through that whole
    day, which the slip prints as its "Hạn đánh giá" (to the minute, a slip printed at 16:00 expired at 16:00 on the
    day it printed, which a citizen reads as valid until the evening)."""
    last_day = local_date(now, settings.tz) + timedelta(days=qr_link_days(settings))
    return start_of_local_day(last_day + timedelta(days=1), settings.tz)


def last_valid_day(expires_at: datetime, tz: tzinfo) -> date:
    """The local day a link can last be used on (it expires at ``expires_at``, not after it)."""
    return local_date(expires_at - timedelta(microseconds=1), tz)


def issue_link(
    session: Session,
    dossier: Dossier,
    *,
    instrument_code: str,
    channel: str,
    now: datetime,
    expires_at: datetime | None,
) -> ShortLink:
    """Return the open link for this dossier, instrument and channel, or create one.

    Idempotent: an unexpired, unused link is reused, so a reprinted slip or a resent SMS carries the
    same URL. Flushes; the caller commits.
    """
    link_channel = LinkChannel(channel)
    candidates = session.scalars(
        select(ShortLink)
        .where(
            ShortLink.dossier_id == dossier.id,
            ShortLink.instrument_code == instrument_code,
            ShortLink.channel == link_channel,
            ShortLink.used_at.is_(None),
        )
        .order_by(ShortLink.id.desc())
    ).all()
    for existing in candidates:
        if not existing.is_expired(now):
            return existing
    link = ShortLink(
        code=free_codes(session, 1)[0],
        dossier_id=dossier.id,
        unit_id=dossier.unit_id,
        instrument_code=instrument_code,
        channel=link_channel,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(link)
    session.flush()
    return link


def find_link(session: Session, code: str) -> ShortLink | None:
    if not code.isascii() or not code.isalnum() or len(code) > 32:
        return None
    row = _BY_CODE.first(session.connection(), {"code": code})
    if row is None:
        return None
    # with its dossier and unit, which every use of a link reads, as loaded (sipas.orm_rows): one query, not three
    values = row
    link = persistent(session, ShortLink, values)
    unit = persistent(session, Unit, values)
    set_committed_value(link, "unit", unit)
    dossier = persistent(session, Dossier, values) if values[_dossiers.c.id] is not None else None
    if dossier is not None:
        set_committed_value(dossier, "unit", unit)
    set_committed_value(link, "dossier", dossier)
    return link


# Built once, Core: every phone form and its submit read the link (a statement's cache key is memoised on it).
_links, _dossiers, _units = ShortLink.__table__, Dossier.__table__, Unit.__table__
_BY_CODE = DriverStatement(select(_links, _dossiers, _units)
            .select_from(_links.join(_units, _units.c.id == _links.c.unit_id)
                         .outerjoin(_dossiers, _dossiers.c.id == _links.c.dossier_id))
            .where(_links.c.code == bindparam("code")))


def link_url(settings: Settings, link: ShortLink) -> str:
    return f"{settings.public_base_url}/r/{link.code}"
