"""The console home's to-do list: what needs the clerk today, each a link with its count, per unit.

The core and each channel register a provider with ``add_console_todo``; a provider gets the read session,
the user's units (never wider) and the time, and returns items only where something is to be done. A
provider that fails is logged and left out, so one broken channel never takes the home page down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from flask import Flask
from sqlalchemy.orm import Session

from sipas.models import Unit
from sipas.text import vietnamese_key

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TodoItem:
    label: str  # "Phản ánh quá hạn chưa trả lời"
    count: int
    url: str
    unit: Unit | None = None
    severity: str = "warn"  # "bad" for what is already late
    roles: tuple[str, ...] = ()  # the roles whose pages the link opens; empty: every role


TodoProvider = Callable[[Session, Sequence[Unit], datetime, tzinfo], list[TodoItem]]


def add_console_todo(app: Flask, provider: TodoProvider) -> None:
    providers: list[TodoProvider] = app.extensions.setdefault("sipas_console_todo", [])
    if provider not in providers:
        providers.append(provider)


def collect(app: Flask, session: Session, units: Sequence[Unit], now: datetime, tz: tzinfo, *,
            role: str) -> list[TodoItem]:
    """Every provider's items with a positive count that the role may open, the late ones first, then by unit."""
    items: list[TodoItem] = []
    for provider in app.extensions.get("sipas_console_todo", []):
        try:
            items.extend(item for item in provider(session, units, now, tz)
                         if item.count > 0 and (not item.roles or role in item.roles))
        except Exception:  # a failing channel must not hide the rest of the list
            log.exception("console to-do provider %s failed", getattr(provider, "__name__", provider))
    return sorted(items, key=lambda i: (i.severity != "bad", vietnamese_key(i.unit.name if i.unit else ""),
                                        vietnamese_key(i.label)))
