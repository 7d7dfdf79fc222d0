"""docs/vi/nang-cap.md's way back after a failed upgrade, run as written against a database that has data.

It said only "dừng dịch vụ, khôi phục bản sao lưu vừa tạo, và chạy lại phiên bản cũ (git checkout …)": the restore
of docs/vi/sao-luu.md, without --force, refuses a database that already holds units (every database after an
upgrade), and a root `git checkout` is refused ("dubious ownership", as the guide itself says of `git pull`).
"""

from __future__ import annotations

import re
import shlex
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from sipas import cli as cli_module
from sipas.backup import create_backup
from sipas.models import Unit
from sipas.settings import Settings
from tests.factories import create_unit

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "vi" / "nang-cap.md"


def _rollback_commands() -> list[str]:
    text = GUIDE.read_text(encoding="utf-8")
    section = text.split("## Nếu nâng cấp thất bại", 1)
    assert len(section) == 2, "docs/vi/nang-cap.md has no section on going back"
    block = re.search(r"```sh\n(.*?)```", section[1], re.S)
    assert block is not None
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def test_the_way_back_stops_restores_with_force_and_runs_as_the_service_user() -> None:
    commands = _rollback_commands()
    assert commands[0] == "systemctl stop sipas-web sipas-scheduler"
    assert commands[-1] == "systemctl start sipas-web sipas-scheduler"
    for command in commands[1:-1]:
        assert command.startswith("runuser -u sipas -- "), command
    assert any(" git -C /opt/sipas checkout " in command for command in commands)
    assert any(" make -C /opt/sipas install" in command for command in commands)


def test_its_restore_replaces_a_database_that_has_data(settings: Settings, session, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    create_unit(session, code="P-TRUOC")
    session.commit()
    archive = create_backup(settings, tmp_path / "backups", now=datetime.now(UTC))
    create_unit(session, code="P-SAU")  # what happened after the backup (the failed upgrade)
    session.commit()
    restore = next(c for c in _rollback_commands() if " sipas restore " in c)
    args = shlex.split(restore.removeprefix("runuser -u sipas -- "), comments=True)
    assert args[0] == "sipas"
    args = [str(archive) if arg.startswith("/var/backups/sipas/") else arg for arg in args[1:]]
    monkeypatch.setenv("SIPAS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SIPAS_INSTANCE_DIR", str(settings.instance_dir))
    monkeypatch.setenv("SIPAS_SECRET_KEY", settings.secret_key)
    cli_module._add_extra_commands()
    session.close()
    result = CliRunner().invoke(cli_module.cli, ["--quiet", *args])
    assert result.exit_code == 0, result.output
    assert list(session.scalars(select(Unit.code))) == ["P-TRUOC"]
    assert session.scalar(select(func.count()).select_from(Unit)) == 1
