"""Browser-test support: a real threaded server on 127.0.0.1 and Playwright on Debian's Chromium.

Loaded as a pytest plugin from ``tests/conftest.py``. Chromium is ``/usr/bin/chromium`` (never a
downloaded build); the launch flags keep it off the network entirely, and the host resolver maps
every name except 127.0.0.1 to nothing, so a page that asks for an external asset fails loudly.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from sipas.app import create_app
from sipas.settings import Settings
from sipas.storage import get_database

CHROMIUM = "/usr/bin/chromium"
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]


def screenshot_path(name: str) -> str:
    """Where a test saves a screenshot: docs/screenshots/ with SIPAS_UPDATE_SCREENSHOTS=1, else a scratch folder.

    A plain test run then leaves the working tree clean; the docs images change only when asked for.
    """
    update = os.environ.get("SIPAS_UPDATE_SCREENSHOTS") == "1"
    folder = DOCS_SCREENSHOTS if update else Path(tempfile.gettempdir()) / "sipas-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder / name)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """The app served by Werkzeug in a thread; ``stop()``/``start()`` simulate an outage on the same port."""

    def __init__(self, app: Flask, port: int) -> None:
        self.app = app
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._server is not None:
            return
        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        assert self._thread is not None
        self._thread.join(timeout=10)
        self._server = None

    @property
    def running(self) -> bool:
        return self._server is not None


@pytest.fixture
def live_server(sqlite_template: Path, tmp_path: Path) -> Iterator[LiveServer]:
    """A fresh SQLite database (migrated) served on a free port of 127.0.0.1."""
    path = tmp_path / "live.db"
    shutil.copyfile(sqlite_template, path)
    port = _free_port()
    settings = Settings.from_env(
        {"SIPAS_KIOSK_MIN_INTERVAL_SECONDS": "0"},
        database_url=f"sqlite:///{path}",
        secret_key="live-test-secret",
        public_base_url=f"http://127.0.0.1:{port}",
        instance_dir=tmp_path / "instance",
        secure_cookies=False,
        testing=True,
    )
    server = LiveServer(create_app(settings), port)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        get_database(server.app).dispose()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_context_args,
        "has_touch": True,
        "locale": "vi-VN",
        "timezone_id": "Asia/Ho_Chi_Minh",
        "viewport": {"width": 1280, "height": 800},
    }
