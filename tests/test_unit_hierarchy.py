"""Units: the code a unit is created with, the hierarchy it is created in, a renamed unit's notice defaults."""

from __future__ import annotations

import pytest

from sipas.errors import ValidationError
from tests.factories import create_unit


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
