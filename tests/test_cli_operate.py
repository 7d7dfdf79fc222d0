"""The operator's path: the CLI reads the services' settings file, says which database it uses, and
recovers a lost password."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from werkzeug.security import check_password_hash

from sipas import cli as cli_module
from sipas.accounts import account_key
from sipas.envfile import EnvFileError, cli_environment, parse_env_file
from sipas.models import AuditEvent, ThrottleCounter, User
from sipas.settings import ROOT_DIR


def test_env_file_syntax_follows_systemd_environment_files():
    text = """
# a comment
; another
SIPAS_A=plain value\t
SIPAS_B="double \\"quoted\\" $x"
SIPAS_C='single # not a comment'
export SIPAS_D=exported
SIPAS_E = spaced
SIPAS_F=con\\
tinued
SIPAS_A=later wins
"""
    assert parse_env_file(text) == {"SIPAS_A": "later wins", "SIPAS_B": 'double "quoted" $x',
                                    "SIPAS_C": "single # not a comment", "SIPAS_D": "exported",
                                    "SIPAS_E": "spaced", "SIPAS_F": "continued"}
    with pytest.raises(EnvFileError, match="dòng 2"):
        parse_env_file("SIPAS_A=1\nnot a setting\n")


def test_shell_variables_win_over_the_file(tmp_path):
    env_file = tmp_path / "sipas.env"
    env_file.write_text("SIPAS_DATABASE_URL=sqlite:///from-file.db\nSIPAS_TIMEZONE=Asia/Bangkok\n")
    merged, path = cli_environment({"SIPAS_ENV_FILE": str(env_file), "SIPAS_TIMEZONE": "Asia/Ho_Chi_Minh"})
    assert path == env_file
    assert merged["SIPAS_DATABASE_URL"] == "sqlite:///from-file.db" and merged["SIPAS_TIMEZONE"] == "Asia/Ho_Chi_Minh"
    assert cli_environment({"SIPAS_ENV_FILE": ""}) == ({"SIPAS_ENV_FILE": ""}, None)
    # relative folders are the services' (WorkingDirectory = the code's folder), wherever the shell is
    env_file.write_text("SIPAS_CONFIG_DIR=config\nSIPAS_INSTANCE_DIR=/var/lib/sipas\n")
    merged, _path = cli_environment({"SIPAS_ENV_FILE": str(env_file)})
    assert merged["SIPAS_CONFIG_DIR"] == str(ROOT_DIR / "config") and merged["SIPAS_INSTANCE_DIR"] == "/var/lib/sipas"
    with pytest.raises(EnvFileError, match="không đọc được"):
        cli_environment({"SIPAS_ENV_FILE": str(tmp_path / "missing.env")})


@pytest.fixture
def file_cli(settings, monkeypatch, tmp_path):
    """The CLI with its settings only in a file, as the systemd units have them."""
    for name in ("SIPAS_DATABASE_URL", "SIPAS_INSTANCE_DIR", "SIPAS_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    env_file = tmp_path / "sipas.env"
    env_file.write_text(f'SIPAS_DATABASE_URL="{settings.database_url}"\nSIPAS_INSTANCE_DIR={settings.instance_dir}\n'
                        "SIPAS_SECRET_KEY=from-the-file\n")
    monkeypatch.setenv("SIPAS_ENV_FILE", str(env_file))
    cli_module._add_extra_commands()

    def run(*args: str, **kwargs):
        return CliRunner().invoke(cli_module.cli, list(args), catch_exceptions=False, **kwargs)

    run.env_file = env_file
    return run


def test_commands_use_the_database_of_the_settings_file_and_say_so(file_cli, session, settings):
    result = file_cli("unit", "create", "--code", "P-PHUHOI", "--name", "Phường Phú Hội")
    assert result.exit_code == 0, result.output
    assert session.scalar(select(func.count()).select_from(User)) == 0
    assert "P-PHUHOI" in result.stdout and "Cơ sở dữ liệu:" not in result.stdout
    assert f"cấu hình: {file_cli.env_file}" in result.stderr
    shown = result.stderr.split("Cơ sở dữ liệu: ", 1)[1]
    assert make_url(settings.database_url).render_as_string(hide_password=True) in shown
    quiet = file_cli("--quiet", "user", "list")
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_the_database_line_hides_the_password(monkeypatch, tmp_path):
    monkeypatch.setenv("SIPAS_ENV_FILE", "")
    monkeypatch.setenv("SIPAS_DATABASE_URL", "postgresql+psycopg://sipas:mat-khau-bi-mat@127.0.0.1:1/sipas")
    result = CliRunner().invoke(cli_module.cli, ["user", "list"])
    assert result.exit_code != 0  # nothing listens on port 1
    assert "postgresql+psycopg://sipas:***@127.0.0.1:1/sipas (không có tệp cấu hình" in result.stderr
    assert "mat-khau-bi-mat" not in result.stderr + result.stdout


def test_a_lost_password_is_replaced_from_the_command_line(file_cli, session):
    assert file_cli("user", "create", "--username", "admin", "--role", "admin", "--password",
                    "mat-khau-cu-123").exit_code == 0
    session.add(ThrottleCounter(key=account_key("admin") + "10.0.0.9", bucket=1, count=5))
    session.commit()
    generated = file_cli("user", "set-password", "Admin")
    assert generated.exit_code == 0, generated.output
    new_password = generated.stdout.strip().splitlines()[-1]
    assert len(new_password) >= 10
    session.expire_all()
    account = session.scalar(select(User).where(User.username == "admin"))
    assert check_password_hash(account.password_hash, new_password)
    assert session.scalar(select(func.count()).select_from(ThrottleCounter)) == 0
    session.rollback()
    piped = file_cli("user", "set-password", "admin", "--stdin", input="mot-mat-khau-moi-dai\n")
    assert piped.exit_code == 0 and "mot-mat-khau-moi-dai" not in piped.output
    session.expire_all()
    account = session.scalar(select(User).where(User.username == "admin"))
    assert check_password_hash(account.password_hash, "mot-mat-khau-moi-dai")
    assert session.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.action == "user.password_reset")) == 2
    session.rollback()
    short = file_cli("user", "set-password", "admin", "--stdin", input="ngan\n")
    assert short.exit_code != 0 and "ít nhất 10 ký tự" in short.output
    unknown = file_cli("user", "set-password", "khong-co")
    assert unknown.exit_code != 0 and "Không có tài khoản “khong-co”" in unknown.output


def test_user_list_shows_every_account(file_cli):
    assert file_cli("user", "list").stdout.startswith("Chưa có tài khoản")
    file_cli("unit", "create", "--code", "P-A", "--name", "Phường A")
    file_cli("user", "create", "--username", "admin", "--role", "admin", "--password", "mat-khau-dai-123")
    file_cli("user", "create", "--username", "hoa", "--role", "clerk", "--unit", "P-A", "--full-name", "Lê Thị Hoa",
             "--password", "mat-khau-dai-123")
    lines = file_cli("user", "list").stdout.splitlines()
    assert lines[0].split()[:4] == ["admin", "admin", "hoạt", "động"] and "(mọi đơn vị)" in lines[0]
    assert lines[1].split()[:5] == ["hoa", "clerk", "hoạt", "động", "P-A"] and lines[1].endswith("Lê Thị Hoa")
    file_cli("user", "create", "--username", "đức", "--role", "clerk", "--unit", "P-A", "--password",
             "mat-khau-dai-123")
    # in Vietnamese alphabetical order: đ right after d, not after every letter as its code point
    assert [line.split()[0] for line in file_cli("user", "list").stdout.splitlines()] == ["admin", "đức", "hoa"]


def test_user_set_role_changes_role_and_units_ends_sessions_and_is_audited(file_cli, session):
    for code in ("P-A", "P-B"):
        file_cli("unit", "create", "--code", code, "--name", f"Phường {code}")
    file_cli("user", "create", "--username", "hoa", "--role", "clerk", "--unit", "P-A",
             "--password", "mat-khau-dai-123")
    before = session.scalar(select(User).where(User.username == "hoa")).session_version
    session.rollback()
    result = file_cli("user", "set-role", "Hoa", "--role", "leader", "--unit", "P-A", "--unit", "P-B")
    assert result.exit_code == 0, result.output
    assert "các phiên đăng nhập của tài khoản này đã kết thúc" in result.stdout
    account = session.scalar(select(User).where(User.username == "hoa"))
    assert account.role == "leader" and sorted(u.code for u in account.units) == ["P-A", "P-B"]
    assert account.session_version == before + 1
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "user.role_changed"))
    assert event.actor == "cli" and event.subject == "hoa" and event.details["previous_role"] == "clerk"
    session.rollback()
    refused = file_cli("user", "set-role", "hoa", "--role", "clerk")
    assert refused.exit_code != 0 and "ít nhất một đơn vị" in refused.output
    unknown = file_cli("user", "set-role", "khong-co", "--role", "admin")
    assert unknown.exit_code != 0 and "Không có tài khoản “khong-co”" in unknown.output
    assert file_cli("user", "set-role", "hoa", "--role", "clerk", "--unit", "P-X").exit_code != 0
    account = session.scalar(select(User).where(User.username == "hoa"))
    assert account.role == "leader" and account.session_version == before + 1  # refused changes change nothing


def test_every_relative_folder_of_the_file_is_the_services(tmp_path):
    """SIPAS_BACKUP_DIR=backups in the file: the scheduler (WorkingDirectory=/opt/sipas) wrote /opt/sipas/backups,
    while `sipas backup` and `sipas doctor` typed in root's home used ~/backups (the doctor found no archive). Every
    folder setting read from the file is resolved like SIPAS_CONFIG_DIR and SIPAS_INSTANCE_DIR."""
    env_file = tmp_path / "sipas.env"
    env_file.write_text("SIPAS_BACKUP_DIR=backups\nSIPAS_METRICS_DIR=instance/metrics\n")
    merged, _path = cli_environment({"SIPAS_ENV_FILE": str(env_file)})
    assert merged["SIPAS_BACKUP_DIR"] == str(ROOT_DIR / "backups")
    assert merged["SIPAS_METRICS_DIR"] == str(ROOT_DIR / "instance" / "metrics")
    env_file.write_text("SIPAS_BACKUP_DIR=\n")  # empty: the default (<instance dir>/backups), not the code's folder
    assert cli_environment({"SIPAS_ENV_FILE": str(env_file)})[0]["SIPAS_BACKUP_DIR"] == ""
