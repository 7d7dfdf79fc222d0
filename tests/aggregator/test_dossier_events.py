"""The triggers on ``dossier`` keep ``dossier_event_tally`` equal to the events recounted from the dossiers
(``sipas.dossier_events``), through each write path, on both backends."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.orm import Session

from sipas.catalogue import Catalogue
from sipas.dossier_events import GRAINS, _postgresql_triggers, _sqlite_triggers, rebuild_events
from sipas.dossiers import DossierInput, upsert_dossier
from sipas.migrate import alembic_config, upgrade
from sipas.models import Dossier, IntakeChannel
from sipas.responses import ResponseInput, record_response
from tests.aggregator.tally_recount import recount, stored
from tests.factories import SECRET, TZ, create_district_with_wards, local
from tests.imports.helpers import DOSSIER_HEADER, csv_bytes, dossier_row, run_dossiers

NOW = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)


def _events(session: Session, catalogue: Catalogue) -> None:
    session.commit()
    assert stored(session)["dossier_events"] == recount(session, catalogue, TZ)["dossier_events"]


def test_every_write_path_keeps_the_events(session: Session, catalogue: Catalogue) -> None:
    _district, (ward, other) = create_district_with_wards(session)
    made = upsert_dossier(session, ward, DossierInput(
        code="HS-1", received_at=local(2026, 1, 5), due_at=local(2026, 1, 10), returned_at=local(2026, 1, 26),
        field="Đất đai"), tz=TZ, now=NOW, secret=SECRET, actor="test").dossier
    upsert_dossier(session, ward, DossierInput(code="HS-2", received_at=local(2026, 1, 31),
                                               intake_channel=IntakeChannel.ONLINE_FULL),
                   tz=TZ, now=NOW, secret=SECRET, actor="test")
    _events(session, catalogue)
    upsert_dossier(session, ward, DossierInput(  # corrected: another field, returned early
        code="HS-1", received_at=local(2026, 1, 5), due_at=local(2026, 1, 10), returned_at=local(2026, 1, 8),
        field="Hộ tịch"), tz=TZ, now=NOW, secret=SECRET, actor="test")
    _events(session, catalogue)
    form = catalogue.current("hue12", local(2026, 1, 9).date())
    answers = {c.code: c.options[-1].code for c in form.citizen_criteria}  # the last option: dissatisfied
    record_response(session, catalogue, ward, ResponseInput(instrument="hue12", channel="kiosk", answers=answers,
                                                            dossier_code="HS-1"), now=local(2026, 1, 9), tz=TZ,
                    actor="test")
    _events(session, catalogue)
    assert session.scalar(select(Dossier.responses).where(Dossier.id == made.id)) == 1
    run_dossiers(session, ward, csv_bytes([
        DOSSIER_HEADER,
        dossier_row("HS-2", received="31/01/2026 08:00", due="03/02/2026", returned="05/02/2026 10:00",
                    channel="Trực tuyến toàn trình", phone="", consent=""),
        dossier_row("HS-3", received="01/02/2026 08:00", due="02/02/2026", returned="", phone="", consent=""),
    ]), "hoso.csv")
    _events(session, catalogue)
    session.execute(update(Dossier).where(Dossier.code == "HS-3").values(unit_id=other.id))
    _events(session, catalogue)
    session.execute(update(Dossier).where(Dossier.code == "HS-3").values(procedure="Khác"))  # not an event column
    _events(session, catalogue)
    session.execute(text("DELETE FROM dossier WHERE code = 'HS-3'"))
    _events(session, catalogue)


def test_rebuild_recounts_a_damaged_table(session: Session, catalogue: Catalogue) -> None:
    _district, (ward, _other) = create_district_with_wards(session)
    for n in range(3):
        upsert_dossier(session, ward, DossierInput(
            code=f"HS-{n}", received_at=local(2026, 1, 5 + n), due_at=local(2026, 1, 9),
            returned_at=local(2026, 1, 8) + timedelta(days=n)), tz=TZ, now=NOW, secret=SECRET, actor="test")
    session.commit()
    session.execute(text("UPDATE dossier_event_tally SET dossiers = dossiers + 5"))
    assert stored(session)["dossier_events"] != recount(session, catalogue, TZ)["dossier_events"]
    rebuild_events(session.connection())
    _events(session, catalogue)


def test_rebuild_sums_months_and_years_from_the_days_across_a_year_end(session: Session,
                                                                      catalogue: Catalogue) -> None:
    """The rebuild counts the day rows and sums the month and year rows from them: dossiers received, due,
    returned and cleared in other months and years than each other, in two wards and two fields."""
    _district, wards = create_district_with_wards(session)
    for n in range(12):
        received = local(2025, 11, 20) + timedelta(days=9 * n)
        returned = None if n % 5 == 4 else received + timedelta(days=(n * 7) % 23)
        upsert_dossier(session, wards[n % 2], DossierInput(
            code=f"HS-{n}", received_at=received, due_at=received + timedelta(days=5 + n % 4),
            returned_at=returned, field=("Đất đai", "Hộ tịch")[n % 3 % 2],
            intake_channel=IntakeChannel.ONLINE_FULL if n % 3 == 0 else IntakeChannel.DIRECT),
            tz=TZ, now=NOW, secret=SECRET, actor="test")
    session.commit()
    expected = recount(session, catalogue, TZ)["dossier_events"]
    assert {key[1] for key in expected} == {"day", "month", "year"}
    assert len({key[2].year for key in expected}) == 2
    session.execute(text("DELETE FROM dossier_event_tally WHERE grain <> 'day'"))
    session.execute(text("UPDATE dossier_event_tally SET dossiers = dossiers + 1"))
    rebuild_events(session.connection())
    _events(session, catalogue)


def test_ratings_during_an_import_that_changes_their_dossiers_keep_the_events(app, session: Session,
                                                                              catalogue: Catalogue) -> None:
    """Two API writers rate dossiers while an import changes those very dossiers (another field) and adds
    others: on PostgreSQL a rating and the swap lock the dossier rows before the event rows, so neither waits
    for the other in a cycle (no deadlock, every rating stored); the events equal the recount afterwards."""
    from tests.factories import create_dossier, create_key, create_unit
    from tests.imports.helpers import import_while_rating

    unit = create_unit(session)
    key = create_key(session, unit)
    codes = [create_dossier(session, unit, code=f"DG-{n}", received_at=local(2026, 1, 5),
                            returned_at=local(2026, 1, 7)).code for n in range(150)]
    session.commit()
    lines = [dossier_row(code, field="Đất đai", phone="", consent="") for code in codes]
    lines += [dossier_row(f"H-{n:05d}", phone="", consent="") for n in range(1500)]
    report, statuses, during = import_while_rating(app, unit, csv_bytes([DOSSIER_HEADER, *lines]), key, codes,
                                                   batch_size=200, every_code=True)
    assert during > 0, "no rating was submitted while the import ran"
    assert report.written and report.updated == len(codes) and report.created == 1500
    assert statuses and set(statuses) == {201}, sorted(set(statuses))
    session.rollback()
    _events(session, catalogue)
    assert session.scalar(select(func.count()).select_from(Dossier).where(Dossier.responses == 1)) == len(codes)


def _event_rows(session: Session) -> Counter[tuple[Any, ...]]:
    rows = session.execute(text("SELECT unit_id, grain, local_date, field, kind, online, negative, forms, handling, "
                                "dossiers FROM dossier_event_tally WHERE dossiers <> 0"))
    return Counter({tuple(str(v) for v in row[:-1]): row[-1] for row in rows})


def _event_scans(session: Session, statement: str) -> int:
    """PostgreSQL: how many scans of a transition table the dossier trigger's query made for ``statement`` (its
    plan, which ``auto_explain`` sends back as a notice)."""
    driver = session.connection().connection.driver_connection
    notices: list[str] = []
    driver.add_notice_handler(lambda diagnostic: notices.append(diagnostic.message_primary or ""))
    for setting in ("LOAD 'auto_explain'", "SET LOCAL auto_explain.log_min_duration = 0",
                    "SET LOCAL auto_explain.log_nested_statements = on", "SET LOCAL auto_explain.log_format = 'json'",
                    "SET LOCAL auto_explain.log_level = 'notice'"):
        session.execute(text(setting))
    session.execute(text(statement))
    session.execute(text("SET LOCAL auto_explain.log_min_duration = -1"))
    plans = [json.loads(n[n.index("{"):]) for n in notices if "plan:" in n]
    inserts = [p for p in plans if "INSERT INTO dossier_event_tally" in p["Query Text"]]
    assert len(inserts) == 1, [p["Query Text"][:80] for p in plans]

    def scans(node: dict[str, Any]) -> int:
        return (node["Node Type"] == "Named Tuplestore Scan") + sum(map(scans, node.get("Plans", [])))

    return scans(inserts[0]["Plan"])


def test_a_ratings_count_update_computes_few_events(session: Session) -> None:
    """A rating's count update (``sipas.tally``) moves the dossier's returned event from one ``forms`` to the
    next (day and month rows), and nothing else unless it makes the dossier dissatisfied. The update trigger took
    the twelve event rows of the old dossier row and of the new one, each by a ``SELECT`` of its own (24), and
    summed them to find the four that moved (core_0032). Now SQLite's update trigger proper leaves such an update
    alone (its forms trigger takes the four rows), and PostgreSQL's reads each transition table once. The event
    rows stay those a recount gives, through first, second, third, dissatisfied and taken-back ratings and a
    change of field with a rating."""
    _district, (ward, _other) = create_district_with_wards(session)
    made = upsert_dossier(session, ward, DossierInput(
        code="HS-1", received_at=local(2026, 1, 5), due_at=local(2026, 1, 10), returned_at=local(2026, 1, 8)),
        tz=TZ, now=NOW, secret=SECRET, actor="test").dossier
    session.commit()
    rate = f"UPDATE dossier SET responses = responses + {{}}, negative_responses = negative_responses + {{}} " \
           f"WHERE id = {made.id}"
    if session.get_bind().dialect.name == "postgresql":
        assert _event_scans(session, rate.format(1, 0)) == 2  # old_rows and new_rows, once each
        session.rollback()
    else:
        # the update trigger proper leaves a rating's count update alone: without the forms trigger, nothing moves
        before = _event_rows(session)
        session.execute(text("DROP TRIGGER IF EXISTS dossier_events_forms"))
        session.execute(text(rate.format(1, 0)))
        assert _event_rows(session) == before
        session.rollback()
    for added, negative, field in ((1, 0, None), (1, 0, None), (1, 0, None), (1, 1, None), (-1, -1, None),
                                   (-1, 0, None), (1, 0, "Hộ tịch"), (-1, 0, None), (-1, 0, None)):
        session.execute(text(rate.format(added, negative)))
        if field is not None:
            session.execute(update(Dossier).where(Dossier.id == made.id).values(field=field))
        session.commit()
        kept = _event_rows(session)
        rebuild_events(session.connection())
        assert _event_rows(session) == kept, (added, negative, field)
        session.commit()


def _installed(url: str) -> dict[str, str]:
    """The dossier event triggers in the database: SQLite's statements, PostgreSQL's function bodies."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                query = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'dossier_events%'"
            else:
                query = "SELECT proname, prosrc FROM pg_proc WHERE proname LIKE 'dossier_events%'"
            return dict(connection.execute(text(query)).all())  # type: ignore[arg-type]
    finally:
        engine.dispose()


def _made(dialect: str, previous: bool) -> dict[str, str]:
    if dialect == "sqlite":
        return {sql.split()[2]: sql for sql in _sqlite_triggers(GRAINS, previous)}
    return {sql.split()[2].removesuffix("()"): sql.split("$$")[1] for sql in _postgresql_triggers(GRAINS, previous)
            if sql.startswith("CREATE FUNCTION")}


def test_the_event_triggers_of_core_0032_go_with_its_downgrade_and_come_back(database_url: str) -> None:
    """``core_0032``: its downgrade puts back the triggers of before (one ``SELECT`` per event, an update taking
    every event of the old and the new row), its upgrade the new ones
    (``test_a_ratings_count_update_computes_few_events``)."""
    dialect = create_engine(database_url).dialect.name
    assert _installed(database_url) == _made(dialect, previous=False)
    assert _made(dialect, previous=False) != _made(dialect, previous=True)
    command.downgrade(alembic_config(database_url), "core_0031")
    assert _installed(database_url) == _made(dialect, previous=True)
    upgrade(database_url)
    assert _installed(database_url) == _made(dialect, previous=False)
