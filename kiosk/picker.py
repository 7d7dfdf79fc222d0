"""The kiosk's dossier picker: a citizen types only the last digits of the receipt's code (the daily
sequence, ``…-261203-0556`` → ``556``) and picks their dossier among the unit's recently returned ones.

What a match shows is the procedure name and the day the result was returned, never a name, a phone or
anything else about the person: several citizens' dossiers may share the digits, and the list is on a
public screen. Only the kiosk's own unit, only dossiers returned in the last ``RECENT_DAYS`` local days,
only those not rated yet, at most ``MAX_MATCHES`` of them (the newest first).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from sipas.clock import local_date
from sipas.errors import ValidationError
from sipas.models import Dossier, Response, Unit

RECENT_DAYS = 7  # today and the six days before: a receipt is usually rated when the result is handed over
MAX_MATCHES = 6
MIN_DIGITS, MAX_DIGITS = 1, 6
# Candidates read before filtering by the last segment: a ward returns a few hundred dossiers a week at most.
SCAN_LIMIT = 2000


@dataclass(frozen=True)
class Match:
    code: str  # kept by the kiosk to submit the rating; shown only once the citizen picked it
    procedure: str
    returned_on: str  # dd/mm/yyyy, local


def is_sequence(text: str) -> bool:
    """What the picker takes: digits only, as many as a daily sequence has."""
    return text.isascii() and text.isdigit() and MIN_DIGITS <= len(text) <= MAX_DIGITS


def _sequence(code: str) -> str | None:
    """The daily sequence of a one-stop code: its last ``-``/``.`` separated part when that is all digits."""
    tail = code.replace(".", "-").rsplit("-", 1)[-1]
    return tail if tail.isascii() and tail.isdigit() else None


def recent_matches(session: Session, unit: Unit, digits: str, *, now: datetime, tz: tzinfo) -> list[Match]:
    """The unit's recently returned, not yet rated dossiers whose sequence is ``digits`` (leading zeros aside)."""
    digits = digits.strip()
    if not is_sequence(digits):
        raise ValidationError("Vui lòng nhập các chữ số cuối của mã hồ sơ (tối đa 6 chữ số).", field="digits",
                              detail=f"digits must be {MIN_DIGITS}-{MAX_DIGITS} ASCII digits")
    since = local_date(now, tz) - timedelta(days=RECENT_DAYS - 1)
    rated = select(Response.id).where(Response.dossier_id == Dossier.id,
                                      Response.instrument_code == unit.default_instrument).exists()
    rows = session.execute(
        select(Dossier.code, Dossier.procedure, Dossier.returned_at)
        .where(Dossier.unit_id == unit.id, Dossier.returned_local_date >= since, Dossier.returned_at <= now,
               Dossier.code.endswith(digits.lstrip("0") or "0", autoescape=True), ~rated)
        .order_by(Dossier.returned_at.desc(), Dossier.id.desc())
        .limit(SCAN_LIMIT)
    ).all()
    wanted = int(digits)
    matches = []
    for code, procedure, returned_at in rows:
        sequence = _sequence(code)
        if sequence is None or int(sequence) != wanted:
            continue
        matches.append(Match(code, procedure or "Thủ tục hành chính", returned_at.astimezone(tz).strftime("%d/%m/%Y")))
        if len(matches) == MAX_MATCHES:
            break
    return matches
