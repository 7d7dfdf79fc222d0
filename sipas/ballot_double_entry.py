"""Double entry of a paper-ballot batch: a second clerk keys it blind, the differences are settled, then the
batch is confirmed and only then recorded (issue 11 §2, as survey data-entry tools do). Pure: no Flask.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from sipas.audit import audit
from sipas.ballots import (
    CLOSED,
    OPEN,
    BatchNotReady,
    NotYourEntry,
    already_rated_words,
    entry_for,
    line_count,
    lines,
    lock_batch,
    record_line,
)
from sipas.catalogue import Catalogue
from sipas.errors import AlreadyRated, DomainError, ValidationError
from sipas.models_ballots import BallotBatch, BallotLine


def finish_entry(session: Session, batch: BallotBatch, *, actor: str) -> int:
    """A clerk of a double-entry batch has keyed every ballot; returns the entry finished.

    A clerk who finishes entry 2 before keying a ballot of it becomes its clerk (``entry_for`` then refuses
    anyone else, a finish included): otherwise the entry would be done with nobody recorded, and a third clerk
    still offered it."""
    lock_batch(session, batch)
    entry = entry_for(batch, actor)
    if entry is None or not batch.double_entry or batch.status != OPEN:
        raise NotYourEntry(detail=f"{actor} keys no entry of batch {batch.id}")
    if entry == 1:
        batch.first_done = True
    else:
        batch.second_clerk = batch.second_clerk or actor
        batch.second_done = True
    audit(session, "ballot.entry_finished", actor=actor, unit=batch.unit, subject=f"lô {batch.id}", entry=entry,
          ballots=line_count(session, batch, entry))
    return entry


@dataclass(frozen=True)
class Difference:
    position: int
    first: BallotLine | None
    second: BallotLine | None


def differences(session: Session, batch: BallotBatch) -> list[Difference]:
    """Lines where the two entries disagree (answers or dossier code), or that one entry lacks."""
    first = {line.position: line for line in lines(session, batch, 1)}
    second = {line.position: line for line in lines(session, batch, 2)}
    found = []
    for position in sorted(first.keys() | second.keys()):
        a, b = first.get(position), second.get(position)
        if a is None or b is None or _view(a) != _view(b):
            found.append(Difference(position, a, b))
    return found


def resolve(session: Session, batch: BallotBatch, *, position: int, take: int, actor: str, now: datetime) -> None:
    """Settle one difference by taking entry ``take``'s version of line ``position`` into the other entry."""
    lock_batch(session, batch)
    if not (batch.double_entry and batch.first_done and batch.second_done and batch.status == OPEN
            and batch.confirmed_at is None):
        raise BatchNotReady("Chỉ đối chiếu khi cả hai lượt nhập đã kết thúc.", detail="both entries must be finished")
    if take not in (1, 2):
        raise ValidationError("Hãy chọn bản nhập thứ nhất hoặc thứ hai.", field="take", detail="take must be 1 or 2")
    chosen, other = (session.scalar(select(BallotLine).where(BallotLine.batch_id == batch.id, BallotLine.entry == e,
                                                             BallotLine.position == position))
                     for e in (take, 3 - take))
    if chosen is None and other is None:
        raise ValidationError(f"Không có phiếu số {position} trong lô.", field="position",
                              detail=f"no line {position}")
    before = {"first": _line_view(chosen if take == 1 else other), "second": _line_view(other if take == 1 else chosen)}
    if chosen is None:
        assert other is not None
        session.delete(other)
    elif other is None:
        session.add(BallotLine(batch_id=batch.id, entry=3 - take, position=position, answers=dict(chosen.answers),
                               dossier_code=chosen.dossier_code, comment=chosen.comment,
                               submit_key=f"resolve-{position}-{now.timestamp()}",
                               entered_by=actor, entered_at=now))
    else:
        other.answers, other.dossier_code, other.comment = dict(chosen.answers), chosen.dossier_code, chosen.comment
        other.revision += 1
    session.flush()
    audit(session, "ballot.difference_resolved", actor=actor, unit=batch.unit,
          subject=f"lô {batch.id}, phiếu {position}", take=take, before=before)


def _view(line: BallotLine) -> tuple[object, ...]:
    """What two entries must agree on: answers, dossier code, comment (spacing aside)."""
    return line.answers, line.dossier_code or "", " ".join((line.comment or "").split())


def _line_view(line: BallotLine | None) -> dict[str, object] | None:
    return None if line is None else {"answers": dict(line.answers), "dossier_code": line.dossier_code}


@dataclass(frozen=True)
class LineProblem:
    position: int
    message: str


def confirm(session: Session, catalogue: Catalogue, batch: BallotBatch, *, actor: str, now: datetime,
            tz: tzinfo) -> list[LineProblem]:
    """Record every line of an agreed double-entry batch and close it; nothing is recorded if one line fails.

    Returns the lines refused (their position and reason); the caller rolls back when there are any."""
    lock_batch(session, batch)
    if not (batch.double_entry and batch.first_done and batch.second_done and batch.status == OPEN
            and batch.confirmed_at is None):
        raise BatchNotReady("Chỉ xác nhận khi cả hai lượt nhập đã kết thúc.", detail="both entries must be finished")
    if differences(session, batch):
        raise BatchNotReady("Còn phiếu nhập khác nhau giữa hai lượt: hãy đối chiếu trước khi xác nhận.",
                            detail="unresolved differences")
    problems = []
    for line in lines(session, batch, 1):
        try:
            with session.begin_nested():
                record_line(session, catalogue, batch, line, actor=actor, now=now, tz=tz)
                session.flush()
        except AlreadyRated:
            problems.append(LineProblem(line.position, already_rated_words(line.dossier_code, "không được tính")))
        except DomainError as exc:
            problems.append(LineProblem(line.position, exc.message_vi))
    if problems:
        return problems
    batch.status, batch.closed_at, batch.confirmed_at = CLOSED, now, now
    audit(session, "ballot.batch_confirmed", actor=actor, unit=batch.unit, subject=f"lô {batch.id}",
          ballots=line_count(session, batch), handed_out=batch.handed_out)
    return []
