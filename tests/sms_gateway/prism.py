"""A Prism mock of Twilio's published OpenAPI description, started once per test session.

Prism validates every request against the description (required fields, formats, content type)
and answers with the documented example. It must run wherever the contract tests run: when
``node_modules`` lacks it, the tests fail with the command that installs it instead of skipping.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# Vendored with its licence and source note (tests/contracts/twilio/SOURCE.txt): a clone holds all it needs.
DEFAULT_SPEC = REPO / "tests" / "contracts" / "twilio" / "twilio_api_v2010.json"
PRISM = REPO / "node_modules" / ".bin" / "prism"


def spec_path() -> Path:
    configured = os.environ.get("SIPAS_TWILIO_OPENAPI")
    return Path(configured) if configured else DEFAULT_SPEC


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prism exited with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"prism did not listen on port {port} within {timeout:.0f} s")


@pytest.fixture(scope="session")
def prism_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    spec = spec_path()
    if not PRISM.exists():
        pytest.fail(f"Prism is not installed ({PRISM} missing): run `npm ci --ignore-scripts` in {REPO}", pytrace=False)
    if not spec.exists():
        pytest.fail(f"Twilio OpenAPI description not found at {spec} (set SIPAS_TWILIO_OPENAPI)", pytrace=False)
    port = free_port()
    log = (tmp_path_factory.mktemp("prism") / "prism.log").open("wb")
    process = subprocess.Popen([str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), str(spec)],
                               stdout=log, stderr=subprocess.STDOUT,
                               env=os.environ | {"SCARF_ANALYTICS": "false", "NO_COLOR": "1"})
    try:
        wait_listening(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
