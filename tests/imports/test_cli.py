"""The ``sipas import-dossiers`` / ``import-responses`` commands: summary, row errors, exit codes."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from sipas.cli_imports import import_dossiers_command, import_responses_command
from sipas.models import Dossier, Response
from tests.factories import create_unit
from tests.imports.helpers import DOSSIER_HEADER, csv_bytes, dossier_row, xlsx


def _run(command, args: list[str], database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {"SIPAS_DATABASE_URL": database_url, "SIPAS_SECRET_KEY": "test-secret-key",
           "SIPAS_INSTANCE_DIR": str(tmp_path / "instance")}
    return CliRunner().invoke(command, args, env=env, catch_exceptions=False)


def test_import_dossiers_prints_counts_and_is_idempotent(session, database_url, tmp_path) -> None:
    unit = create_unit(session, code="PH01")
    session.commit()
    path = tmp_path / "hoso.xlsx"
    path.write_bytes(xlsx([DOSSIER_HEADER, dossier_row("H-1"), dossier_row("H-2")]))
    first = _run(import_dossiers_command, [str(path), "--unit", "PH01"], database_url, tmp_path)
    assert first.exit_code == 0, first.output
    assert "Tạo mới:         2" in first.output
    again = _run(import_dossiers_command, [str(path), "--unit", "PH01"], database_url, tmp_path)
    assert again.exit_code == 0 and "Không thay đổi:  2" in again.output
    assert session.scalar(select(func.count()).select_from(Dossier).where(Dossier.unit_id == unit.id)) == 2


def test_rows_with_errors_fail_the_command_unless_skipped(session, database_url, tmp_path) -> None:
    create_unit(session, code="PH02")
    session.commit()
    path = tmp_path / "hoso.csv"
    path.write_bytes(csv_bytes([DOSSIER_HEADER, dossier_row("H-1"), dossier_row("H-2", received="31/13/2026")]))
    refused = _run(import_dossiers_command, [str(path), "--unit", "PH02"], database_url, tmp_path)
    assert refused.exit_code == 2
    assert "Dòng 3, cột “Ngày tiếp nhận”" in refused.output and "chưa nhập dòng nào" in refused.output
    skipped = _run(import_dossiers_command, [str(path), "--unit", "PH02", "--skip-invalid"], database_url, tmp_path)
    assert skipped.exit_code == 1 and "Tạo mới:         1" in skipped.output
    assert session.scalar(select(func.count()).select_from(Dossier)) == 1


def test_unknown_unit_and_broken_file(session, database_url, tmp_path) -> None:
    create_unit(session, code="PH03")
    session.commit()
    path = tmp_path / "anh.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    broken = _run(import_dossiers_command, [str(path), "--unit", "PH03"], database_url, tmp_path)
    assert broken.exit_code == 2 and "không phải CSV" in broken.output
    unknown = _run(import_dossiers_command, [str(path), "--unit", "KHONGCO"], database_url, tmp_path)
    assert unknown.exit_code == 1 and "KHONGCO" in unknown.output


def test_import_responses(session, database_url, tmp_path) -> None:
    create_unit(session, code="PH04")
    session.commit()
    path = tmp_path / "phieu.csv"
    path.write_bytes(csv_bytes([["Bộ tiêu chí", "Thời điểm", "q1", "q2", "q3", "q4"],
                                ["quay4", "10/01/2026", "Hài lòng", "Rất hài lòng", "Đúng hẹn", "Đơn giản"]]))
    result = _run(import_responses_command, [str(path), "--unit", "PH04"], database_url, tmp_path)
    assert result.exit_code == 0, result.output
    assert "1 phiếu mới" in result.output
    assert session.scalar(select(func.count()).select_from(Response)) == 1


def test_import_dossiers_prints_a_progress_line_per_batch(session, database_url, tmp_path) -> None:
    create_unit(session, code="PH09")
    session.commit()
    path = tmp_path / "hoso.csv"
    path.write_bytes(csv_bytes([DOSSIER_HEADER, *[dossier_row(f"H-{n}") for n in range(1200)]]))
    result = _run(import_dossiers_command, [str(path), "--unit", "PH09"], database_url, tmp_path)
    assert result.exit_code == 0, result.output
    assert "Đã kiểm tra 500 dòng" in result.output and "Đã kiểm tra 1.200/1.200 dòng (100%)" in result.output
    assert "Tạo mới:         1.200" in result.output
