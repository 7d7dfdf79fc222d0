"""Fixtures of the kiosk browser tests (used through ``pytestmark`` in each browser module)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect


@pytest.fixture
def short_timeouts(page: Page) -> None:
    page.set_default_timeout(8000)
    expect.set_options(timeout=5000)


@pytest.fixture
def local_only(page: Page, live_server) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    """Every request of every page of the test's browser context goes to the server on 127.0.0.1.

    Blob URLs are the kiosk's in-memory copies of files it fetched from that server.
    """
    requests: list[str] = []
    page.context.on("request", lambda request: requests.append(request.url))
    yield requests
    local = (f"{live_server.url}/", f"blob:{live_server.url}/")
    assert requests, "the test made no request at all"
    assert [url for url in requests if not url.startswith(local)] == []
