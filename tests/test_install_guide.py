"""docs/install.md, run as written: the guide and this test cannot drift apart.

Every ``sh`` block of the guide is preceded by a marker: ``<!-- guide-test: run -->`` (run here, each
command must succeed), ``<!-- guide-test: run, fails ... -->`` (run here, must exit non-zero: ``sipas
doctor`` before the services exist) or ``<!-- guide-test: manual (why) -->`` (needs root on a real machine).
Run blocks are executed command by command with bash, from an unrelated directory, with the system paths
of the guide moved under a temporary root and no ``SIPAS_*`` variable but ``SIPAS_ENV_FILE`` pointing at
the guide's settings file there: the commands must find their settings the way an operator's shell does.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import tarfile
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "install.md"
BLOCK = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>\w*)\n(?P<body>.*?)^(?P=indent)```", re.M | re.S)
MARKER = re.compile(r"<!--\s*guide-test:\s*(?P<kind>run|manual)(?P<rest>[^>]*)-->\s*$")
MOVED = ("/etc/sipas", "/var/lib/sipas", "/var/backups/sipas", "/usr/local/bin")
PASSWORD = "mat-khau-thu-cua-huong-dan"


def guide_blocks(text: str) -> list[tuple[str, str, str]]:
    """(kind, marker text, dedented body) of every sh block, in order; a block without marker fails."""
    blocks = []
    for match in BLOCK.finditer(text):
        if match.group("lang") != "sh":
            continue
        before = text[: match.start()].rstrip().splitlines()
        marker = MARKER.search(before[-1]) if before else None
        body = textwrap.dedent(match.group("body"))
        assert marker, f"sh block without a guide-test marker in docs/install.md:\n{body}"
        blocks.append((marker.group("kind"), marker.group("rest").strip(" ,"), body))
    return blocks


def shell_commands(body: str) -> list[str]:
    """Split a block into commands: one per line, ``\\`` continuations joined, here-documents kept whole."""
    commands, lines = [], iter(body.splitlines())
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        while line.endswith("\\"):
            line = line[:-1] + next(lines)
        heredoc = re.search(r"<<-?\s*'?(\w+)'?", line)
        if heredoc:
            end = heredoc.group(1)
            collected = [line]
            for more in lines:
                collected.append(more)
                if more.strip() == end:
                    break
            line = "\n".join(collected)
        commands.append(line)
    return commands


def relocate(command: str, root: Path) -> str:
    command = command.replace("/opt/sipas", str(ROOT))
    for path in MOVED:
        command = command.replace(path, f"{root}{path}")
    return command


def test_every_block_of_the_guide_is_marked_and_the_run_blocks_cover_the_operators_path():
    blocks = guide_blocks(GUIDE.read_text(encoding="utf-8"))
    run = "\n".join(body for kind, _rest, body in blocks if kind == "run")
    for needed in ("mkdir -p /etc/sipas", "ln -sf /opt/sipas/.venv/bin/sipas /usr/local/bin/sipas",
                   "sipas db upgrade", "sipas unit create", "sipas user create", "sipas apikey create",
                   "sipas user set-password", "sipas doctor"):
        assert needed in run, needed
    assert all(reason for kind, reason, _body in blocks if kind == "manual"), "a manual block says why"
    assert not re.search(r"^\s*(cd|export)\s", run, re.M), "run blocks are run command by command: no cd/export"


def test_the_guide_runs_as_written(tmp_path):
    root = tmp_path / "root"
    home = tmp_path / "home"
    (root / "usr" / "local" / "bin").mkdir(parents=True)
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIPAS_")}
    env |= {"PATH": f"{root}/usr/local/bin:/usr/bin:/bin", "HOME": str(home),
            "SIPAS_ENV_FILE": f"{root}/etc/sipas/sipas.env"}
    outputs = []
    for kind, rest, body in guide_blocks(GUIDE.read_text(encoding="utf-8")):
        if kind != "run":
            continue
        for command in shell_commands(body):
            done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", relocate(command, root)], cwd=home, env=env,
                                  input=f"{PASSWORD}\n{PASSWORD}\n", capture_output=True, text=True, timeout=120,
                                  start_new_session=True)  # no terminal: passwords are read from stdin
            if rest.startswith("fails"):
                assert done.returncode != 0, f"{command!r} should fail here ({rest})"
            else:
                assert done.returncode == 0, f"{command!r} failed:\n{done.stdout}\n{done.stderr}"
            if command.startswith("sipas"):
                assert f"(cấu hình: {root}/etc/sipas/sipas.env)" in done.stderr, (command, done.stderr)
            outputs.append((command, done.stdout))

    database = root / "var" / "lib" / "sipas" / "sipas.db"
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT code, name FROM unit").fetchall() == [("P-PHUHOI", "Phường Phú Hội")]
        assert {row[0] for row in connection.execute("SELECT username FROM user_account")} == {"admin", "hoa"}
        assert connection.execute("SELECT count(*) FROM api_key").fetchone() == (1,)
    printed = dict(outputs)
    assert printed["sipas user list"].splitlines()[0].startswith("admin")
    assert printed['sipas apikey create --unit P-PHUHOI --name "Hệ thống một cửa điện tử"'].strip() \
        .splitlines()[-1].startswith("sipas_")
    doctor = printed["sipas doctor"]
    assert "ĐẠT  Cơ sở dữ liệu" in doctor and "ĐẠT  Khóa bí mật" in doctor and "ĐẠT  Địa chỉ công khai" in doctor
    archives = list((root / "var" / "backups" / "sipas").glob("sipas-backup-*.tar"))
    assert len(archives) == 1
    with tarfile.open(archives[0]) as archive:
        assert "manifest.json" in archive.getnames()


@pytest.mark.parametrize(("text", "expected"), [
    ("a\nb \\\n  c\ncat > f <<EOF\nx\nEOF\nd\n", ["a", "b   c", "cat > f <<EOF\nx\nEOF", "d"]),
])
def test_commands_are_split_as_bash_would_run_them(text, expected):
    assert shell_commands(text) == expected
