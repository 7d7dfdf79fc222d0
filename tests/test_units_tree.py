"""``sipas.units.descendants``: the unit, then the units below it level by level, each level by code."""

from __future__ import annotations

from sipas.models import Unit, UnitKind
from sipas.units import descendant_ids, descendants
from tests.factories import create_unit


def _province(session):
    province = create_unit(session, code="T-TREE", name="Tỉnh Thử", kind=UnitKind.PROVINCE)
    # created out of code order, so that an order by id would differ from the order by code
    late = create_unit(session, code="T-TREE-H02", name="Huyện Hai", kind=UnitKind.DISTRICT, parent=province)
    early = create_unit(session, code="T-TREE-H01", name="Huyện Một", kind=UnitKind.DISTRICT, parent=province)
    for code, parent in (("T-TREE-H02-X01", late), ("T-TREE-H01-X02", early), ("T-TREE-H01-X01", early)):
        create_unit(session, code=code, name=f"Phường {code[-3:]}", parent=parent)
    create_unit(session, code="T-OTHER", name="Tỉnh Khác", kind=UnitKind.PROVINCE)
    session.commit()
    return province


def test_the_unit_first_then_each_level_by_code(app, session):
    province = _province(session)
    session.expunge_all()
    province = session.get(Unit, province.id)
    units = descendants(session, province)
    assert [u.code for u in units] == ["T-TREE", "T-TREE-H01", "T-TREE-H02",
                                       "T-TREE-H01-X01", "T-TREE-H01-X02", "T-TREE-H02-X01"]
    assert units[0] is province
    assert [u.id for u in units] == descendant_ids(session, province)
    assert units[1] is session.get(Unit, units[1].id)  # the session's own objects, as a query would give
    assert units[3].parent.code == "T-TREE-H01"  # relationships load as for a loaded object


def test_a_ward_alone_and_a_unit_added_in_the_session(app, session):
    province = _province(session)
    ward = session.query(Unit).filter_by(code="T-TREE-H02-X01").one()
    assert descendants(session, ward) == [ward]
    added = Unit(code="T-TREE-H02-X02", name="Phường Mới", kind=UnitKind.WARD, parent_id=ward.parent_id)
    session.add(added)  # not flushed yet: found all the same, as an ORM query flushes first
    assert [u.code for u in descendants(session, province)][-2:] == ["T-TREE-H02-X01", "T-TREE-H02-X02"]
    assert descendants(session, province)[-1] is added
