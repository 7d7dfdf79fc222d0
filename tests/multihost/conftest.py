"""The shipped nginx alone, for the tests of what nginx itself answers or writes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.load import free_port
from tests.multihost.nginx import Nginx


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[Nginx]:
    """The shipped configuration with no web instance behind it: nginx answers a refused body itself, and logs a
    request whatever the upstream answers (502 here)."""
    server = Nginx(tmp_path / "nginx", https_port=free_port(), http_port=free_port(), upstreams=[free_port()])
    server.start()
    try:
        yield server
    finally:
        server.stop()
