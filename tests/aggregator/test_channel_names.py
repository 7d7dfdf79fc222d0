"""One name per rating channel for a clerk: the report's channel filter, the follow-up cases' filter and the
import template's list call each channel the same (a QR rating was "Mã QR / trực tuyến" on the report and
"Mã QR / đường dẫn" on the cases page and in the import template)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from sipas.models import ResponseChannel
from sipas.parsing import CHANNEL_LABELS_VI
from tests.factories import create_clerk, create_unit, login


def channel_options(page: str) -> dict[str, str]:
    select = re.search(r'<select name="channel">(.*?)</select>', page, re.S)
    assert select is not None
    return {value: label for value, label in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>',
                                                         select.group(1)) if value}


def test_the_report_and_the_cases_page_name_each_channel_alike(client: FlaskClient, session: Session) -> None:
    unit = create_unit(session)
    clerk = create_clerk(session, unit)
    session.commit()
    login(client, clerk)
    report = channel_options(client.get("/console/bao-cao/", query_string={"unit": unit.code}).get_data(as_text=True))
    cases = channel_options(client.get("/console/cases").get_data(as_text=True))
    assert report["qr"] == cases["qr"] == CHANNEL_LABELS_VI[ResponseChannel.QR]
    assert {code: report[code] for code in cases} == cases
