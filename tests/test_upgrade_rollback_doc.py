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


def _upgrade_commands(guide: Path, heading: str) -> list[str]:
    text = guide.read_text(encoding="utf-8")
    after = text.split(heading, 1)
    assert len(after) == 2, f"{guide.name} has no upgrade procedure ({heading!r})"
    block = re.search(r"```sh\n(.*?)```", after[1], re.S)
    assert block is not None
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.split("#")[0].strip()]


@pytest.mark.parametrize(("guide", "heading"), [(GUIDE.parent.parent / "install.md", "Upgrade (releases"),
                                                (GUIDE, "1. Sao lưu trước")])
def test_both_upgrade_procedures_back_up_before_the_migration(guide: Path, heading: str) -> None:
    """The way back restores the backup made before the upgrade: docs/vi/nang-cap.md made one, docs/install.md's
    procedure went straight to ``git pull`` and ``sipas db upgrade``, leaving only last night's archive."""
    commands = _upgrade_commands(guide, heading)
    if guide == GUIDE:  # the Vietnamese guide's backup is its own step, the block right after the heading
        commands += _upgrade_commands(guide, "2. Lấy mã mới")
    backups = [i for i, command in enumerate(commands) if " sipas backup " in f" {command} "]
    upgrades = [i for i, command in enumerate(commands) if command.endswith("sipas db upgrade")]
    assert backups and upgrades and backups[0] < upgrades[0], commands
