"""Fingerprints of issued notices (issue 11 §5): anyone can check that a copy is the one issued.

The SHA-256 of the issued DOCX and PDF is stored with the notice (``Notice.docx_sha256``,
``pdf_sha256``) when it is stored, shown on its public page, and matched here for `sipas notice
verify FILE` and the upload check on that page. Only a byte-identical file matches: a re-saved,
re-printed or edited copy does not, which is the point.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from aggregator.models_notices import Notice
from aggregator.notices.vnformat import date_short

# An issued notice is a few hundred kilobytes; anything far larger is not one of them.
MAX_VERIFY_BYTES = 20 * 1024 * 1024


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stamp(notice: Notice) -> Notice:
    """Fill the digests from the notice's bytes (called when it is stored)."""
    notice.docx_sha256 = sha256(notice.docx)
    notice.pdf_sha256 = sha256(notice.pdf)
    return notice


@dataclass(frozen=True)
class Match:
    notice: Notice
    fmt: str  # "docx" or "pdf"


def find_issued(session: Session, data: bytes) -> Match | None:
    """The issued notice whose DOCX or PDF is byte-identical to ``data``; None when there is none."""
    if not data:
        return None
    digest = sha256(data)
    for notice in session.scalars(select(Notice).where(or_(Notice.docx_sha256 == digest, Notice.pdf_sha256 == digest))
                                  .order_by(Notice.id)):
        for fmt, stored in (("pdf", notice.pdf), ("docx", notice.docx)):
            if stored == data:  # the digest found it; the bytes confirm it
                return Match(notice, fmt)
    return None


def describe(match: Match) -> str:
    """ "Thông báo số 03/TB-UBND ngày 06/4/2026 của Phường Phú Hội (bản PDF)". """
    notice = match.notice
    return (f"Thông báo số {notice.number_label} ngày {date_short(notice.issue_date)} của {notice.issuer_name} "
            f"(bản {match.fmt.upper()})")
