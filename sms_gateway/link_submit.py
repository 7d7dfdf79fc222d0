"""Spending a short link: one rating per link, recorded through the core's ``record_response``.

The guarded ``UPDATE … WHERE used_at IS NULL`` and the response insert share one transaction: a
refused rating (missing answer, unknown option) rolls both back and leaves the link usable; a
concurrent second submit finds the row already spent; the one-response-per-dossier constraint is
the final guard.

A blank-ballot link (no dossier) takes the dossier code the citizen typed: it must be a dossier of the link's
unit; a wrong code, a missing one where the unit refuses anonymous ratings, or a dossier already rated is
refused and leaves the link usable.

On PostgreSQL the spend and the rating are one statement (``sipas.rating_statement.Gate``): the link's row locked
while unspent, the response, its answers and counts, then the link spent with its response; and that statement is
its own transaction when nothing else is written with it (a link with its dossier).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import bindparam, or_, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from sipas.catalogue import Catalogue
from sipas.driver_statements import DriverStatement
from sipas.errors import AlreadyRated, DomainError
from sipas.models import Response, ResponseChannel
from sipas.rating_statement import Gate, GateClosed
from sipas.responses import Prepared, Recorded, ResponseInput, find_by_idempotency_key, prepare_response, store_response
from sms_gateway.models_links import ShortLink


class LinkUsed(DomainError):
    code = "link_used"
    http_status = 409
    message_vi = "Hồ sơ này đã được đánh giá. Xin cảm ơn ông/bà."
    keeps_audit = True  # the link is marked spent (and a refused duplicate audited): commit


class LinkExpired(DomainError):
    code = "link_expired"
    http_status = 410
    message_vi = "Đường dẫn đánh giá đã hết hạn."


@dataclass(frozen=True)
class Submitted:
    response: Response
    replayed: bool = False


# Built once, on the driver's cursor (sipas.driver_statements; the session's copy of the link is set by hand).
_links = ShortLink.__table__
_SPEND = DriverStatement(update(_links).where(_links.c.id == bindparam("link"), _links.c.used_at.is_(None),
                                              or_(_links.c.expires_at.is_(None),
                                                  _links.c.expires_at > bindparam("now")))
                         .values(used_at=bindparam("now")))
_UNSPEND = DriverStatement(update(_links).where(_links.c.id == bindparam("link")).values(used_at=None))
_ANSWERED = DriverStatement(update(_links).where(_links.c.id == bindparam("link"))
                            .values(response_id=bindparam("response")))
# ``_SPEND`` and ``_ANSWERED`` in the rating's statement (PostgreSQL): the unspent link's row locked first (a second
# submit waits, then finds it spent), spent after the rating with its response's id, or with none when the rating
# was refused by a unique constraint (as the separate statements leave it); not spent when the dossier's return
# date was cleared meanwhile (``k``: the rating is refused as one checked before, which leaves the link)
_SPEND_GATE = (f"SELECT id FROM {_links.name} WHERE id = CAST(:g_link AS integer) AND used_at IS NULL\n"
               "  AND (expires_at IS NULL OR expires_at > CAST(:g_now AS timestamptz)) FOR UPDATE")
_SPEND_AFTER = (f"UPDATE {_links.name} SET used_at = CAST(:g_now AS timestamptz), response_id = (SELECT id FROM r)\n"
                "  WHERE id = CAST(:g_link AS integer) AND EXISTS (SELECT 1 FROM g)\n"
                "  AND (CAST(:d_dossier AS integer) IS NULL OR EXISTS (SELECT 1 FROM k)) RETURNING 1")


def _idempotency_key(link: ShortLink, client_key: str | None) -> str | None:
    cleaned = "".join(ch for ch in (client_key or "") if ch.isascii() and (ch.isalnum() or ch in "-_"))[:64]
    return f"link{link.id}:{cleaned}" if cleaned else None


def submit_via_link(
    session: Session,
    catalogue: Catalogue,
    link: ShortLink,
    answers: Mapping[str, str],
    *,
    comment: str | None,
    client_key: str | None,
    now: datetime,
    tz: tzinfo,
    dossier_code: str | None = None,
    alone: bool = False,
) -> Submitted:
    """Record the rating for the link's dossier and instrument and spend the link. Flushes only. ``alone``:
    the caller commits right after, writing nothing more (``store_response``).

    A submit with the key of the one that spent the link is a replay (``replayed``), also when both ran at once.
    Raises ``LinkUsed`` (already spent or the dossier already rated: commit, the audit event stays),
    ``LinkExpired``, or the core's validation errors (roll back: the link stays usable). ``dossier_code`` is read
    only for a blank-ballot link; there ``AlreadyRated`` is raised as is with the link left unspent (commit).
    """
    key = _idempotency_key(link, client_key)
    if link.used_at is not None:
        if key and link.response is not None and link.response.idempotency_key == key:
            return Submitted(link.response, replayed=True)  # a retry of the submit that spent it
        raise LinkUsed(detail=f"link {link.id} already used")
    if link.is_expired(now):
        raise LinkExpired(detail=f"link {link.id} expired")
    data = ResponseInput(
        instrument=link.instrument_code,
        channel=ResponseChannel(str(link.channel)),
        answers=answers,
        dossier_code=link.dossier.code if link.dossier is not None else (dossier_code or "").strip() or None,
        submitted_at=now,
        comment=comment,
        idempotency_key=key,
        source=f"link:{link.channel}",
        blank_ballot=link.dossier_id is None,
    )
    # Every check first, then the writes: on SQLite the first of them (the link's) takes the write lock, held from
    # there for the statements alone (sipas.storage.lock_on_write). A rating the checks refuse leaves the link as
    # it was; the spend still decides between two submits of one link.
    connection = session.connection()
    prepared = prepare_response(session, catalogue, link.unit, data, now=now, tz=tz, dossier=link.dossier)
    one_statement = connection.dialect.name == "postgresql"
    try:
        if one_statement:
            recorded = _store_spending(session, prepared, link, now=now, tz=tz,
                                       alone=alone and link.dossier_id is not None)
        else:
            if _SPEND.rowcount(connection, {"link": link.id, "now": now}) != 1:
                raise LinkUsed(detail=f"link {link.id} spent concurrently")
            recorded = store_response(session, prepared, now=now, tz=tz, actor=f"link:{link.channel}")
    except LinkUsed:
        # spent meanwhile by another submit: the same one sent twice at once (a double tap, a retry while the first
        # was still on its way) is a replay of the one that got there first, thanked as any replay is
        previous = find_by_idempotency_key(session, link.unit, data.source or "", key) if key else None
        if previous is None:
            raise
        return Submitted(previous, replayed=True)
    except AlreadyRated as exc:
        if link.dossier_id is None:  # the citizen typed a rated dossier: the sheet may still rate another one
            _UNSPEND.run(connection, {"link": link.id})
            raise
        raise LinkUsed(detail=f"dossier of link {link.id} already rated") from exc
    if not one_statement or recorded.replayed:  # (a replay: the response stored before)
        _ANSWERED.run(connection, {"link": link.id, "response": recorded.response.id})
    # what the two updates wrote, without reading the link back
    set_committed_value(link, "used_at", now)
    set_committed_value(link, "response_id", recorded.response.id)
    set_committed_value(link, "response", recorded.response)
    return Submitted(recorded.response, replayed=recorded.replayed)


def _store_spending(session: Session, prepared: Prepared, link: ShortLink, *, now: datetime, tz: tzinfo,
                    alone: bool) -> Recorded:
    gate = Gate("link_spend", _SPEND_GATE, _SPEND_AFTER, {"g_link": link.id, "g_now": now})
    try:
        return store_response(session, prepared, now=now, tz=tz, actor=f"link:{link.channel}", gate=gate,
                              alone=alone)
    except GateClosed:
        raise LinkUsed(detail=f"link {link.id} spent concurrently") from None
