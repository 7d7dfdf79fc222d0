"""What scripts/install-system-deps.sh (run by `make run`) prints, in Vietnamese.

It printed "Installing Debian packages: …" before apt-get's own output, and "usage: … run|test" for a wrong argument.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "install-system-deps.sh"


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The script with dpkg-query saying nothing is installed and apt-get, id and sudo stubbed: nothing installed."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in (("dpkg-query", "exit 1"), ("apt-get", "exit 0"), ("id", "echo 0")):
        stub = bin_dir / name
        stub.write_text(f"#!/bin/sh\n{body}\n")
        stub.chmod(0o755)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": str(tmp_path)}
    return subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=60,
                          check=False)


def test_the_packages_installed_are_announced_in_vietnamese(tmp_path: Path) -> None:
    result = _run(tmp_path, "run")
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("Đang cài các gói Debian còn thiếu: "), first
    assert "fonts-liberation2 libreoffice-writer-nogui poppler-utils libcairo2" in first


def test_a_wrong_argument_is_said_in_vietnamese(tmp_path: Path) -> None:
    result = _run(tmp_path, "serve")
    assert result.returncode == 2
    assert result.stderr == (f"Cách dùng: {SCRIPT} run|test (run: các gói để chạy sipas; test: thêm các gói để chạy "
                             "kiểm thử)\n")
