"""Blank paper ballots with a QR: each printed ballot gets a single-use short link of the unit with no dossier.

A unit-wide public form would let anyone rate other citizens' dossiers by guessing codes; a link per printed
ballot is spent by its first rating, so one sheet carries one rating at most. The citizen types the dossier code
in the phone form (``sms_gateway.link_submit``); it must be a dossier of the link's unit. Plain functions: no
Flask here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from sipas.models import Unit
from sms_gateway.links import free_codes
from sms_gateway.models_links import LinkChannel, ShortLink

MAX_BLANK_BALLOTS = 500  # per print: a stack a ward prints at once, not a way to flood the link table


def mint_blank_links(session: Session, unit: Unit, instrument_code: str, count: int, *, now: datetime
                     ) -> list[ShortLink]:
    """``count`` new single-use QR links of ``unit`` with no dossier, valid until used. Flushes; the caller commits.

    They never expire on their own: blank ballots are printed in stock and handed out over weeks; each is spent
    by the rating it carries.
    """
    if not 1 <= count <= MAX_BLANK_BALLOTS:
        raise ValueError(f"count must be 1..{MAX_BLANK_BALLOTS}")
    links = [ShortLink(code=code, dossier_id=None, unit_id=unit.id, instrument_code=instrument_code,
                       channel=LinkChannel.QR, created_at=now, expires_at=None) for code in free_codes(session, count)]
    session.add_all(links)
    session.flush()
    return links
