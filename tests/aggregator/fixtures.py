"""A hand-computed quarter (Q1 2026) for one ward; the expected figures are worked out in the tests.

Dossiers (field, intake, received → due → returned):
  A Hộ tịch   direct        2025-12-20 → 12-28 → 12-27   before the quarter (early in a 15/12 period)
  B Hộ tịch   direct        2025-12-22 → 01-05 → 01-05   carried over, on time
  C Hộ tịch   online_full   2026-01-10 → 01-15 → 01-12   early
  D Chứng thực direct       2026-02-01 → 02-03 → 02-05   late
  E Chứng thực postal       2026-03-20 → 04-05 → –       in progress, in time
  F Đất đai   online_partial 2026-03-01 → 03-10 → –      in progress, overdue (online)
  G Đất đai   direct        2026-03-30 → 04-02 → 04-01   in progress at the end, in time
  H Hộ tịch   direct        2025-11-01 → 11-10 → –       carried over, overdue
  Z Hộ tịch   direct        2026-04-02 → 04-03 → 04-03   after the quarter
Responses:
  R1 hue12 kiosk on B 2026-01-06: all "rất hài lòng", tc02 n/a, tc07 "hài lòng", comment
  R2 hue12 sms on C 2026-01-13: all "hài lòng", tc04 "không hài lòng", tc08 n/a, comment
  R3 quay4 paper, no dossier, 2026-02-10: q1 rất hài lòng, q2 hài lòng, q3 đúng hẹn, q4 phức tạp
  R4 tt01_2018 kiosk on D 2026-02-06: cs1 trễ hẹn, cs3 1 lần, cs4 không phải liên hệ, cs7 rất hài lòng
  R5 hue12 kiosk on A 2025-12-28: all "hài lòng"
Staff inputs Q1 2026: cs5 2 points, cs6 1 point, cs8 2 points, 10 paper ballots handed out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from aggregator.inputs import QuarterFigures, save_quarter_input
from sipas.catalogue import Catalogue
from sipas.models import Dossier, IntakeChannel, ResponseChannel, Unit
from tests.factories import answers_for, create_dossier, create_response, local

NOW = datetime(2026, 4, 10, 3, 0, tzinfo=UTC)
DIRECT, POSTAL = IntakeChannel.DIRECT, IntakeChannel.POSTAL
ONLINE_FULL, ONLINE_PARTIAL = IntakeChannel.ONLINE_FULL, IntakeChannel.ONLINE_PARTIAL


@dataclass
class Quarter:
    unit: Unit
    dossiers: dict[str, Dossier]


def _d(session: Session, unit: Unit, code: str, field: str, channel: IntakeChannel, received: tuple[int, int, int],
       due: tuple[int, int, int], returned: tuple[int, int, int] | None) -> Dossier:
    return create_dossier(session, unit, code=f"{unit.code}-{code}", field=field, intake_channel=channel,
                          received_at=local(*received), due_at=local(*due, 17),
                          returned_at=local(*returned, 15) if returned else None, returned=returned is not None,
                          now=NOW)


def build_quarter(session: Session, catalogue: Catalogue, unit: Unit) -> Quarter:
    d = {
        "A": _d(session, unit, "A", "Hộ tịch", DIRECT, (2025, 12, 20), (2025, 12, 28), (2025, 12, 27)),
        "B": _d(session, unit, "B", "Hộ tịch", DIRECT, (2025, 12, 22), (2026, 1, 5), (2026, 1, 5)),
        "C": _d(session, unit, "C", "Hộ tịch", ONLINE_FULL, (2026, 1, 10), (2026, 1, 15), (2026, 1, 12)),
        "D": _d(session, unit, "D", "Chứng thực", DIRECT, (2026, 2, 1), (2026, 2, 3), (2026, 2, 5)),
        "E": _d(session, unit, "E", "Chứng thực", POSTAL, (2026, 3, 20), (2026, 4, 5), None),
        "F": _d(session, unit, "F", "Đất đai", ONLINE_PARTIAL, (2026, 3, 1), (2026, 3, 10), None),
        "G": _d(session, unit, "G", "Đất đai", DIRECT, (2026, 3, 30), (2026, 4, 2), (2026, 4, 1)),
        "H": _d(session, unit, "H", "Hộ tịch", DIRECT, (2025, 11, 1), (2025, 11, 10), None),
        "Z": _d(session, unit, "Z", "Hộ tịch", DIRECT, (2026, 4, 2), (2026, 4, 3), (2026, 4, 3)),
    }
    best = answers_for(catalogue, "hue12", 0, on=NOW)
    middle = answers_for(catalogue, "hue12", 1, on=NOW)
    create_response(session, catalogue, unit, dossier=d["B"], channel=ResponseChannel.KIOSK,
                    answers=best | {"tc02": "na", "tc07": "hai_long"}, submitted_at=local(2026, 1, 6),
                    comment="Cán bộ nhiệt tình", now=NOW)
    create_response(session, catalogue, unit, dossier=d["C"], channel=ResponseChannel.SMS,
                    answers=middle | {"tc04": "khong_hai_long", "tc08": "na"}, submitted_at=local(2026, 1, 13),
                    comment="Phải chờ lâu", now=NOW)
    create_response(session, catalogue, unit, instrument="quay4", channel=ResponseChannel.PAPER,
                    answers={"q1": "rat_hai_long", "q2": "hai_long", "q3": "dung_hen", "q4": "phuc_tap"},
                    submitted_at=local(2026, 2, 10), now=NOW)
    create_response(session, catalogue, unit, dossier=d["D"], instrument="tt01_2018", channel=ResponseChannel.KIOSK,
                    answers={"cs1": "tre_hen", "cs3": "mot_lan", "cs4": "khong_phai_lien_he", "cs7": "rat_hai_long"},
                    submitted_at=local(2026, 2, 6), now=NOW)
    create_response(session, catalogue, unit, dossier=d["A"], channel=ResponseChannel.KIOSK, answers=middle,
                    submitted_at=local(2025, 12, 28), now=NOW)
    save_quarter_input(session, catalogue, unit, 2026, 1,
                       QuarterFigures(index5="toan_bo_tai_mot_cua", index6="niem_yet_hoac_dien_tu",
                                      index8="khong_co_hoac_du", ballots_handed_out=10,
                                      index8_reason="Đơn vị tự đánh giá"), actor="test", now=NOW)
    session.flush()
    return Quarter(unit, d)
