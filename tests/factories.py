"""Factory helpers with keyword defaults, so tests state only what matters to them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from sipas.accounts import create_api_key, create_user
from sipas.catalogue import Catalogue
from sipas.dossiers import DossierInput, upsert_dossier
from sipas.models import Dossier, IntakeChannel, Response, ResponseChannel, Role, Unit, UnitKind, User
from sipas.responses import ResponseInput, record_response
from sipas.units import create_unit as _create_unit

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
SECRET = "test-secret-key"
PASSWORD = "mat-khau-thu-nghiem"
_seq = itertools.count(1)


def local(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A local (Asia/Ho_Chi_Minh) wall-clock time as an aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=TZ).astimezone(UTC)


def create_unit(session: Session, *, code: str | None = None, name: str | None = None,
                kind: UnitKind = UnitKind.WARD, parent: Unit | None = None, **fields: object) -> Unit:
    n = next(_seq)
    fields.setdefault("signatory_name", "Nguyễn Văn Thử")  # a notice is issued only with the signer's name
    return _create_unit(session, code=code or f"W{n:03d}", name=name or f"Phường Thử {n}", kind=kind,
                        parent=parent, actor="test", **fields)


def create_district_with_wards(session: Session, wards: int = 2) -> tuple[Unit, list[Unit]]:
    district = create_unit(session, code=f"D{next(_seq):03d}", name="Quận Thử", kind=UnitKind.DISTRICT)
    return district, [create_unit(session, parent=district) for _ in range(wards)]


def create_dossier(session: Session, unit: Unit, *, code: str | None = None,
                   received_at: datetime | None = None, due_at: datetime | None = None,
                   returned_at: datetime | None = None, returned: bool = True,
                   intake_channel: IntakeChannel = IntakeChannel.DIRECT, field: str = "Hộ tịch",
                   procedure: str = "Đăng ký khai sinh", phone: str | None = None,
                   sms_consent: bool | None = None, now: datetime | None = None) -> Dossier:
    received_at = received_at or local(2026, 1, 5)
    due_at = due_at if due_at is not None else received_at + timedelta(days=3)
    if returned and returned_at is None:
        returned_at = received_at + timedelta(days=2)
    data = DossierInput(
        code=code or f"000.00.20.H57-260105-{next(_seq):04d}",
        received_at=received_at, due_at=due_at, returned_at=returned_at if returned else None,
        intake_channel=intake_channel, field=field, procedure=procedure,
        phone_e164=phone, sms_consent=sms_consent,
    )
    result = upsert_dossier(session, unit, data, tz=TZ, now=now or datetime.now(UTC), secret=SECRET, actor="test")
    session.flush()
    return result.dossier


def answers_for(catalogue: Catalogue, instrument: str = "hue12", option_index: int = 0,
                on: datetime | None = None) -> dict[str, str]:
    """Every citizen criterion answered with the option at ``option_index``."""
    version = catalogue.current(instrument, (on or datetime.now(UTC)).astimezone(TZ).date())
    return {c.code: c.options[option_index].code for c in version.citizen_criteria}


def create_response(session: Session, catalogue: Catalogue, unit: Unit, *, dossier: Dossier | None = None,
                    instrument: str = "hue12", channel: ResponseChannel = ResponseChannel.KIOSK,
                    answers: dict[str, str] | None = None, submitted_at: datetime | None = None,
                    comment: str | None = None, now: datetime | None = None) -> Response:
    now = now or datetime.now(UTC)
    submitted_at = submitted_at or now
    data = ResponseInput(
        instrument=instrument, channel=channel,
        answers=answers or answers_for(catalogue, instrument, on=submitted_at),
        dossier_code=dossier.code if dossier else None, submitted_at=submitted_at, comment=comment,
    )
    recorded = record_response(session, catalogue, unit, data, now=max(now, submitted_at), tz=TZ, actor="test")
    return recorded.response


def create_clerk(session: Session, unit: Unit, *, username: str | None = None, role: Role = Role.CLERK) -> User:
    return create_user(session, username=username or f"canbo{next(_seq)}", password=PASSWORD, role=role,
                       units=[unit] if role is not Role.ADMIN else [], actor="test")


def create_key(session: Session, unit: Unit) -> str:
    _key, plaintext = create_api_key(session, unit, name="test", actor="test")
    return plaintext


def login(client, user: User) -> None:  # type: ignore[no-untyped-def]
    """Log a user in through the real login form (CSRF is checked, as in production)."""
    page = client.get("/console/login")
    token = page.get_data(as_text=True).split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post("/console/login", data={"username": user.username, "password": PASSWORD,
                                                   "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)


def create_link(session: Session, *, instrument_code: str = "hue12", channel: str = "sms"):  # type: ignore[no-untyped-def]
    """A phone-form link for a new returned dossier of a new unit, valid for a week, committed."""
    from sipas.clock import utcnow
    from sms_gateway.links import issue_link

    dossier = create_dossier(session, create_unit(session))
    now = utcnow()
    made = issue_link(session, dossier, instrument_code=instrument_code, channel=channel, now=now,
                      expires_at=now + timedelta(days=7))
    session.commit()
    return made
