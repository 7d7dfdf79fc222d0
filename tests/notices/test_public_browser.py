"""The public pages in Chromium on a phone (360×640) and at 200 % zoom (a 1280×720 window: 640×360 CSS px)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from playwright.sync_api import Page

from aggregator.notices import service
from sipas.catalogue import Catalogue
from sipas.clock import Period
from sipas.models import UnitKind
from sipas.settings import Settings
from sipas.storage import get_database
from tests.aggregator.fixtures import build_quarter
from tests.factories import create_unit

pytestmark = [pytest.mark.browser]
NOW = datetime(2026, 4, 10, 3, 0, tzinfo=UTC)


def test_public_pages_reflow_on_a_phone_and_at_200_percent(page: Page, live_server,  # type: ignore[no-untyped-def]
                                                           catalogue: Catalogue, settings: Settings) -> None:
    with get_database(live_server.app).session() as session:
        city = create_unit(session, name="Thành phố Huế (mẫu)", kind=UnitKind.PROVINCE)
        ward = create_unit(session, name="Phường Phú Hội", parent=city)
        build_quarter(session, catalogue, ward)
        report = service.compute_report(session, catalogue, ward, Period.quarter(2026, 1), settings=settings, now=NOW)
        first = service.issue_notice(session, ward, report, service.IssueRequest(Period.quarter(2026, 1), 3,
                                                                                 date(2026, 4, 6)),
                                     settings=settings, actor="test", now=NOW)
        session.flush()
        service.issue_notice(session, ward, report, service.IssueRequest(Period.quarter(2026, 1), 4, date(2026, 4, 8),
                                                                         first.id),
                             settings=settings, actor="test", now=NOW)
        session.commit()
        paths = (f"/cong-khai/{city.code}", f"/cong-khai/{ward.code}", f"/cong-khai/{ward.code}/2026/3",
                 f"/cong-khai/{ward.code}/2026/3.html", f"/cong-khai/{ward.code}/2026/9")
    for width, height in ((360, 640), (640, 360)):
        page.set_viewport_size({"width": width, "height": height})
        for path in paths:
            page.goto(live_server.url + path)
            assert page.evaluate("document.documentElement.lang") == "vi"
            scroll = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            assert scroll[0] <= scroll[1], (width, path, scroll)  # no sideways scrolling of the page
            unnamed = page.evaluate("[...document.links].filter(a => !a.textContent.trim()).length")
            assert unnamed == 0, (width, path)
            small = page.evaluate("""[...document.querySelectorAll('.links a, button, label.button')]
                .filter(e => e.getBoundingClientRect().height < 44).length""")
            assert small == 0, (width, path)
