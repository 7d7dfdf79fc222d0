"""Demo data for a first look: a province-level city, two wards, clerk accounts and realistic dossiers and ratings.

Covers the previous full quarter (so a quarterly notice has figures) and the current quarter up to
now (so the dashboard and the kiosk have fresh dossiers). Deterministic for a given seed, apart from
the passwords, which are random and printed once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sipas.accounts import create_api_key, create_user, random_token
from sipas.catalogue import NOT_APPLICABLE, Catalogue
from sipas.clock import Period, local_date
from sipas.dossiers import DossierInput, apply_dossier
from sipas.models import IntakeChannel, ResponseChannel, Role, Unit, UnitKind, User
from sipas.plugins import channel_modules
from sipas.responses import ResponseInput, record_response
from sipas.settings import Settings
from sipas.units import create_unit


@dataclass(frozen=True)
class Procedure:
    field: str
    name: str
    days: int


PROCEDURES = [
    Procedure("Hộ tịch", "Đăng ký khai sinh", 1),
    Procedure("Hộ tịch", "Đăng ký kết hôn", 3),
    Procedure("Hộ tịch", "Đăng ký khai tử", 1),
    Procedure("Hộ tịch", "Cấp bản sao trích lục hộ tịch", 1),
    Procedure("Hộ tịch", "Cấp Giấy xác nhận tình trạng hôn nhân", 3),
    Procedure("Chứng thực", "Chứng thực bản sao từ bản chính giấy tờ, văn bản", 0),
    Procedure("Chứng thực", "Chứng thực chữ ký trong các giấy tờ, văn bản", 0),
    Procedure("Chứng thực", "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản", 2),
    Procedure("Đất đai", "Xác nhận nguồn gốc, thời điểm sử dụng đất", 10),
    Procedure("Đất đai", "Hòa giải tranh chấp đất đai", 30),
    Procedure("Lao động - TBXH", "Xác nhận hộ gia đình làm nông nghiệp có mức sống trung bình", 5),
    Procedure("Lao động - TBXH", "Thực hiện, điều chỉnh, thôi hưởng trợ cấp xã hội hằng tháng", 7),
    Procedure("Nội vụ", "Thông báo tổ chức lễ hội cấp xã", 5),
    Procedure("Văn hóa - Thông tin", "Công nhận gia đình văn hóa", 5),
]

INTAKE_WEIGHTS = [
    (IntakeChannel.DIRECT, 52),
    (IntakeChannel.ONLINE_PARTIAL, 26),
    (IntakeChannel.ONLINE_FULL, 17),
    (IntakeChannel.POSTAL, 5),
]

COMMENTS_GOOD = [
    "Cán bộ hướng dẫn tận tình, dễ hiểu.",
    "Thủ tục nhanh gọn, cảm ơn phường.",
    "Trả kết quả sớm hơn hẹn.",
    "Nơi chờ sạch sẽ, có nước uống.",
]
COMMENTS_BAD = [
    "Phải chờ lâu, nên có thêm cán bộ vào buổi sáng.",
    "Hướng dẫn chưa rõ, phải đi lại hai lần.",
    "Chỗ để xe chật.",
]


# Two-tier local government since 01/7/2025 (province → ward/commune, no district): the demo wards sit
# directly under a province-level city, so a 2026 notice reports to it (aggregator.notices.hierarchy).
DEMO_UNIT_CODES = ("TINH-DEMO", "PHUONG-PHUHOI", "PHUONG-VINHNINH")
DEMO_USERNAMES = ("admin", "canbo.phuhoi", "canbo.vinhninh", "lanhdao.tinh")


def has_data(session: Session) -> bool:
    """Whether the database holds a unit or an account: then it is not empty, and no demo goes into it."""
    return any((session.scalar(select(func.count()).select_from(table)) or 0) > 0 for table in (Unit, User))


def _weighted(rng: random.Random, pairs: list[tuple[object, int]]) -> object:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _working_time(rng: random.Random, day: datetime) -> datetime:
    return day + timedelta(hours=rng.randint(7, 10), minutes=rng.randint(0, 59))


def _answers(rng: random.Random, catalogue: Catalogue, code: str, on: datetime, settings: Settings, *,
             online: bool, mood: float) -> dict[str, str]:
    instrument = catalogue.current(code, local_date(on, settings.tz))
    answers = {}
    for criterion in instrument.citizen_criteria:
        if criterion.allow_na and ((criterion.code == "tc12" and not online) or rng.random() < 0.04):
            answers[criterion.code] = NOT_APPLICABLE
            continue
        roll = rng.random() + mood
        index = 0 if roll < 0.64 else 1 if roll < 0.96 else 2
        answers[criterion.code] = criterion.options[min(index, len(criterion.options) - 1)].code
    return answers


def create_demo(session: Session, catalogue: Catalogue, settings: Settings, *, secret: str, seed: int = 2026,
                now: datetime | None = None) -> list[tuple[str, str, str]]:
    """Create everything; return (username or "api key", secret, role or unit) to print once."""
    now = now or datetime.now(UTC)
    rng = random.Random(seed)
    province = create_unit(session, code="TINH-DEMO", name="Thành phố Huế (mẫu)", kind=UnitKind.PROVINCE,
                           actor="demo", issuing_body="ỦY BAN NHÂN DÂN\nTHÀNH PHỐ HUẾ", place_name="Huế")
    wards = [
        create_unit(session, code="PHUONG-PHUHOI", name="Phường Phú Hội", parent=province, actor="demo",
                    issuing_body="ỦY BAN NHÂN DÂN\nPHƯỜNG PHÚ HỘI", place_name="Phú Hội",
                    signatory_name="Nguyễn Văn An", default_instrument="hue12"),
        create_unit(session, code="PHUONG-VINHNINH", name="Phường Vĩnh Ninh", parent=province, actor="demo",
                    issuing_body="ỦY BAN NHÂN DÂN\nPHƯỜNG VĨNH NINH", place_name="Vĩnh Ninh",
                    signatory_name="Trần Thị Bình", default_instrument="quay4", allow_anonymous=True),
    ]
    accounts = [
        ("admin", Role.ADMIN, [], "Quản trị hệ thống"),
        ("canbo.phuhoi", Role.CLERK, [wards[0]], "Lê Thị Hoa"),
        ("canbo.vinhninh", Role.CLERK, [wards[1]], "Phạm Văn Minh"),
        ("lanhdao.tinh", Role.LEADER, [province], "Hoàng Đức Thành"),
    ]
    credentials = []
    for username, role, units, full_name in accounts:
        password = random_token(14)
        create_user(session, username=username, password=password, role=role, units=units, full_name=full_name,
                    actor="demo")
        credentials.append((username, password, str(role)))
    _key, api_key = create_api_key(session, province, name="Dữ liệu mẫu", actor="demo")
    credentials.append(("khóa API", api_key, f"thành phố {province.code} và các phường"))

    today = local_date(now, settings.tz)
    current = Period.containing_quarter(today)
    previous = Period.containing_quarter(current.start - timedelta(days=1))
    for ward_index, ward in enumerate(wards):
        _populate_ward(session, catalogue, settings, ward, ward_index, previous.start, now, rng, secret)
    for module in channel_modules("demo"):
        module.populate(session, catalogue, settings, wards, now, rng)
    session.flush()
    return credentials


def _populate_ward(session: Session, catalogue: Catalogue, settings: Settings, ward: Unit, ward_index: int,
                   start: object, now: datetime, rng: random.Random, secret: str) -> None:
    tz = settings.tz
    day = datetime.combine(start, time.min, tzinfo=tz)  # type: ignore[arg-type]
    end = now.astimezone(tz)
    sequence = 0
    mood = 0.03 * ward_index
    while day <= end:
        if day.weekday() < 5:
            for _ in range(rng.randint(3, 7)):
                sequence += 1
                received = _working_time(rng, day)
                if received > end:
                    break
                procedure = rng.choice(PROCEDURES)
                intake = _weighted(rng, INTAKE_WEIGHTS)
                assert isinstance(intake, IntakeChannel)
                due = received + timedelta(days=max(procedure.days, 0), hours=0 if procedure.days else 4)
                lateness = rng.random()
                if lateness < 0.45 and procedure.days > 1:
                    returned = due - timedelta(days=rng.randint(1, procedure.days - 1))
                elif lateness < 0.95:
                    returned = due.replace(hour=rng.randint(8, 16))
                    returned = max(returned, received + timedelta(hours=1))
                else:
                    returned = due + timedelta(days=rng.randint(1, 4))
                is_returned = returned < end
                phone = f"+849{rng.randint(10000000, 99999999)}" if intake.is_online or rng.random() < 0.4 else None
                data = DossierInput(
                    code=f"000.{ward_index:02d}.25.H57-{received:%y%m%d}-{sequence:04d}",
                    received_at=received.astimezone(UTC),
                    due_at=due.astimezone(UTC),
                    returned_at=returned.astimezone(UTC) if is_returned else None,
                    procedure=procedure.name,
                    field=procedure.field,
                    intake_channel=intake,
                    phone_e164=phone,
                    sms_consent=(rng.random() < 0.8) if phone else None,
                    consent_method="counter",
                )
                result = apply_dossier(session, ward, data, tz=tz, now=now, secret=secret, lookup=False)
                if is_returned and rng.random() < 0.62:
                    session.flush()
                    _rate(session, catalogue, settings, ward, result.dossier.code, returned.astimezone(UTC), now,
                          rng, online=intake.is_online, mood=mood)
        if day.weekday() == 4 and day < end:
            _paper_ballots(session, catalogue, settings, ward, day, now, rng)
        day += timedelta(days=1)


def _rate(session: Session, catalogue: Catalogue, settings: Settings, ward: Unit, code: str, returned: datetime,
          now: datetime, rng: random.Random, *, online: bool, mood: float) -> None:
    channel = _weighted(rng, [(ResponseChannel.KIOSK, 60), (ResponseChannel.QR, 15), (ResponseChannel.SMS, 20),
                              (ResponseChannel.API, 5)]) if online else ResponseChannel.KIOSK
    assert isinstance(channel, ResponseChannel)
    submitted = min(returned + timedelta(minutes=rng.randint(2, 30) if channel is ResponseChannel.KIOSK
                                         else rng.randint(60, 2880)), now)
    instrument = ward.default_instrument
    answers = _answers(rng, catalogue, instrument, submitted, settings, online=online, mood=mood)
    negative = any(a.endswith(("khong_hai_long", "khong_dung_hen", "phuc_tap")) for a in answers.values())
    comment = None
    if rng.random() < 0.15:
        comment = rng.choice(COMMENTS_BAD if negative else COMMENTS_GOOD)
    record_response(session, catalogue, ward, ResponseInput(
        instrument=instrument, channel=channel, answers=answers, dossier_code=code, submitted_at=submitted,
        comment=comment, source="demo"), now=now, tz=settings.tz, actor="demo")


def _paper_ballots(session: Session, catalogue: Catalogue, settings: Settings, ward: Unit, day: datetime,
                   now: datetime, rng: random.Random) -> None:
    for _ in range(rng.randint(0, 3)):
        submitted = min((day + timedelta(hours=16)).astimezone(UTC), now)
        answers = _answers(rng, catalogue, "quay4", submitted, settings, online=False, mood=0.0)
        record_response(session, catalogue, ward, ResponseInput(
            instrument="quay4", channel=ResponseChannel.PAPER, answers=answers, submitted_at=submitted,
            source="demo"), now=now, tz=settings.tz, actor="demo")
