"""No index whose columns begin another index of its table: it is written with every row for nothing.

The planner reads a leading part of an index as well as a separate index on it, so such an index only costs
(``core_0023`` dropped seven: a 12-answer rating wrote 13 index entries more than it needed). Checked on the
database the migrations build, on both backends; a partial index (``WHERE``) is not a plain prefix and is left
out on either side.
"""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect

from sipas.migrate import alembic_config, upgrade


def _indexes(url: str) -> dict[str, list[tuple[str, tuple[str, ...], bool]]]:
    """Per table: (name, columns, unique) of every full index, unique constraints and primary keys included."""
    engine = create_engine(url)
    try:
        inspector = inspect(engine)
        found: dict[str, list[tuple[str, tuple[str, ...], bool]]] = {}
        for table in inspector.get_table_names():
            rows = found.setdefault(table, [])
            primary = inspector.get_pk_constraint(table)
            if primary["constrained_columns"]:
                rows.append((primary["name"] or "primary key", tuple(primary["constrained_columns"]), True))
            for unique in inspector.get_unique_constraints(table):
                rows.append((unique["name"] or "unique", tuple(unique["column_names"]), True))
            for index in inspector.get_indexes(table):
                options = index.get("dialect_options", {})
                if options.get("postgresql_where") is not None or options.get("sqlite_where") is not None:
                    continue
                if None in index["column_names"]:
                    continue  # an expression index
                rows.append((index["name"] or "index", tuple(index["column_names"]), bool(index["unique"])))
        return found
    finally:
        engine.dispose()


def redundant(indexes: dict[str, list[tuple[str, tuple[str, ...], bool]]]) -> list[str]:
    """The non-unique indexes whose columns are the first columns of another index of the same table."""
    found = []
    for table, rows in sorted(indexes.items()):
        for name, columns, unique in rows:
            if unique:
                continue  # a unique index enforces something even when another begins with its columns
            for other, other_columns, other_unique in rows:
                if other != name and other_columns[:len(columns)] == columns and (
                        len(other_columns) > len(columns) or other_unique):
                    found.append(f"{table}.{name} {columns} begins {other} {other_columns}")
                    break
    return found


def test_the_check_finds_an_index_that_begins_another() -> None:
    indexes = {"t": [("ix_t_a", ("a",), False), ("uq_t_a_b", ("a", "b"), True), ("ix_t_b", ("b",), False),
                     ("ix_t_c_a", ("c", "a"), False)]}
    assert redundant(indexes) == ["t.ix_t_a ('a',) begins uq_t_a_b ('a', 'b')"]


def test_no_index_begins_another(database_url: str) -> None:
    assert redundant(_indexes(database_url)) == []


def _dossier_indexes(url: str, table: str = "dossier") -> set[str]:
    engine = create_engine(url)
    try:
        return {index["name"] for index in inspect(engine).get_indexes(table)}  # type: ignore[misc]
    finally:
        engine.dispose()


@pytest.mark.parametrize(("before", "index", "table"), [("core_0027", "ix_dossier_unit_returned", "dossier"),
                                                        ("core_0028", "ix_dossier_received_order", "dossier"),
                                                        ("core_0029", "ix_dossier_contact_live", "dossier_contact"),
                                                        ("core_0030", "ix_dossier_unit_names", "dossier")])
def test_a_console_index_goes_with_its_downgrade_and_comes_back(database_url: str, before: str, index: str,
                                                                table: str) -> None:
    """The indexes for province scale (``core_0028``: the home's returned-not-invited count,
    ``tests/test_todo_returned_index.py``; ``core_0029``: the dossier list of several units,
    ``tests/test_dossier_list_order.py``; ``core_0030``: the SMS cycle's live contacts,
    ``tests/sms_gateway/test_live_contacts_index.py``; ``core_0031``: the dossier search's names,
    ``tests/test_dossier_search_scale.py``) are dropped by their downgrade and made again by the upgrade."""
    assert index in _dossier_indexes(database_url, table)
    command.downgrade(alembic_config(database_url), before)
    assert index not in _dossier_indexes(database_url, table)
    upgrade(database_url)
    assert index in _dossier_indexes(database_url, table)


def test_the_sms_prune_indexes_go_with_their_downgrade_and_come_back(database_url: str) -> None:
    """``sms_0006``: the indexes the SMS cycle's prune deletes by (``tests/sms_gateway/test_prune_indexes.py``)."""
    indexes = {"sms_inbound_delivery": "ix_sms_inbound_delivery_received_at",
               "sms_conversation": "ix_sms_conversation_expires_at"}
    assert all(index in _dossier_indexes(database_url, table) for table, index in indexes.items())
    command.downgrade(alembic_config(database_url), "sms_0005")
    assert not any(index in _dossier_indexes(database_url, table) for table, index in indexes.items())
    upgrade(database_url)
    assert all(index in _dossier_indexes(database_url, table) for table, index in indexes.items())


def _code_trigrams(url: str) -> dict[str, object]:
    """``core_0033``'s objects (``sipas.code_search``): SQLite's FTS table and triggers with the ids its trigrams
    find for "h57", PostgreSQL's GIN index."""
    from sqlalchemy import text

    from sipas import code_search

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if engine.dialect.name != "sqlite":
                return {"index": code_search.TRGM_INDEX in {i["name"] for i in inspect(connection).get_indexes(
                    "dossier")}}
            names = set(connection.scalars(text("SELECT name FROM sqlite_master")))
            found = {"table": code_search.FTS_TABLE in names, "triggers": set(code_search.TRIGGERS) & names}
            if found["table"]:
                found["h57"] = sorted(connection.scalars(text(
                    f"SELECT rowid FROM {code_search.FTS_TABLE} WHERE {code_search.FTS_TABLE} MATCH '\"h57\"'")))
            return found
    finally:
        engine.dispose()


def test_the_code_trigrams_go_with_their_downgrade_and_come_back_filled(database_url: str, session) -> None:  # type: ignore[no-untyped-def]
    """``core_0033``: the trigram index of the dossier codes (``tests/test_dossier_code_search.py``) is dropped by
    its downgrade and made again by the upgrade, filled with the dossiers stored meanwhile (SQLite)."""
    from sipas import code_search
    from tests.factories import create_district_with_wards, create_dossier

    sqlite = database_url.startswith("sqlite")
    present = ({"table": True, "triggers": set(code_search.TRIGGERS), "h57": []} if sqlite else {"index": True})
    assert _code_trigrams(database_url) == present
    command.downgrade(alembic_config(database_url), "core_0032")
    assert _code_trigrams(database_url) == ({"table": False, "triggers": set()} if sqlite else {"index": False})
    _district, wards = create_district_with_wards(session, wards=2)
    ids = sorted(create_dossier(session, ward).id for ward in wards)
    create_dossier(session, wards[0], code="000.00.20.H56-1")
    session.commit()
    session.close()
    upgrade(database_url)
    assert _code_trigrams(database_url) == (present | {"h57": ids} if sqlite else present)
