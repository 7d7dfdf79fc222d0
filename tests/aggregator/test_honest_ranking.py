"""Issue 11 §3: a ranking that does not mislead (coverage, no class when incomplete, ranked apart, pooled basis)."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy.orm import Session

from aggregator import coverage
from aggregator.ranking import build_ranking, rank
from aggregator.report import build_report
from sipas import cli as cli_module
from sipas.catalogue import Catalogue
from sipas.clock import Period
from sipas.models import ResponseChannel
from tests.aggregator.fixtures import NOW, build_quarter
from tests.factories import TZ, create_district_with_wards, create_dossier, create_response, create_unit, local

Q1 = Period.quarter(2026, 1)
QUAY4_GOOD = {"q1": "rat_hai_long", "q2": "rat_hai_long", "q3": "dung_hen", "q4": "don_gian"}


def quay4_ward(session: Session, catalogue: Catalogue, district):  # type: ignore[no-untyped-def]
    """The issue's ward: a quay4 kiosk (no indices 3, 4, 7), no staff inputs (no 5, 6); all early, online.

    Index 8 comes from its follow-up cases (none: every rating satisfied, so 2 points), no longer typed in."""
    ward = create_unit(session, parent=district, default_instrument="quay4")
    for day in (5, 6):
        dossier = create_dossier(session, ward, received_at=local(2026, 2, day), due_at=local(2026, 2, day + 5),
                                 returned_at=local(2026, 2, day + 1), now=NOW)
        create_response(session, catalogue, ward, dossier=dossier, instrument="quay4", answers=QUAY4_GOOD,
                        submitted_at=local(2026, 2, day + 1, 15), now=NOW)
    return ward


def test_coverage_reasons_are_pure_rules() -> None:
    cov = coverage.coverage({1, 2, 9}, asked=set())
    assert cov.available == (1, 2, 9) and cov.label == "3/9 chỉ số" and not cov.complete
    assert dict(cov.missing) == {3: "form_lacks_question", 4: "form_lacks_question", 5: "staff_input_missing",
                                 6: "staff_input_missing", 7: "form_lacks_question", 8: "no_ratings_to_follow_up"}
    assert dict(coverage.coverage({5, 6, 8}, asked={3, 4, 7}).missing) == {
        1: "no_resolved_dossiers", 2: "no_resolved_dossiers", 3: "no_answers", 4: "no_answers", 7: "no_answers",
        9: "no_received_dossiers"}
    assert coverage.class_reason(coverage.coverage(set(range(1, 10)), set())) is None
    assert coverage.class_reason(coverage.coverage(set(), set())) == "no_data"


def test_incomplete_units_are_ranked_apart_by_mean_per_index() -> None:
    def row(code: str, total: float | None, mean: float | None, available: list[int], reason: str | None) -> dict:
        return {"code": code, "name": code, "total": total, "mean_per_index": mean, "indices_available": available,
                "class_reason": reason, "class": None if reason else "khá"}

    full = row("A", 11.0, 1.22, list(range(1, 10)), None)
    # B: 6.0 over 3 indices (2.0 each) outranks C's 6.0 over 6 (1.0 each); D's 2.0 on 1 index ties B's mean
    b = row("B", 6.0, 2.0, [1, 2, 9], "incomplete_indices")
    c = row("C", 6.0, 1.0, [1, 2, 5, 6, 8, 9], "incomplete_indices")
    d = row("D", 2.0, 2.0, [9], "incomplete_indices")
    ranking = rank([c, d, row("E", None, None, [], "no_data"), b, full], ["khá"])
    assert [(r["code"], r["group"], r["rank"], r["rank_apart"]) for r in ranking["units"]] == [
        ("A", "ranked", 1, None), ("B", "incomplete", None, 1), ("D", "incomplete", None, 1),
        ("C", "incomplete", None, 3), ("E", "no_data", None, None)]
    assert ranking["average"] == 11.0 and ranking["scored_units"] == 1 and ranking["incomplete_units"] == 3


def test_district_ranking_json_of_the_issue_case(session: Session, catalogue: Catalogue) -> None:
    district, [full] = create_district_with_wards(session, wards=1)
    build_quarter(session, catalogue, full)
    kiosk = quay4_ward(session, catalogue, district)
    silent = create_unit(session, parent=district)  # hue12 asks 3, 4, 7; one dossier resolved, nobody rated
    create_dossier(session, silent, received_at=local(2026, 3, 2), due_at=local(2026, 3, 9),
                   returned_at=local(2026, 3, 9), now=NOW)
    session.commit()
    ranking = build_ranking(session, catalogue, district, Q1, tz=TZ, now=NOW)
    rows = {r["code"]: r for r in ranking["units"]}
    assert [r["code"] for r in ranking["units"]] == [full.code, kiosk.code, silent.code]
    assert rows[full.code]["indices_available"] == list(range(1, 10)) and rows[full.code]["class"] == "khá"
    assert rows[full.code]["class_reason"] is None and rows[full.code]["coverage"] == "9/9 chỉ số"
    k = rows[kiosk.code]
    # early (2) both → 1, 2 = 2.0; no case to follow up → 8 = 2.0; no online dossier received (0 %) → 9 = 0.0:
    # total 6.0 over 4 indices
    assert (k["indices_available"], k["total"], k["mean_per_index"]) == ([1, 2, 8, 9], 6.0, 1.5)
    assert (k["class"], k["class_code"], k["class_reason"], k["rank"], k["rank_apart"]) == (
        None, None, "incomplete_indices", None, 1)
    assert k["class_reason_label"] == "chưa đủ dữ liệu xếp loại" and k["coverage"] == "4/9 chỉ số"
    assert {m["index"]: m["reason"] for m in k["indices_missing"]} == {
        3: "form_lacks_question", 4: "form_lacks_question", 7: "form_lacks_question",
        5: "staff_input_missing", 6: "staff_input_missing"}
    s = rows[silent.code]
    assert {m["index"]: m["reason"] for m in s["indices_missing"]}[3] == "no_answers"
    assert {m["index"]: m["reason"] for m in s["indices_missing"]}[8] == "no_ratings_to_follow_up"
    assert (s["class"], s["rank_apart"]) == (None, 2)  # 1, 2 on time (1.0), 9 = 0.0: mean 0.67
    assert ranking["count_per_class"]["khá"] == 1 and ranking["scored_units"] == 1
    assert ranking["average"] == rows[full.code]["total"] and ranking["average_basis"] == "mean_of_units"


def test_district_report_scores_are_labelled_pooled(session: Session, catalogue: Catalogue) -> None:
    district, [full] = create_district_with_wards(session, wards=1)
    build_quarter(session, catalogue, full)
    kiosk = quay4_ward(session, catalogue, district)
    session.commit()
    pooled = build_report(session, catalogue, [district, full, kiosk], Q1, tz=TZ, now=NOW,
                          unit_label=district.name)["scores"]
    assert pooled["basis"] == "pooled" and "không phải trung bình các đơn vị" in pooled["basis_label"]
    alone = build_report(session, catalogue, [kiosk], Q1, tz=TZ, now=NOW, unit_label=kiosk.name)["scores"]
    assert alone["basis"] == "unit" and alone["class"] is None and alone["indices_available"] == [1, 2, 8, 9]


def test_cli_shows_coverage_and_no_class(settings, monkeypatch, session: Session,  # type: ignore[no-untyped-def]
                                         catalogue: Catalogue) -> None:
    monkeypatch.setenv("SIPAS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SIPAS_INSTANCE_DIR", str(settings.instance_dir))
    monkeypatch.setenv("SIPAS_SECRET_KEY", "cli-test-secret")
    cli_module._add_extra_commands()
    district, [full] = create_district_with_wards(session, wards=1)
    build_quarter(session, catalogue, full)
    kiosk = quay4_ward(session, catalogue, district)
    session.commit()
    runner = CliRunner()
    text = runner.invoke(cli_module.cli, ["report", "--district", district.code, "--quarter", "2026Q1"]).stdout
    kiosk_line = next(line for line in text.splitlines() if kiosk.code in line and "4/9" in line)
    assert "chưa đủ dữ liệu xếp loại" in kiosk_line and kiosk_line.lstrip().startswith("–")
    assert "chỉ số 3: mẫu phiếu đơn vị dùng trong kỳ không có câu hỏi cho chỉ số này" in text
    data = json.loads(runner.invoke(cli_module.cli, ["report", "--district", district.code, "--quarter", "2026Q1",
                                                     "--json"]).stdout)
    row = next(r for r in data["units"] if r["code"] == kiosk.code)
    assert row["indices_available"] == [1, 2, 8, 9] and row["class"] is None
    assert row["class_reason"] == "incomplete_indices"
    unit_text = runner.invoke(cli_module.cli, ["report", "--unit", kiosk.code, "--quarter", "2026Q1"]).stdout
    assert "chưa đủ dữ liệu xếp loại, 4/9 chỉ số, thiếu chỉ số 3, 4, 5, 6, 7" in unit_text


def test_a_dossier_rated_on_two_forms_counts_once(session: Session, catalogue: Catalogue) -> None:
    unit = create_unit(session)
    twice = create_dossier(session, unit, received_at=local(2026, 2, 2), due_at=local(2026, 2, 9),
                           returned_at=local(2026, 2, 3), now=NOW)
    once = create_dossier(session, unit, received_at=local(2026, 2, 2), due_at=local(2026, 2, 9),
                          returned_at=local(2026, 2, 4), now=NOW)
    create_dossier(session, unit, received_at=local(2026, 2, 2), due_at=local(2026, 2, 9),
                   returned_at=local(2026, 2, 5), now=NOW)  # never rated
    create_response(session, catalogue, unit, dossier=twice, instrument="quay4", answers=QUAY4_GOOD,
                    submitted_at=local(2026, 2, 3, 15), now=NOW)
    create_response(session, catalogue, unit, dossier=twice, channel=ResponseChannel.SMS,
                    submitted_at=local(2026, 2, 4, 10), now=NOW)
    create_response(session, catalogue, unit, dossier=once, channel=ResponseChannel.SMS,
                    submitted_at=local(2026, 2, 5, 10), now=NOW)
    session.commit()
    report = build_report(session, catalogue, [unit], Q1, tz=TZ, now=NOW, unit_label=unit.name)
    # 3 responses on 2 distinct dossiers of 3 resolved: 66.67 %, not 100 %; one dossier on two forms
    assert report["responses"] == 3
    rated = report["rated_dossiers"]
    assert (rated["rated"], rated["resolved"], rated["percent"]) == (2, 3, 66.67)
    assert rated["rated_on_several_forms"] == 1 and rated["basis"] == "distinct_dossiers"
    assert rated["ci95"] == [20.77, 93.85]  # 2 of 3: centre 1.30693/2.28053 = 0.5731, half 0.8334/2.28053 = 0.3654
    by_field = build_report(session, catalogue, [unit], Q1, tz=TZ, now=NOW, unit_label=unit.name, field="Đất đai")
    assert by_field["rated_dossiers"]["rated_on_several_forms"] == 0
