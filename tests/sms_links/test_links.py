"""Short links: format, entropy by construction, idempotent issuing, URL."""

from __future__ import annotations

import math
import re
from datetime import timedelta

from sqlalchemy import select

from sms_gateway import links
from sms_gateway.models_links import LinkChannel, ShortLink
from tests.factories import create_dossier, create_unit, local

NOW = local(2026, 1, 10, 10)


def test_code_uses_letters_and_digits_only_with_enough_entropy():
    codes = {links.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(re.fullmatch(r"^[A-Za-z0-9]{10,}$", code) for code in codes)
    assert set(links.ALPHABET) == set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    assert links.CODE_LENGTH * math.log2(len(links.ALPHABET)) >= 40
    assert re.fullmatch(links.CODE_PATTERN, links.new_code())


def test_issue_link_is_idempotent_per_dossier_instrument_and_channel(session, settings):
    unit = create_unit(session)
    dossier = create_dossier(session, unit)
    expires = NOW + timedelta(days=7)
    first = links.issue_link(session, dossier, instrument_code="hue12", channel="sms", now=NOW, expires_at=expires)
    again = links.issue_link(session, dossier, instrument_code="hue12", channel="sms", now=NOW, expires_at=expires)
    qr = links.issue_link(session, dossier, instrument_code="hue12", channel="qr", now=NOW, expires_at=expires)
    assert first.id == again.id
    assert qr.id != first.id and qr.channel is LinkChannel.QR
    assert first.unit_id == unit.id and first.dossier_id == dossier.id
    assert links.link_url(settings, first) == f"{settings.public_base_url}/r/{first.code}"
    session.commit()
    assert len(session.scalars(select(ShortLink)).all()) == 2


def test_expired_or_used_links_are_replaced_by_a_new_one(session):
    unit = create_unit(session)
    dossier = create_dossier(session, unit)
    old = links.issue_link(session, dossier, instrument_code="hue12", channel="qr", now=NOW,
                           expires_at=NOW + timedelta(days=1))
    later = NOW + timedelta(days=2)
    fresh = links.issue_link(session, dossier, instrument_code="hue12", channel="qr", now=later,
                             expires_at=later + timedelta(days=7))
    assert fresh.id != old.id and fresh.code != old.code
    fresh.used_at = later
    session.flush()
    third = links.issue_link(session, dossier, instrument_code="hue12", channel="qr", now=later, expires_at=None)
    assert third.id not in (old.id, fresh.id)
    assert third.is_open(later + timedelta(days=365))


def test_find_link_rejects_malformed_codes(session):
    assert links.find_link(session, "abc_def") is None
    assert links.find_link(session, "x" * 100) is None
    assert links.find_link(session, "ÂbcdefghijK") is None
