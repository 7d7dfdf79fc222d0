"""The tallies (``sipas.tally``, and the dossier events kept by triggers, ``sipas.dossier_events``) equal a
straight recount, and the reports read from them equal the reports recounted from every raw row, on random
data with edits: replayed re-imports (idempotency keys), refused second ratings, dossiers corrected one by one
and re-imported from a file (the set-based swap) with another field, intake channel and return date, deleted
responses."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from aggregator.ranking import build_ranking
from aggregator.report import build_report
from sipas.catalogue import NOT_APPLICABLE, Catalogue
from sipas.clock import Period
from sipas.dossiers import DossierInput, upsert_dossier
from sipas.errors import AlreadyRated, DossierNotReturned, ValidationError
from sipas.imports import import_dossiers
from sipas.models import Dossier, IntakeChannel, Response, ResponseChannel, Unit
from sipas.parsing import INTAKE_LABELS_VI
from sipas.responses import ResponseInput, record_response
from sipas.tally import rebuild, uncount_response
from tests.aggregator.tally_recount import recount, stored
from tests.factories import SECRET, TZ, create_district_with_wards
from tests.imports.helpers import DOSSIER_HEADER, csv_bytes, dossier_row

NOW = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)
FIRST_DAY = date(2025, 12, 20)
FIELDS = ("Hộ tịch", "Đất đai", "")
PERIODS = (Period.quarter(2026, 1), Period(date(2026, 2, 14), date(2026, 3, 2)), Period(date(2025, 12, 1),
                                                                                          date(2026, 4, 30)))

rate = st.tuples(st.just("rate"), st.integers(0, 2), st.sampled_from(list(ResponseChannel)),
                 st.integers(0, 110), st.integers(0, 23), st.lists(st.integers(0, 9), min_size=12, max_size=12),
                 st.sampled_from([None, "k1", "k2"]), st.one_of(st.none(), st.just("new"), st.integers(0, 30)),
                 st.sampled_from(["hue12", "hue12", "quay4"]))
redo = st.tuples(st.just("redo"), st.integers(0, 30), st.sampled_from(FIELDS), st.integers(-3, 3))
forget = st.tuples(st.just("delete"), st.integers(0, 60))
import_row = st.tuples(st.integers(0, 30), st.sampled_from(FIELDS), st.sampled_from(list(IntakeChannel)),
                       st.one_of(st.none(), st.integers(-3, 3)), st.booleans())
reimport = st.tuples(st.just("import"), st.integers(0, 2), st.lists(import_row, min_size=1, max_size=4))
OPS = st.lists(st.one_of(rate, rate, rate, redo, forget, reimport), min_size=1, max_size=14)


def _answers(catalogue: Catalogue, code: str, day: date, choices: list[int]) -> dict[str, str]:
    answers = {}
    for criterion, choice in zip(catalogue.current(code, day).citizen_criteria, choices, strict=False):
        n = len(criterion.options) + (1 if criterion.allow_na else 0)
        index = choice % n
        answers[criterion.code] = NOT_APPLICABLE if index == len(criterion.options) else criterion.options[index].code
    return answers


def _rate(session: Session, catalogue: Catalogue, wards: list[Unit], op: tuple[Any, ...]) -> None:
    _name, ward_index, channel, day, hour, choices, key, dossier_choice, code = op
    ward = wards[ward_index]
    submitted = datetime.combine(FIRST_DAY + timedelta(days=day), datetime.min.time(), TZ).replace(hour=hour)
    dossier_code = None
    if dossier_choice is None:
        channel = ResponseChannel.PAPER
    elif dossier_choice == "new":
        received = submitted - timedelta(days=(day % 7) + 1)
        dossier = upsert_dossier(session, ward, DossierInput(
            code=f"HS-{ward.id}-{day}-{hour}-{len(choices)}-{sum(choices)}", received_at=received,
            due_at=received + timedelta(days=day % 5), returned_at=submitted - timedelta(hours=hour % 3),
            field=FIELDS[day % 3]), tz=TZ, now=NOW, secret=SECRET, actor="test").dossier
        dossier_code = dossier.code
    else:
        codes = session.scalars(select(Dossier.code).where(Dossier.unit_id == ward.id).order_by(Dossier.id)).all()
        if not codes:
            return
        dossier_code = codes[dossier_choice % len(codes)]
    data = ResponseInput(instrument=code, channel=channel, answers=_answers(catalogue, code, submitted.date(), choices),
                         dossier_code=dossier_code, submitted_at=submitted.astimezone(UTC),
                         idempotency_key=key, source="import:test" if key else None)
    try:
        record_response(session, catalogue, ward, data, now=NOW, tz=TZ, actor="test")
    except (AlreadyRated, DossierNotReturned):  # a second rating on one form; a dossier imported as not returned
        pass
    except Exception as exc:  # a dossier re-imported as returned after the rating: refused, nothing stored
        if getattr(exc, "field", None) != "submitted_at":
            raise


def _redo(session: Session, op: tuple[Any, ...]) -> None:
    _name, index, field, shift = op
    dossiers = session.scalars(select(Dossier).order_by(Dossier.id)).all()
    if not dossiers:
        return
    d = dossiers[index % len(dossiers)]
    returned = d.returned_at + timedelta(days=shift) if d.returned_at else None
    try:
        upsert_dossier(session, d.unit, DossierInput(code=d.code, received_at=d.received_at, due_at=d.due_at,
                                                     returned_at=max(returned, d.received_at) if returned else None,
                                                     field=field, procedure=d.procedure,
                                                     intake_channel=d.intake_channel),
                       tz=TZ, now=NOW, secret=SECRET, actor="test")
    except ValidationError as exc:  # a rated dossier's return day moved past its first rating: refused, unchanged
        if exc.field != "returned_at":
            raise


def _day(at: datetime, fmt: str = "%d/%m/%Y %H:%M") -> str:
    return at.astimezone(TZ).strftime(fmt)


def _import(session: Session, wards: list[Unit], op: tuple[Any, ...]) -> None:
    """A file of the ward's dossiers: some already stored (field, channel, return day changed, or the return
    day cleared), some new; the swap writes them with set-based statements."""
    _name, ward_index, rows = op
    ward = wards[ward_index]
    stored_dossiers = session.scalars(select(Dossier).where(Dossier.unit_id == ward.id).order_by(Dossier.id)).all()
    lines, seen = [DOSSIER_HEADER], set()
    for n, (index, field, channel, shift, new) in enumerate(rows):
        if new or not stored_dossiers:
            received = datetime.combine(FIRST_DAY + timedelta(days=index * 3), datetime.min.time(), TZ).replace(hour=8)
            code, due = f"HS-IMP-{ward.id}-{index}-{n}", received + timedelta(days=index % 6)
        else:
            d = stored_dossiers[index % len(stored_dossiers)]
            code, received, due = d.code, d.received_at, d.due_at
        if code in seen:
            continue
        seen.add(code)
        returned = None if shift is None else max(received + timedelta(days=2 + shift), received)
        lines.append(dossier_row(code, received=_day(received), due=_day(due, "%d/%m/%Y") if due else "",
                                 returned=_day(returned) if returned else "", phone="", consent="",
                                 channel=INTAKE_LABELS_VI[channel], field=field))
    import_dossiers(session, ward, csv_bytes(lines), "hoso.csv", tz=TZ, now=NOW, secret=SECRET, actor="test",
                    skip_invalid=True)  # a rated dossier keeps its return day: that row is refused, the rest kept


def _delete(session: Session, op: tuple[Any, ...]) -> None:
    responses = session.scalars(select(Response).order_by(Response.id)).all()
    if not responses:
        return
    response = responses[op[1] % len(responses)]
    uncount_response(session, response, TZ)
    session.delete(response)
    session.flush()


def _without_time(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "generated_at"}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(ops=OPS, period=st.sampled_from(PERIODS), channel=st.sampled_from([None, "kiosk", "paper", "sms"]))
def test_fast_reports_equal_a_straight_recount(session: Session, catalogue: Catalogue, ops: list[tuple[Any, ...]],
                                                period: Period, channel: str | None) -> None:
    district = session.scalar(select(Unit).where(Unit.code == "TALLY-D"))
    if district is None:
        district, wards = create_district_with_wards(session, wards=3)
        district.code = "TALLY-D"
        session.commit()
    wards = session.scalars(select(Unit).where(Unit.parent_id == district.id).order_by(Unit.id)).all()
    for op in ops:
        if op[0] == "rate":
            _rate(session, catalogue, wards, op)
        elif op[0] == "redo":
            _redo(session, op)
        elif op[0] == "import":
            _import(session, wards, op)
        else:
            _delete(session, op)
    session.commit()

    expected = recount(session, catalogue, TZ)
    assert stored(session) == expected
    for units in ([district, *wards], [wards[0]]):
        kw: dict[str, Any] = {"tz": TZ, "now": NOW, "unit_label": units[0].name, "channel": channel}
        fast = build_report(session, catalogue, units, period, **kw)
        assert _without_time(fast) == _without_time(build_report(session, catalogue, units, period, recount=True, **kw))
    fast_ranking = build_ranking(session, catalogue, district, period, tz=TZ, now=NOW)
    slow_ranking = build_ranking(session, catalogue, district, period, tz=TZ, now=NOW, recount=True)
    assert _without_time(fast_ranking) == _without_time(slow_ranking)
    # the full recount (`sipas db retally`, the migrations' backfill: answers grouped by an integer per day-row key)
    rebuild(session.connection(), catalogue.dissatisfied_answers(), TZ)
    assert stored(session) == expected
    session.rollback()
