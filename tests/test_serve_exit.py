"""`sipas serve` (what `make run` ends with) fails when its web server cannot run, instead of exiting 0.

With the port taken, gunicorn printed "Connection in use" and gave up, and `sipas serve` stopped its scheduler and
exited 0: `make run` looked successful, with nothing serving and no word of what to do.
"""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner

from sipas import cli as cli_module
from sipas.settings import Settings


def test_serve_fails_with_a_message_when_the_port_is_taken(settings: Settings, monkeypatch: pytest.MonkeyPatch,
                                                           session) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SIPAS_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SIPAS_INSTANCE_DIR", str(settings.instance_dir))
    monkeypatch.setenv("SIPAS_SECRET_KEY", "cli-test-secret")
    cli_module._add_extra_commands()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli_module.cli, ["--quiet", "serve", "--no-scheduler", "--workers", "1",
                                                     "--port", str(port)])
    assert result.exit_code == 1, result.output
    assert f"127.0.0.1:{port}" in result.output and "gunicorn" in result.output, result.output
