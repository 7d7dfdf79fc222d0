"""``core_0027``: dossiers stored with a decomposed field or procedure (the API and the XLSX import once kept them
as sent) are rewritten composed (NFC), on SQLite and PostgreSQL: the Biểu II.06a has one "Hộ tịch" row again, the
field filter finds those dossiers, and the dossier events the triggers moved equal a recount."""

from __future__ import annotations

import unicodedata

from alembic import command
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from aggregator.report import build_report
from sipas.clock import Period
from sipas.migrate import alembic_config, upgrade
from sipas.models import Dossier, Unit
from tests.aggregator.tally_recount import recount, stored
from tests.factories import TZ, create_dossier, create_response, create_unit, local

NOW = local(2026, 4, 10, 9)
Q1 = Period.quarter(2026, 1)
HO_TICH, DAT_DAI, KHAI_SINH = "Hộ tịch", "Đất đai", "Đăng ký khai sinh"


def _nfd(value: str) -> str:
    decomposed = unicodedata.normalize("NFD", value)
    assert decomposed != value
    return decomposed


def _fields(engine, catalogue, unit_id: int, field: str | None = None) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    with Session(engine) as session:
        report = build_report(session, catalogue, [session.get(Unit, unit_id)], Q1, tz=TZ, now=NOW, unit_label="x",
                              field=field)
        return [(row["field"], row["received_total"]) for row in report["fields"]]


def test_decomposed_fields_and_procedures_are_stored_composed(database_url: str, catalogue) -> None:  # type: ignore[no-untyped-def]
    config = alembic_config(database_url)
    command.downgrade(config, "core_0026")
    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            unit = create_unit(session)
            for n, field in enumerate((HO_TICH, _nfd(HO_TICH), _nfd(HO_TICH), _nfd(DAT_DAI), "")):
                dossier = create_dossier(session, unit, field=field, procedure=_nfd(KHAI_SINH) if n else KHAI_SINH,
                                         received_at=local(2026, 2, 2 + n, 8), due_at=local(2026, 2, 9, 17),
                                         returned_at=local(2026, 2, 6 + n, 9), now=NOW)  # stored as sent
                if n == 1:
                    create_response(session, catalogue, unit, dossier=dossier, submitted_at=local(2026, 2, 7, 10),
                                    now=NOW)
            session.commit()
            unit_id = unit.id
            assert stored(session)["dossier_events"] == recount(session, catalogue, TZ)["dossier_events"]
        before = _fields(engine, catalogue, unit_id)
        assert len(before) == 5 and [f for f, _ in before].count(HO_TICH) == 1  # "Hộ tịch" twice, as it looked
        assert _fields(engine, catalogue, unit_id, HO_TICH)[0] == (HO_TICH, 1)  # the filter missed two dossiers
        upgrade(database_url)
        with Session(engine) as session:
            rows = session.execute(select(Dossier.field, Dossier.procedure)).all()
            assert sorted(field for field, _ in rows) == sorted(["", HO_TICH, HO_TICH, HO_TICH, DAT_DAI])
            assert {procedure for _, procedure in rows} == {KHAI_SINH}
            assert stored(session)["dossier_events"] == recount(session, catalogue, TZ)["dossier_events"]
            assert session.scalar(text("SELECT count(*) FROM dossier_event_tally WHERE field = :f AND dossiers <> 0"),
                                  {"f": _nfd(HO_TICH)}) == 0
        assert _fields(engine, catalogue, unit_id) == [("Chưa phân loại", 1), (DAT_DAI, 1), (HO_TICH, 3),
                                                       ("Tổng cộng", 5)]
        assert _fields(engine, catalogue, unit_id, HO_TICH) == [(HO_TICH, 3), ("Tổng cộng", 3)]
    finally:
        engine.dispose()
        upgrade(database_url)
