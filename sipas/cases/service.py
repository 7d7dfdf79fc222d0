"""Follow-up cases in the database: the list, the unit's case rules, and the actions on a case."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy import and_, exists, or_, select, text, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from sipas.audit import audit
from sipas.cases import rules
from sipas.cases.models import CaseStatus, FollowUpCase, FollowUpCaseEvent
from sipas.catalogue import Catalogue
from sipas.clock import Period, local_date
from sipas.errors import ValidationError
from sipas.models import FOLLOW_UP_CANDIDATE, Answer, Response, ResponseChannel, Unit, User
from sipas.text import storable

LIST_LIMIT = 500
NO_ASSIGNEE = -1  # the assignee filter "chưa giao"


@dataclass(frozen=True)
class CaseSettings:
    """A unit's case rules, kept in ``Unit.options``: the answer time and whether clerks see the dossier."""

    due_days: int = rules.DEFAULT_DUE_DAYS
    show_dossier: bool = False


def case_settings(unit: Unit) -> CaseSettings:
    options = unit.options or {}
    return CaseSettings(rules.check_due_days(options.get("case_due_days")),
                        options.get("case_show_dossier") is True)


def save_case_settings(session: Session, unit: Unit, due_days: str, show_dossier: bool, *, actor: str) -> CaseSettings:
    text = due_days.strip()
    if not text.isdigit() or not 1 <= int(text) <= rules.MAX_DUE_DAYS:
        raise ValidationError(f"Thời hạn trả lời phải là số ngày từ 1 đến {rules.MAX_DUE_DAYS}.", field="due_days",
                              detail="due_days must be an integer 1-90")
    before = case_settings(unit)
    unit.options = {**(unit.options or {}), "case_due_days": int(text), "case_show_dossier": show_dossier}
    audit(session, "cases.settings.saved", actor=actor, unit=unit, subject=unit.code,
          before={"due_days": before.due_days, "show_dossier": before.show_dossier},
          after={"due_days": int(text), "show_dossier": show_dossier})
    return case_settings(unit)


@dataclass(frozen=True)
class CaseFilters:
    period: Period | None = None
    criterion: str | None = None
    channel: ResponseChannel | None = None
    status: CaseStatus | None = None
    assignee_id: int | None = None  # NO_ASSIGNEE: not assigned
    overdue: bool = False


@dataclass(frozen=True)
class CaseRow:
    """One line of "Phản ánh cần xử lý": a response that needs follow-up and its case (None until acted on)."""

    response: Response
    case: FollowUpCase | None
    submitted_on: date
    dissatisfied: tuple[str, ...]  # criterion codes answered "dissatisfied"
    asks_for_action: bool
    status: CaseStatus
    due: date
    age_days: int
    overdue: bool

    @property
    def status_label(self) -> str:
        return rules.STATUS_LABELS[self.status]


def _dissatisfied_criteria(keys: set[tuple[str, str, str, str]], response: Response) -> tuple[str, ...]:
    return tuple(a.criterion_code for a in response.answers
                 if (response.instrument_code, response.instrument_version, a.criterion_code, a.option_code) in keys)


def case_row(catalogue: Catalogue, response: Response, case: FollowUpCase | None, *, tz: tzinfo,
             today: date, keys: set[tuple[str, str, str, str]] | None = None) -> CaseRow | None:
    """The row of a response, or None when it does not need follow-up."""
    dissatisfied = _dissatisfied_criteria(keys if keys is not None else set(catalogue.dissatisfied_answers()),
                                          response)
    action = rules.asks_for_action(response.comment)
    if not dissatisfied and not action and case is None:
        return None
    submitted_on = local_date(response.submitted_at, tz)
    if case is None:
        due = rules.due_date(submitted_on, case_settings(response.unit).due_days)
        status, answered_on = CaseStatus.OPEN, None
    else:
        status, due, answered_on = case.status, case.due_local_date, case.answered_local_date
    # the days stop at the answer, or at the closing of a case closed without one
    ended_on = answered_on or (local_date(case.closed_at, tz) if case is not None and case.closed_at else None)
    return CaseRow(response, case, submitted_on, dissatisfied, action, status, due,
                   rules.age_days(submitted_on, ended_on, today), rules.is_overdue(status, answered_on, due, today))


def _candidates(catalogue: Catalogue, unit_ids: Sequence[int]):  # type: ignore[no-untyped-def]
    keys = list(catalogue.dissatisfied_answers())
    negative = exists(select(Answer.id).where(
        Answer.response_id == Response.id,
        tuple_(Response.instrument_code, Response.instrument_version, Answer.criterion_code, Answer.option_code)
        .in_(keys)))
    commented = and_(Response.comment.is_not(None), Response.comment != "")
    return (select(Response, FollowUpCase).outerjoin(FollowUpCase, FollowUpCase.response_id == Response.id)
            .where(Response.unit_id.in_(list(unit_ids)), or_(negative, commented))
            .options(selectinload(Response.answers), selectinload(Response.unit)))


@dataclass(frozen=True)
class CasePage:
    """The first rows of a case list, with what the page says of the whole list."""

    rows: list[CaseRow]  # the first ``limit`` rows in list order (every row without a limit)
    total: int  # rows of the whole list
    overdue: int  # of them past their due date without an answer
    # criterion code -> (instrument code, version) of the last row of the whole list answering it dissatisfied:
    # the filter's choices, named as the view names them from a row
    criteria: dict[str, tuple[str, str]]


def list_cases(session: Session, catalogue: Catalogue, unit_ids: Sequence[int], filters: CaseFilters, *,
               tz: tzinfo, today: date) -> list[CaseRow]:
    """Every response of the units needing follow-up that matches the filters, oldest unanswered first."""
    return case_page(session, catalogue, unit_ids, filters, tz=tz, today=today, limit=None).rows


def case_page(session: Session, catalogue: Catalogue, unit_ids: Sequence[int], filters: CaseFilters, *,
              tz: tzinfo, today: date, limit: int | None = LIST_LIMIT) -> CasePage:
    """The list of ``list_cases`` without reading it whole: the rows are decided, counted and ordered from a few
    columns of the follow-up candidates (the partial index ``ix_response_follow_up``; a response is a case by its
    content when ``Response.follow_up`` is set, as the home's count and index 8 read it, or when a case was opened
    on it), the dissatisfied criteria from the answers of the negative ones only; the responses with their answers
    are loaded for the page's ``limit`` rows alone (a province's list read 111,714 candidates with their 1.3 M
    answers into Python: 103 s)."""
    ids = sorted(set(unit_ids))
    if not ids:
        return CasePage([], 0, 0, {})
    c = FollowUpCase
    where = [Response.unit_id.in_(ids), text(f"({FOLLOW_UP_CANDIDATE})")]
    if filters.period is not None:
        start, end = filters.period.utc_bounds(tz)
        where += [Response.submitted_at >= start, Response.submitted_at < end]
    if filters.channel is not None:
        where.append(Response.channel == filters.channel)
    facts = (select(Response.id, Response.unit_id, Response.submitted_at, c.status, c.due_local_date,
                    c.answered_local_date)
             .select_from(Response).outerjoin(c, c.response_id == Response.id)
             .where(*where, or_(Response.follow_up, c.id.is_not(None))))
    if filters.assignee_id == NO_ASSIGNEE:
        facts = facts.where(c.assignee_id.is_(None))
    elif filters.assignee_id is not None:
        facts = facts.where(c.assignee_id == filters.assignee_id)
    if filters.status is CaseStatus.OPEN:
        facts = facts.where(or_(c.id.is_(None), c.status == CaseStatus.OPEN))
    elif filters.status is not None:
        facts = facts.where(c.status == filters.status)
    due_days = {unit.id: case_settings(unit).due_days for unit in session.scalars(select(Unit).where(Unit.id.in_(ids)))}
    dissatisfied = _dissatisfied_by_response(session, catalogue, where)
    keyed: list[tuple[tuple[bool, date, int], bool]] = []
    for response_id, unit_id, submitted_at, status, due, answered_on in session.connection().execute(facts).all():
        if status is None:
            status, due = CaseStatus.OPEN, rules.due_date(local_date(submitted_at, tz), due_days[unit_id])
        if filters.criterion and filters.criterion not in dissatisfied.get(response_id, ((), ("", "")))[0]:
            continue
        overdue = rules.is_overdue(status, answered_on, due, today)
        if filters.overdue and not overdue:
            continue
        keyed.append(((rules.is_answered(status), due, response_id), overdue))
    keyed.sort(key=lambda k: k[0])
    criteria: dict[str, tuple[str, str]] = {}
    for (_answered, _due, response_id), _overdue in keyed:
        codes, instrument = dissatisfied.get(response_id, ((), ("", "")))
        for code in codes:
            criteria[code] = instrument
    page = [response_id for (_answered, _due, response_id), _overdue in
            (keyed if limit is None else keyed[:limit])]
    return CasePage(_rows(session, catalogue, page, tz=tz, today=today), len(keyed),
                    sum(overdue for _key, overdue in keyed), criteria)


def _dissatisfied_by_response(session: Session, catalogue: Catalogue,
                              where: list[Any]) -> dict[int, tuple[tuple[str, ...], tuple[str, str]]]:
    """The dissatisfied criteria and the instrument of every negative candidate of ``where`` (the criteria in no
    particular order: the filter's choices are a set, and a page's rows read them from their answers)."""
    keys = list(catalogue.dissatisfied_answers())
    found: dict[int, tuple[list[str], tuple[str, str]]] = {}
    if keys:
        for response_id, code, version, criterion in session.connection().execute(
                select(Response.id, Response.instrument_code, Response.instrument_version, Answer.criterion_code)
                .select_from(Response).join(Answer, Answer.response_id == Response.id)
                .where(*where, Response.negative,
                       tuple_(Response.instrument_code, Response.instrument_version, Answer.criterion_code,
                              Answer.option_code).in_(keys))).all():
            found.setdefault(response_id, ([], (code, version)))[0].append(criterion)
    return {response_id: (tuple(codes), instrument) for response_id, (codes, instrument) in found.items()}


def _rows(session: Session, catalogue: Catalogue, response_ids: list[int], *, tz: tzinfo,
          today: date) -> list[CaseRow]:
    """The rows of these responses, in this order, each loaded with its answers, unit, case and assignee."""
    keys, rows = set(catalogue.dissatisfied_answers()), []
    loaded: dict[int, tuple[Response, FollowUpCase | None]] = {}
    for start in range(0, len(response_ids), 500):
        chunk = response_ids[start:start + 500]
        for response, case in session.execute(
                select(Response, FollowUpCase).outerjoin(FollowUpCase, FollowUpCase.response_id == Response.id)
                .where(Response.id.in_(chunk))
                .options(selectinload(Response.answers), selectinload(Response.unit),
                         selectinload(FollowUpCase.assignee))):
            loaded[response.id] = (response, case)
    for response_id in response_ids:
        if response_id not in loaded:  # deleted since its facts were read (PostgreSQL reads each statement anew)
            continue
        row = case_row(catalogue, *loaded[response_id], tz=tz, today=today, keys=keys)
        if row is not None:
            rows.append(row)
    return rows


def find_row(session: Session, catalogue: Catalogue, unit_ids: Sequence[int], response_id: int, *, tz: tzinfo,
             today: date) -> CaseRow | None:
    found = session.execute(_candidates(catalogue, unit_ids).where(Response.id == response_id)).first()
    return None if found is None else case_row(catalogue, found[0], found[1], tz=tz, today=today)


def add_event(session: Session, case: FollowUpCase, action: str, sentence: str, *, actor: str, now: datetime,
           **details: object) -> FollowUpCaseEvent:
    event = FollowUpCaseEvent(case=case, at=now, actor=actor, action=action, sentence=sentence, details=details)
    session.add(event)
    case.updated_at = now
    audit(session, f"cases.{action}", actor=actor, unit=case.response.unit, subject=f"response:{case.response_id}",
          status=case.status.value)
    return event


def ensure_case(session: Session, row: CaseRow, *, actor: str, who: str, now: datetime) -> FollowUpCase:
    """The case row of a listed response, created (status open) at the first action on it."""
    if row.case is not None:
        return row.case
    case = FollowUpCase(unit_id=row.response.unit_id, response_id=row.response.id, status=CaseStatus.OPEN,
                        due_local_date=row.due, created_at=now, updated_at=now)
    try:
        with session.begin_nested():  # another clerk may open the same case at the same moment
            session.add(case)
            session.flush()
    except IntegrityError:
        existing = session.scalar(select(FollowUpCase).where(FollowUpCase.response_id == row.response.id))
        if existing is None:
            raise
        return existing
    add_event(session, case, "opened", f"{who} tiếp nhận phản ánh; hạn trả lời {row.due:%d/%m/%Y}.", actor=actor,
           now=now)
    return case


def _text(value: str, label: str, field: str) -> str:
    text = storable(value).strip()
    if len(text) > rules.MAX_TEXT:
        raise ValidationError(f"{label} dài quá {rules.MAX_TEXT} ký tự.", field=field, detail="too long")
    return text


def assign(session: Session, case: FollowUpCase, assignee: User, *, actor: str, who: str, now: datetime) -> None:
    if case.status is CaseStatus.CLOSED:
        raise ValidationError("Phản ánh đã đóng, không giao lại được.", field="assignee", detail="case closed")
    case.assignee_id = assignee.id
    name = assignee.full_name or assignee.username
    if case.status is CaseStatus.OPEN:
        case.status = CaseStatus.IN_PROGRESS
    add_event(session, case, "assigned", f"{who} giao xử lý cho {name}.", actor=actor, now=now,
              assignee=assignee.username)


def record(session: Session, case: FollowUpCase, *, explanation: str, contact_made: str, outcome: str, actor: str,
           who: str, now: datetime) -> None:
    """Record what was done; each non-empty field replaces the case's text and is quoted in the trail."""
    if case.status is CaseStatus.CLOSED:
        raise ValidationError("Phản ánh đã đóng, không ghi thêm được.", field="explanation", detail="case closed")
    fields = {"explanation": (_text(explanation, "Nội dung giải trình", "explanation"), "giải trình"),
              "contact_made": (_text(contact_made, "Liên hệ với người dân", "contact_made"), "liên hệ"),
              "outcome": (_text(outcome, "Kết quả", "outcome"), "kết quả")}
    given = {name: value for name, (value, _label) in fields.items() if value}
    if not given:
        raise ValidationError("Hãy ghi ít nhất một nội dung: giải trình, liên hệ hoặc kết quả.", field="explanation",
                              detail="nothing to record")
    for name, value in given.items():
        setattr(case, name, value)
    if case.status is CaseStatus.OPEN:
        case.status = CaseStatus.IN_PROGRESS
    said = "; ".join(f"{fields[name][1]}: {value.rstrip(' .;')}" for name, value in given.items())
    add_event(session, case, "recorded", f"{who} ghi nhận {said}.", actor=actor, now=now, fields=sorted(given))


def move(session: Session, case: FollowUpCase, target: CaseStatus, *, actor: str, who: str, now: datetime,
         tz: tzinfo) -> None:
    """Change the status; answering needs an explanation or an outcome and stamps the answer date."""
    if not rules.can_move(case.status, target):
        raise ValidationError(f"Không thể chuyển từ «{rules.STATUS_LABELS[case.status]}» sang "
                              f"«{rules.STATUS_LABELS[target]}».", field="status",
                              detail=f"no transition {case.status.value} -> {target.value}")
    if target is CaseStatus.ANSWERED and not (case.explanation or case.outcome):
        raise ValidationError("Hãy ghi nội dung giải trình hoặc kết quả trước khi đánh dấu đã trả lời.",
                              field="status", detail="answer needs an explanation or an outcome")
    before = case.status
    case.status = target
    if target is CaseStatus.ANSWERED:
        case.answered_at, case.answered_local_date = now, local_date(now, tz)
        late = (case.answered_local_date - case.due_local_date).days
        when = "đúng hạn" if late <= 0 else f"quá hạn {late} ngày"
        sentence = f"{who} đã trả lời người dân ({when})."
    elif target is CaseStatus.CLOSED:
        case.closed_at = now
        sentence = f"{who} đóng phản ánh."
    else:
        if before is CaseStatus.ANSWERED:
            case.answered_at = case.answered_local_date = None
        sentence = (f"{who} chuyển phản ánh từ «{rules.STATUS_LABELS[before]}» sang "
                    f"«{rules.STATUS_LABELS[target]}».")
    add_event(session, case, "status", sentence, actor=actor, now=now, before=before.value, after=target.value)
