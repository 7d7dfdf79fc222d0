"""Demo: issue last quarter's notice for each demo ward, so the public page has something to show.

Not discovered automatically (only ``aggregator/demo.py`` is): ``aggregator.demo.populate`` calls
``issue_previous_quarter`` at its end. Skipped, with a log line, when LibreOffice is not installed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from aggregator.notices import service
from aggregator.notices.pdf_render import PdfError
from sipas.catalogue import Catalogue
from sipas.clock import Period, local_date
from sipas.models import Unit
from sipas.settings import Settings

log = logging.getLogger(__name__)


def issue_previous_quarter(session: Session, catalogue: Catalogue, settings: Settings, units: list[Unit],
                           now: datetime) -> int:
    """Notice No. 1 of last quarter for each unit, issued six days after the quarter; returns how many."""
    today = local_date(now, settings.tz)
    previous = Period.containing_quarter(Period.containing_quarter(today).start - timedelta(days=1))
    issue_date = min(previous.end + timedelta(days=6), today)
    issued = 0
    for unit in units:
        report = service.compute_report(session, catalogue, unit, previous, settings=settings, now=now)
        number = service.next_number(session, unit, issue_date.year)
        try:
            service.issue_notice(session, unit, report, service.IssueRequest(previous, number, issue_date),
                                 settings=settings, actor="demo", now=now)
        except PdfError as exc:
            log.warning("demo notice not issued: %s", exc.message_vi)
            return issued
        issued += 1
    return issued
