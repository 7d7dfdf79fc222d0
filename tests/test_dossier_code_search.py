"""The dossier search by a part of a code through the trigram index of the codes (``sipas.code_search``,
``core_0033``): SQLite's ``dossier_code_fts`` kept by triggers on ``dossier``, PostgreSQL's GIN index of
``code`` (``pg_trgm``, for its ``ILIKE``). A province admin's search read the 1.1 M codes of the (unit, code)
index (2.5–4.5 s); the results stay those of the plain condition (``lower(code) LIKE '%…%'``, PostgreSQL
``code ILIKE '%…%'``, with ``%``, ``_`` and ``/`` literal) whatever the letters, their case and the writes since."""

from __future__ import annotations

import logging
import random
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, event, inspect, make_url, select, text

from sipas import code_search
from sipas.console import dossiers as console_dossiers
from sipas.console.dossiers import Filters, search_page
from sipas.migrate import upgrade
from sipas.models import Dossier
from sipas.storage import get_database
from tests.factories import create_district_with_wards, create_dossier, create_response, local
from tests.imports.helpers import dossier_row, run_dossiers, xlsx

# ASCII and Vietnamese letters of both cases, the LIKE wildcards and escape, FTS5's quote and a space
ALPHABET = "aAbB19.-_%/\"đĐăĂơƠưƯếẾỗỖ "


def _plain(session, unit_ids: list[int], q: str) -> set[int]:  # type: ignore[no-untyped-def]
    """The dossiers of the plain condition: the database's own case-insensitive substring test of every code, or
    the names containing the folded words."""
    return set(session.scalars(select(Dossier.id).where(
        Dossier.unit_id.in_(unit_ids), console_dossiers._search_condition(session, unit_ids, q))))


def _found(session, wards, q: str) -> set[int]:  # type: ignore[no-untyped-def]
    found: set[int] = set()
    for page in range(1, 1000):
        result = search_page(session, wards, Filters(unit="", q=q, status="", page=page))
        found |= {d.id for d in result.dossiers}
        if page >= result.pages:
            return found
    raise AssertionError(q)


def _fts_statements(app) -> list[str]:  # type: ignore[no-untyped-def]
    statements: list[str] = []
    event.listen(get_database(app).engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *rest: statements.append(statement)
                 if code_search.FTS_TABLE in statement else None)
    return statements


def _check(app, session, wards, rng: random.Random, codes: list[str], fts: list[str]) -> None:  # type: ignore[no-untyped-def]
    needles = [c[a:b] for c in rng.sample(codes, 25) for a, b in [sorted(rng.sample(range(len(c) + 1), 2))]]
    needles += [n.swapcase() for n in needles[:10]] + [n.upper() for n in needles[10:20]]
    needles += ["%", "_%", "a_b", "1%9", "/", '"', 'a"b', "đĐ", "ĐĂƠ", "ươ", "AbB", "zzz", "Ế", "ỗ 1"]
    sqlite = session.get_bind().dialect.name == "sqlite"
    with app.test_request_context("/console/dossiers"):
        for q in [" ".join(n.split()) for n in needles]:
            if not q:
                continue
            before = len(fts)
            assert _found(session, wards, q) == _plain(session, [w.id for w in wards], q), q
            # SQLite reads the codes of three characters or more through the trigrams
            assert (len(fts) > before) == (sqlite and len(q) >= code_search.MIN_LENGTH), q


def test_the_trigram_search_finds_what_the_plain_condition_finds(app, session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Random codes of ASCII and Vietnamese letters of both cases, ``%``, ``_``, ``/``, quotes and spaces, searched
    by random parts of them, in another case, and by wildcards: the same dossiers as the plain condition, on
    both backends (SQLite through ``dossier_code_fts``), also after codes are changed, dossiers deleted and a
    file imported (the triggers), and when more match than the search counts."""
    monkeypatch.setattr(console_dossiers, "PAGE_SIZE", 7)
    rng = random.Random(33)
    _district, wards = create_district_with_wards(session, wards=3)
    codes: set[str] = set()
    while len(codes) < 150:
        codes.add(" ".join("".join(rng.choice(ALPHABET) for _ in range(rng.randint(3, 12))).split()))
    dossiers = [create_dossier(session, rng.choice(wards), code=code,
                               received_at=local(2026, 1, 5) + timedelta(hours=rng.randint(0, 500)),
                               procedure="Chứng thực bản sao", field="Chứng thực")
                for code in sorted(c for c in codes if c)]
    session.commit()
    fts = _fts_statements(app)
    _check(app, session, wards, rng, sorted(codes), fts)

    for dossier in rng.sample(dossiers, 20):  # the ORM's update of a code
        dossier.code = dossier.code[::-1] + "Ư%"
    session.commit()
    session.execute(text("UPDATE dossier SET code = upper(code) || '_x' WHERE id % 7 = 0"))
    session.execute(text("DELETE FROM dossier WHERE id % 11 = 0"))
    session.commit()
    run_dossiers(session, wards[0], xlsx([["Mã hồ sơ", "Tên thủ tục", "Lĩnh vực", "Hình thức nộp", "Ngày tiếp nhận",
                                            "Ngày hẹn trả", "Ngày trả kết quả", "Số điện thoại",
                                            "Đồng ý nhận tin nhắn"],
                                           *[dossier_row(f"NHẬP-{i}-đƠ_%{rng.randint(0, 99)}", phone="")
                                             for i in range(30)]]))
    session.expire_all()
    codes = set(session.scalars(select(Dossier.code)))
    assert any(c.startswith("NHẬP-") for c in codes)
    _check(app, session, wards, rng, sorted(codes), fts)
    if session.get_bind().dialect.name == "sqlite":  # the trigrams are exactly those of the stored codes
        session.execute(text(f"INSERT INTO {code_search.FTS_TABLE} ({code_search.FTS_TABLE}, rank) "
                             "VALUES ('integrity-check', 1)"))
        session.rollback()
    monkeypatch.setattr(console_dossiers, "SEARCH_COUNT_CAP", 5)  # more than the cap: "hơn 5 hồ sơ"
    with app.test_request_context("/console/dossiers"):
        for q in ("NHẬP", "nhẬp-1", "đơ_%"):
            expected = _plain(session, [w.id for w in wards], q)
            found = search_page(session, wards, Filters(unit="", q=q, status="", page=1))
            assert found.more == (len(expected) > 5) and found.total == min(len(expected), 5), q
            assert {d.id for d in found.dossiers} <= expected, q


def test_a_search_of_one_unit_reads_its_codes_as_before(app, session) -> None:  # type: ignore[no-untyped-def]
    """A ward's few thousand codes are read from the (unit, code) index: the trigrams would read every unit's."""
    _district, wards = create_district_with_wards(session, wards=2)
    dossier = create_dossier(session, wards[0], code="000.00.20.H57-ĐƠN-1")
    session.commit()
    fts = _fts_statements(app)
    with app.test_request_context("/console/dossiers"):
        found = search_page(session, wards[:1], Filters(unit="", q="h57-đơn", status="", page=1))
    assert [d.id for d in found.dossiers] == ([dossier.id] if session.get_bind().dialect.name == "postgresql"
                                              else [])  # SQLite's lower() folds ASCII letters only
    assert fts == []


def _sqlite_only(session) -> None:  # type: ignore[no-untyped-def]
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL plans an empty table by its statistics, not by its indexes")


def test_the_code_search_of_several_units_reads_the_trigrams_and_the_rows_found(app, session) -> None:  # type: ignore[no-untyped-def]
    """SQLite: the statement that tests the code reads ``dossier_code_fts`` and the dossiers it finds by id."""
    _sqlite_only(session)
    _district, wards = create_district_with_wards(session, wards=3)
    for ward in wards:
        create_dossier(session, ward)
    session.commit()
    statements: list[tuple[str, object]] = []
    engine = get_database(app).engine

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if "LIKE" in statement:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with app.test_request_context("/console/dossiers"):
            assert search_page(session, wards, Filters(unit="", q="H57-26", status="", page=1)).total == 3
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(statements) == 1
    statement, parameters = statements[0]
    plan = " | ".join(str(row[-1]) for row in session.connection().exec_driver_sql(
        f"EXPLAIN QUERY PLAN {statement}", parameters))
    assert plan == (f"SCAN {code_search.FTS_TABLE} VIRTUAL TABLE INDEX 0:M1 | "
                    "SEARCH dossier USING INTEGER PRIMARY KEY (rowid=?)"), plan


def test_a_rating_leaves_the_trigrams_alone(app, session, catalogue) -> None:  # type: ignore[no-untyped-def]
    """The triggers fire on a change of the code only: a rating updates the dossier's counts, not its code."""
    _sqlite_only(session)
    _district, wards = create_district_with_wards(session, wards=1)
    dossier = create_dossier(session, wards[0])
    session.commit()
    fired: list[str] = []
    connection = session.connection().connection.driver_connection
    connection.set_trace_callback(lambda sql: fired.append(sql) if "dossier_code_fts" in sql else None)
    try:
        create_response(session, catalogue, wards[0], dossier=dossier)
        session.commit()
        assert session.scalar(select(Dossier.responses).where(Dossier.id == dossier.id)) == 1
        assert fired == []
        dossier.code += "-2"  # the control: a change of the code writes the trigrams
        session.commit()
    finally:
        connection.set_trace_callback(None)
    assert any("dossier_code_fts_data" in sql for sql in fired), fired


@pytest.fixture
def database_without_create(request: pytest.FixtureRequest) -> str:
    """A PostgreSQL database migrated by a role that may not create an extension (no CREATE on the database)."""
    server = request.getfixturevalue("postgres_server")
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    name, role = "sipas_test_no_trgm", "sipas_no_create"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        connection.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    owner = create_engine(make_url(server).set(database=name), isolation_level="AUTOCOMMIT")
    with owner.connect() as connection:
        connection.execute(text(f'GRANT CREATE, USAGE ON SCHEMA public TO "{role}"'))
    owner.dispose()
    yield make_url(server).set(database=name, username=role, password=None).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
    admin.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_without_pg_trgm_the_migration_logs_it_and_the_search_reads_the_codes(
        database_url, database_without_create, caplog) -> None:  # type: ignore[no-untyped-def]
    """A role without CREATE on its database cannot create ``pg_trgm`` (trusted or not): the migration says so
    and goes on to the head without the index (the search's plain condition then reads the codes)."""
    with caplog.at_level(logging.WARNING, logger="sipas.code_search"):
        upgrade(database_without_create)
    assert any("CREATE EXTENSION pg_trgm failed" in r.getMessage() for r in caplog.records), caplog.records
    engine = create_engine(database_without_create)
    try:
        names = {index["name"] for index in inspect(engine).get_indexes("dossier")}
        assert code_search.TRGM_INDEX not in names and "ix_dossier_unit_names" in names
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT version_num FROM alembic_version "
                                          "WHERE version_num LIKE 'core_%'")) == "core_0033"
            assert connection.scalar(text("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'")) == 0
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_has_the_trigram_index_of_the_codes(database_url) -> None:  # type: ignore[no-untyped-def]
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            definition = connection.scalar(text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"),
                                           {"name": code_search.TRGM_INDEX})
    finally:
        engine.dispose()
    assert definition is not None and "gin (code gin_trgm_ops)" in definition, definition
