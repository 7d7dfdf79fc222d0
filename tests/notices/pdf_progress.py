"""Follow the draft PDF progress page as its script does: poll the status URL, then fetch the file."""

from __future__ import annotations

import html
import time
from typing import Any

POLL_LIMIT_SECONDS = 60


def attribute(page: str, name: str) -> str:
    return html.unescape(page.split(f'{name}="', 1)[1].split('"', 1)[0])


def follow_pdf_progress(client: Any, page: str) -> Any:
    """The PDF response once the background conversion named on ``page`` is ready (a Flask test client)."""
    status_url, file_url = attribute(page, "data-status-url"), attribute(page, "data-file-url")
    deadline = time.monotonic() + POLL_LIMIT_SECONDS
    while True:
        state = client.get(status_url).get_json()
        assert state["state"] in ("queued", "ready"), state
        if state["state"] == "ready":
            return client.get(file_url)
        assert time.monotonic() < deadline, "the PDF conversion did not finish"
        time.sleep(0.05)


def issue_through_progress(client: Any, form: dict[str, str]) -> Any:
    """POST the issue form; when the PDF is still converting, wait on the progress page and post it again."""
    response = client.post("/console/thong-bao/ban-hanh", data=form)
    if response.status_code != 200:
        return response
    page = response.get_data(as_text=True)
    assert 'id="pdf-progress-resubmit"' in page, page
    status_url = attribute(page, "data-status-url")
    deadline = time.monotonic() + POLL_LIMIT_SECONDS
    while client.get(status_url).get_json()["state"] != "ready":
        assert time.monotonic() < deadline, "the PDF conversion did not finish"
        time.sleep(0.05)
    return client.post("/console/thong-bao/ban-hanh", data=form)
