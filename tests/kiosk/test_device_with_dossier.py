"""A kiosk rating's device, unit and the dossier it names are read in one statement (``device_with_unit``), with
the same answers as when they were read one by one; on both databases."""

from __future__ import annotations

from sqlalchemy import select

from sipas.models import Dossier, Response
from tests.factories import answers_for, create_dossier, create_unit, local
from tests.kiosk.helpers import new_device
from tests.statement_support import selects

SECRET = "test-secret-key"


def _rating(catalogue, code, key="kiosk-key-0001"):  # type: ignore[no-untyped-def]
    return {"key": key, "instrument": "hue12", "dossier_code": code,
            "answers": answers_for(catalogue, on=local(2026, 1, 8)), "submitted_at": "2026-01-08T10:00:00+07:00"}


def _kiosk(session):  # type: ignore[no-untyped-def]
    unit = create_unit(session, default_instrument="hue12")
    _device, _, token = new_device(session, unit, secret=SECRET)
    return unit, {"X-Kiosk-Token": token}


def test_a_kiosk_rating_reads_its_device_unit_and_dossier_in_one_statement(app, client, session, catalogue):
    unit, headers = _kiosk(session)
    create_dossier(session, unit, code="HS-MOT", received_at=local(2026, 1, 5), returned_at=local(2026, 1, 6))
    session.commit()
    seen, stop = selects(app)
    try:
        stored = client.post(f"/kiosk/{unit.code}/api/submit", json=_rating(catalogue, " HS-MOT "), headers=headers)
    finally:
        stop()
    assert stored.status_code == 201, stored.get_json()
    assert len(seen) == 1 and "FROM kiosk_device" in seen[0] and "dossier" in seen[0], seen
    assert session.scalar(select(Response.dossier_id)) == session.scalar(select(Dossier.id))


def test_the_checks_on_the_device_and_dossier_are_unchanged(client, session, catalogue):
    unit, headers = _kiosk(session)
    create_dossier(session, unit, code="HS-CHUA", returned=False)
    session.commit()
    submit = f"/kiosk/{unit.code}/api/submit"
    answer = client.post(submit, json=_rating(catalogue, "HS-KHONG"), headers=headers)
    assert answer.get_json()["error"]["code"] == "unknown_dossier"
    answer = client.post(submit, json=_rating(catalogue, "HS-CHUA"), headers=headers)
    assert answer.get_json()["error"]["code"] == "not_returned"
    wrong = client.post(submit, json=_rating(catalogue, "HS-CHUA"), headers={"X-Kiosk-Token": "nope.nosecret"})
    assert wrong.status_code == 401  # the device first, as before
    broken = client.post(submit, data="{not json", content_type="application/json", headers=headers)
    assert broken.status_code == 422 and broken.get_json()["error"]["message"] == "Yêu cầu không hợp lệ."
    other = create_unit(session, code="KHAC")
    create_dossier(session, other, code="HS-KHAC", received_at=local(2026, 1, 5), returned_at=local(2026, 1, 6))
    session.commit()
    answer = client.post(submit, json=_rating(catalogue, "HS-KHAC"), headers=headers)  # another unit's dossier
    assert answer.get_json()["error"]["code"] == "unknown_dossier"
