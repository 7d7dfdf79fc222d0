"""The kiosk's dossier picker (issue 13): the last digits of a receipt → the unit's recently returned,
not yet rated dossiers with that daily sequence, showing the procedure and the return day only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kiosk.picker import MAX_MATCHES, recent_matches
from sipas.errors import ValidationError
from sipas.models import ResponseChannel
from tests.factories import TZ, create_dossier, create_response, create_unit
from tests.kiosk.test_views import paired_unit

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def returned(session, unit, code, *, days_ago=0, procedure="Đăng ký khai sinh", phone=None):  # type: ignore[no-untyped-def]
    at = NOW - timedelta(days=days_ago, hours=1)
    return create_dossier(session, unit, code=code, received_at=at - timedelta(days=3), returned_at=at,
                          procedure=procedure, phone=phone, sms_consent=bool(phone), now=NOW)


def test_the_last_digits_find_recent_returned_unrated_dossiers_of_the_unit_only(session, catalogue):
    unit, other = create_unit(session), create_unit(session)
    returned(session, unit, "000.00.25.H57-261203-0556", procedure="Chứng thực bản sao")
    returned(session, unit, "000.00.25.H57-261201-0556", days_ago=2, procedure="Đăng ký kết hôn")
    returned(session, unit, "000.00.25.H57-261203-1556")  # other sequence ending in the same digits
    returned(session, unit, "000.00.25.H57-261120-0556", days_ago=13)  # returned too long ago
    rated = returned(session, unit, "000.00.25.H57-261202-0556", days_ago=1)
    create_response(session, catalogue, unit, dossier=rated, channel=ResponseChannel.SMS, now=NOW)
    create_dossier(session, unit, code="000.00.25.H57-261203-0556X", returned=False)
    create_dossier(session, unit, code="000.00.25.H57-261202-0557", received_at=NOW - timedelta(days=1),
                   returned=False)
    returned(session, other, "000.00.25.H57-261203-0556")  # another ward's kiosk
    session.commit()
    for typed in ("556", "0556"):
        found = recent_matches(session, unit, typed, now=NOW, tz=TZ)
        assert [(m.code, m.procedure, m.returned_on) for m in found] == [
            ("000.00.25.H57-261203-0556", "Chứng thực bản sao", "03/12/2026"),
            ("000.00.25.H57-261201-0556", "Đăng ký kết hôn", "01/12/2026")]
    assert recent_matches(session, unit, "557", now=NOW, tz=TZ) == []  # not returned yet


def test_a_crowded_day_is_cut_to_a_few_matches_and_bad_input_is_refused(session):
    unit = create_unit(session)
    for day in range(MAX_MATCHES + 1):
        returned(session, unit, f"000.00.25.H57-2612{day + 1:02d}-0042", days_ago=0)
    session.commit()
    assert len(recent_matches(session, unit, "42", now=NOW, tz=TZ)) == MAX_MATCHES
    for bad in ("", "12a", "1234567", "٣٣"):
        with pytest.raises(ValidationError) as refused:
            recent_matches(session, unit, bad, now=NOW, tz=TZ)
        assert refused.value.field == "digits"


def test_the_recent_endpoint_answers_the_procedure_and_day_never_personal_data(client, session):
    unit, _device, headers = paired_unit(session)
    dossier = create_dossier(session, unit, code="000.00.25.H57-261203-0556", phone="+84912345678",
                             sms_consent=True, received_at=datetime.now(UTC) - timedelta(days=2),
                             returned_at=datetime.now(UTC) - timedelta(hours=1), procedure="Cấp bản sao trích lục")
    session.commit()
    answer = client.post(f"/kiosk/{unit.code}/api/recent", json={"digits": "556"}, headers=headers)
    assert answer.status_code == 200
    [match] = answer.get_json()["matches"]
    assert set(match) == {"code", "procedure", "returned_on"}
    assert match["code"] == dossier.code and match["procedure"] == "Cấp bản sao trích lục"
    assert "912345678" not in answer.get_data(as_text=True)
    assert client.post(f"/kiosk/{unit.code}/api/recent", json={"digits": "55x"}, headers=headers).status_code == 422
    assert client.post(f"/kiosk/{unit.code}/api/recent", json={"digits": "556"}).status_code == 401  # paired only
