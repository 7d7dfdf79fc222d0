"""The triggers on ``dossier`` keep ``dossier_event_tally`` equal to the events recounted from the dossiers
(``sipas.dossier_events``), through each write path, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from sipas.catalogue import Catalogue
from sipas.dossier_events import rebuild_events
from sipas.dossiers import DossierInput, upsert_dossier
from sipas.models import Dossier, IntakeChannel
from sipas.responses import ResponseInput, record_response
from tests.aggregator.tally_recount import recount, stored
from tests.factories import SECRET, TZ, create_district_with_wards, local
from tests.imports.helpers import DOSSIER_HEADER, csv_bytes, dossier_row, run_dossiers

NOW = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)


def _events(session: Session, catalogue: Catalogue) -> None:
    session.commit()
    assert stored(session)["dossier_events"] == recount(session, catalogue, TZ)["dossier_events"]


def test_every_write_path_keeps_the_events(session: Session, catalogue: Catalogue) -> None:
    _district, (ward, other) = create_district_with_wards(session)
    made = upsert_dossier(session, ward, DossierInput(
        code="HS-1", received_at=local(2026, 1, 5), due_at=local(2026, 1, 10), returned_at=local(2026, 1, 26),
        field="Đất đai"), tz=TZ, now=NOW, secret=SECRET, actor="test").dossier
    upsert_dossier(session, ward, DossierInput(code="HS-2", received_at=local(2026, 1, 31),
                                               intake_channel=IntakeChannel.ONLINE_FULL),
                   tz=TZ, now=NOW, secret=SECRET, actor="test")
    _events(session, catalogue)
    upsert_dossier(session, ward, DossierInput(  # corrected: another field, returned early
        code="HS-1", received_at=local(2026, 1, 5), due_at=local(2026, 1, 10), returned_at=local(2026, 1, 8),
        field="Hộ tịch"), tz=TZ, now=NOW, secret=SECRET, actor="test")
    _events(session, catalogue)
    form = catalogue.current("hue12", local(2026, 1, 9).date())
    answers = {c.code: c.options[-1].code for c in form.citizen_criteria}  # the last option: dissatisfied
    record_response(session, catalogue, ward, ResponseInput(instrument="hue12", channel="kiosk", answers=answers,
                                                            dossier_code="HS-1"), now=local(2026, 1, 9), tz=TZ,
                    actor="test")
    _events(session, catalogue)
    assert session.scalar(select(Dossier.responses).where(Dossier.id == made.id)) == 1
    run_dossiers(session, ward, csv_bytes([
        DOSSIER_HEADER,
        dossier_row("HS-2", received="31/01/2026 08:00", due="03/02/2026", returned="05/02/2026 10:00",
                    channel="Trực tuyến toàn trình", phone="", consent=""),
        dossier_row("HS-3", received="01/02/2026 08:00", due="02/02/2026", returned="", phone="", consent=""),
    ]), "hoso.csv")
    _events(session, catalogue)
    session.execute(update(Dossier).where(Dossier.code == "HS-3").values(unit_id=other.id))
    _events(session, catalogue)
    session.execute(update(Dossier).where(Dossier.code == "HS-3").values(procedure="Khác"))  # not an event column
    _events(session, catalogue)
    session.execute(text("DELETE FROM dossier WHERE code = 'HS-3'"))
    _events(session, catalogue)


def test_rebuild_recounts_a_damaged_table(session: Session, catalogue: Catalogue) -> None:
    _district, (ward, _other) = create_district_with_wards(session)
    for n in range(3):
        upsert_dossier(session, ward, DossierInput(
            code=f"HS-{n}", received_at=local(2026, 1, 5 + n), due_at=local(2026, 1, 9),
            returned_at=local(2026, 1, 8) + timedelta(days=n)), tz=TZ, now=NOW, secret=SECRET, actor="test")
    session.commit()
    session.execute(text("UPDATE dossier_event_tally SET dossiers = dossiers + 5"))
    assert stored(session)["dossier_events"] != recount(session, catalogue, TZ)["dossier_events"]
    rebuild_events(session.connection())
    _events(session, catalogue)


def test_rebuild_sums_months_and_years_from_the_days_across_a_year_end(session: Session,
                                                                      catalogue: Catalogue) -> None:
    """The rebuild counts the day rows and sums the month and year rows from them: dossiers received, due,
    returned and cleared in other months and years than each other, in two wards and two fields."""
    _district, wards = create_district_with_wards(session)
    for n in range(12):
        received = local(2025, 11, 20) + timedelta(days=9 * n)
        returned = None if n % 5 == 4 else received + timedelta(days=(n * 7) % 23)
        upsert_dossier(session, wards[n % 2], DossierInput(
            code=f"HS-{n}", received_at=received, due_at=received + timedelta(days=5 + n % 4),
            returned_at=returned, field=("Đất đai", "Hộ tịch")[n % 3 % 2],
            intake_channel=IntakeChannel.ONLINE_FULL if n % 3 == 0 else IntakeChannel.DIRECT),
            tz=TZ, now=NOW, secret=SECRET, actor="test")
    session.commit()
    expected = recount(session, catalogue, TZ)["dossier_events"]
    assert {key[1] for key in expected} == {"day", "month", "year"}
    assert len({key[2].year for key in expected}) == 2
    session.execute(text("DELETE FROM dossier_event_tally WHERE grain <> 'day'"))
    session.execute(text("UPDATE dossier_event_tally SET dossiers = dossiers + 1"))
    rebuild_events(session.connection())
    _events(session, catalogue)


def test_ratings_during_an_import_that_changes_their_dossiers_keep_the_events(app, session: Session,
                                                                              catalogue: Catalogue) -> None:
    """Two API writers rate dossiers while an import changes those very dossiers (another field) and adds
    others: on PostgreSQL a rating and the swap lock the dossier rows before the event rows, so neither waits
    for the other in a cycle (no deadlock, every rating stored); the events equal the recount afterwards."""
    from tests.factories import create_dossier, create_key, create_unit
    from tests.imports.helpers import import_while_rating

    unit = create_unit(session)
    key = create_key(session, unit)
    codes = [create_dossier(session, unit, code=f"DG-{n}", received_at=local(2026, 1, 5),
                            returned_at=local(2026, 1, 7)).code for n in range(150)]
    session.commit()
    lines = [dossier_row(code, field="Đất đai", phone="", consent="") for code in codes]
    lines += [dossier_row(f"H-{n:05d}", phone="", consent="") for n in range(1500)]
    report, statuses, during = import_while_rating(app, unit, csv_bytes([DOSSIER_HEADER, *lines]), key, codes,
                                                   batch_size=200, every_code=True)
    assert during > 0, "no rating was submitted while the import ran"
    assert report.written and report.updated == len(codes) and report.created == 1500
    assert statuses and set(statuses) == {201}, sorted(set(statuses))
    session.rollback()
    _events(session, catalogue)
    assert session.scalar(select(func.count()).select_from(Dossier).where(Dossier.responses == 1)) == len(codes)
