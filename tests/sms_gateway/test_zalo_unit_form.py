"""A unit's Zalo options on the console (``/console/zalo/units/<code>``): what ``sipas zalo unit`` sets, by an
administrator of the unit only, audited; the checks are one plain function shared with the CLI."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sipas.accounts import create_user
from sipas.models import AuditEvent, Role, Unit
from sms_gateway.zalo_settings import unit_rating_template_id, unit_template_id
from sms_gateway.zalo_unit_options import ZaloOptionsError, updated_zalo_options
from tests.factories import PASSWORD, create_clerk, create_district_with_wards, login


def test_updated_options_merge_and_refuse_bad_input() -> None:
    current = {"enabled": False, "template_id": "236719", "custom": 1}
    assert updated_zalo_options(current, enable=True, correction="first") == {
        "enabled": True, "template_id": "236719", "custom": 1, "correction": "first"}
    cleared = updated_zalo_options(current, enable=False, template_id="", short_name=" UBND P. Vĩnh Ninh ")
    assert cleared == {"enabled": False, "template_id": "", "custom": 1, "short_name": "UBND P. Vĩnh Ninh"}
    for kwargs, field in (({"template_id": ""}, "template_id"), ({"template_id": "23 67"}, "template_id"),
                          ({"rating_template_id": "x" * 65}, "rating_template_id"),
                          ({"correction": "average"}, "correction"), ({"short_name": "x" * 31}, "short_name")):
        with pytest.raises(ZaloOptionsError) as caught:
            updated_zalo_options(current, enable=True, **kwargs)
        assert caught.value.field == field and caught.value.code == "bad_zalo_options"


def _csrf(client, path: str) -> str:  # type: ignore[no-untyped-def]
    page = client.get(path).get_data(as_text=True)
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_a_ward_admin_sets_the_options_of_the_ward_audited(app, client, session) -> None:  # type: ignore[no-untyped-def]
    _district, (ward, other) = create_district_with_wards(session)
    admin = create_user(session, username="qt.phuong", password=PASSWORD, role=Role.ADMIN, units=[ward],
                        actor="test")
    session.commit()
    login(client, admin)
    path = f"/console/zalo/units/{ward.code}"
    assert f'href="{path}"' in client.get("/console/zalo/").get_data(as_text=True)
    assert client.get(f"/console/zalo/units/{other.code}").status_code == 404  # out of scope: no existence leak
    refused = client.post(path, data={"enabled": "1", "template_id": " ", "csrf_token": _csrf(client, path)})
    assert refused.status_code == 400
    assert "Cần mã mẫu tin đã được Zalo duyệt" in refused.get_data(as_text=True)
    saved = client.post(path, data={"enabled": "1", "template_id": "236719", "rating_template_id": "300501",
                                     "correction": "first", "short_name": "UBND P. Vĩnh Ninh",
                                     "csrf_token": _csrf(client, path)})
    assert saved.status_code == 302
    session.expire_all()
    unit = session.get(Unit, ward.id)
    assert (unit_template_id(unit), unit_rating_template_id(unit)) == ("300501", "300501")
    assert unit.options["zalo"] == {"enabled": True, "template_id": "236719", "rating_template_id": "300501",
                                    "correction": "first", "short_name": "UBND P. Vĩnh Ninh"}
    page = client.get(path).get_data(as_text=True)
    assert 'value="236719"' in page and 'value="first" selected' in page
    off = client.post(path, data={"template_id": "236719", "correction": "first", "csrf_token": _csrf(client, path)})
    assert off.status_code == 302
    session.commit()  # end the read transaction: the console wrote in its own
    session.expire_all()
    assert unit_template_id(session.get(Unit, ward.id)) is None
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "zalo.unit_settings")
                             .order_by(AuditEvent.id)).all()
    assert [(e.actor, e.unit_id, e.details.get("enabled")) for e in events] == [
        ("user:qt.phuong", ward.id, True), ("user:qt.phuong", ward.id, False)]
    assert session.get(Unit, other.id).options.get("zalo") is None


def test_a_clerk_cannot_change_the_options(app, client, session) -> None:  # type: ignore[no-untyped-def]
    _district, (ward, _other) = create_district_with_wards(session)
    clerk = create_clerk(session, ward)
    session.commit()
    login(client, clerk)
    assert client.get(f"/console/zalo/units/{ward.code}").status_code in (302, 403)
    assert session.get(Unit, ward.id).options.get("zalo") is None
