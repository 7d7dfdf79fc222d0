"""Units: the code a unit is created with, the hierarchy it is created in, a renamed unit's notice defaults."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from sipas.accounts import create_user
from sipas.errors import ValidationError
from sipas.models import Role, Unit, UnitKind
from tests.factories import PASSWORD, create_unit, login


def _csrf(client) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/console/login").get_data(as_text=True)
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


@pytest.mark.parametrize("code", ["P/1", "P?1", "P#1", "P%1", "PHƯỜNG-1", "P\\1"])
def test_a_unit_code_an_address_cannot_carry_as_typed_is_refused(session, code):
    """The code is the last part of /kiosk/<code>, /console/units/<code>, /cong-khai/<code>: "P/1" was created and
    then answered 404 on every one of them; a code with marks could be stored composed or decomposed."""
    with pytest.raises(ValidationError) as refused:
        create_unit(session, code=code)
    assert refused.value.field == "code"
    assert "chữ cái không dấu, chữ số" in refused.value.message_vi


def test_the_usual_codes_are_taken(session):
    for code in ("PHUONG-PHUHOI", "000.00.20.H57", "xa_1"):
        assert create_unit(session, code=code).code == code


def test_a_code_differing_only_in_case_is_the_same_code(session):
    """"p-phuhoi" next to "P-PHUHOI" made two units a clerk cannot tell apart by the code they type."""
    create_unit(session, code="P-PHUHOI")
    with pytest.raises(ValidationError) as refused:
        create_unit(session, code="p-phuhoi")
    assert refused.value.field == "code"
    assert refused.value.message_vi == "Mã đơn vị “P-PHUHOI” đã tồn tại."


@pytest.mark.parametrize(("parent_kind", "kind"), [
    (UnitKind.WARD, UnitKind.WARD), (UnitKind.COMMUNE, UnitKind.COMMUNE), (UnitKind.WARD, UnitKind.DISTRICT),
    (UnitKind.DISTRICT, UnitKind.DISTRICT), (UnitKind.DISTRICT, UnitKind.PROVINCE),
    (UnitKind.PROVINCE, UnitKind.PROVINCE)])
def test_a_unit_is_never_created_below_a_unit_of_its_level_or_lower(session, parent_kind, kind):
    """A "ward" below a ward joined that ward's report and scope, and a ranking of its district (which takes the
    wards below it) scored it as one of the district's wards."""
    parent = create_unit(session, kind=parent_kind, name="Phường Phú Hội")
    with pytest.raises(ValidationError) as refused:
        create_unit(session, kind=kind, parent=parent)
    assert refused.value.field == "parent"
    assert "trực thuộc Phường Phú Hội" in refused.value.message_vi
    assert session.scalar(select(func.count()).select_from(Unit).where(Unit.parent_id == parent.id)) == 0


@pytest.mark.parametrize(("parent_kind", "kind"), [
    (UnitKind.PROVINCE, UnitKind.DISTRICT), (UnitKind.PROVINCE, UnitKind.WARD), (UnitKind.PROVINCE, UnitKind.COMMUNE),
    (UnitKind.DISTRICT, UnitKind.WARD), (UnitKind.DISTRICT, UnitKind.COMMUNE)])
def test_a_unit_is_created_below_a_higher_level(session, parent_kind, kind):
    parent = create_unit(session, kind=parent_kind)
    assert create_unit(session, kind=kind, parent=parent).parent_id == parent.id


def test_a_ward_admin_creates_no_unit_below_its_ward(client, session):
    """The console's parent list offers a ward admin only its ward: the unit it made there sat below the ward."""
    ward = create_unit(session, code="P-A", name="Phường A")
    admin = create_user(session, username="qt.a", password=PASSWORD, role=Role.ADMIN, units=[ward], actor="test")
    session.commit()
    login(client, admin)
    response = client.post("/console/units", data={"csrf_token": _csrf(client), "code": "P-CON", "name": "Phường Con",
                                                   "kind": "ward", "parent": "P-A"})
    assert response.status_code == 422
    assert "Không thể tạo phường trực thuộc Phường A (phường)" in response.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(Unit).where(Unit.code == "P-CON")) is None


def test_a_name_typed_with_decomposed_marks_is_stored_composed(session):
    """`sipas unit create --name` from a terminal typing decomposed marks stored them so, in the name and in the
    issuing body and place made from it."""
    import unicodedata

    unit = create_unit(session, name=unicodedata.normalize("NFD", " Phường Phú Hội "))
    assert (unit.name, unit.issuing_body, unit.place_name) == (
        "Phường Phú Hội", "ỦY BAN NHÂN DÂN\nPHƯỜNG PHÚ HỘI", "Phường Phú Hội")
