"""Zalo's own star rating (zalo5) in the unit report: its own section ``zalo_service_rating`` in
``sipas report --json``, ``GET /api/v1/reports`` and an XLSX sheet, never in the 12 criteria's figures."""

from __future__ import annotations

import io
import json
from datetime import timedelta

from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from aggregator.service import unit_report
from sipas.catalogue import Catalogue
from sipas.clock import Period
from sipas.models import ResponseChannel, Unit
from sms_gateway.models_zalo import ZaloRating
from tests.aggregator.fixtures import NOW, build_quarter
from tests.factories import TZ, create_clerk, create_dossier, create_key, create_unit, local, login

Q1 = Period.quarter(2026, 1)


def rate(session: Session, unit: Unit, stars: int, *, day: int = 10, field: str = "Hộ tịch", counted: bool = True,
         correction_of: ZaloRating | None = None) -> ZaloRating:
    if correction_of is not None:
        dossier = correction_of.dossier_id
    else:  # received and returned long before the quarter: the dossier figures stay those of build_quarter
        dossier = create_dossier(session, unit, field=field, received_at=local(2025, 6, 2), now=NOW).id
    rating = ZaloRating(unit_id=unit.id, dossier_id=dossier, msg_id=f"msg-{unit.id}-{dossier}",
                        instrument_version="2026.1", rate=stars, feedbacks=[], submitted_at=local(2026, 2, day),
                        counted=counted, correction_of=correction_of.id if correction_of else None, source="event")
    session.add(rating)
    session.flush()
    return rating


def rated_unit(session: Session, catalogue: Catalogue) -> Unit:
    """The quarter of ``build_quarter`` plus four counted zalo5 ratings (5, 5, 4, 1) and one correction
    (a 2 replaced by a 5 under the "latest" rule: the 2 is kept, not counted)."""
    unit = create_unit(session)
    build_quarter(session, catalogue, unit)
    rate(session, unit, 5)
    rate(session, unit, 4)
    rate(session, unit, 1, field="Chứng thực")
    first = rate(session, unit, 2, counted=False)
    rate(session, unit, 5, day=11, correction_of=first)
    rate(session, unit, 3).submitted_at = local(2026, 4, 2)  # next quarter: not in Q1
    session.commit()
    return unit


def test_section_counts_stars_apart_from_the_criteria(session: Session, catalogue: Catalogue) -> None:
    plain = create_unit(session)
    build_quarter(session, catalogue, plain)
    unit = rated_unit(session, catalogue)
    without = unit_report(session, catalogue, plain, Q1, tz=TZ, now=NOW)
    report = unit_report(session, catalogue, unit, Q1, tz=TZ, now=NOW)
    assert "zalo_service_rating" not in without  # only when the unit has any
    section = report["zalo_service_rating"]
    assert (section["instrument"], section["count"], section["mean_stars"], section["small_n"]) == ("zalo5", 4, 3.75,
                                                                                                    True)
    assert [(s["stars"], s["n"], s["percent"]) for s in section["distribution"]] == [
        (1, 1, 25.0), (2, 0, 0.0), (3, 0, 0.0), (4, 1, 25.0), (5, 2, 50.0)]
    assert section["distribution"][4]["ci95"] is not None and section["distribution"][1]["ci95"] == [0.0, 48.99]
    assert section["corrections"] == {"submissions": 5, "corrections": 1, "not_counted": 1}
    # the 12 criteria, their overall share, responses and channels are exactly those of a unit without zalo5
    for key in ("instruments", "overall", "responses", "channels", "satisfaction_766", "scores", "dossiers"):
        assert report[key] == without[key], key


def test_section_follows_field_and_channel_filters(session: Session, catalogue: Catalogue) -> None:
    unit = rated_unit(session, catalogue)
    field = unit_report(session, catalogue, unit, Q1, tz=TZ, now=NOW, field="Chứng thực")["zalo_service_rating"]
    assert field["count"] == 1 and field["distribution"][0]["n"] == 1
    zalo = unit_report(session, catalogue, unit, Q1, tz=TZ, now=NOW, channel=ResponseChannel.ZALO.value)
    assert zalo["zalo_service_rating"]["count"] == 4
    assert "zalo_service_rating" not in unit_report(session, catalogue, unit, Q1, tz=TZ, now=NOW, channel="kiosk")
    april = Period(Q1.end + timedelta(days=1), Q1.end + timedelta(days=30))
    assert unit_report(session, catalogue, unit, april, tz=TZ, now=NOW)["zalo_service_rating"]["count"] == 1


def test_cli_json_api_and_xlsx_carry_the_section(run_cli, client: FlaskClient, session: Session,  # type: ignore[no-untyped-def]
                                                 catalogue: Catalogue) -> None:
    unit = rated_unit(session, catalogue)
    key = create_key(session, unit)
    clerk = create_clerk(session, unit)
    session.commit()
    cli_json = json.loads(run_cli("report", "--unit", unit.code, "--quarter", "2026Q1", "--json").output)
    api = client.get("/api/v1/reports", query_string={"unit": unit.code, "quarter": "2026Q1"},
                     headers={"Authorization": f"Bearer {key}"}).get_json()
    assert cli_json["zalo_service_rating"] == api["zalo_service_rating"]
    assert api["zalo_service_rating"]["count"] == 4
    login(client, clerk)
    xlsx = client.get("/console/bao-cao/bang-tinh.xlsx", query_string={"kind": "quarter", "quarter": "2026Q1",
                                                                        "unit": unit.code})
    book = load_workbook(io.BytesIO(xlsx.data))
    assert book.sheetnames == ["Tiêu chí", "Lĩnh vực", "Đánh giá Zalo"]
    rows = list(book["Đánh giá Zalo"].iter_rows(min_row=5, values_only=True))
    assert [row[:3] for row in rows[:5]] == [(1, 1, 25), (2, 0, 0), (3, 0, 0), (4, 1, 25), (5, 2, 50)]
    assert rows[5][:2] == ("Tổng số lượt được tính", 4) and rows[6][:2] == ("Số sao trung bình", 3.75)
    assert all("Zalo" not in str(row) for row in book["Tiêu chí"].iter_rows(values_only=True))
    text = run_cli("report", "--unit", unit.code, "--quarter", "2026Q1").output
    assert "Đánh giá qua Zalo (1–5 sao, ngoài 12 tiêu chí): 4 lượt được tính, ít phiếu, trung bình 3,75 sao" in text
    assert "1 sao 1 (25,00%); 2 sao 0 (0,00%)" in text
    page = client.get("/console/bao-cao/", query_string={"kind": "quarter", "quarter": "2026Q1", "unit": unit.code})
    card = page.get_data(as_text=True).split('data-testid="zalo-rating"', 1)[1].split("</section>", 1)[0]
    assert "trung bình 3,75 sao" in card and "<td>5 sao</td><td class=\"num\">2</td>" in card
