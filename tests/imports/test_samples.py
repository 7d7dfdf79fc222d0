"""The sample files in docs/samples import cleanly, and the CSV and XLSX dossier samples say the same thing."""

from __future__ import annotations

from pathlib import Path

from tests.factories import create_unit
from tests.imports.helpers import run_dossiers, run_responses

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"


def test_the_documented_samples_import(session, catalogue) -> None:
    unit = create_unit(session)
    from_csv = run_dossiers(session, unit, (SAMPLES / "dossiers.csv").read_bytes(), "dossiers.csv")
    assert (from_csv.created, from_csv.errors) == (5, [])
    from_xlsx = run_dossiers(session, unit, (SAMPLES / "dossiers.xlsx").read_bytes(), "dossiers.xlsx")
    assert (from_xlsx.header_row, from_xlsx.unchanged, from_xlsx.errors) == (5, 5, [])
    for name, count in (("responses.csv", 3), ("responses.xlsx", 2)):
        report = run_responses(session, catalogue, unit, (SAMPLES / name).read_bytes(), name)
        assert (report.created, report.errors) == (count, []), [str(e) for e in report.errors]
