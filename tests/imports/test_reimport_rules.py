"""Re-importing exports of another shape: what a file leaves out is kept; what it must not undo is refused."""

from __future__ import annotations

from sqlalchemy import select

from sipas.models import Dossier, DossierContact, IntakeChannel
from tests.factories import create_response, create_unit, local
from tests.imports.helpers import DOSSIER_HEADER, csv_bytes, dossier_row, run_dossiers, xlsx


def _dossier(session, unit, code: str) -> Dossier:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.scalar(select(Dossier).where(Dossier.unit_id == unit.id, Dossier.code == code))


def test_a_file_without_some_columns_keeps_what_it_does_not_mention(session) -> None:
    unit = create_unit(session)
    session.commit()
    full = xlsx([DOSSIER_HEADER, dossier_row("K1", channel="Trực tuyến toàn trình")])
    assert run_dossiers(session, unit, full).created == 1
    before = _dossier(session, unit, "K1")
    kept = (before.procedure, before.field, before.intake_channel, before.due_at, before.returned_at)
    narrow = xlsx([["Mã hồ sơ", "Ngày tiếp nhận"], ["K1", "05/01/2026 08:30"]])
    report = run_dossiers(session, unit, narrow)
    assert (report.updated, report.unchanged, report.errors) == (0, 1, [])
    after = _dossier(session, unit, "K1")
    assert (after.procedure, after.field, after.intake_channel, after.due_at, after.returned_at) == kept
    assert after.intake_channel is IntakeChannel.ONLINE_FULL and after.returned_at is not None


def test_a_blank_cell_in_a_column_the_file_has_still_clears(session) -> None:
    unit = create_unit(session)
    session.commit()
    run_dossiers(session, unit, xlsx([DOSSIER_HEADER, dossier_row("K2")]))
    report = run_dossiers(session, unit, xlsx([DOSSIER_HEADER, dossier_row("K2", returned=None)]))
    assert report.updated == 1
    assert _dossier(session, unit, "K2").returned_at is None


def test_a_rated_dossier_cannot_lose_its_return_date(session, catalogue) -> None:
    unit = create_unit(session)
    session.commit()
    run_dossiers(session, unit, xlsx([DOSSIER_HEADER, dossier_row("K3"), dossier_row("K4")]))
    create_response(session, catalogue, unit, dossier=_dossier(session, unit, "K3"), instrument="quay4")
    session.commit()
    data = xlsx([DOSSIER_HEADER, dossier_row("K3", returned=""), dossier_row("K4", returned="")])
    refused = run_dossiers(session, unit, data)
    assert [str(e) for e in refused.errors] == [
        "Dòng 2, cột “Ngày trả kết quả”: Hồ sơ đã được đánh giá nên không thể bỏ trống ngày trả kết quả."]
    assert not refused.written
    assert _dossier(session, unit, "K4").returned_at is not None  # all or nothing: K4 untouched too
    skipped = run_dossiers(session, unit, data, skip_invalid=True)
    assert (skipped.updated, len(skipped.errors)) == (1, 1)
    assert _dossier(session, unit, "K3").returned_at is not None
    assert _dossier(session, unit, "K4").returned_at is None


def test_a_rated_dossier_is_not_returned_after_its_first_rating(session, catalogue) -> None:
    """A rating needs the result returned (docs/api.md): a re-import that moved the return day past the rating
    was accepted and left a rated dossier 'returned' after it was rated. An earlier day, or the same, is fine."""
    unit = create_unit(session)
    session.commit()
    run_dossiers(session, unit, xlsx([DOSSIER_HEADER, dossier_row("R1"), dossier_row("R2")]))  # returned 07/01
    create_response(session, catalogue, unit, dossier=_dossier(session, unit, "R1"), instrument="quay4",
                    submitted_at=local(2026, 1, 8, 10), now=local(2026, 3, 1))
    session.commit()
    later = xlsx([DOSSIER_HEADER, dossier_row("R1", due="20/01/2026", returned="25/01/2026 09:00")])
    refused = run_dossiers(session, unit, later)
    assert [str(e) for e in refused.errors] == [
        "Dòng 2, cột “Ngày trả kết quả”: Hồ sơ đã được đánh giá ngày 08/01/2026: ngày trả kết quả không thể sau "
        "ngày đánh giá đầu tiên."]
    assert _dossier(session, unit, "R1").returned_local_date.isoformat() == "2026-01-07"
    same_day = run_dossiers(session, unit, xlsx([DOSSIER_HEADER, dossier_row("R1", returned="08/01/2026 09:00")]))
    assert same_day.updated == 1 and not same_day.errors


def test_a_receipt_moved_past_a_kept_date_is_a_row_error_not_a_crash(session) -> None:
    """A file without "Ngày hẹn trả"/"Ngày trả kết quả" keeps the stored dates; a row whose receipt moves past them
    raised an error no one caught: the CLI printed it without a row, a console job failed as "interrupted", and
    retrying failed alike."""
    unit = create_unit(session)
    session.commit()
    run_dossiers(session, unit, xlsx([DOSSIER_HEADER, dossier_row("K1"), dossier_row("K2")]))  # due 08/01
    narrow = xlsx([["Mã hồ sơ", "Ngày tiếp nhận"], ["K1", "05/01/2026 08:30"], ["K2", "10/01/2026 08:30"]])
    report = run_dossiers(session, unit, narrow)
    assert not report.written and [(e.row, e.column) for e in report.errors] == [(3, "Ngày tiếp nhận")]
    assert "ngày đã lưu" in report.errors[0].message
    skipped = run_dossiers(session, unit, narrow, skip_invalid=True)
    assert skipped.written and [e.row for e in skipped.errors] == [3]


def test_consent_without_any_phone_number_is_not_recorded(session) -> None:
    unit = create_unit(session)
    session.commit()
    report = run_dossiers(session, unit, xlsx([DOSSIER_HEADER, dossier_row("K5", phone=None, consent="có")]))
    assert (report.created, report.errors) == (1, [])
    assert _dossier(session, unit, "K5").contact is None
    # a number on record makes the same consent count
    run_dossiers(session, unit, xlsx([DOSSIER_HEADER, dossier_row("K5", phone="0912345678", consent="")]))
    run_dossiers(session, unit, xlsx([DOSSIER_HEADER, dossier_row("K5", phone=None, consent="có")]))
    assert _dossier(session, unit, "K5").contact.sms_consent is True


def test_a_new_phone_number_without_a_new_consent_has_none(session) -> None:
    unit = create_unit(session)
    session.commit()
    run_dossiers(session, unit, xlsx([DOSSIER_HEADER, dossier_row("K6", phone="0912345678", consent="có")]))
    run_dossiers(session, unit, xlsx([DOSSIER_HEADER, dossier_row("K6", phone="0987654321", consent="")]))
    contact = session.scalar(select(DossierContact).join(Dossier).where(Dossier.code == "K6"))
    assert (contact.phone_e164, contact.sms_consent, contact.consent_method) == ("+84987654321", False,
                                                                                 "phone_changed")
    run_dossiers(session, unit, xlsx([DOSSIER_HEADER, dossier_row("K6", phone="0987654321", consent="có")]))
    session.refresh(contact)
    assert (contact.sms_consent, contact.consent_method, contact.consent_wording_version) == (True, "import",
                                                                                              "2025.1")


def test_foreign_numbers_are_not_vietnamese_mobiles(session) -> None:
    unit = create_unit(session)
    session.commit()
    report = run_dossiers(session, unit, xlsx([DOSSIER_HEADER, dossier_row("K7", phone="+1 202 555 0100")]))
    assert [str(e) for e in report.errors] == [
        "Dòng 2, cột “Số điện thoại”: Số điện thoại “+1 202 555 0100” không phải số di động Việt Nam."]


def test_a_nul_character_anywhere_in_a_csv_is_a_file_error(session) -> None:
    unit = create_unit(session)
    session.commit()
    rows = [DOSSIER_HEADER] + [dossier_row(f"N{n:04d}") for n in range(200)]
    data = csv_bytes(rows)
    assert len(data) > 4096
    report = run_dossiers(session, unit, data[:-40] + b"\x00" + data[-40:], "hoso.csv")
    assert report.file_error is not None and "NUL" in report.file_error and not report.written
    assert session.scalar(select(Dossier.id).where(Dossier.unit_id == unit.id)) is None
