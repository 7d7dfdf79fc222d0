"""Core rules: one response per dossier and instrument, precise errors, timeliness on local days."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from sipas.errors import (
    AlreadyRated,
    DossierNotReturned,
    MissingAnswer,
    NotApplicableRefused,
    UnknownCriterion,
    UnknownDossier,
    UnknownInstrument,
    UnknownOption,
)
from sipas.models import AuditEvent, Response, ResponseChannel
from sipas.responses import ResponseInput, record_response
from sipas.timeliness import Timeliness, timeliness
from tests.factories import TZ, answers_for, create_dossier, create_response, create_unit, local

NOW = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)


def _record(session, catalogue, unit, **overrides):
    data = {"instrument": "hue12", "channel": ResponseChannel.API, "answers": answers_for(catalogue),
            "dossier_code": None, **overrides}
    return record_response(session, catalogue, unit, ResponseInput(**data), now=NOW, tz=TZ, actor="test")


def test_a_second_response_for_the_same_dossier_is_refused_and_audited(session, catalogue):
    unit = create_unit(session)
    dossier = create_dossier(session, unit)
    create_response(session, catalogue, unit, dossier=dossier, now=NOW)
    with pytest.raises(AlreadyRated):
        _record(session, catalogue, unit, dossier_code=dossier.code)
    session.commit()
    assert session.scalar(select(func.count()).select_from(Response)) == 1
    refused = session.scalars(select(AuditEvent).where(AuditEvent.action == "response.duplicate_refused")).all()
    assert [e.subject for e in refused] == [dossier.code]


def test_same_dossier_may_be_rated_once_per_instrument(session, catalogue):
    unit = create_unit(session)
    dossier = create_dossier(session, unit)
    create_response(session, catalogue, unit, dossier=dossier, instrument="hue12", now=NOW)
    create_response(session, catalogue, unit, dossier=dossier, instrument="quay4", now=NOW)
    assert session.scalar(select(func.count()).select_from(Response)) == 2


def test_resend_with_same_idempotency_key_returns_the_stored_response(session, catalogue):
    unit = create_unit(session)
    dossier = create_dossier(session, unit)
    first = _record(session, catalogue, unit, dossier_code=dossier.code, idempotency_key="k-1", source="api:test")
    again = _record(session, catalogue, unit, dossier_code=dossier.code, idempotency_key="k-1", source="api:test")
    assert again.replayed and again.response.id == first.response.id


@pytest.mark.parametrize(
    ("overrides", "error", "field"),
    [
        ({"dossier_code": "KHONG-CO"}, UnknownDossier, "dossier_code"),
        ({"instrument": "abc"}, UnknownInstrument, "instrument"),
        ({"answers": {"tc99": "hai_long"}}, UnknownCriterion, "answers.tc99"),
    ],
)
def test_precise_errors(session, catalogue, overrides, error, field):
    unit = create_unit(session)
    create_dossier(session, unit, code="HS-1")
    with pytest.raises(error) as info:
        _record(session, catalogue, unit, **{"dossier_code": "HS-1", **overrides})
    assert info.value.field == field


def test_missing_unknown_option_and_not_applicable(session, catalogue):
    unit = create_unit(session)
    create_dossier(session, unit, code="HS-1")
    answers = answers_for(catalogue)
    with pytest.raises(MissingAnswer):
        partial = {k: v for k, v in answers.items() if k != "tc05"}
        _record(session, catalogue, unit, dossier_code="HS-1", answers=partial)
    with pytest.raises(UnknownOption):
        _record(session, catalogue, unit, dossier_code="HS-1", answers={**answers, "tc05": "tuyet_voi"})
    with pytest.raises(NotApplicableRefused):
        _record(session, catalogue, unit, dossier_code="HS-1", answers={**answers, "tc01": "na"})
    recorded = _record(session, catalogue, unit, dossier_code="HS-1", answers={**answers, "tc12": "na"})
    tc12 = next(a for a in recorded.response.answers if a.criterion_code == "tc12")
    assert tc12.option_code is None and tc12.points is None


def test_dossier_not_returned_cannot_be_rated(session, catalogue):
    unit = create_unit(session)
    create_dossier(session, unit, code="HS-2", returned=False)
    with pytest.raises(DossierNotReturned):
        _record(session, catalogue, unit, dossier_code="HS-2")


def test_response_keeps_the_instrument_version(session, catalogue):
    unit = create_unit(session)
    recorded = _record(session, catalogue, unit, channel=ResponseChannel.PAPER)
    assert (recorded.response.instrument_code, recorded.response.instrument_version) == ("hue12", "2018.1")


@pytest.mark.parametrize(
    ("due", "returned", "at", "expected"),
    [
        (local(2026, 3, 5, 8), local(2026, 3, 5, 23, 59), local(2026, 3, 9), Timeliness.ON_TIME),
        (local(2026, 3, 5, 17), local(2026, 3, 4, 23), local(2026, 3, 9), Timeliness.EARLY),
        (local(2026, 3, 5, 17), local(2026, 3, 6, 0, 1), local(2026, 3, 9), Timeliness.LATE),
        (local(2026, 3, 5, 17), None, local(2026, 3, 5, 23, 59), Timeliness.IN_PROGRESS),
        (local(2026, 3, 5, 17), None, local(2026, 3, 6, 0, 0), Timeliness.IN_PROGRESS_OVERDUE),
        (local(2026, 3, 5, 17), local(2026, 3, 7), local(2026, 3, 6, 12), Timeliness.IN_PROGRESS_OVERDUE),
    ],
)
def test_timeliness_uses_local_calendar_days(due, returned, at, expected):
    assert timeliness(due, returned, at, TZ) is expected
