"""The console to-do item of the follow-up cases: cases past their due date without an answer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from flask import url_for
from sqlalchemy.orm import Session

from sipas.cases.service import CaseFilters, list_cases
from sipas.clock import local_date
from sipas.context import get_catalogue
from sipas.models import Unit
from sipas.todo import TodoItem


def overdue_cases(session: Session, units: Sequence[Unit], now: datetime, tz: tzinfo) -> list[TodoItem]:
    today = local_date(now, tz)
    items = []
    for unit in units:
        rows = list_cases(session, get_catalogue(), [unit.id], CaseFilters(overdue=True), tz=tz, today=today)
        items.append(TodoItem("Phản ánh quá hạn chưa trả lời", len(rows),
                              url_for("console.cases", unit=unit.code, overdue="1"), unit, "bad"))
    return items
