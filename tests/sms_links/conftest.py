"""Fixtures of the short-link tests: an open link on a returned dossier, and a CSRF token scraper."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask

from sipas.clock import utcnow
from sms_gateway.links import issue_link
from tests.factories import create_dossier, create_unit


@pytest.fixture
def link(session):
    unit = create_unit(session, name="Phường Phú Hội")
    dossier = create_dossier(session, unit, procedure="Đăng ký khai sinh")
    now = utcnow()
    created = issue_link(session, dossier, instrument_code="hue12", channel="sms", now=now,
                         expires_at=now + timedelta(days=7))
    session.commit()
    return created


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def fresh(session) -> None:
    """End the test session's transaction and forget loaded state, to read what requests committed."""
    session.rollback()
    session.expire_all()


def token_for(app: Flask, link) -> str:  # type: ignore[no-untyped-def]
    """The signed form token a page of this link carries."""
    from sms_gateway.phone_views import form_token

    with app.test_request_context():
        return form_token(link)
