"""The template data of a Zalo invitation: the unit's short name, the dossier code and the short link's code."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from sqlalchemy.orm import Session

from sipas.models import Unit
from sipas.settings import Settings
from sms_gateway.encoding import analyse
from sms_gateway.links import issue_link
from sms_gateway.models import Invitation, MessageKind
from sms_gateway.models_links import LinkChannel, ShortLink
from sms_gateway.providers.zalo import template_body
from sms_gateway.settings import SmsSettings
from sms_gateway.templates_text import Fitted, abbreviate_unit
from sms_gateway.zalo_settings import unit_template_id, unit_zalo_options

NAME_LIMIT = 30  # Zalo's "name" parameter type


def short_unit_name(unit: Unit) -> str:
    """The unit's name within Zalo's 30 characters: the configured short name, or abbreviated, or cut."""
    name = str(unit_zalo_options(unit).get("short_name") or "").strip() or unit.name
    name = unicodedata.normalize("NFC", name)
    if len(name) > NAME_LIMIT:
        name = unicodedata.normalize("NFC", abbreviate_unit(name))
    return name[:NAME_LIMIT].rstrip()


def zalo_message(session: Session, settings: Settings, sms: SmsSettings, invitation: Invitation, kind: MessageKind,
                 now: datetime) -> Fitted:
    """The template data: the unit's short name, the dossier code and the short link's code (the template's
    URL button is ``<public base>/r/<link>``). A dossier code over 30 characters makes the provider fall back."""
    unit = session.get(Unit, invitation.unit_id)
    assert unit is not None
    link = session.get(ShortLink, invitation.link_id) if invitation.link_id else None
    if link is None or not link.is_open(now) or link.channel is not LinkChannel.ZALO:
        link = issue_link(session, invitation.dossier, instrument_code=invitation.instrument_code, channel="zalo",
                          now=now, expires_at=invitation.expires_at)
        invitation.link_id = link.id
    template = unit_template_id(unit) or ""
    text = template_body(template, {"don_vi": short_unit_name(unit), "ma_ho_so": invitation.dossier.code,
                                    "link": link.code})
    return Fitted(text=text, info=analyse(text), unit_name=unit.name, fits=True)
