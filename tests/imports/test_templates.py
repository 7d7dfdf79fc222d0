"""Downloadable import templates: the console links them, and a filled-in template imports as it is."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from sqlalchemy import func, select

from sipas.models import Dossier, Response
from tests.factories import create_clerk, create_dossier, create_unit, local, login
from tests.imports.helpers import run_dossiers, run_responses


def _filled(template: bytes, *rows: list[object]) -> bytes:
    workbook = load_workbook(io.BytesIO(template))
    sheet = workbook.active
    assert sheet is not None and sheet.title == "Dữ liệu"
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_the_console_links_templates_that_import_once_filled_in(client, session, catalogue) -> None:
    unit = create_unit(session)
    create_dossier(session, unit, code="H-9", received_at=local(2026, 1, 5))
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    page = client.get("/console/dossiers/import").get_data(as_text=True)
    assert "docs/import-formats.md" not in page  # no repository file name the clerk cannot open
    links = dict.fromkeys(link for link in re.findall(r'href="(/console/dossiers/import/template/[^"]+)"', page)
                          if "format=csv" not in link)
    assert "/console/dossiers/import/template/dossiers" in links and len(links) >= 2
    downloads = {}
    for link in links:
        got = client.get(link.replace("&amp;", "&"))
        assert got.status_code == 200 and got.mimetype.endswith("spreadsheetml.sheet")
        assert "attachment" in got.headers["Content-Disposition"]
        downloads[link] = got.data
    # the template alone (header only) imports nothing, and says so without a file error
    blank = run_dossiers(session, unit, downloads["/console/dossiers/import/template/dossiers"])
    assert blank.file_error is None and blank.rows == 0
    dossiers = run_dossiers(session, unit, _filled(downloads["/console/dossiers/import/template/dossiers"], [
        "H-1", "Đăng ký khai sinh", "Hộ tịch", "Trực tiếp", "05/01/2026 08:15", "08/01/2026", "06/01/2026 10:30",
        "0912345678", "Có"]))
    assert dossiers.errors == [] and dossiers.created == 1, [str(e) for e in dossiers.errors]
    quay4 = next(link for link in downloads if link.endswith("instrument=quay4"))
    header = [c.value for c in load_workbook(io.BytesIO(downloads[quay4])).active[1]]
    answers = {"q1": "Hài lòng", "q2": "Hài lòng", "q3": "Đúng hẹn", "q4": "Đơn giản"}
    row = ["H-9", "quay4", "Phiếu giấy", "10/01/2026 09:15",
           *[answers[str(h).split(".", 1)[0]] for h in header[4:-1]], "Tốt"]
    ratings = run_responses(session, catalogue, unit, _filled(downloads[quay4], row))
    assert ratings.errors == [] and ratings.created == 1, [str(e) for e in ratings.errors]
    session.commit()
    assert session.scalar(select(func.count()).select_from(Dossier)) == 2
    assert session.scalar(select(func.count()).select_from(Response)) == 1


def test_an_unknown_template_is_not_found(client, session) -> None:
    unit = create_unit(session)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    assert client.get("/console/dossiers/import/template/other").status_code == 404
    assert client.get("/console/dossiers/import/template/responses?instrument=nope").status_code == 404


def test_templates_offer_drop_downs_and_a_csv_that_imports_once_filled_in(client, session, catalogue) -> None:
    unit = create_unit(session)
    create_dossier(session, unit, code="H-7", received_at=local(2026, 1, 5))
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    page = client.get("/console/dossiers/import").get_data(as_text=True)
    assert "/console/dossiers/import/template/responses?instrument=hue12&amp;format=csv" in page
    book = load_workbook(io.BytesIO(client.get("/console/dossiers/import/template/responses?instrument=hue12").data))
    assert book.sheetnames == ["Dữ liệu", "Hướng dẫn", "Danh sách"] and book["Danh sách"].sheet_state == "hidden"
    lists = book["Danh sách"]
    ranges = {str(v.sqref): v.formula1 for v in book["Dữ liệu"].data_validations.dataValidation}
    channel = ranges["C2:C5000"].split("!")[1].replace("$", "")
    assert [c.value for c in lists[channel.split(":")[0][0]] if c.value][3] == "Phiếu giấy"
    tc02 = ranges["F2:F5000"].split("!")[1].replace("$", "")  # tc02 allows "không áp dụng"
    assert [c.value for c in lists[tc02[0]] if c.value] == ["Rất hài lòng", "Hài lòng", "Không hài lòng",
                                                           "Không áp dụng"]
    dossiers = load_workbook(io.BytesIO(client.get("/console/dossiers/import/template/dossiers").data))
    assert {str(v.sqref) for v in dossiers["Dữ liệu"].data_validations.dataValidation} == {"D2:D5000", "I2:I5000"}
    csv_template = client.get("/console/dossiers/import/template/responses?instrument=quay4&format=csv")
    assert csv_template.mimetype == "text/csv" and 'filename="mau-nhap-phieu-quay4.csv"' in \
        csv_template.headers["Content-Disposition"]
    text = csv_template.data.decode("utf-8-sig")
    assert text.startswith("Mã hồ sơ,Bộ tiêu chí,Kênh,Thời điểm,q1. ") and text.endswith("Ý kiến\r\n")
    filled = (text + "H-7,quay4,Phiếu giấy,10/01/2026 09:15,Hài lòng,Hài lòng,Đúng hẹn,Đơn giản,\r\n").encode()
    ratings = run_responses(session, catalogue, unit, filled, filename="phieu.csv")
    assert ratings.errors == [] and ratings.created == 1, [str(e) for e in ratings.errors]
    blank = client.get("/console/dossiers/import/template/dossiers?format=csv")
    assert run_dossiers(session, unit, blank.data, filename="ho-so.csv").rows == 0
