"""A rating's writes on PostgreSQL are one statement (``sipas.rating_statement``) and write exactly what the
statements of SQLite write: the response, its answers, both tallies, its dossier's counts (and through the
dossier's triggers its events), or nothing at all when a unique constraint refuses the response. Ratings that
share tally rows, sent at once from many connections, all land and are counted once (no deadlock, nothing lost).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from sipas.catalogue import NOT_APPLICABLE
from sipas.errors import AlreadyRated
from sipas.models import Answer, Dossier, Response, ResponseChannel
from sipas.rating_statement import Gate, GateClosed
from sipas.responses import ResponseInput, prepare_response, record_response, store_response
from sipas.storage import get_database, make_engine
from tests.aggregator.tally_recount import recount, stored
from tests.factories import TZ, answers_for, create_dossier, create_response, create_unit, local

NOW = datetime(2026, 1, 9, 3, 0, tzinfo=UTC)


@contextmanager
def writes(app: Flask) -> Iterator[list[str]]:
    """The first word of every statement that is not a read, while the block runs."""
    seen: list[str] = []

    def note(_conn, _cursor, statement: str, *_args) -> None:  # type: ignore[no-untyped-def]
        word = statement.lstrip().split(None, 1)[0].upper()
        if word not in {"SELECT", "BEGIN", "SAVEPOINT", "RELEASE", "PRAGMA"}:
            seen.append(word)

    engine = get_database(app).engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _rate(session, catalogue, unit, dossier, *, answers=None, channel=ResponseChannel.KIOSK):  # type: ignore[no-untyped-def]
    data = ResponseInput(instrument="hue12", channel=channel,
                         answers=answers or answers_for(catalogue, "hue12", on=NOW),
                         dossier_code=dossier.code if dossier else None, submitted_at=local(2026, 1, 8, 10))
    return record_response(session, catalogue, unit, data, now=NOW, tz=TZ, actor="test")


def test_a_rating_writes_in_one_statement_on_postgresql(app, session, catalogue):
    ward = create_unit(session, allow_anonymous=True)
    create_response(session, catalogue, ward, now=NOW)  # records the form's version once for the process
    dossier = create_dossier(session, ward, received_at=local(2026, 1, 5), returned_at=local(2026, 1, 7))
    session.commit()
    with writes(app) as seen:
        _rate(session, catalogue, ward, dossier)
    if session.get_bind().dialect.name == "postgresql":
        assert seen == ["WITH"]
    else:  # response, answers, two tally upserts, the dossier's counts
        assert seen == ["INSERT", "INSERT", "INSERT", "INSERT", "UPDATE"]
    session.commit()
    assert recount(session, catalogue, TZ) == stored(session)


def test_a_refused_second_rating_writes_nothing_but_its_audit_event(app, session, catalogue):
    ward = create_unit(session)
    dossier = create_dossier(session, ward, received_at=local(2026, 1, 5), returned_at=local(2026, 1, 7))
    _rate(session, catalogue, ward, dossier, channel=ResponseChannel.API)
    session.commit()
    before = stored(session), session.scalar(select(func.count()).select_from(Answer))
    other = answers_for(catalogue, "hue12", 1, on=NOW)
    with pytest.raises(AlreadyRated):
        _rate(session, catalogue, ward, dossier, answers=other)
    session.commit()
    session.expire_all()
    assert (stored(session), session.scalar(select(func.count()).select_from(Answer))) == before
    assert session.scalar(select(func.count()).select_from(Response)) == 1
    assert session.get(Dossier, dossier.id).responses == 1
    assert recount(session, catalogue, TZ) == stored(session)


def test_not_applicable_answers_and_a_rating_without_dossier(app, session, catalogue):
    ward = create_unit(session, allow_anonymous=True)
    instrument = catalogue.current("hue12", NOW.astimezone(TZ).date())
    answers = {c.code: (NOT_APPLICABLE if c.allow_na else c.options[-1].code) for c in instrument.citizen_criteria}
    assert NOT_APPLICABLE in answers.values()
    recorded = _rate(session, catalogue, ward, None, answers=answers)
    session.commit()
    rows = session.execute(select(Answer.criterion_code, Answer.position, Answer.option_code, Answer.points)
                           .where(Answer.response_id == recorded.response.id).order_by(Answer.position)).all()
    assert [(code, option) for code, _position, option, _points in rows] == list(recorded.answers)
    assert [position for _code, position, _option, _points in rows] == list(range(1, len(rows) + 1))
    assert recount(session, catalogue, TZ) == stored(session)


def test_ratings_sharing_tally_rows_all_land_when_sent_at_once(app, session, catalogue):
    ward = create_unit(session)
    dossiers = [create_dossier(session, ward, received_at=local(2026, 1, 5), returned_at=local(2026, 1, 7))
                for _ in range(16)]
    session.commit()
    maker = get_database(app).intake_sessionmaker
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def rate_half(start: int) -> None:
        try:
            barrier.wait(timeout=10)
            for dossier in dossiers[start::8]:
                with maker() as own:
                    _rate(own, catalogue, own.merge(ward, load=False), own.merge(dossier, load=False))
                    own.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=rate_half, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Response)) == 16
    assert all(session.get(Dossier, d.id).responses == 1 for d in dossiers)
    assert recount(session, catalogue, TZ) == stored(session)


def test_the_statement_locks_rows_in_the_order_of_the_separate_statements(postgres_database, catalogue):
    """Response, answers, answer tally (in key order), response tally, dossier: the order of ``tally.add_counts``,
    so a rating and any other writer of the counts lock shared rows alike. Seen by row triggers that log each
    write, created and dropped in one rolled-back transaction (PostgreSQL's DDL is transactional)."""
    engine = make_engine(postgres_database)
    with engine.connect() as connection, Session(bind=connection, expire_on_commit=False) as own:
        ward = create_unit(own)
        dossiers = [create_dossier(own, ward, received_at=local(2026, 1, 5), returned_at=local(2026, 1, 7))
                    for _ in range(2)]
        own.execute(text("CREATE TEMPORARY TABLE write_log (n serial, tab text, op text, key text)"))
        own.execute(text("CREATE FUNCTION pg_temp.log_write() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                         "INSERT INTO write_log (tab, op, key) VALUES (TG_TABLE_NAME, TG_OP, "
                         "(SELECT concat_ws('|', j->>'grain', j->>'local_date', j->>'criterion_code', "
                         "j->>'option_code') FROM to_jsonb(NEW) AS j)); RETURN NEW; END $$"))
        for table in ("response", "answer", "answer_tally", "response_tally", "dossier"):
            own.execute(text(f"CREATE TRIGGER log_{table} BEFORE INSERT OR UPDATE ON {table} FOR EACH ROW "
                             "EXECUTE FUNCTION pg_temp.log_write()"))
        for dossier in dossiers:  # the second rating updates the rows the first inserted
            own.execute(text("TRUNCATE write_log"))
            _rate(own, catalogue, ward, dossier)
            logged = own.execute(text("SELECT tab, op, key FROM write_log ORDER BY n")).all()
            tables = [table for table, _op, _key in logged]
            assert tables == sorted(tables, key=["response", "answer", "answer_tally", "response_tally",
                                                 "dossier"].index), tables
            assert tables.count("dossier") == 1 and tables.count("response") == 1
            keys = [key.split("|") for table, op, key in logged if table == "answer_tally" and op == "INSERT"]
            assert len(keys) == 24 and keys == sorted(keys)
        connection.rollback()
    engine.dispose()


def test_a_closed_gate_writes_nothing_and_an_open_one_writes_its_parts(app, session, catalogue):
    """A channel's own write in the rating's statement (``Gate``, PostgreSQL): when its first part returns no row
    nothing at all is written (``GateClosed``); when it does, the rating and the part after it are written, and
    that part reads the new response's id."""
    ward = create_unit(session)
    dossier = create_dossier(session, ward, received_at=local(2026, 1, 5), returned_at=local(2026, 1, 7))
    session.commit()
    data = ResponseInput(instrument="hue12", channel=ResponseChannel.KIOSK, answers=answers_for(catalogue, on=NOW),
                         dossier_code=dossier.code, submitted_at=local(2026, 1, 8, 10))
    prepared = prepare_response(session, catalogue, ward, data, now=NOW, tz=TZ)
    after = ("UPDATE unit SET name = name || ' #' || (SELECT id FROM r) WHERE id = CAST(:g_unit AS integer)"
             " AND EXISTS (SELECT 1 FROM r) RETURNING 1")
    closed = Gate("test_closed", "SELECT id FROM unit WHERE id = CAST(:g_unit AS integer) AND false", after,
                  {"g_unit": ward.id})
    if session.get_bind().dialect.name != "postgresql":  # SQLite: the channel runs its statements one by one
        with pytest.raises(ValueError, match="PostgreSQL only"):
            store_response(session, prepared, now=NOW, tz=TZ, actor="test", gate=closed)
        return
    before = stored(session)
    with pytest.raises(GateClosed):
        store_response(session, prepared, now=NOW, tz=TZ, actor="test", gate=closed)
    session.commit()
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Response)) == 0 and stored(session) == before
    opened = Gate("test_open", "SELECT id FROM unit WHERE id = CAST(:g_unit AS integer) FOR UPDATE", after,
                  {"g_unit": ward.id})
    recorded = store_response(session, prepared, now=NOW, tz=TZ, actor="test", gate=opened)
    session.commit()
    session.expire_all()
    assert session.scalar(select(Response.id)) == recorded.response.id
    assert session.scalar(text("SELECT name FROM unit WHERE id = :id"), {"id": ward.id}).endswith(
        f" #{recorded.response.id}")
    assert recount(session, catalogue, TZ) == stored(session)
