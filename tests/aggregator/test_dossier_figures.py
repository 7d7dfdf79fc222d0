"""``aggregator.dossier_figures``: the one-day event algebra equals the per-dossier definition of every
Biểu II.06a figure on random dossiers, periods and "as of" days, and the figures read from the event tally
equal the per-dossier SQL (``aggregator.queries``, ``recount``) on both backends, for a period still running
(as of today, with dossiers returned after today) as well as one that is over."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from aggregator.dossier_figures import (
    CLEARED,
    DOSSIER_COLUMNS,
    DUE,
    RECEIVED,
    RETURNED,
    Event,
    figures_from_events,
    handling_class,
)
from aggregator.queries import Scope, dossiers_by_field, dossiers_by_unit
from sipas.clock import Period
from sipas.dossiers import DossierInput, upsert_dossier
from sipas.models import Dossier, IntakeChannel
from sipas.models_tally import DossierEventTally
from tests.factories import SECRET, TZ, create_district_with_wards, local

FIRST = date(2026, 1, 1)
NOW = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Case:
    online: bool
    received: date
    due: date | None
    returned: date | None
    negative: bool
    forms: int


def per_dossier(cases: list[Case], start: date, end: date, as_of: date) -> dict[str, int]:
    """The straight definition, dossier by dossier, as the SQL recount states it."""
    out = dict.fromkeys(DOSSIER_COLUMNS, 0)
    for c in cases:
        if not (c.received <= end and (c.returned is None or c.returned >= start)):
            continue
        resolved = c.returned is not None and start <= c.returned <= end
        late = resolved and c.due is not None and c.returned > c.due  # type: ignore[operator]
        in_progress = c.returned is None or c.returned > end
        overdue = in_progress and c.due is not None and c.due < as_of
        flags = {
            "received_online": c.received >= start and c.online,
            "received_direct_postal": c.received >= start and not c.online,
            "carried_over": c.received < start,
            "resolved": resolved,
            "early": resolved and c.due is not None and c.returned < c.due,  # type: ignore[operator]
            "on_time": resolved and (c.due is None or c.returned == c.due),
            "late": late,
            "in_progress": in_progress,
            "in_progress_overdue": overdue,
            "online_late": c.online and (late or overdue),
            "unsatisfied_or_late": late or overdue or c.negative,
            "rated": resolved and c.forms > 0,
            "rated_on_several_forms": resolved and c.forms > 1,
        }
        for name, flag in flags.items():
            out[name] += int(flag)
    return out


def events(cases: list[Case], as_of: date, end: date) -> tuple[list[Event], list[tuple[bool, bool, int]]]:
    """The one-day events the tally stores, and the dossiers returned within (as_of, end] with a due day
    before as_of (read from the dossiers by the report)."""
    counts: Counter[tuple[Any, ...]] = Counter()
    after: Counter[tuple[bool, bool]] = Counter()
    for c in cases:
        counts[(RECEIVED, c.received, c.online, c.negative, 0, None)] += 1
        if c.returned is not None:
            counts[(RETURNED, c.returned, c.online, c.negative, c.forms, handling_class(c.returned, c.due))] += 1
        if c.due is not None:
            counts[(DUE, c.due, c.online, c.negative, 0, None)] += 1
        if c.due is not None and c.returned is not None:
            counts[(CLEARED, max(c.returned, c.due + timedelta(days=1)), c.online, c.negative, 0, None)] += 1
            if as_of < c.returned <= end and c.due < as_of:
                after[(c.online, c.negative)] += 1
    return ([Event(*key, dossiers=n) for key, n in counts.items()],
            [(online, negative, n) for (online, negative), n in after.items()])


@st.composite
def cases(draw: st.DrawFn) -> Case:
    received = FIRST + timedelta(days=draw(st.integers(0, 120)))
    due = draw(st.one_of(st.none(), st.integers(0, 20).map(lambda d: received + timedelta(days=d))))
    returned = draw(st.one_of(st.none(), st.integers(0, 40).map(lambda d: received + timedelta(days=d))))
    return Case(draw(st.booleans()), received, due, returned, draw(st.booleans()), draw(st.integers(0, 2)))


@settings(max_examples=300, deadline=None)
@given(st.lists(cases(), max_size=40), st.integers(0, 150), st.integers(0, 100), st.integers(0, 100))
def test_one_day_events_give_the_per_dossier_figures(dossiers: list[Case], first: int, length: int,
                                                     before_end: int) -> None:
    start = FIRST + timedelta(days=first)
    end = start + timedelta(days=length)
    as_of = end - timedelta(days=min(before_end, length + 30))  # as_of ≤ end, sometimes before the start
    found, after = events(dossiers, as_of, end)
    assert figures_from_events(found, start, end, as_of, after) == per_dossier(dossiers, start, end, as_of)


def test_as_of_after_the_end_is_refused() -> None:
    try:
        figures_from_events([], date(2026, 1, 1), date(2026, 1, 31), date(2026, 2, 1))
    except ValueError:
        return
    raise AssertionError("as_of after the end accepted")


FIELDS = ("Hộ tịch", "Đất đai", "")
# received from two years before 2026 (the year rows) to April 2026
dossier_op = st.tuples(st.integers(0, 1), st.integers(-800, 100), st.one_of(st.none(), st.integers(0, 15)),
                       st.one_of(st.none(), st.integers(0, 40)), st.sampled_from(list(IntakeChannel)),
                       st.sampled_from(FIELDS), st.integers(0, 3), st.integers(0, 3))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(st.lists(dossier_op, min_size=1, max_size=25),
       st.sampled_from([Period.quarter(2026, 1), Period(date(2026, 2, 14), date(2026, 3, 2)),
                        Period.quarter(2026, 2), Period(date(2025, 11, 20), date(2026, 2, 9)),
                        Period(date(2024, 12, 30), date(2025, 12, 31))]),
       st.integers(-40, 0), st.sampled_from([None, "Hộ tịch"]))
def test_figures_read_from_the_tally_equal_the_per_dossier_definition(
        session: Session, dossiers: list[tuple[Any, ...]], period: Period, today_shift: int,
        field: str | None) -> None:
    """Through the real triggers and the real read, on both backends. The rating counts are set on the dossier
    rows (what the events carry); ``today`` falls within the period or at its end, so that dossiers returned
    after today (a period still running) are counted too."""
    _district, wards = create_district_with_wards(session, wards=2)
    expected: dict[tuple[str, Any], list[Case]] = {}
    for n, (ward, received, due, returned, channel, dossier_field, responses, negative) in enumerate(dossiers):
        at = local(2026, 1, 1) + timedelta(days=received)
        dossier = upsert_dossier(session, wards[ward], DossierInput(
            code=f"HS-FIG-{n}", received_at=at, field=dossier_field, intake_channel=channel,
            due_at=None if due is None else at + timedelta(days=due),
            returned_at=None if returned is None else at + timedelta(days=returned)),
            tz=TZ, now=NOW, secret=SECRET, actor="test").dossier
        session.flush()
        session.execute(update(Dossier).where(Dossier.id == dossier.id).values(
            responses=responses, negative_responses=min(negative, responses)))
        case = Case(channel in (IntakeChannel.ONLINE_PARTIAL, IntakeChannel.ONLINE_FULL), at.date(),
                    None if due is None else (at + timedelta(days=due)).date(),
                    None if returned is None else (at + timedelta(days=returned)).date(),
                    min(negative, responses) > 0, min(responses, 2))
        if field is None or dossier_field == field:
            expected.setdefault(("field", dossier_field), []).append(case)
            expected.setdefault(("unit", wards[ward].id), []).append(case)
    session.commit()
    today = max(period.end + timedelta(days=today_shift), period.start - timedelta(days=3))
    as_of = min(period.end, today)
    start_utc, end_utc = period.utc_bounds(TZ)
    scope = Scope(tuple(w.id for w in wards), period, start_utc, end_utc, as_of, field=field, tz=TZ)
    want = {key: per_dossier(group, period.start, period.end, as_of) for key, group in expected.items()}
    want = {key: counts for key, counts in sorted(want.items(), key=lambda kv: str(kv[0])) if any(counts.values())}
    got = {("field", row.pop("field")): row for row in dossiers_by_field(session, scope, [])}
    got |= {("unit", unit): {k: v for k, v in row.items() if k != "field"}
            for unit, row in dossiers_by_unit(session, scope, []).items()}
    assert got == want


def test_a_period_reads_the_years_before_it_from_the_year_rows_alone(session: Session) -> None:
    """History is read as one row set per year (``core_0022``): with every month and day row before the
    period's year gone, a 2026 quarter's figures are the same, however many years of dossiers came before."""
    _district, wards = create_district_with_wards(session, wards=2)
    for n in range(60):  # 2023 to 2026: some returned within days, some still open, some late, online or not
        at = local(2023, 1, 5) + timedelta(days=n * 20)
        returned = None if n % 7 == 0 else at + timedelta(days=n % 12)
        upsert_dossier(session, wards[n % 2], DossierInput(
            code=f"HS-YEARS-{n}", received_at=at, field=("Hộ tịch", "Đất đai")[n % 2],
            intake_channel=(IntakeChannel.DIRECT, IntakeChannel.ONLINE_FULL)[n % 3 == 0],
            due_at=at + timedelta(days=n % 9), returned_at=returned), tz=TZ, now=NOW, secret=SECRET, actor="test")
    session.commit()
    period = Period.quarter(2026, 1)
    start_utc, end_utc = period.utc_bounds(TZ)
    scope = Scope(tuple(w.id for w in wards), period, start_utc, end_utc, period.end, tz=TZ)
    recount = Scope(tuple(w.id for w in wards), period, start_utc, end_utc, period.end, tz=TZ, recount=True)
    figures = dossiers_by_field(session, scope, []), dossiers_by_unit(session, scope, [])
    assert figures == (dossiers_by_field(session, recount, []), dossiers_by_unit(session, recount, []))
    assert figures[0][0]["carried_over"] > 0  # the history matters to this quarter
    gone = session.execute(delete(DossierEventTally).where(DossierEventTally.grain.in_(("day", "month")),
                                                           DossierEventTally.local_date < date(2026, 1, 1)))
    assert gone.rowcount > 0
    assert (dossiers_by_field(session, scope, []), dossiers_by_unit(session, scope, [])) == figures
    session.rollback()
