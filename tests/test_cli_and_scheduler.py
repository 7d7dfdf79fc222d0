"""The `sipas` command on a real database, and the single-scheduler lock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from sipas.models import ApiKey, Dossier, Response, Unit
from sipas.scheduler import LeaseLost, SchedulerAlreadyRunning, acquire_lock, heartbeat, release_lock
from sipas.storage import Database


def test_unit_user_and_apikey_commands(run_cli, session):
    assert run_cli("unit", "create", "--code", "QUAN-1", "--name", "Quận Một").exit_code == 0
    result = run_cli("unit", "create", "--code", "P-BENNGHE", "--name", "Phường Bến Nghé", "--parent", "QUAN-1")
    assert result.exit_code == 0, result.output
    duplicate = run_cli("unit", "create", "--code", "P-BENNGHE", "--name", "Lặp")
    assert duplicate.exit_code != 0 and "đã tồn tại" in duplicate.output
    units = {u.code: u for u in session.scalars(select(Unit))}
    assert units["P-BENNGHE"].parent_id == units["QUAN-1"].id and units["QUAN-1"].kind == "district"
    created = run_cli("user", "create", "--username", "hoa", "--role", "clerk", "--unit", "P-BENNGHE",
                      "--password", "mot-mat-khau-dai")
    assert created.exit_code == 0, created.output
    key = run_cli("apikey", "create", "--unit", "P-BENNGHE", "--name", "Một cửa điện tử")
    last_line = key.output.strip().splitlines()[-1]
    session.rollback()  # end the read snapshot taken above before looking again
    assert last_line.startswith("sipas_") and len(last_line.split("_")) == 3
    assert session.scalar(select(func.count()).select_from(ApiKey)) == 1
    prefix = last_line.split("_")[1]
    assert run_cli("apikey", "revoke", prefix).exit_code == 0
    listed = run_cli("apikey", "list").output
    assert f"sipas_{prefix}\tP-BENNGHE\tMột cửa điện tử\tchưa dùng\tđã thu hồi" in listed


def test_demo_creates_data_once_and_keeps_it(run_cli, session):
    first = run_cli("demo", "--if-empty")
    assert first.exit_code == 0 and "admin" in first.output
    counts = (session.scalar(select(func.count()).select_from(Dossier)),
              session.scalar(select(func.count()).select_from(Response)))
    assert counts[0] > 300 and counts[1] > 150
    session.rollback()
    second = run_cli("demo", "--if-empty")
    assert second.exit_code == 0 and "giữ nguyên" in second.output
    session.rollback()
    assert (session.scalar(select(func.count()).select_from(Dossier)),
            session.scalar(select(func.count()).select_from(Response))) == counts
    units = session.scalars(select(Unit).order_by(Unit.code)).all()
    # two-tier local government since 01/7/2025: a province-level city and its wards, no district (issue 11 §5)
    assert [u.kind for u in units].count("province") == 1 and "district" not in [u.kind for u in units]
    assert len(units) == 3


def test_a_second_scheduler_refuses_to_start_while_the_first_is_alive(settings):
    database = Database(settings)
    now = datetime.now(UTC)
    first = acquire_lock(database, "host:1", now=now)
    with pytest.raises(SchedulerAlreadyRunning):
        acquire_lock(database, "host:2", now=now + timedelta(seconds=30))
    heartbeat(database, first)
    # A crashed holder (its lease expired) is replaced, with a larger fencing token.
    second = acquire_lock(database, "host:2", now=datetime.now(UTC) + timedelta(minutes=5))
    assert second.token == first.token + 1
    with pytest.raises(LeaseLost):
        heartbeat(database, first)
    release_lock(database, second)
    third = acquire_lock(database, "host:3", now=datetime.now(UTC))
    assert third.token == second.token + 1
    database.dispose()


def test_unit_create_takes_the_level_its_name_says(run_cli, session):
    """`sipas unit create` guessed a ward for "Tỉnh Thừa Thiên Huế" and for "Huyện Phú Vang" below it, so the
    province's districts and wards could not be created below it (a unit is created only below a higher level)
    and its ranking was refused as "không phải quận/huyện"."""
    for code, name, parent in (("T46", "Tỉnh Thừa Thiên Huế", None), ("H-PV", "Huyện Phú Vang", "T46"),
                               ("X-PT", "Xã Phú Thuận", "H-PV"), ("P-PH", "Phường Phú Hội", "T46"),
                               ("Q-TD", "Thành phố Thủ Đức", None)):
        result = run_cli("unit", "create", "--code", code, "--name", name, *(("--parent", parent) if parent else ()))
        assert result.exit_code == 0, result.output
    kinds = {u.code: u.kind for u in session.scalars(select(Unit))}
    assert kinds == {"T46": "province", "H-PV": "district", "X-PT": "commune", "P-PH": "ward", "Q-TD": "district"}


def test_sipas_scheduler_says_in_vietnamese_which_process_holds_the_lock(settings, run_cli):
    """`sipas scheduler` beside a live one ended "Lỗi: Đã có tiến trình lập lịch khác đang chạy: scheduler already
    running (other-host:1, lease until 2026-…)": English after the Vietnamese."""
    database = Database(settings)
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    acquire_lock(database, "other-host:1", now=expires - timedelta(hours=1), seconds=3600)
    database.dispose()
    result = run_cli("--quiet", "scheduler")
    assert result.exit_code == 1
    assert result.output.strip() == ("Lỗi: Đã có tiến trình lập lịch khác đang chạy: tiến trình other-host:1 giữ "
                                     f"khóa đến {expires:%Y-%m-%d %H:%M:%S} UTC")
