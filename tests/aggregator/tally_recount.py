"""A straight recount of the tallies (and of each response's ``negative`` flag) from the raw rows, in Python (no
SQL shared with ``sipas.tally``)."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from sipas.cases.rules import asks_for_action
from sipas.catalogue import Catalogue
from sipas.clock import local_date
from sipas.models import Dossier, IntakeChannel, Response
from sipas.models_tally import AnswerTally, DossierEventTally, ResponseTally


def recount(session: Session, catalogue: Catalogue, tz: tzinfo) -> dict[str, Counter[tuple[Any, ...]]]:
    """What each tally must hold (zero counts left out), recomputed from every response and answer."""
    answers: Counter[tuple[Any, ...]] = Counter()
    responses: Counter[tuple[Any, ...]] = Counter()
    dossiers: Counter[tuple[Any, ...]] = Counter()
    flags: Counter[tuple[Any, ...]] = Counter()
    for r in session.scalars(select(Response).options(selectinload(Response.answers))):
        instrument = catalogue.version(r.instrument_code, r.instrument_version)
        negative = any(a.option_code is not None and instrument.is_dissatisfied(a.criterion_code, a.option_code)
                       for a in r.answers)
        follow_up = negative or asks_for_action(r.comment)
        day = local_date(r.submitted_at, tz)
        for key in ((r.unit_id, "day", day, r.instrument_code, r.instrument_version, str(r.channel)),
                    (r.unit_id, "month", day.replace(day=1), r.instrument_code, r.instrument_version, str(r.channel))):
            responses[(*key, "responses")] += 1
            responses[(*key, "negative")] += int(negative)
            responses[(*key, "follow_up")] += int(follow_up)
            for a in r.answers:
                answers[(*key, a.criterion_code, a.option_code or "", a.points)] += 1
        if r.dossier_id is not None:
            dossiers[(r.dossier_id, "responses")] += 1
            dossiers[(r.dossier_id, "negative")] += int(follow_up)  # QĐ 766: dissatisfied or asking for action
        flags[(r.id,)] = int(negative)
        flags[(r.id, "follow_up")] = int(follow_up)
    return {"answers": _nonzero(answers), "responses": _nonzero(responses), "dossiers": _nonzero(dossiers),
            "negative_flags": _nonzero(flags), "dossier_events": _events(session, dossiers)}


def _handling(returned: date, due: date | None) -> str:
    if due is None or returned == due:
        return "on_time"
    return "early" if returned < due else "late"


def _events(session: Session, counts: Counter[tuple[Any, ...]]) -> Counter[tuple[Any, ...]]:
    """The one-day events of every dossier (``sipas.dossier_events``), from its dates and recounted ratings."""
    events: Counter[tuple[Any, ...]] = Counter()
    columns = (Dossier.id, Dossier.unit_id, Dossier.field, Dossier.intake_channel, Dossier.received_local_date,
               Dossier.due_local_date, Dossier.returned_local_date)
    for d in session.execute(select(*columns)):  # rows, not ORM objects: a session's objects may be stale
        online = d.intake_channel in (IntakeChannel.ONLINE_PARTIAL, IntakeChannel.ONLINE_FULL)
        negative, forms = counts[(d.id, "negative")] > 0, min(counts[(d.id, "responses")], 2)
        days: list[tuple[str, date | None, int, str]] = [("received", d.received_local_date, 0, ""),
                                                         ("due", d.due_local_date, 0, "")]
        if d.returned_local_date is not None:
            days.append(("returned", d.returned_local_date, forms, _handling(d.returned_local_date, d.due_local_date)))
            if d.due_local_date is not None:
                days.append(("cleared", max(d.returned_local_date, d.due_local_date + timedelta(days=1)), 0, ""))
        for kind, day, kind_forms, handling in days:
            if day is None:
                continue
            for grain, first in (("day", day), ("month", day.replace(day=1))):
                events[(d.unit_id, grain, first, d.field, kind, online, negative, kind_forms, handling)] += 1
            # a year row holds neither the class nor the forms (read only for the years before a period's)
            events[(d.unit_id, "year", day.replace(month=1, day=1), d.field, kind, online, negative, 0, "")] += 1
    return _nonzero(events)


def stored(session: Session) -> dict[str, Counter[tuple[Any, ...]]]:
    """What the tallies hold, in the shape of ``recount``."""
    answers: Counter[tuple[Any, ...]] = Counter()
    for t in session.scalars(select(AnswerTally)):
        answers[(t.unit_id, t.grain, t.local_date, t.instrument_code, t.instrument_version, str(t.channel),
                 t.criterion_code, t.option_code, t.points)] += t.answers
    responses: Counter[tuple[Any, ...]] = Counter()
    for rt in session.scalars(select(ResponseTally)):
        key = (rt.unit_id, rt.grain, rt.local_date, rt.instrument_code, rt.instrument_version, str(rt.channel))
        responses[(*key, "responses")] += rt.responses
        responses[(*key, "negative")] += rt.negative
        responses[(*key, "follow_up")] += rt.follow_up
    dossiers: Counter[tuple[Any, ...]] = Counter()
    for dossier_id, count, negative in session.execute(select(Dossier.id, Dossier.responses,
                                                              Dossier.negative_responses)):
        dossiers[(dossier_id, "responses")] += count
        dossiers[(dossier_id, "negative")] += negative
    events: Counter[tuple[Any, ...]] = Counter()
    for e in session.scalars(select(DossierEventTally)):
        events[(e.unit_id, e.grain, e.local_date, e.field, e.kind, bool(e.online), bool(e.negative), e.forms,
                e.handling)] += e.dossiers
    flags: Counter[tuple[Any, ...]] = Counter()
    for rid, negative, follow_up in session.execute(select(Response.id, Response.negative, Response.follow_up)):
        flags[(rid,)] = int(negative)
        flags[(rid, "follow_up")] = int(follow_up)
    return {"answers": _nonzero(answers), "responses": _nonzero(responses), "dossiers": _nonzero(dossiers),
            "negative_flags": _nonzero(flags), "dossier_events": _nonzero(events)}


def _nonzero(counts: Counter[tuple[Any, ...]]) -> Counter[tuple[Any, ...]]:
    """Zero counts left out (a tally row may fall back to 0); a negative count stays, to be caught."""
    return Counter({key: n for key, n in counts.items() if n != 0})
