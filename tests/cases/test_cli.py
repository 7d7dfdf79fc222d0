"""``sipas cases list --unit X --overdue`` on a real database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.factories import answers_for, create_dossier, create_response, create_unit


def test_cases_list_shows_the_overdue_cases_without_the_citizen(run_cli, session, catalogue):
    now = datetime.now(UTC)
    unit = create_unit(session, code="PA01")
    old = create_dossier(session, unit, code="HS-CU", phone="+84912345678", sms_consent=True,
                         received_at=now - timedelta(days=40), returned_at=now - timedelta(days=35))
    late = create_response(session, catalogue, unit, dossier=old, submitted_at=now - timedelta(days=30), now=now,
                           answers=answers_for(catalogue, on=now) | {"tc03": "khong_hai_long"})
    recent = create_dossier(session, unit, received_at=now - timedelta(days=4), returned_at=now - timedelta(days=2))
    fresh = create_response(session, catalogue, unit, dossier=recent, submitted_at=now - timedelta(days=1), now=now,
                            comment="Đề nghị bố trí thêm chỗ ngồi")
    session.commit()
    text = run_cli("cases", "list", "--unit", "PA01", "--overdue").output
    assert f"#{late.id}" in text and "QUÁ HẠN" in text and f"#{fresh.id}" not in text
    assert "HS-CU" not in text and "912345678" not in text
    assert "Tổng: 1 phản ánh, 1 quá hạn." in text
    data = json.loads(run_cli("cases", "list", "--unit", "PA01", "--json").output)
    assert [(c["response_id"], c["overdue"], c["dissatisfied"], c["asks_for_action"]) for c in data["cases"]] == [
        (late.id, True, ["tc03"], False), (fresh.id, False, [], True)]
    assert run_cli("cases", "list", "--unit", "KHONGCO").exit_code == 1
