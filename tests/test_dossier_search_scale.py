"""The console's dossier search at province scale: the matching ids are read first, at most
``SEARCH_COUNT_CAP`` + 1, a search by code from the (unit, code) index alone; up to the cap the count is exact and
the page is those ids, beyond it the count says "hơn 1.000" and the page is read down the received order. Counting
and sorting every match scanned a province's 1.1 M dossiers twice (6–10 s). The results stay those of the plain
filter: a case-insensitive substring of the code, or the procedure or field names containing the folded words."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from sipas.console import dossiers as console_dossiers
from sipas.console.dossiers import Filters, search_page
from sipas.models import Dossier, Role
from sipas.storage import get_database
from sipas.text import fold
from tests.factories import create_clerk, create_district_with_wards, create_dossier, local, login

ALPHABET = "aB1.-_%/"


def _expected(rows: list[Dossier], q: str) -> list[int]:
    needle = fold(q)
    hits = [d for d in rows if q.lower() in d.code.lower()
            or (needle and (needle in fold(d.procedure) or needle in fold(d.field)))]
    return [d.id for d in sorted(hits, key=lambda d: (d.received_at, d.id), reverse=True)]


@pytest.mark.parametrize("cap", [1_000, 7])
def test_the_search_finds_what_the_plain_filter_finds(app, session, monkeypatch, cap) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(console_dossiers, "SEARCH_COUNT_CAP", cap)
    monkeypatch.setattr(console_dossiers, "PAGE_SIZE", 4)
    rng = random.Random(cap)
    _district, wards = create_district_with_wards(session, wards=3)
    codes: set[str] = set()
    while len(codes) < 60:
        codes.add("".join(rng.choice(ALPHABET) for _ in range(rng.randint(3, 9))))
    for code in sorted(codes):
        create_dossier(session, rng.choice(wards), code=code,
                       received_at=local(2026, 1, 5) + timedelta(hours=rng.randint(0, 500)),
                       procedure=rng.choice(["Đăng ký khai sinh", "Chứng thực bản sao"]),
                       field=rng.choice(["Hộ tịch", "Đất đai"]))
    session.commit()
    rows = list(session.scalars(select(Dossier)))
    needles = [c[a:b] for c in rng.sample(sorted(codes), 12) for a, b in [sorted(rng.sample(range(len(c) + 1), 2))]]
    needles += ["%", "_", "/", "A", "b1", "zzz", "khai sinh", "dat", "1.-"]
    with app.test_request_context("/console/dossiers"):
        for q in needles:
            expected = _expected(rows, q)
            first = search_page(session, wards, Filters(unit="", q=q, status="", page=1))
            assert first.more == (len(expected) > cap), q
            assert first.total == min(len(expected), cap), q
            got: list[int] = []
            for page in range(1, 100):
                found = search_page(session, wards, Filters(unit="", q=q, status="", page=page))
                got += [d.id for d in found.dossiers]
                if len(found.dossiers) < 4 or (not found.more and page >= found.pages):
                    break
            assert got == expected, q


def _plans_of_a_province_search(app, client, session, q: str, marker: str,  # type: ignore[no-untyped-def]
                                dossier: dict[str, str]) -> list[tuple[str, str]]:
    """SQLite's plan of each statement over ``dossier`` containing ``marker`` that a district leader's search ``q``
    runs (one dossier in each of three wards, all found); PostgreSQL is skipped."""
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL plans an empty table by its statistics, not by its indexes")
    district, wards = create_district_with_wards(session, wards=3)
    for ward in wards:
        create_dossier(session, ward, **dossier)
    admin = create_clerk(session, district, role=Role.LEADER)
    session.commit()
    login(client, admin)
    statements: list[tuple[str, object]] = []
    engine = get_database(app).engine

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if marker in statement and "FROM dossier" in statement:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        page = client.get(f"/console/dossiers?q={q}").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert "Tìm thấy 3 hồ sơ" in page, page
    assert statements
    with engine.connect() as connection:
        return [(statement, " | ".join(str(row[-1]) for row in connection.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {statement}", parameters))) for statement, parameters in statements]


def test_a_short_search_by_code_reads_the_code_index_only(app, client, session) -> None:  # type: ignore[no-untyped-def]
    """Two characters have no trigram: the codes are read from the (unit, code) index (three or more:
    ``tests/test_dossier_code_search.py``)."""
    plans = _plans_of_a_province_search(app, client, session, "57", "LIKE", {})
    assert len(plans) == 1
    for statement, plan in plans:
        assert "COVERING INDEX sqlite_autoindex_dossier_1" in plan and "SCAN" not in plan, (statement, plan)


def test_more_than_the_cap_pages_on(client, session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(console_dossiers, "SEARCH_COUNT_CAP", 3)
    monkeypatch.setattr(console_dossiers, "PAGE_SIZE", 2)
    district, wards = create_district_with_wards(session, wards=2)
    for i in range(7):
        create_dossier(session, wards[i % 2], code=f"H57-X-{i}", received_at=local(2026, 1, 5 + i))
    user = create_clerk(session, district, role=Role.LEADER)
    session.commit()
    login(client, user)
    seen = []
    for page in range(1, 6):
        body = client.get(f"/console/dossiers?q=h57-x&page={page}").get_data(as_text=True)
        assert f"Tìm thấy hơn 3 hồ sơ · trang {page}." in body, body
        seen += sorted((c for c in (f"H57-X-{i}" for i in range(7)) if f">{c}</a>" in body), reverse=True)
        if "Trang sau" not in body:
            break
    assert seen == [f"H57-X-{i}" for i in reversed(range(7))] and page == 4


def test_the_names_are_read_once_per_search(app, client, session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The names are read from ``ix_dossier_unit_names`` (0.1 s a province, 4 s each list from the rows before): the
    page beyond the cap reuses them, and the procedure and field names come from one read."""
    monkeypatch.setattr(console_dossiers, "SEARCH_COUNT_CAP", 2)
    district, wards = create_district_with_wards(session, wards=2)
    for i in range(5):
        create_dossier(session, wards[i % 2], code=f"H57-Y-{i}")
    user = create_clerk(session, district, role=Role.LEADER)
    session.commit()
    login(client, user)
    distinct: list[str] = []
    engine = get_database(app).engine

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if "DISTINCT" in statement and "FROM dossier" in statement:
            distinct.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        body = client.get("/console/dossiers?q=ho+tich").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert "Tìm thấy hơn 2 hồ sơ" in body
    assert len(distinct) == 1, distinct


def test_the_names_are_read_from_their_index_only(app, client, session) -> None:  # type: ignore[no-untyped-def]
    """The procedure and field names of the units come from the (unit, procedure, field) index, no dossier row: two
    ``SELECT DISTINCT`` over every dossier row of a province's 1.1 M took 4 s each (SQLite without statistics did
    not choose ``ix_dossier_field``, and procedure had no index)."""
    plans = _plans_of_a_province_search(app, client, session, "ho+tich", "DISTINCT",
                                        {"procedure": "Đăng ký khai sinh", "field": "Hộ tịch"})
    for statement, plan in plans:
        assert "COVERING INDEX ix_dossier_unit_names" in plan and "SCAN" not in plan, (statement, plan)


def test_beyond_the_cap_the_last_page_offers_no_next_page(client, session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Beyond the cap "Trang sau" was offered after any full page: when the matches ended on a page boundary, it led
    to an empty page ("Tìm thấy hơn 3 hồ sơ · trang 3." and no dossier)."""
    monkeypatch.setattr(console_dossiers, "SEARCH_COUNT_CAP", 3)
    monkeypatch.setattr(console_dossiers, "PAGE_SIZE", 2)
    _district, wards = create_district_with_wards(session, wards=1)
    for i in range(4):
        create_dossier(session, wards[0], code=f"HS-{i}", received_at=local(2026, 1, 5) + timedelta(hours=i))
    clerk = create_clerk(session, wards[0])
    session.commit()
    login(client, clerk)
    first = client.get("/console/dossiers?q=HS-").get_data(as_text=True)
    assert "Tìm thấy hơn 3 hồ sơ · trang 1." in first and "Trang sau" in first, first
    last = client.get("/console/dossiers?q=HS-&page=2").get_data(as_text=True)
    assert "HS-0" in last and "HS-1" in last, last
    assert "Trang sau" not in last and "Trang trước" in last, last
