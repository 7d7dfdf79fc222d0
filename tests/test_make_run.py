"""`make run PORT=8080` (docs/install.md, README.md): the demo and the server know the address they are reached at.

SIPAS_PUBLIC_BASE_URL builds the SMS links, the QR codes of printed slips and notices, and the curl line `sipas
demo` prints. `make run` left it at its default, http://127.0.0.1:8000, whatever HOST and PORT: with PORT=8080 every
link and QR code of the demo pointed at a port nothing listened on. A value the operator exported still wins.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _commands(*args: str, **env: str) -> list[str]:
    environ = {k: v for k, v in os.environ.items() if k != "SIPAS_PUBLIC_BASE_URL"} | env
    listing = subprocess.run(["make", "--no-print-directory", "-n", "run", *args], cwd=ROOT, env=environ,
                             capture_output=True, text=True, check=True).stdout
    return [line for line in listing.splitlines() if " demo --if-empty" in line or " serve " in line]


def _environment_of(command: str, **env: str) -> str:
    """The environment the command's `sipas` would get: the command's assignments, evaluated by bash."""
    assignments = command.split(".venv/bin/sipas", 1)[0]
    return subprocess.run(["bash", "-c", f"{assignments} env"], cwd=ROOT, env={"PATH": os.environ["PATH"], **env},
                          capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize(("args", "address"), [
    ((), "http://127.0.0.1:8000"),
    (("PORT=8080",), "http://127.0.0.1:8080"),
    (("HOST=192.168.1.20", "PORT=8080"), "http://192.168.1.20:8080"),
])
def test_the_demo_and_the_server_get_the_address_make_run_serves_on(args: tuple[str, ...], address: str) -> None:
    commands = _commands(*args)
    assert len(commands) == 2, commands
    for command in commands:
        assert f"SIPAS_PUBLIC_BASE_URL={address}\n" in _environment_of(command), command


def test_an_exported_public_address_wins() -> None:
    commands = _commands("PORT=8080")
    assert len(commands) == 2, commands
    for command in commands:
        environment = _environment_of(command, SIPAS_PUBLIC_BASE_URL="https://thu.example.vn")
        assert "SIPAS_PUBLIC_BASE_URL=https://thu.example.vn\n" in environment, command
