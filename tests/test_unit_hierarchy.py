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


@pytest.mark.parametrize(("name", "message"), [("   ", "Thiếu giá trị bắt buộc."),
                                               ("Phường " + "A" * 200, "Quá dài (tối đa 200 ký tự).")])
def test_a_unit_needs_a_name_that_fits(session, run_cli, name, message):
    """`sipas unit create --name "  "` made a unit with no name (its notice headed "ỦY BAN NHÂN DÂN" alone), and a
    name over the column's 200 characters failed inside the database (PostgreSQL) instead of with a message."""
    with pytest.raises(ValidationError) as refused:
        create_unit(session, name=name)
    assert (refused.value.field, refused.value.message_vi) == ("name", message)
    session.rollback()
    result = run_cli("unit", "create", "--code", "P-X", "--name", name)
    assert result.exit_code == 1 and message in result.output
    assert session.scalar(select(func.count()).select_from(Unit)) == 0


def test_a_long_name_within_its_column_is_created_and_its_notice_headed(session, client):
    """A 190-character name fits its column, but "ỦY BAN NHÂN DÂN" and a line break before it did not fit the issuing
    body's 200: the unit could not be created (PostgreSQL), nor renamed to such a name on the settings page."""
    from aggregator.notices.viewmodel import body_lines

    long_name = "Phường " + "Đ" * 183
    unit = create_unit(session, name=long_name)
    assert body_lines(unit) == ("ỦY BAN NHÂN DÂN", long_name.upper())
    short = create_unit(session, name="Phường Ngắn")
    admin = create_user(session, username="root", password=PASSWORD, role=Role.ADMIN, units=[], actor="test")
    session.commit()
    login(client, admin)
    path = f"/console/units/{short.code}"
    form = {"name": long_name, "issuing_body": short.issuing_body, "place_name": short.place_name,
            "signatory_title": short.signatory_title, "signatory_name": short.signatory_name,
            "default_instrument": short.default_instrument, "csrf_token": _csrf(client)}
    assert client.post(path, data=form).status_code == 302
    session.expire_all()
    assert body_lines(session.get(Unit, short.id)) == ("ỦY BAN NHÂN DÂN", long_name.upper())


def test_the_create_form_offers_as_parents_only_units_that_may_have_units_below(client, session):
    """The parent list offered every unit of the admin's scope, wards included, and a ward admin got a form whose
    only choice, its ward, cannot have units below it."""
    district = create_unit(session, code="Q-1", name="Quận Một", kind=UnitKind.DISTRICT)
    ward = create_unit(session, code="P-1", name="Phường Một", parent=district)
    district_admin = create_user(session, username="qt.q1", password=PASSWORD, role=Role.ADMIN, units=[district],
                                 actor="test")
    ward_admin = create_user(session, username="qt.p1", password=PASSWORD, role=Role.ADMIN, units=[ward], actor="test")
    session.commit()
    login(client, district_admin)
    page = client.get("/console/units").get_data(as_text=True)
    form = page.split("<h2>Tạo đơn vị</h2>", 1)[1]
    assert '<option value="Q-1">' in form and '<option value="P-1"' not in form
    assert "P-1" in page  # still listed, with its settings
    client.post("/console/logout", data={"csrf_token": _csrf(client)})
    login(client, ward_admin)
    page = client.get("/console/units").get_data(as_text=True)
    assert "P-1" in page and "Tạo đơn vị" not in page


def test_a_code_with_spaces_around_it_finds_its_unit(session, run_cli):
    """Creation drops the spaces around a code, but the look-up did not: `--parent " Q-1"` (a pasted code), an import's
    or a report's `--unit`, an API request's `unit` answered "Không tìm thấy đơn vị" for an existing unit."""
    from sipas.units import get_unit

    district = create_unit(session, code="Q-1", name="Quận Một", kind=UnitKind.DISTRICT)
    session.commit()
    assert get_unit(session, " Q-1\t") is district
    result = run_cli("unit", "create", "--code", "P-1", "--name", "Phường Một", "--parent", " Q-1 ")
    assert result.exit_code == 0, result.output
    session.rollback()  # end the read snapshot taken above before looking again
    assert session.scalar(select(Unit).where(Unit.code == "P-1")).parent_id == district.id
