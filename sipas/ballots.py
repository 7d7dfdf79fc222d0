"""Paper ballots keyed at the counter (issue 11 §2): batches, keyed lines, corrections.

A clerk keys each ballot as one digit per criterion, in the order the options are printed on the ballot
(the option order of the criterion file: 1 is the first option, 2 the second, ...), ``0`` or ``-`` for
"không áp dụng". Every saved line becomes a paper response through ``record_response`` (the same rules
as every channel), with an idempotency key per batch line and revision so that a resent form never
stores a ballot twice.

In a double-entry batch a second clerk keys the same ballots blind; nothing is recorded until both
entries agree line by line and the batch is confirmed (``sipas.ballot_double_entry``), so reports never
count an unconfirmed batch. Digits → answers: ``sipas.ballot_keys``. Pure domain functions: no Flask.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from sipas.audit import audit
from sipas.ballot_keys import answers_from_keys
from sipas.cases.models import FollowUpCase, FollowUpCaseEvent
from sipas.catalogue import Catalogue, Instrument
from sipas.clock import local_date
from sipas.errors import AlreadyRated, DomainError, ValidationError
from sipas.models import AuditEvent, Response, ResponseChannel, Unit
from sipas.models_ballots import BallotBatch, BallotLine
from sipas.responses import ResponseInput, checked_comment, record_response, resolve_instrument
from sipas.tally import uncount_response
from sipas.text import is_storable, storable

PAPER_SOURCE = "paper-batch"
BALLOT_DOUBLE_ENTRY = "ballot_double_entry"  # the unit option (Unit.options) a new batch takes its default from
MAX_HANDED_OUT = 100_000
OPEN, CLOSED = "open", "closed"


class BatchClosed(DomainError):
    code = "batch_closed"
    http_status = 409
    message_vi = "Lô phiếu đã đóng. Hãy mở lại lô để sửa hoặc nhập thêm."


class NotYourEntry(DomainError):
    code = "not_your_entry"
    http_status = 409
    message_vi = "Lô phiếu này đã có đủ hai cán bộ nhập; tài khoản này không nhập được lô này."


class MoreThanHandedOut(DomainError):
    """Phiếu thu vào cannot exceed phiếu phát ra: one more ballot is one keyed twice, or the count is wrong."""

    code = "more_than_handed_out"
    http_status = 409


class BatchNotReady(DomainError):
    code = "batch_not_ready"
    http_status = 409
    message_vi = "Chưa thể xác nhận lô phiếu."


def batch_instrument(catalogue: Catalogue, batch: BallotBatch) -> Instrument:
    """The version of the batch's instrument in effect on the day its ballots were filled in."""
    return catalogue.current(batch.instrument_code, batch.batch_date)


def ballot_time(batch_date: date, now: datetime, tz: tzinfo) -> datetime:
    """When a ballot of the batch counts as given: midday of the batch day, never later than now."""
    midday = datetime.combine(batch_date, time(12, 0), tzinfo=tz)
    return min(midday, now)


def create_batch(session: Session, catalogue: Catalogue, unit: Unit, *, instrument_code: str, batch_date: date,
                 handed_out: int, double_entry: bool, actor: str, now: datetime, tz: tzinfo) -> BallotBatch:
    if batch_date > local_date(now, tz):
        raise ValidationError("Ngày của lô phiếu ở tương lai.", field="batch_date", detail="batch_date in future")
    if not 0 <= handed_out <= MAX_HANDED_OUT:
        raise ValidationError("Số phiếu phát ra phải là số nguyên từ 0 trở lên.", field="handed_out",
                              detail=f"handed_out out of range 0..{MAX_HANDED_OUT}")
    resolve_instrument(catalogue, instrument_code, ballot_time(batch_date, now, tz), tz)
    batch = BallotBatch(unit_id=unit.id, instrument_code=instrument_code, batch_date=batch_date,
                        handed_out=handed_out, double_entry=double_entry, status=OPEN, first_clerk=actor,
                        created_at=now)
    session.add(batch)
    session.flush()
    audit(session, "ballot.batch_created", actor=actor, unit=unit, subject=f"lô {batch.id}",
          batch_date=batch_date.isoformat(), handed_out=handed_out, double_entry=double_entry,
          instrument=instrument_code)
    return batch


def entry_for(batch: BallotBatch, actor: str) -> int | None:
    """Which entry ``actor`` keys: any clerk keys a single-entry batch; in a double-entry batch 1 is the clerk
    who opened it and 2 the first other clerk who keys it (blind); anyone else keys neither."""
    if not batch.double_entry or actor == batch.first_clerk:
        return 1
    if batch.double_entry and batch.second_clerk in (None, actor):
        return 2
    return None


def lines(session: Session, batch: BallotBatch, entry: int = 1) -> list[BallotLine]:
    return list(session.scalars(select(BallotLine).where(BallotLine.batch_id == batch.id, BallotLine.entry == entry)
                                .order_by(BallotLine.position)))


def line_count(session: Session, batch: BallotBatch, entry: int = 1) -> int:
    return session.scalar(select(func.count()).select_from(BallotLine)
                          .where(BallotLine.batch_id == batch.id, BallotLine.entry == entry)) or 0


def record_line(session: Session, catalogue: Catalogue, batch: BallotBatch, line: BallotLine, *, actor: str,
            now: datetime, tz: tzinfo) -> None:
    data = ResponseInput(instrument=batch.instrument_code, channel=ResponseChannel.PAPER, answers=line.answers,
                         dossier_code=line.dossier_code, submitted_at=ballot_time(batch.batch_date, now, tz),
                         comment=line.comment,
                         idempotency_key=f"b{batch.id}-l{line.id}-r{line.revision}", source=PAPER_SOURCE)
    line.response = record_response(session, catalogue, batch.unit, data, now=now, tz=tz, actor=actor).response


@contextmanager
def _undone_on_refusal(session: Session, *, keep_on_success: bool = True) -> Iterator[None]:
    """Run writes in a savepoint, undone when they raise — or always, ``keep_on_success`` False (a trial).

    A ballot refused as ``AlreadyRated`` keeps the ``response.duplicate_refused`` event ``record_response`` wrote
    (``keeps_audit``: the caller commits), as the other channels do; nothing else of the refused line stays."""
    work = session.begin_nested()
    try:
        yield
    except AlreadyRated:
        refusals = [_copy(event) for event in session.new
                    if isinstance(event, AuditEvent) and event.action == "response.duplicate_refused"]
        work.rollback()
        session.add_all(refusals)
        raise
    except BaseException:
        work.rollback()
        raise
    if keep_on_success:
        work.commit()
    else:
        work.rollback()


def _copy(event: AuditEvent) -> AuditEvent:
    """A pending audit event as a new row (the savepoint's rollback expunges the one written inside it)."""
    return AuditEvent(action=event.action, actor=event.actor, unit_id=event.unit_id, subject=event.subject,
                      details=dict(event.details))


def _check(session: Session, catalogue: Catalogue, batch: BallotBatch, answers: dict[str, str],
           dossier_code: str | None, *, actor: str, now: datetime, tz: tzinfo) -> None:  # comment checked apart
    """Apply every rule of ``record_response`` (dossier returned, not yet rated, ...) and store nothing (but the
    audit event of a refused duplicate)."""
    data = ResponseInput(instrument=batch.instrument_code, channel=ResponseChannel.PAPER, answers=answers,
                         dossier_code=dossier_code, submitted_at=ballot_time(batch.batch_date, now, tz))
    with _undone_on_refusal(session, keep_on_success=False):
        record_response(session, catalogue, batch.unit, data, now=now, tz=tz, actor=actor)


def _clean_dossier_code(value: str | None) -> str | None:
    code = " ".join((value or "").split())
    if not code:
        return None
    if len(code) > 64 or not is_storable(code):
        raise ValidationError("Mã hồ sơ không hợp lệ (tối đa 64 ký tự).", field="dossier_code",
                              detail="dossier code too long or not storable")
    return code


def lock_batch(session: Session, batch: BallotBatch) -> None:
    """Hold the batch row until commit: two clerks saving at once get consecutive positions (PostgreSQL; SQLite's
    write transactions are serial already) and see each other's status changes."""
    session.refresh(batch, with_for_update=True)


def save_line(session: Session, catalogue: Catalogue, batch: BallotBatch, *, keys: Mapping[str, str],
              dossier_code: str | None, submit_key: str, actor: str, now: datetime, tz: tzinfo,
              position: int | None = None, comment: str | None = None) -> BallotLine:
    """Save one keyed ballot: a new line (``position`` None), or a correction of line ``position``.

    A resend with a ``submit_key`` this entry already saved returns that line unchanged. A correction of
    a counted line replaces its response and is audited with the answers before and after. Flushes;
    the caller commits, or rolls back on a ``DomainError`` — but commits on ``AlreadyRated`` (``keeps_audit``):
    the line's writes are undone then, and only the refusal's audit event is left to commit.
    """
    lock_batch(session, batch)
    if batch.status != OPEN:
        raise BatchClosed(detail=f"batch {batch.id} is {batch.status}")
    entry = entry_for(batch, actor)
    if entry is None:
        raise NotYourEntry(detail=f"batch {batch.id} already has two clerks")
    if (batch.first_done if entry == 1 else batch.second_done):
        raise BatchClosed("Lượt nhập này đã kết thúc. Hãy mở lại lô để sửa.", detail=f"entry {entry} finished")
    if not submit_key or len(submit_key) > 64 or not submit_key.isascii():
        raise ValidationError("Biểu mẫu không hợp lệ, hãy tải lại trang.", field="submit_key",
                              detail="missing or malformed submit_key")
    previous = session.scalar(select(BallotLine).where(BallotLine.batch_id == batch.id, BallotLine.entry == entry,
                                                       BallotLine.submit_key == submit_key))
    if previous is not None:
        return previous
    answers = answers_from_keys(batch_instrument(catalogue, batch), keys)
    code = _clean_dossier_code(dossier_code)
    note = " ".join(storable(checked_comment(comment) or "").split()) or None
    try:
        with _undone_on_refusal(session):
            if entry == 2 and batch.second_clerk is None:
                batch.second_clerk = actor
            if position is None:
                return _add_line(session, catalogue, batch, entry, answers=answers, code=code, note=note,
                                 submit_key=submit_key, actor=actor, now=now, tz=tz)
            return _correct_line(session, catalogue, batch, entry, position, answers=answers, code=code,
                                 note=note, submit_key=submit_key, actor=actor, now=now, tz=tz)
    except AlreadyRated as exc:
        raise AlreadyRated(already_rated_words(code, "không được lưu"), field="dossier_code",
                           detail=exc.detail) from exc


def already_rated_words(dossier_code: str | None, outcome: str) -> str:
    """A refused ballot of a dossier already rated, in the clerk's words: which dossier, and what became of the
    ballot (``outcome``). ``AlreadyRated``'s own sentence thanks the citizen at the kiosk ("Xin cảm ơn ông/bà"),
    which the clerk keying a paper ballot is not."""
    return f"{f'Hồ sơ {dossier_code}' if dossier_code else 'Hồ sơ này'} đã được đánh giá; phiếu này {outcome}."


def _add_line(session: Session, catalogue: Catalogue, batch: BallotBatch, entry: int, *, answers: dict[str, str],
              code: str | None, note: str | None, submit_key: str, actor: str, now: datetime,
              tz: tzinfo) -> BallotLine:
    """A new line at the end of ``entry``, recorded at once when the batch counts at once, checked otherwise.

    Each entry holds at most ``handed_out`` lines (so neither entry of a double-entry batch, nor a difference
    resolved into one, exceeds it); a wrong count is corrected with ``set_handed_out``."""
    counts_now = counts_at_once(batch)
    keyed = line_count(session, batch, entry)
    if keyed >= batch.handed_out:
        raise MoreThanHandedOut(
            f"Đã nhập đủ {keyed} phiếu, bằng số phiếu phát ra của lô; phiếu thu vào không thể nhiều hơn phiếu phát "
            "ra nên phiếu này không được lưu. Nếu phiếu này đã nhập rồi, hãy bỏ qua; nếu số phiếu phát ra ghi sai, "
            "hãy sửa ô “Số phiếu phát ra” ở mục “Thao tác với lô” rồi nhập lại phiếu này.",
            field="handed_out", detail=f"entry {entry} has {keyed} lines of {batch.handed_out} handed out")
    if not counts_now:
        _check(session, catalogue, batch, answers, code, actor=actor, now=now, tz=tz)
    line = BallotLine(batch_id=batch.id, entry=entry, position=keyed + 1,
                      answers=answers, dossier_code=code, comment=note, submit_key=submit_key, entered_by=actor,
                      entered_at=now)
    session.add(line)
    session.flush()
    if counts_now:
        record_line(session, catalogue, batch, line, actor=actor, now=now, tz=tz)
        session.flush()
    return line


def _correct_line(session: Session, catalogue: Catalogue, batch: BallotBatch, entry: int, position: int, *,
                  answers: dict[str, str], code: str | None, note: str | None, submit_key: str, actor: str,
                  now: datetime, tz: tzinfo) -> BallotLine:
    """Line ``position`` of ``entry`` keyed again: its response replaced (a follow-up case goes on), audited."""
    line = session.scalar(select(BallotLine).where(BallotLine.batch_id == batch.id, BallotLine.entry == entry,
                                                   BallotLine.position == position))
    if line is None:
        raise ValidationError(f"Không có phiếu số {position} trong lô.", field="position",
                              detail=f"no line {position} in entry {entry}")
    before = {"answers": dict(line.answers), "dossier_code": line.dossier_code}
    comment_changed = (line.comment or "") != (note or "")
    kept_case = _case_of(session, line.response) if line.response is not None else None
    if line.response is not None:
        _delete_response(session, line, tz)
    line.answers, line.dossier_code, line.comment, line.revision = answers, code, note, line.revision + 1
    line.submit_key, line.entered_by, line.entered_at = submit_key, actor, now
    session.flush()
    if counts_at_once(batch):
        record_line(session, catalogue, batch, line, actor=actor, now=now, tz=tz)
    else:
        _check(session, catalogue, batch, answers, code, actor=actor, now=now, tz=tz)
    session.flush()
    if kept_case is not None and line.response is not None:
        _move_case(session, kept_case, line.response, actor=actor, now=now, where=f"lô {batch.id}, phiếu {position}")
    audit(session, "ballot.line_corrected", actor=actor, unit=batch.unit, subject=f"lô {batch.id}, phiếu {position}",
          entry=entry, before=before, after={"answers": answers, "dossier_code": code},
          comment_changed=comment_changed)  # never the comment itself (free text stays out of the audit log)
    return line


def set_handed_out(session: Session, batch: BallotBatch, handed_out: int, *, actor: str) -> None:
    """Correct the count of ballots handed out, written wrong when the batch was opened: an open batch only, and
    never below the ballots either entry has keyed (remove a ballot keyed twice first). Audited before → after."""
    lock_batch(session, batch)
    if batch.status != OPEN:
        raise BatchClosed(detail=f"batch {batch.id} is {batch.status}")
    if not 0 <= handed_out <= MAX_HANDED_OUT:
        raise ValidationError("Số phiếu phát ra phải là số nguyên từ 0 trở lên.", field="handed_out",
                              detail=f"handed_out out of range 0..{MAX_HANDED_OUT}")
    keyed = max(line_count(session, batch, 1), line_count(session, batch, 2))
    if handed_out < keyed:
        raise ValidationError(f"Lô đã nhập {keyed} phiếu: số phiếu phát ra không thể ít hơn. Nếu có phiếu nhập "
                              "nhầm, hãy xóa phiếu đó trước.", field="handed_out",
                              detail=f"handed_out {handed_out} below {keyed} lines keyed")
    if handed_out == batch.handed_out:
        return
    audit(session, "ballot.handed_out_changed", actor=actor, unit=batch.unit, subject=f"lô {batch.id}",
          before=batch.handed_out, after=handed_out)
    batch.handed_out = handed_out
    session.flush()  # a later lock_batch in this transaction refreshes the row: the new count must be in it


def remove_line(session: Session, batch: BallotBatch, *, position: int, actor: str, tz: tzinfo) -> None:
    """Take out a ballot keyed by mistake (twice, or not a ballot of this batch); later lines move up by one.

    Its response, if it counted, is deleted with it (and its counts); the removal is audited with what the line
    held."""
    lock_batch(session, batch)
    if batch.status != OPEN:
        raise BatchClosed(detail=f"batch {batch.id} is {batch.status}")
    entry = entry_for(batch, actor)
    if entry is None or (batch.first_done if entry == 1 else batch.second_done):
        raise NotYourEntry(detail=f"{actor} keys no open entry of batch {batch.id}")
    own = lines(session, batch, entry)
    line = next((line for line in own if line.position == position), None)
    if line is None:
        raise ValidationError(f"Không có phiếu số {position} trong lô.", field="position",
                              detail=f"no line {position} in entry {entry}")
    before = {"answers": dict(line.answers), "dossier_code": line.dossier_code}
    if line.response is not None:
        _delete_response(session, line, tz)
    session.delete(line)
    session.flush()
    for later in own:
        if later.position > position:
            later.position -= 1
            session.flush()  # one at a time, in order: (batch, entry, position) stays unique throughout
    audit(session, "ballot.line_removed", actor=actor, unit=batch.unit, subject=f"lô {batch.id}, phiếu {position}",
          entry=entry, before=before)


@dataclass(frozen=True)
class _KeptCase:
    """A follow-up case of a corrected ballot's response, and its trail, as values (the response goes, and with it
    the rows: ``follow_up_case.response_id`` cascades)."""

    values: dict[str, Any]
    events: list[dict[str, Any]]


def _values(row: object, *, leave: tuple[str, ...]) -> dict[str, Any]:
    """A mapped row's column values (its table's, so a column added later is kept too), ``leave`` left out."""
    return {attr.key: getattr(row, attr.key) for attr in inspect(row).mapper.column_attrs if attr.key not in leave}


def _case_of(session: Session, response: Response) -> _KeptCase | None:
    case = session.scalar(select(FollowUpCase).where(FollowUpCase.response_id == response.id))
    if case is None:
        return None  # not acted on yet: the corrected response is judged afresh
    events = [_values(event, leave=("id", "case_id")) for event in case.events]
    kept = _KeptCase(_values(case, leave=("id", "response_id", "updated_at")), events)
    for event in case.events:  # the database deletes the rows with the response: the session forgets them
        session.expunge(event)
    session.expunge(case)
    return kept


def _move_case(session: Session, kept: _KeptCase, response: Response, *, actor: str, now: datetime,
               where: str) -> None:
    """The case goes on with the corrected response: its status, answer date and trail are the work done, which
    index 8 judges (a typo fixed on another question turned a case answered on time into an overdue one)."""
    case = FollowUpCase(response_id=response.id, updated_at=now, **kept.values)
    case.events = [FollowUpCaseEvent(**event) for event in kept.events]
    sentence = f"Phiếu giấy được sửa ({where}); phản ánh giữ nguyên quá trình xử lý."
    case.events.append(FollowUpCaseEvent(at=now, actor=actor, action="ballot_corrected", sentence=sentence, details={}))
    session.add(case)
    session.flush()


def _delete_response(session: Session, line: BallotLine, tz: tzinfo) -> None:
    """Delete the response a line recorded, its counts first: the reports read the tallies and the dossier's rating
    counts (``sipas.tally``), which would otherwise keep a ballot that is no longer there."""
    response = line.response
    assert response is not None
    answers = list(response.answers)
    # deleted first: its table's write lock before the counts' rows, as a rating takes them (a retally holds the
    # table, then the counts: ``sipas.tally.hold_off_ratings``; the other order could deadlock with it)
    session.delete(response)
    session.flush()
    uncount_response(session, response, tz, answers=answers)
    line.response = None


def counts_at_once(batch: BallotBatch) -> bool:
    """A saved line is recorded at once: single entry, or a confirmed double-entry batch reopened to correct."""
    return not batch.double_entry or batch.confirmed_at is not None


def close_batch(session: Session, batch: BallotBatch, *, actor: str, now: datetime) -> None:
    """The batch is complete (its ballots already count). An unconfirmed double-entry batch closes by ``confirm``."""
    lock_batch(session, batch)
    if not counts_at_once(batch):
        raise BatchNotReady("Lô nhập hai lần được đóng khi xác nhận sau đối chiếu.", detail="double-entry batch")
    if batch.status == CLOSED:
        return
    batch.status, batch.closed_at = CLOSED, now
    audit(session, "ballot.batch_closed", actor=actor, unit=batch.unit, subject=f"lô {batch.id}",
          ballots=line_count(session, batch), handed_out=batch.handed_out)


def reopen_batch(session: Session, batch: BallotBatch, *, actor: str, now: datetime) -> None:
    """Open a closed batch again for corrections (or a finished entry, before confirmation).

    Recorded ballots keep counting; each correction replaces one response and is audited. A confirmed
    double-entry batch reopens for its first clerk, whose corrections then count at once."""
    lock_batch(session, batch)
    if batch.status == OPEN and not (batch.first_done or batch.second_done):
        return
    batch.status, batch.closed_at, batch.first_done = OPEN, None, False
    if batch.confirmed_at is None:
        batch.second_done = False  # a confirmed batch is corrected by its first clerk only, counting at once
    audit(session, "ballot.batch_reopened", actor=actor, unit=batch.unit, subject=f"lô {batch.id}")
