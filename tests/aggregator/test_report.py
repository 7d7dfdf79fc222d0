"""The report of a hand-computed quarter (see ``fixtures``), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import unicodedata
from datetime import date

from sqlalchemy.orm import Session

from aggregator.inputs import QuarterFigures, save_quarter_input
from aggregator.report import build_report
from aggregator.service import unit_report
from sipas.catalogue import Catalogue
from sipas.clock import Period
from sipas.models import ResponseChannel
from tests.aggregator.fixtures import NOW, build_quarter
from tests.factories import TZ, answers_for, create_dossier, create_response, create_unit, local

Q1 = Period.quarter(2026, 1)


def report_of(session: Session, catalogue: Catalogue, unit, period=Q1, now=NOW, **kw):  # type: ignore[no-untyped-def]
    return build_report(session, catalogue, [unit], period, tz=TZ, now=now, unit_label=unit.name, **kw)


def criterion(report: dict, instrument: str, code: str) -> dict:
    inst = next(i for i in report["instruments"] if i["code"] == instrument)
    return next(c for c in inst["criteria"] if c["code"] == code)


def shares(c: dict) -> list[tuple[int, float]]:
    return [(o["count"], o["percent"]) for o in c["options"]]


def test_dossier_handling_of_the_quarter(session: Session, catalogue: Catalogue) -> None:
    unit = create_unit(session)
    build_quarter(session, catalogue, unit)
    report = report_of(session, catalogue, unit)
    assert report["dossiers"] == {
        "received": 5, "received_online": 2, "received_direct_postal": 3, "carried_over": 2,
        "resolved": 3, "early": 1, "on_time": 1, "late": 1,
        "in_progress": 4, "in_progress_on_time": 2, "in_progress_overdue": 2, "on_time_rate": 66.67,
        "rated": 3, "rated_rate": 100.0,  # B, C and D each have a response (R5 on A is outside the quarter's dossiers)
    }
    rows = {r["field"]: r for r in report["fields"]}
    assert [r["field"] for r in report["fields"]] == ["Chứng thực", "Đất đai", "Hộ tịch", "Tổng cộng"]
    ho_tich = rows["Hộ tịch"]
    assert (ho_tich["received_total"], ho_tich["received_online"], ho_tich["received_direct_postal"],
            ho_tich["carried_over"]) == (3, 1, 0, 2)
    assert (ho_tich["resolved"], ho_tich["early"], ho_tich["on_time"], ho_tich["late"]) == (2, 1, 1, 0)
    assert (ho_tich["in_progress"], ho_tich["in_progress_on_time"], ho_tich["in_progress_overdue"]) == (1, 0, 1)
    assert ho_tich["on_time_rate"] == 100.0
    assert (rows["Chứng thực"]["late"], rows["Chứng thực"]["in_progress_on_time"]) == (1, 1)
    assert (rows["Đất đai"]["resolved"], rows["Đất đai"]["on_time_rate"]) == (0, 0.0)
    total = rows["Tổng cộng"]
    assert total["is_total"] and total["received_total"] == 7 == total["resolved"] + total["in_progress"]
    create_dossier(session, unit, received_at=local(2026, 3, 2), due_at=local(2026, 3, 9),
                   returned_at=local(2026, 3, 9), now=NOW)  # resolved on time, never rated
    after = report_of(session, catalogue, unit)["dossiers"]
    assert (after["resolved"], after["rated"], after["rated_rate"], after["on_time_rate"]) == (4, 3, 75.0, 75.0)


def test_criteria_counts_percentages_and_not_applicable(session: Session, catalogue: Catalogue) -> None:
    unit = create_unit(session)
    build_quarter(session, catalogue, unit)
    report = report_of(session, catalogue, unit)
    assert [(i["code"], i["responses"], i["response_rate"]) for i in report["instruments"]] == [
        ("hue12", 2, 66.67), ("quay4", 1, 33.33), ("tt01_2018", 1, 33.33)]
    assert shares(criterion(report, "hue12", "tc01")) == [(1, 50.0), (1, 50.0), (0, 0.0)]
    tc02 = criterion(report, "hue12", "tc02")
    assert (tc02["n"], tc02["not_applicable"], shares(tc02)) == (1, 1, [(0, 0.0), (1, 100.0), (0, 0.0)])
    assert shares(criterion(report, "hue12", "tc04")) == [(1, 50.0), (0, 0.0), (1, 50.0)]
    q4 = criterion(report, "quay4", "q4")
    assert q4["n"] == 1 and [o["label"] for o in q4["options"]] == ["Đơn giản", "Cần giảm giấy tờ", "Phức tạp"]
    assert [c["code"] for c in next(i for i in report["instruments"] if i["code"] == "tt01_2018")["criteria"]] == [
        "cs1", "cs3", "cs4", "cs7"]
    for instrument in report["instruments"]:
        for c in instrument["criteria"]:
            assert round(sum(o["percent"] for o in c["options"]), 2) in (0.0, 100.0)


def test_scores_channels_ballots_overall_and_766(session: Session, catalogue: Catalogue) -> None:
    unit = create_unit(session)
    build_quarter(session, catalogue, unit)
    report = report_of(session, catalogue, unit)
    # 1-2: (2·1 early + 1 on time)/3 = 1.0; 3: (cs3 1 + tc07 1 + 1)/3; 4: (2 + 2)/2; 7: (2 + 2 + 0)/3 = 1.3;
    # 5, 6, 8 entered; 9: 40 % online but the online dossier F is overdue → 0.
    assert report["scores"]["indices"] == {"1": 1.0, "2": 1.0, "3": 1.0, "4": 2.0, "5": 2.0, "6": 1.0, "7": 1.3,
                                           "8": 2.0, "9": 0.0}
    assert (report["scores"]["total"], report["scores"]["class"]) == (11.3, "khá")
    channels = {c["code"]: (c["responses"], c["response_rate"]) for c in report["channels"]}
    assert channels == {"kiosk": (2, 66.67), "sms": (1, 33.33), "qr": (0, 0.0), "paper": (1, 33.33),
                        "api": (0, 0.0), "zalo": (0, 0.0)}
    assert report["responses"] == 4
    assert report["paper_ballots"] == {"handed_out": 10, "returned": 1, "return_rate": 10.0,
                                       "handed_out_status": "complete", "note": None}
    # Satisfaction criteria only: R1 11 hue12 answers (tc02 n/a), R2 11 (tc08 n/a) of which tc04 "không hài
    # lòng", R3 quay4 q1-q2 (q3 and q4 are not satisfaction criteria), R4 tt01 cs7 (cs1 "trễ hẹn" is a fact,
    # not a rating) → 25 answers, 1 dissatisfied; only R2 needs follow-up.
    assert report["overall"] == {"answers": 25, "satisfied": 24, "dissatisfied": 1, "percent": 96.0,
                                 "negative_responses": 1, "ci95": [80.46, 99.29], "small_n": True}
    # 7 dossiers; late D, overdue F and H, C rated negatively → (7 − 4) / 7
    assert report["satisfaction_766"] == {"total_dossiers": 7, "unsatisfied_or_late": 4, "percent": 42.86}
    assert [(c["comment"], c["negative"], c["channel"]) for c in report["comments"]] == [
        ("Phải chờ lâu", True, "sms"), ("Cán bộ nhiệt tình", False, "kiosk")]
    assert report["comments"][0]["submitted_at"] == "2026-01-13T09:00"
    assert all(set(c) == {"id", "submitted_at", "local_date", "channel", "instrument", "comment", "negative",
                          "unit", "unit_name"} for c in report["comments"])
    json.dumps(report)  # plain JSON


def test_dissatisfied_answers_come_from_the_criterion_sets_not_from_zero_points(session: Session,
                                                                                catalogue: Catalogue) -> None:
    unit = create_unit(session)
    on_time = {"received_at": local(2026, 2, 2), "due_at": local(2026, 2, 9), "returned_at": local(2026, 2, 9),
               "now": NOW}
    x, y, z, w = (create_dossier(session, unit, **on_time) for _ in range(4))
    rate = {"submitted_at": local(2026, 2, 10), "now": NOW}
    good = {"q1": "hai_long", "q2": "rat_hai_long"}
    # X: every 0-point fact of TT 01/2018, attitude "hài lòng" → not dissatisfied
    create_response(session, catalogue, unit, dossier=x, instrument="tt01_2018", **rate,
                    answers={"cs1": "tre_hen", "cs3": "tren_mot_lan", "cs4": "tu_hai_noi", "cs7": "hai_long"})
    # Y: the delay was not acceptable → dissatisfied, although no satisfaction-scale answer is negative
    create_response(session, catalogue, unit, dossier=y, instrument="quay4", **rate,
                    answers=good | {"q3": "khong_dung_hen", "q4": "don_gian"})
    # Z: "phức tạp" and "chậm hẹn nhưng chấp nhận được" → not dissatisfied
    create_response(session, catalogue, unit, dossier=z, instrument="quay4", **rate,
                    answers=good | {"q3": "cham_chap_nhan_duoc", "q4": "phuc_tap"})
    # W: one hue12 "không hài lòng" → dissatisfied
    create_response(session, catalogue, unit, dossier=w, **rate,
                    answers=answers_for(catalogue, "hue12", 1, on=NOW) | {"tc01": "khong_hai_long"})
    report = report_of(session, catalogue, unit)
    assert report["dossiers"]["late"] == report["dossiers"]["in_progress"] == 0
    # 4 dossiers, Y and W dissatisfied → (4 − 2) / 4
    assert report["satisfaction_766"] == {"total_dossiers": 4, "unsatisfied_or_late": 2, "percent": 50.0}
    # X cs7 (1 answer) + Y q1, q2 + Z q1, q2 + W 12 items, of which tc01 dissatisfied → 17 answers, 16 satisfied
    # ci95 of 16/17: centre 1.054164/1.225976 = 0.8599, half 0.158988/1.225976 = 0.1297
    assert report["overall"] == {"answers": 17, "satisfied": 16, "dissatisfied": 1, "percent": 94.12,
                                 "negative_responses": 2, "ci95": [73.02, 98.95], "small_n": True}
    q3 = criterion(report, "quay4", "q3")
    assert [(o["code"], o["dissatisfied"]) for o in q3["options"]] == [
        ("dung_hen", False), ("cham_chap_nhan_duoc", False), ("khong_dung_hen", True)]
    assert not q3["satisfaction"] and criterion(report, "quay4", "q1")["satisfaction"]


def test_period_crossing_the_year(session: Session, catalogue: Catalogue) -> None:
    unit = create_unit(session)
    build_quarter(session, catalogue, unit)
    report = report_of(session, catalogue, unit, period=Period(date(2025, 12, 15), date(2026, 3, 6)))
    d = report["dossiers"]
    assert (d["received"], d["received_online"], d["carried_over"]) == (5, 2, 1)
    assert (d["resolved"], d["early"], d["on_time"], d["late"]) == (4, 2, 1, 1)
    assert (d["in_progress"], d["in_progress_overdue"]) == (2, 1)
    assert (d["rated"], d["rated_rate"]) == (4, 100.0)
    assert report["responses"] == 5
    # 10 ballots were handed out over all of Q1: not over 01/01–06/3, so no return rate is made up
    assert report["paper_ballots"] == {"handed_out": None, "returned": 1, "return_rate": None,
                                       "handed_out_status": "partial_period",
                                       "note": "không đủ số liệu phiếu phát ra cho kỳ không trọn quý"}
    assert (report["from"], report["to"]) == ("2025-12-15", "2026-03-06")


def test_ballots_handed_out_need_every_whole_quarter(session: Session, catalogue: Catalogue) -> None:
    unit = create_unit(session)
    build_quarter(session, catalogue, unit)  # Q1 2026: 10 handed out, 1 paper ballot returned
    half = Period(date(2026, 1, 1), date(2026, 6, 30))
    paper = report_of(session, catalogue, unit, period=half)["paper_ballots"]
    assert (paper["handed_out"], paper["return_rate"], paper["handed_out_status"]) == (None, None, "missing_quarters")
    assert paper["note"] == "không đủ số liệu phiếu phát ra: chưa nhập cho quý II năm 2026"
    save_quarter_input(session, catalogue, unit, 2026, 2, QuarterFigures(ballots_handed_out=30), actor="t", now=NOW)
    create_response(session, catalogue, unit, instrument="quay4", channel=ResponseChannel.PAPER,
                    submitted_at=local(2026, 5, 4), now=NOW)
    paper = report_of(session, catalogue, unit, period=half)["paper_ballots"]
    assert paper == {"handed_out": 40, "returned": 2, "return_rate": 5.0, "handed_out_status": "complete",
                     "note": None}
    assert report_of(session, catalogue, unit, period=Period.month(2026, 2))["paper_ballots"]["handed_out"] is None
    no_paper = report_of(session, catalogue, create_unit(session))["paper_ballots"]
    assert no_paper == {"handed_out": None, "returned": 0, "return_rate": None, "handed_out_status": "not_entered",
                        "note": None}  # a ward without paper ballots gets no note


def test_running_period_judges_overdue_as_of_today(session: Session, catalogue: Catalogue) -> None:
    unit = create_unit(session)
    build_quarter(session, catalogue, unit)
    report = report_of(session, catalogue, unit, now=local(2026, 3, 5, 12))
    assert report["period"]["as_of"] == "2026-03-05"
    assert report["dossiers"]["in_progress_overdue"] == 1  # only H; F is due 10/3


def test_filters_by_field_and_channel(session: Session, catalogue: Catalogue) -> None:
    unit = create_unit(session)
    build_quarter(session, catalogue, unit)
    by_field = report_of(session, catalogue, unit, field="Hộ tịch")
    assert [r["field"] for r in by_field["fields"]] == ["Hộ tịch", "Tổng cộng"]
    assert by_field["dossiers"]["resolved"] == 2 and by_field["responses"] == 2
    assert [i["code"] for i in by_field["instruments"]] == ["hue12"]
    by_channel = report_of(session, catalogue, unit, channel="sms")
    assert by_channel["responses"] == 1 and by_channel["dossiers"]["resolved"] == 3
    assert criterion(by_channel, "hue12", "tc01")["n"] == 1


def test_a_field_typed_with_decomposed_marks_is_the_same_field(session: Session, catalogue: Catalogue) -> None:
    """Vietnamese typed as decomposed marks (Unikey's "Unicode tổ hợp", a Mac) is the same text as the composed
    form the imports store (NFC); a decomposed "Hộ tịch" from the CLI, the API or the dashboard gave an empty
    report and no error. The filter is read as NFC wherever it enters (``parse_field``)."""
    unit = create_unit(session)
    build_quarter(session, catalogue, unit)
    decomposed = unicodedata.normalize("NFD", "Hộ tịch")
    assert decomposed != "Hộ tịch"
    report = unit_report(session, catalogue, unit, Q1, tz=TZ, now=NOW, field=decomposed)
    assert [r["field"] for r in report["fields"]] == ["Hộ tịch", "Tổng cộng"]
    assert report["period"]["field"] == "Hộ tịch"
    assert report["dossiers"]["resolved"] == 2 and report["responses"] == 2


def test_empty_unit_gives_zeros_and_no_score(session: Session, catalogue: Catalogue) -> None:
    unit = create_unit(session)
    report = report_of(session, catalogue, unit)
    assert report["dossiers"]["on_time_rate"] == 0.0 and report["dossiers"]["resolved"] == 0
    [instrument] = report["instruments"]  # the unit's default instrument, with no answers
    assert instrument["code"] == "hue12" and instrument["responses"] == 0 and instrument["response_rate"] == 0.0
    assert all(c["n"] == 0 and all(o["percent"] == 0.0 for o in c["options"]) for c in instrument["criteria"])
    scores = report["scores"]
    assert {k: scores[k] for k in ("indices", "total", "class", "class_code", "max_total")} == {
        "indices": {}, "total": None, "class": None, "class_code": None, "max_total": 18.0}
    assert (scores["class_reason"], scores["indices_available"], scores["coverage"]) == ("no_data", [], "0/9 chỉ số")
    assert report["fields"] == [report["fields"][-1]] and report["fields"][-1]["field"] == "Tổng cộng"


def test_response_at_local_midnight_belongs_to_the_local_day(session: Session, catalogue: Catalogue) -> None:
    unit = create_unit(session)
    answers = {"q1": "hai_long", "q2": "hai_long", "q3": "dung_hen", "q4": "don_gian"}
    for at in (local(2025, 12, 31, 23, 30), local(2026, 1, 1, 0, 30), local(2026, 3, 31, 23, 59),
               local(2026, 4, 1, 0, 0)):
        create_response(session, catalogue, unit, instrument="quay4", channel=_paper(), answers=answers,
                        submitted_at=at, now=NOW)
    assert report_of(session, catalogue, unit)["responses"] == 2


def test_district_report_covers_its_wards(session: Session, catalogue: Catalogue) -> None:
    from tests.factories import create_district_with_wards

    district, (ward1, ward2) = create_district_with_wards(session)
    build_quarter(session, catalogue, ward1)
    build_quarter(session, catalogue, ward2)
    report = unit_report(session, catalogue, district, Q1, tz=TZ, now=NOW)
    assert report["unit"] == district.code and report["units"] == [district.code, ward1.code, ward2.code]
    assert report["dossiers"]["resolved"] == 6 and report["responses"] == 8
    assert report["paper_ballots"]["handed_out"] == 20
    assert sorted((c["unit"], c["unit_name"], c["comment"]) for c in report["comments"]) == sorted(
        (ward.code, ward.name, text) for ward in (ward1, ward2) for text in ("Phải chờ lâu", "Cán bộ nhiệt tình"))


def test_a_district_return_rate_needs_the_handed_out_figure_of_every_ward_with_ballots(
        session: Session, catalogue: Catalogue) -> None:
    """A ward keying paper ballots without a handed-out figure made the district's rate 140 % and "complete" (its
    ballots counted above the line, nothing below); a field filter divided the field's ballots by the unit's."""
    from tests.factories import create_district_with_wards

    district, (keyed_both, keyed_ballots) = create_district_with_wards(session)
    save_quarter_input(session, catalogue, keyed_both, 2026, 1, QuarterFigures(ballots_handed_out=10), actor="t",
                       now=NOW)
    for ward, n in ((keyed_both, 2), (keyed_ballots, 12)):
        for day in range(n):
            create_response(session, catalogue, ward, instrument="quay4", channel=ResponseChannel.PAPER,
                            submitted_at=local(2026, 2, 1 + day), now=NOW)
    units = [district, keyed_both, keyed_ballots]
    for recount in (False, True):
        paper = build_report(session, catalogue, units, Q1, tz=TZ, now=NOW, unit_label=district.name,
                             recount=recount)["paper_ballots"]
        assert paper == {"handed_out": None, "returned": 14, "return_rate": None, "handed_out_status": "missing_units",
                         "note": "không đủ số liệu phiếu phát ra: 1 đơn vị có phiếu thu vào nhưng chưa nhập số phiếu "
                                 "phát ra"}
    save_quarter_input(session, catalogue, keyed_ballots, 2026, 1, QuarterFigures(ballots_handed_out=30), actor="t",
                       now=NOW)
    paper = unit_report(session, catalogue, district, Q1, tz=TZ, now=NOW)["paper_ballots"]
    assert (paper["handed_out"], paper["return_rate"], paper["handed_out_status"]) == (40, 35.0, "complete")
    by_field = report_of(session, catalogue, keyed_both, field="Hộ tịch")["paper_ballots"]
    assert (by_field["handed_out"], by_field["return_rate"], by_field["handed_out_status"]) == (None, None,
                                                                                                 "by_field")


def test_the_766_ratio_counts_a_rating_that_carries_a_petition(session: Session, catalogue: Catalogue) -> None:
    """QĐ 766: "Số hồ sơ không hài lòng hoặc có phản ánh, kiến nghị …, quá hạn" (domain notes §2.4). A dossier rated
    "Rất hài lòng" throughout whose comment asks for action counted as satisfied (100 % where 50 % is right)."""
    unit = create_unit(session)
    praised, petitioned = (create_dossier(session, unit, received_at=local(2026, 2, 2, 8),
                                          due_at=local(2026, 2, 6, 17), returned_at=local(2026, 2, 5, 9))
                           for _ in range(2))
    create_response(session, catalogue, unit, dossier=praised, submitted_at=local(2026, 2, 5, 10), now=NOW)
    asked = create_response(session, catalogue, unit, dossier=petitioned, submitted_at=local(2026, 2, 5, 11), now=NOW,
                            comment="Kiến nghị trả kết quả đúng hẹn, phải đi lại nhiều lần")
    assert asked.follow_up and not asked.negative
    for recount in (False, True):
        ratio = report_of(session, catalogue, unit, recount=recount)["satisfaction_766"]
        assert ratio == {"total_dossiers": 2, "unsatisfied_or_late": 1, "percent": 50.0}, recount


def _paper():  # type: ignore[no-untyped-def]
    from sipas.models import ResponseChannel

    return ResponseChannel.PAPER


def test_a_late_online_dossier_scores_index_9_even_without_new_dossiers(session: Session,
                                                                         catalogue: Catalogue) -> None:
    """Index 9 is 0 when an online dossier was late (TT 01/2018: "dưới 15% hoặc có hồ sơ trực tuyến trễ hạn").
    A unit that received nothing new in the period but returned a carried-over online dossier late had no index 9
    at all ("không có hồ sơ tiếp nhận trong kỳ"): the late dossier left its score incomplete instead of at 0."""
    from sipas.models import IntakeChannel

    unit = create_unit(session)
    create_dossier(session, unit, received_at=local(2025, 12, 1), due_at=local(2025, 12, 10),
                   returned_at=local(2026, 1, 20), intake_channel=IntakeChannel.ONLINE_FULL, now=NOW)
    report = report_of(session, catalogue, unit)
    assert (report["dossiers"]["received"], report["dossiers"]["carried_over"], report["dossiers"]["late"]) == (0, 1, 1)
    assert report["scores"]["indices"]["9"] == 0.0
    assert 9 not in [m["index"] for m in report["scores"]["indices_missing"]]
    quiet = create_unit(session)  # nothing received and nothing late: still no data for index 9
    create_dossier(session, quiet, received_at=local(2025, 12, 1), due_at=local(2026, 1, 30),
                   returned_at=local(2026, 1, 20), intake_channel=IntakeChannel.ONLINE_FULL, now=NOW)
    assert "9" not in report_of(session, catalogue, quiet)["scores"]["indices"]
