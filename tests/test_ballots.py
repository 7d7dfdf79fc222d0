"""Paper ballots keyed at the counter (issue 11 §2): keys, batches, corrections, double entry, reports."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from aggregator.report import build_report
from sipas.ballot_double_entry import confirm, differences, finish_entry, resolve
from sipas.ballot_keys import answers_from_keys, keys_from_answers
from sipas.ballots import (
    BatchClosed,
    BatchNotReady,
    NotYourEntry,
    close_batch,
    create_batch,
    lines,
    remove_line,
    reopen_batch,
    save_line,
    set_handed_out,
)
from sipas.catalogue import Catalogue
from sipas.clock import Period
from sipas.errors import DomainError, ValidationError
from sipas.models import AuditEvent, Response, ResponseChannel
from sipas.models_ballots import BallotBatch
from sipas.storage import get_database
from tests.aggregator.tally_recount import recount, stored
from tests.factories import TZ, create_dossier, create_unit, local

NOW = local(2026, 3, 20, 15)
DAY = date(2026, 3, 20)
A, B = "user:canbo.a", "user:canbo.b"


def _batch(session: Session, catalogue: Catalogue, *, double_entry: bool = False, instrument: str = "quay4",  # type: ignore[no-untyped-def]
           handed_out: int = 10):
    unit = create_unit(session)
    return create_batch(session, catalogue, unit, instrument_code=instrument, batch_date=DAY, handed_out=handed_out,
                        double_entry=double_entry, actor=A, now=NOW, tz=TZ)


def _key(session, catalogue, batch, keys: str, *, actor: str = A, dossier: str | None = None,  # type: ignore[no-untyped-def]
         position: int | None = None, submit_key: str | None = None):
    codes = ["q1", "q2", "q3", "q4"]
    return save_line(session, catalogue, batch, keys=dict(zip(codes, keys, strict=True)), dossier_code=dossier,
                     submit_key=submit_key or f"{actor}-{keys}-{position}-{datetime.now(UTC).timestamp()}",
                     actor=actor, now=NOW, tz=TZ, position=position)


def _paper(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Response)
                          .where(Response.channel == ResponseChannel.PAPER)) or 0


def test_digits_follow_the_option_order_of_the_criterion_file(catalogue: Catalogue) -> None:
    quay4 = catalogue.current("quay4", DAY)
    answers = answers_from_keys(quay4, {"q1": "1", "q2": "3", "q3": "2", "q4": "3"})
    assert answers == {"q1": "rat_hai_long", "q2": "khong_hai_long", "q3": "cham_chap_nhan_duoc", "q4": "phuc_tap"}
    assert keys_from_answers(quay4, answers) == {"q1": "1", "q2": "3", "q3": "2", "q4": "3"}
    hue12 = catalogue.current("hue12", DAY)
    keys = {c.code: "1" for c in hue12.citizen_criteria} | {"tc02": "-"}
    assert answers_from_keys(hue12, keys)["tc02"] == "na"
    assert answers_from_keys(hue12, keys | {"tc02": "0"})["tc02"] == "na"


@pytest.mark.parametrize(("keys", "message"), [
    ({"q1": "4", "q2": "1", "q3": "1", "q4": "1"}, "Câu 1 (Nơi đón tiếp): “4” không phải lựa chọn"),
    ({"q1": "1", "q2": "", "q3": "1", "q4": "1"}, "chưa nhập: gõ 1, 2, 3."),
    ({"q1": "1", "q2": "1", "q3": "0", "q4": "1"}, "không có lựa chọn “Không áp dụng”"),
    ({"q1": "١", "q2": "1", "q3": "1", "q4": "1"}, "không phải lựa chọn"),  # an Arabic-Indic digit
])
def test_a_wrong_key_names_the_question_and_the_keys_allowed(catalogue: Catalogue, keys, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as refused:
        answers_from_keys(catalogue.current("quay4", DAY), keys)
    assert message in refused.value.message_vi and refused.value.field.startswith("keys.")


def test_each_saved_line_is_a_paper_response_and_a_resend_stores_nothing(session: Session, catalogue) -> None:  # type: ignore[no-untyped-def]
    batch = _batch(session, catalogue)
    dossier = create_dossier(session, batch.unit, code="HS-GIAY-1", received_at=local(2026, 3, 16),
                             returned_at=local(2026, 3, 18))
    first = _key(session, catalogue, batch, "1111", submit_key="k1")
    again = _key(session, catalogue, batch, "1111", submit_key="k1")
    second = _key(session, catalogue, batch, "2132", dossier="HS-GIAY-1")
    session.commit()
    assert again.id == first.id and [line.position for line in lines(session, batch)] == [1, 2]
    assert _paper(session) == 2
    assert second.response is not None and second.response.dossier_id == dossier.id
    assert second.response.source == "paper-batch" and second.response.submitted_at == local(2026, 3, 20, 12)
    assert [a.option_code for a in second.response.answers] == ["hai_long", "rat_hai_long", "khong_dung_hen",
                                                                "can_giam_giay_to"]


def test_a_ballot_for_an_unreturned_or_rated_dossier_is_refused_and_nothing_is_kept(session, catalogue) -> None:  # type: ignore[no-untyped-def]
    batch = _batch(session, catalogue)
    create_dossier(session, batch.unit, code="HS-CHUA-TRA", returned=False)
    with pytest.raises(DomainError) as refused:
        _key(session, catalogue, batch, "1111", dossier="HS-CHUA-TRA")
    assert refused.value.code == "not_returned"
    session.rollback()
    assert _paper(session) == 0


def test_a_correction_replaces_the_response_and_is_audited(session: Session, catalogue) -> None:  # type: ignore[no-untyped-def]
    batch = _batch(session, catalogue)
    _key(session, catalogue, batch, "1111")
    _key(session, catalogue, batch, "2222")
    close_batch(session, batch, actor=A, now=NOW)
    with pytest.raises(BatchClosed):
        _key(session, catalogue, batch, "3333", position=2)
    reopen_batch(session, batch, actor=A, now=NOW)
    corrected = _key(session, catalogue, batch, "3333", position=2)
    session.commit()
    assert _paper(session) == 2 and corrected.revision == 1
    assert corrected.response.answers[0].option_code == "khong_hai_long"
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "ballot.line_corrected"))
    assert event is not None and event.subject == f"lô {batch.id}, phiếu 2" and event.actor == A
    assert event.details["before"]["answers"]["q1"] == "hai_long"
    assert event.details["after"]["answers"]["q1"] == "khong_hai_long"
    actions = set(session.scalars(select(AuditEvent.action).where(AuditEvent.action.startswith("ballot."))))
    assert {"ballot.batch_created", "ballot.batch_closed", "ballot.batch_reopened"} <= actions


def test_a_double_entry_batch_counts_only_once_both_entries_agree(session: Session, catalogue) -> None:  # type: ignore[no-untyped-def]
    batch = _batch(session, catalogue, double_entry=True)
    q1 = Period.quarter(2026, 1)

    def reported() -> int:
        return build_report(session, catalogue, [batch.unit], q1, tz=TZ, now=NOW, unit_label="x")["responses"]

    for keys in ("1111", "2222", "1213"):
        _key(session, catalogue, batch, keys, actor=A)
    for keys in ("1111", "2322"):
        _key(session, catalogue, batch, keys, actor=B)
    with pytest.raises(NotYourEntry):
        _key(session, catalogue, batch, "1111", actor="user:canbo.c")
    session.commit()
    assert _paper(session) == 0 and reported() == 0
    with pytest.raises(BatchNotReady):
        confirm(session, catalogue, batch, actor=A, now=NOW, tz=TZ)
    finish_entry(session, batch, actor=A)
    finish_entry(session, batch, actor=B)
    found = differences(session, batch)
    assert [(d.position, d.first is not None, d.second is not None) for d in found] == [(2, True, True),
                                                                                        (3, True, False)]
    with pytest.raises(BatchNotReady):
        confirm(session, catalogue, batch, actor=A, now=NOW, tz=TZ)
    resolve(session, batch, position=2, take=1, actor=A, now=NOW)
    resolve(session, batch, position=3, take=1, actor=A, now=NOW)
    assert differences(session, batch) == []
    assert confirm(session, catalogue, batch, actor=A, now=NOW, tz=TZ) == []
    session.commit()
    assert _paper(session) == 3 and reported() == 3 and batch.status == "closed"
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "ballot.difference_resolved")) is not None


def test_a_confirmation_with_a_refused_line_records_nothing(session: Session, catalogue) -> None:  # type: ignore[no-untyped-def]
    batch = _batch(session, catalogue, double_entry=True)
    create_dossier(session, batch.unit, code="HS-2LAN", received_at=local(2026, 3, 16), returned_at=local(2026, 3, 18))
    for actor in (A, B):
        _key(session, catalogue, batch, "1111", actor=actor, dossier="HS-2LAN")
        _key(session, catalogue, batch, "2222", actor=actor, dossier="HS-2LAN")
        finish_entry(session, batch, actor=actor)
    problems = confirm(session, catalogue, batch, actor=A, now=NOW, tz=TZ)
    assert [p.position for p in problems] == [2]
    assert problems[0].message == "Hồ sơ HS-2LAN đã được đánh giá; phiếu này không được tính."  # not the kiosk's thanks
    session.rollback()
    assert _paper(session) == 0


def test_a_batch_dated_in_the_future_or_with_a_negative_count_is_refused(session: Session, catalogue) -> None:  # type: ignore[no-untyped-def]
    unit = create_unit(session)
    with pytest.raises(ValidationError) as future:
        create_batch(session, catalogue, unit, instrument_code="quay4", batch_date=date(2026, 3, 21), handed_out=1,
                     double_entry=False, actor=A, now=NOW, tz=TZ)
    assert future.value.field == "batch_date"
    with pytest.raises(ValidationError) as negative:
        create_batch(session, catalogue, unit, instrument_code="quay4", batch_date=DAY, handed_out=-1,
                     double_entry=False, actor=A, now=NOW, tz=TZ)
    assert negative.value.field == "handed_out"


def test_a_ballot_keyed_by_mistake_is_removed_and_the_later_ones_move_up(session: Session, catalogue) -> None:  # type: ignore[no-untyped-def]
    batch = _batch(session, catalogue)
    for keys in ("1111", "1111", "2222", "3333"):
        _key(session, catalogue, batch, keys)
    remove_line(session, batch, position=2, actor=A, tz=TZ)
    session.commit()
    assert [(line.position, line.answers["q1"]) for line in lines(session, batch)] == [
        (1, "rat_hai_long"), (2, "hai_long"), (3, "khong_hai_long")]
    assert _paper(session) == 3
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "ballot.line_removed"))
    assert event is not None and event.subject == f"lô {batch.id}, phiếu 2"
    with pytest.raises(ValidationError):
        remove_line(session, batch, position=9, actor=A, tz=TZ)


def test_a_corrected_or_removed_ballot_leaves_the_tallies_equal_to_a_recount(session: Session, catalogue) -> None:  # type: ignore[no-untyped-def]
    """The reports read the tallies: a correction or a removal takes the old response's counts away with it (they
    stayed: a removed duplicate still counted, a corrected "Không hài lòng" still made its dossier dissatisfied)."""
    batch = _batch(session, catalogue)
    first, second = (create_dossier(session, batch.unit, returned_at=local(2026, 3, 19, 9)) for _ in range(2))
    _key(session, catalogue, batch, "3333", dossier=first.code)
    _key(session, catalogue, batch, "1111", dossier=second.code)
    _key(session, catalogue, batch, "1111")
    _key(session, catalogue, batch, "1111")  # the same ballot keyed twice
    _key(session, catalogue, batch, "1112", dossier=first.code, position=1)  # 3333 was a slip of the finger
    remove_line(session, batch, position=4, actor=A, tz=TZ)
    session.commit()
    assert stored(session) == recount(session, catalogue, TZ)
    report = build_report(session, catalogue, [batch.unit], Period.quarter(2026, 1), tz=TZ, now=NOW, unit_label="x")
    assert {c["code"]: c["responses"] for c in report["channels"]}["paper"] == 3
    quay4 = next(i for i in report["instruments"] if i["code"] == "quay4")
    assert quay4["responses"] == 3 and [o["count"] for o in quay4["criteria"][0]["options"]] == [3, 0, 0]


def test_two_clerks_saving_at_once_get_consecutive_positions(app, catalogue) -> None:  # type: ignore[no-untyped-def]
    """The batch row is held until commit: the second save waits for the first instead of taking its number."""
    database = get_database(app)
    with database.session() as setup:
        batch_id = _batch(setup, catalogue).id
    first = database.sessionmaker()
    _key(first, catalogue, first.get(BallotBatch, batch_id), "1111")  # holds the batch until it commits
    saved: list[int] = []

    def second_clerk() -> None:
        with database.session() as other:
            saved.append(_key(other, catalogue, other.get(BallotBatch, batch_id), "2222").position)

    thread = threading.Thread(target=second_clerk)
    thread.start()
    thread.join(timeout=1)  # it waits on the lock (a row lock on PostgreSQL, the write lock on SQLite)
    assert thread.is_alive() and saved == []
    first.commit()
    first.close()
    thread.join(timeout=30)
    assert saved == [2]


def test_a_confirmed_double_entry_batch_reopens_for_its_first_clerk_whose_corrections_count(session, catalogue) -> None:  # type: ignore[no-untyped-def]
    batch = _batch(session, catalogue, double_entry=True)
    for actor in (A, B):
        _key(session, catalogue, batch, "1111", actor=actor)
        finish_entry(session, batch, actor=actor)
    assert confirm(session, catalogue, batch, actor=A, now=NOW, tz=TZ) == []
    reopen_batch(session, batch, actor=A, now=NOW)
    with pytest.raises(BatchClosed):
        _key(session, catalogue, batch, "2222", actor=B, position=1)  # the second entry stays finished
    corrected = _key(session, catalogue, batch, "2222", actor=A, position=1)
    session.commit()
    assert _paper(session) == 1 and corrected.response.answers[0].option_code == "hai_long"
    close_batch(session, batch, actor=A, now=NOW)
    assert batch.status == "closed"


def test_the_upgrade_recounts_a_database_whose_ballots_were_edited_before_the_fix(tmp_path, catalogue) -> None:  # type: ignore[no-untyped-def]
    """``core_0024``: a database where a ballot was removed without taking its counts away is recounted."""
    from alembic import command
    from sqlalchemy import create_engine

    from sipas.migrate import alembic_config, upgrade

    url = f"sqlite:///{tmp_path / 'edited.db'}"
    upgrade(url)
    engine = create_engine(url)
    with Session(engine) as session:
        batch = _batch(session, catalogue)
        _key(session, catalogue, batch, "1111")
        line = _key(session, catalogue, batch, "3333")
        session.delete(line.response)  # what remove_line did before: the counts stay
        session.delete(line)
        session.add(AuditEvent(action="ballot.line_removed", actor=A, subject=f"lô {batch.id}, phiếu 2",
                               details={}, at=NOW))
        session.commit()
        assert stored(session) != recount(session, catalogue, TZ)
    command.downgrade(alembic_config(url), "core_0023")
    upgrade(url)
    with Session(engine) as session:
        assert stored(session) == recount(session, catalogue, TZ)
    engine.dispose()


def test_a_corrected_ballot_keeps_its_follow_up_case_and_trail(session: Session, catalogue) -> None:  # type: ignore[no-untyped-def]
    """A correction replaces the ballot's response; its case went with it (follow_up_case cascades), so a typo fixed
    on another question turned a case answered on time into an overdue one: index 8 fell from 2 to 0."""
    from sipas.cases import service
    from sipas.cases.index8 import quarter_index8
    from sipas.cases.models import CaseStatus, FollowUpCase

    batch = _batch(session, catalogue)
    line = _key(session, catalogue, batch, "3111")  # q1 "Không hài lòng": a case
    session.commit()
    row = service.find_row(session, catalogue, [batch.unit_id], line.response.id, tz=TZ, today=date(2026, 3, 25))
    case = service.ensure_case(session, row, actor=A, who="Lan", now=local(2026, 3, 25, 10))
    service.record(session, case, explanation="Đã giải thích với người dân", contact_made="", outcome="",
                   actor=A, who="Lan", now=local(2026, 3, 25, 10))
    service.move(session, case, CaseStatus.ANSWERED, actor=A, who="Lan", now=local(2026, 3, 25, 11), tz=TZ)
    session.commit()
    assert quarter_index8(session, batch.unit_id, 2026, 1, tz=TZ, today=date(2026, 4, 10)).points == 2
    trail = len(case.events)
    _key(session, catalogue, batch, "3112", position=1)  # only q4 changed
    session.commit()
    session.expire_all()
    moved = session.scalars(select(FollowUpCase)).one()
    assert moved.response_id == line.response.id and moved.status is CaseStatus.ANSWERED
    assert moved.explanation == "Đã giải thích với người dân" and len(moved.events) == trail + 1
    assert moved.events[-1].sentence.startswith(f"Phiếu giấy được sửa (lô {batch.id}, phiếu 1)")
    assert quarter_index8(session, batch.unit_id, 2026, 1, tz=TZ, today=date(2026, 4, 10)).points == 2


def test_each_entry_keys_at_most_the_ballots_handed_out(session: Session, catalogue) -> None:  # type: ignore[no-untyped-def]
    """Phiếu thu vào cannot exceed phiếu phát ra, in each entry of a double-entry batch alike (so the two entries,
    and a difference resolved into either, never hold more lines than were handed out); a correction of a line
    already keyed is not a new ballot."""
    batch = _batch(session, catalogue, double_entry=True, handed_out=1)
    for actor in (A, B):
        _key(session, catalogue, batch, "1111", actor=actor)
        with pytest.raises(DomainError) as refused:
            _key(session, catalogue, batch, "2222", actor=actor)
        assert (refused.value.code, refused.value.field) == ("more_than_handed_out", "handed_out")
        assert _key(session, catalogue, batch, "2222", actor=actor, position=1).revision == 1
    with pytest.raises(ValidationError):
        set_handed_out(session, batch, 0, actor=A)
    set_handed_out(session, batch, 2, actor=B)
    assert _key(session, catalogue, batch, "3333", actor=A).position == 2
