"""Aggregate SQL for the reports: every figure is a COUNT/SUM grouped in the database.

Dossier figures use the ``*_local_date`` columns (local calendar days), responses use
``submitted_at`` within ``Period.utc_bounds(tz)``. See ``aggregator.report`` for the definitions.
A "dissatisfied" answer is one the catalogue marks so (``Catalogue.dissatisfied_answers``), passed
in as (instrument, version, criterion, option) keys, never guessed from the points.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select, tuple_
from sqlalchemy.orm import Session

from aggregator import fast
from aggregator.dossier_figures import DOSSIER_COLUMNS, ONLINE, read_figures
from aggregator.models import QuarterInput
from sipas.clock import Period
from sipas.models import Answer, Dossier, Response, ResponseChannel
from sipas.text import vietnamese_key

DissatisfiedKeys = Sequence[tuple[str, str, str, str]]


@dataclass(frozen=True)
class Scope:
    """Which rows a report covers: units, local days, and the optional field / response channel."""

    unit_ids: tuple[int, ...]
    period: Period
    start_utc: datetime
    end_utc: datetime
    as_of: date
    field: str | None = None
    channel: ResponseChannel | None = None
    tz: tzinfo = UTC  # the local time zone and today, for the follow-up cases of index 8
    today: date | None = None
    recount: bool = False  # read the raw rows even where a tally exists (the property test's reference)

    @property
    def tallied(self) -> bool:
        """The response figures can come from the tallies (``aggregator.fast``): no field filter."""
        return not self.recount and self.field is None


def _count(condition: ColumnElement[bool]) -> Any:
    """Rows where ``condition`` holds (``COUNT(*) FILTER``: 0 on no rows, ~10 % cheaper than ``SUM(CASE …)``)."""
    return func.count().filter(condition)


def dissatisfied_answer(keys: DissatisfiedKeys) -> ColumnElement[bool]:
    """The answer (joined to its response) is one the catalogue marks as dissatisfied."""
    return tuple_(Response.instrument_code, Response.instrument_version, Answer.criterion_code,
                  Answer.option_code).in_(list(keys))


def dossiers_by_field(session: Session, scope: Scope, dissatisfied: DissatisfiedKeys) -> list[dict[str, Any]]:
    """Biểu II.06a counts per field (one row per field, in Vietnamese alphabetical order: "Đất đai" after "Dân
    tộc", not after every other letter as code points put it)."""
    if not scope.recount:
        rows = [{"field": field, **counts} for field, counts in read_figures(
            session, scope.unit_ids, scope.period.start, scope.period.end, scope.as_of, scope.field,
            by_unit=False).items()]
    else:
        rows = [{"field": row[0], **{name: int(value) for name, value in zip(DOSSIER_COLUMNS, row[1:], strict=True)}}
                for row in session.execute(_dossier_counts(scope, dissatisfied, Dossier.field))]
    return sorted(rows, key=lambda r: (r["field"] is None, vietnamese_key(r["field"] or "")))


def dossiers_by_unit(session: Session, scope: Scope, dissatisfied: DissatisfiedKeys) -> dict[int, dict[str, Any]]:
    """The same counts per unit (all fields together): the district ranking in one pass."""
    if not scope.recount:
        return {unit: {"field": None, **counts} for unit, counts in read_figures(
            session, scope.unit_ids, scope.period.start, scope.period.end, scope.as_of, scope.field,
            by_unit=True).items()}
    return {int(row[0]): {"field": None, **{name: int(value) for name, value in
                                            zip(DOSSIER_COLUMNS, row[1:], strict=True)}}
            for row in session.execute(_dossier_counts(scope, dissatisfied, Dossier.unit_id))}


def _dossier_counts(scope: Scope, dissatisfied: DissatisfiedKeys, group: Any) -> Select[Any]:
    """The straight definition, dossier by dossier, over the raw rows: the reference the event tally
    (``aggregator.dossier_figures``) is checked against, and what a recount reads."""
    d, start, end = Dossier, scope.period.start, scope.period.end
    online = d.intake_channel.in_(ONLINE)
    resolved = d.returned_local_date.between(start, end)
    late = and_(resolved, d.due_local_date.is_not(None), d.returned_local_date > d.due_local_date)
    in_progress = or_(d.returned_local_date.is_(None), d.returned_local_date > end)
    overdue = and_(in_progress, d.due_local_date.is_not(None), d.due_local_date < scope.as_of)
    # QĐ 766: "không hài lòng hoặc có phản ánh, kiến nghị": a dissatisfied answer, or a comment asking for action
    negative = or_(exists(select(Answer.id).join(Response, Response.id == Answer.response_id)
                          .where(Response.dossier_id == d.id, dissatisfied_answer(dissatisfied))),
                   exists(select(Response.id).where(Response.dossier_id == d.id, Response.follow_up.is_(True))))
    rated = exists(select(Response.id).where(Response.dossier_id == d.id))
    several = select(func.count(func.distinct(Response.instrument_code))).where(
        Response.dossier_id == d.id).scalar_subquery() > 1
    columns = [
        _count(and_(d.received_local_date >= start, online)),
        _count(and_(d.received_local_date >= start, ~online)),
        _count(d.received_local_date < start),
        _count(resolved),
        _count(and_(resolved, d.due_local_date.is_not(None), d.returned_local_date < d.due_local_date)),
        _count(and_(resolved, or_(d.due_local_date.is_(None), d.returned_local_date == d.due_local_date))),
        _count(late),
        _count(in_progress),
        _count(overdue),
        _count(and_(online, or_(late, overdue))),
        _count(or_(late, overdue, negative)),
        _count(and_(resolved, rated)),
        _count(and_(resolved, several)),
    ]
    stmt = (select(group, *columns).select_from(d).where(d.unit_id.in_(scope.unit_ids), d.received_local_date <= end,
                       or_(d.returned_local_date.is_(None), d.returned_local_date >= start))
            .group_by(group).order_by(group))
    if scope.field is not None:
        stmt = stmt.where(d.field == scope.field)
    return stmt


def in_scope(scope: Scope, stmt: Select[Any], *, channel: bool = True) -> Select[Any]:
    stmt = stmt.where(Response.unit_id.in_(scope.unit_ids), Response.submitted_at >= scope.start_utc,
                      Response.submitted_at < scope.end_utc)
    if channel and scope.channel is not None:
        stmt = stmt.where(Response.channel == scope.channel)
    if scope.field is not None:
        stmt = stmt.join(Dossier, Dossier.id == Response.dossier_id).where(Dossier.field == scope.field)
    return stmt


def responses_by_instrument(session: Session, scope: Scope) -> list[tuple[str, str, int]]:
    """(instrument code, version, responses)."""
    if scope.tallied:
        return fast.responses_by_instrument(session, scope.unit_ids, scope.period.start, scope.period.end,
                                            scope.channel)
    stmt = in_scope(scope, select(Response.instrument_code, Response.instrument_version, func.count(Response.id))
                      .group_by(Response.instrument_code, Response.instrument_version))
    return [(code, version, int(n)) for code, version, n in session.execute(stmt)]


def responses_by_channel(session: Session, scope: Scope) -> dict[str, int]:
    """Responses per channel (ignores the channel filter, so the split is always complete)."""
    if scope.tallied:
        return fast.responses_by_channel(session, scope.unit_ids, scope.period.start, scope.period.end)
    stmt = in_scope(scope, select(Response.channel, func.count(Response.id)).group_by(Response.channel),
                      channel=False)
    return {str(channel): int(n) for channel, n in session.execute(stmt)}


def paper_by_unit(session: Session, scope: Scope) -> dict[int, int]:
    """Paper ballots recorded per unit in the period (ignores the channel filter, as ``responses_by_channel``)."""
    if scope.tallied:
        return fast.paper_by_unit(session, scope.unit_ids, scope.period.start, scope.period.end)
    stmt = in_scope(scope, select(Response.unit_id, func.count(Response.id)).group_by(Response.unit_id)
                    .where(Response.channel == ResponseChannel.PAPER), channel=False)
    return {int(unit_id): int(n) for unit_id, n in session.execute(stmt)}


AnswerGroup = tuple[str, str, str, str | None, int, int | None]


def answer_groups(session: Session, scope: Scope) -> list[AnswerGroup]:
    """(instrument, version, criterion, option or None for not applicable, count, points of that option).

    One GROUP BY feeds the option counts, the index points and the overall satisfaction: an option's
    points are fixed within an instrument version, so ``max(points)`` is the option's points.
    """
    if scope.tallied:
        return fast.answer_groups(session, scope.unit_ids, scope.period.start, scope.period.end, scope.channel)
    stmt = in_scope(scope, select(Response.instrument_code, Response.instrument_version, Answer.criterion_code,
                                  Answer.option_code, func.count(Answer.id), func.max(Answer.points))
                    .join(Answer, Answer.response_id == Response.id)
                    .group_by(Response.instrument_code, Response.instrument_version, Answer.criterion_code,
                              Answer.option_code))
    return [(i, v, c, o, int(n), None if p is None else int(p)) for i, v, c, o, n, p in session.execute(stmt)]


def answer_groups_by_unit(session: Session, scope: Scope) -> dict[int, list[AnswerGroup]]:
    """``answer_groups`` of each unit of the scope, in one query (the district ranking)."""
    if scope.tallied:
        rows = fast.answer_groups(session, scope.unit_ids, scope.period.start, scope.period.end, scope.channel,
                                  by_unit=True)
    else:
        stmt = in_scope(scope, select(Response.unit_id, Response.instrument_code, Response.instrument_version,
                                      Answer.criterion_code, Answer.option_code, func.count(Answer.id),
                                      func.max(Answer.points))
                        .join(Answer, Answer.response_id == Response.id)
                        .group_by(Response.unit_id, Response.instrument_code, Response.instrument_version,
                                  Answer.criterion_code, Answer.option_code))
        rows = [(u, i, v, c, o, int(n), None if p is None else int(p)) for u, i, v, c, o, n, p in session.execute(stmt)]
    result: dict[int, list[AnswerGroup]] = {}
    for unit_id, *group in rows:
        result.setdefault(int(unit_id), []).append(tuple(group))  # type: ignore[arg-type]
    return result


def points_by_criterion(groups: list[AnswerGroup]) -> list[tuple[str, str, str, int, int]]:
    """(instrument, version, criterion, sum of points, answers with points) from the answer groups."""
    totals: dict[tuple[str, str, str], tuple[int, int]] = {}
    for instrument, version, criterion, option, count, points in groups:
        if option is None or points is None:
            continue
        before = totals.get((instrument, version, criterion), (0, 0))
        totals[(instrument, version, criterion)] = (before[0] + count * points, before[1] + count)
    return [(*key, p, n) for key, (p, n) in totals.items()]


def _negative(dissatisfied: DissatisfiedKeys) -> Any:
    """The current response has at least one dissatisfied answer (correlated with the outer Response)."""
    return exists(select(Answer.id).where(Answer.response_id == Response.id, dissatisfied_answer(dissatisfied)))


def negative_responses(session: Session, scope: Scope, dissatisfied: DissatisfiedKeys) -> int:
    """Responses with at least one dissatisfied answer: follow-up candidates."""
    if scope.tallied:
        return fast.negative_responses(session, scope.unit_ids, scope.period.start, scope.period.end, scope.channel)
    stmt = in_scope(scope, select(func.count(Response.id)).where(_negative(dissatisfied)))
    return int(session.scalar(stmt) or 0)


def recent_comments(session: Session, scope: Scope, dissatisfied: DissatisfiedKeys,
                    limit: int = 30) -> list[tuple[Any, ...]]:
    """(id, submitted_at, channel, instrument, comment, negative, unit id) of the latest commented responses."""
    stmt = in_scope(scope, select(Response.id, Response.submitted_at, Response.channel, Response.instrument_code,
                                    Response.comment, _negative(dissatisfied), Response.unit_id)
                      .where(Response.comment.is_not(None), Response.comment != "")
                      .order_by(Response.submitted_at.desc(), Response.id.desc()).limit(limit))
    return [tuple(row) for row in session.execute(stmt)]


def quarters_overlapping(period: Period) -> list[tuple[int, int]]:
    """Every (year, quarter) that shares at least one day with the period."""
    result = []
    year, quarter = period.start.year, (period.start.month - 1) // 3 + 1
    while Period.quarter(year, quarter).start <= period.end:
        result.append((year, quarter))
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return result


@dataclass(frozen=True)
class StaffFigures:
    index_points: dict[int, tuple[int, int]]
    ballots: tuple[tuple[int, int, int, int], ...]  # (unit id, year, quarter, handed out) as entered


def staff_inputs(session: Session, unit_ids: Sequence[int], period: Period) -> StaffFigures:
    """Index 5, 6, 8 sums and the ballots handed out, of the quarters overlapping the period."""
    q = QuarterInput
    quarters = quarters_overlapping(period)
    where = (q.unit_id.in_(unit_ids), tuple_(q.year, q.quarter).in_(quarters))
    stmt = select(
        func.coalesce(func.sum(q.index5_points), 0), func.count(q.index5_points),
        func.coalesce(func.sum(q.index6_points), 0), func.count(q.index6_points),
        func.coalesce(func.sum(q.index8_points), 0), func.count(q.index8_points),
    ).where(*where)
    row = session.execute(stmt).one()
    points = {5: (int(row[0]), int(row[1])), 6: (int(row[2]), int(row[3])), 8: (int(row[4]), int(row[5]))}
    ballots = session.execute(select(q.unit_id, q.year, q.quarter, q.ballots_handed_out)
                              .where(*where, q.ballots_handed_out.is_not(None)))
    return StaffFigures({k: v for k, v in points.items() if v[1] > 0},
                        tuple((int(u), int(y), int(n), int(b)) for u, y, n, b in ballots))


def staff_points_by_unit(session: Session, unit_ids: Sequence[int], period: Period) -> dict[int, StaffFigures]:
    """``staff_inputs`` of each unit alone, index points only (the district ranking), in one query."""
    q = QuarterInput
    stmt = select(
        q.unit_id,
        func.coalesce(func.sum(q.index5_points), 0), func.count(q.index5_points),
        func.coalesce(func.sum(q.index6_points), 0), func.count(q.index6_points),
        func.coalesce(func.sum(q.index8_points), 0), func.count(q.index8_points),
    ).where(q.unit_id.in_(unit_ids), tuple_(q.year, q.quarter).in_(quarters_overlapping(period))).group_by(q.unit_id)
    result = {}
    for unit_id, *row in session.execute(stmt):
        points = {5: (int(row[0]), int(row[1])), 6: (int(row[2]), int(row[3])), 8: (int(row[4]), int(row[5]))}
        result[int(unit_id)] = StaffFigures({k: v for k, v in points.items() if v[1] > 0}, ())
    return result
