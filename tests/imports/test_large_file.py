"""A 10,000-row XLSX export imports completely, and again without changing anything (counts, not time)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from sipas.models import Dossier, DossierContact
from tests.factories import create_unit
from tests.imports.helpers import large_export, run_dossiers

ROWS = 10_000


@pytest.fixture(scope="module")
def export() -> bytes:
    return large_export(ROWS)


def test_a_ten_thousand_row_xlsx_imports_and_reimports_unchanged(session, export: bytes) -> None:
    unit = create_unit(session)
    session.commit()
    first = run_dossiers(session, unit, export, "10000.xlsx")
    assert (first.rows, first.created, first.errors) == (ROWS, ROWS, [])
    assert session.scalar(select(func.count()).select_from(Dossier).where(Dossier.unit_id == unit.id)) == ROWS
    # a row with a phone gets a contact; "x" (consent) without a phone records nothing
    assert session.scalar(select(func.count()).select_from(DossierContact)) == sum(1 for n in range(ROWS) if n % 3)
    assert session.scalar(select(func.count()).select_from(DossierContact).where(DossierContact.sms_consent)) == sum(
        1 for n in range(ROWS) if n % 3 and n % 2)
    session.rollback()
    again = run_dossiers(session, unit, export, "10000.xlsx")
    assert (again.created, again.updated, again.unchanged) == (0, 0, ROWS)
