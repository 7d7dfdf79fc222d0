"""SQLAlchemy 2.0 typed models of the domain core.

Channels (kiosk, sms_gateway, aggregator) define their own tables on the same ``Base`` in their
own ``models`` modules. Timestamps are UTC; the ``*_local_date`` columns hold the local calendar day
of a timestamp so that timeliness and period filters are plain date comparisons in SQL on both
SQLite and PostgreSQL (see ``sipas.clock``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns them aware (SQLite drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def enum_column(enum: type[StrEnum], length: int = 32) -> Enum:
    """A VARCHAR holding the enum's value that reads back as the enum member (no database enum type)."""
    return Enum(enum, native_enum=False, create_constraint=False, length=length,
                values_callable=lambda members: [m.value for m in members])


def utc_now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON}


class UnitKind(StrEnum):
    PROVINCE = "province"
    DISTRICT = "district"
    WARD = "ward"
    COMMUNE = "commune"


class IntakeChannel(StrEnum):
    """Hình thức nộp hồ sơ."""

    DIRECT = "direct"  # trực tiếp
    ONLINE_PARTIAL = "online_partial"  # trực tuyến một phần (mức độ 3)
    ONLINE_FULL = "online_full"  # trực tuyến toàn trình (mức độ 4)
    POSTAL = "postal"  # dịch vụ bưu chính công ích

    @property
    def is_online(self) -> bool:
        return self in (IntakeChannel.ONLINE_PARTIAL, IntakeChannel.ONLINE_FULL)


class ResponseChannel(StrEnum):
    KIOSK = "kiosk"
    SMS = "sms"
    QR = "qr"
    PAPER = "paper"
    API = "api"
    ZALO = "zalo"  # the link of a Zalo (ZNS) invitation


class Role(StrEnum):
    ADMIN = "admin"
    CLERK = "clerk"
    LEADER = "leader"


class Unit(Base):
    """A ward or commune People's Committee, or the district/province above it."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[UnitKind] = mapped_column(enum_column(UnitKind, 16), default=UnitKind.WARD)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    # Notice defaults: issuing body as printed, one line per "\n" ("ỦY BAN NHÂN DÂN\nPHƯỜNG X"),
    # the place in the date line ("Phú Hội" → "Phú Hội, ngày ..."), the signatory.
    issuing_body: Mapped[str] = mapped_column(String(200), default="")
    place_name: Mapped[str] = mapped_column(String(200), default="")
    signatory_title: Mapped[str] = mapped_column(String(100), default="CHỦ TỊCH")
    signatory_name: Mapped[str] = mapped_column(String(200), default="")
    default_instrument: Mapped[str] = mapped_column(String(64), default="hue12")
    # The kiosk form before the last change, and when it changed: ratings begun under it still count.
    previous_instrument: Mapped[str | None] = mapped_column(String(64))
    instrument_changed_at: Mapped[datetime | None]
    allow_anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    parent: Mapped[Unit | None] = relationship(remote_side=[id])

    def __repr__(self) -> str:
        return f"<Unit {self.code}>"


class Dossier(Base):
    """Hồ sơ thủ tục hành chính. Personal data (the phone) lives in ``DossierContact``."""

    __tablename__ = "dossier"
    __table_args__ = (UniqueConstraint("unit_id", "code"),
                      # covers the report's dossier pass (aggregator.queries): an index-only scan, no row reads
                      Index("ix_dossier_report_scan", "unit_id", "received_local_date", "returned_local_date",
                            "due_local_date", "intake_channel", "field"),
                      # the dossiers a unit returned in the last days (the home's to-do, sms_gateway.todo)
                      Index("ix_dossier_unit_returned", "unit_id", "returned_at"),
                      # the console's list of several units, newest first (sipas.console.dossiers.list_page)
                      Index("ix_dossier_received_order", "received_at", "id", "unit_id"),
                      # the search's procedure and field names of the units, read from the index alone
                      # (sipas.console.dossiers.unit_names)
                      Index("ix_dossier_unit_names", "unit_id", "procedure", "field"))

    id: Mapped[int] = mapped_column(primary_key=True)
    # no index of its own: uq_dossier_unit_id_code and ix_dossier_report_scan begin with it (core_0023)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    code: Mapped[str] = mapped_column(String(64))
    procedure: Mapped[str] = mapped_column(String(500), default="")
    field: Mapped[str] = mapped_column(String(200), default="", index=True)
    intake_channel: Mapped[IntakeChannel] = mapped_column(enum_column(IntakeChannel), default=IntakeChannel.DIRECT)
    received_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    returned_at: Mapped[datetime | None]
    received_local_date: Mapped[date] = mapped_column(Date, index=True)
    due_local_date: Mapped[date | None] = mapped_column(Date)
    returned_local_date: Mapped[date | None] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)
    # its stored ratings and those with a dissatisfied answer, kept by sipas.tally.count_response
    responses: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    negative_responses: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    unit: Mapped[Unit] = relationship()
    contact: Mapped[DossierContact | None] = relationship(back_populates="dossier", uselist=False)


#: A contact whose phone number is still stored (not erased); ``ix_dossier_contact_live`` holds only these.
LIVE_CONTACT = "phone_e164 IS NOT NULL"


class DossierContact(Base):
    """The citizen's phone and SMS consent, kept apart from ratings and erasable on its own."""

    __tablename__ = "dossier_contact"
    # the contacts that still hold a number: the SMS cycle's candidates and erasures read these, not the years of
    # erased ones (core_0030; tests/sms_gateway/test_live_contacts_index.py)
    __table_args__ = (Index("ix_dossier_contact_live", "dossier_id", sqlite_where=text(LIVE_CONTACT),
                            postgresql_where=text(LIVE_CONTACT)),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id", ondelete="CASCADE"), unique=True)
    phone_e164: Mapped[str | None] = mapped_column(String(20))
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    sms_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_at: Mapped[datetime | None]
    consent_method: Mapped[str | None] = mapped_column(String(32))
    consent_wording_version: Mapped[str | None] = mapped_column(String(32))
    erased_at: Mapped[datetime | None]

    dossier: Mapped[Dossier] = relationship(back_populates="contact")


# The responses that may need follow-up (``sipas.cases``): a dissatisfied answer or a comment. The partial index
# ``ix_response_follow_up`` holds only these; a query uses it when its WHERE has this very term.
FOLLOW_UP_CANDIDATE = "negative OR comment <> ''"


class Response(Base):
    """Một phiếu: one completed rating, stored against the instrument version it was given under.

    The unique constraint on (dossier, instrument) is the one-rating-per-dossier rule; paper ballots
    without a dossier have a NULL dossier and are not constrained. ``idempotency_key`` lets a kiosk
    or an integration resend a submission safely; a key is the client's within its unit and
    ``source`` (the kiosk device, API key, link or SMS provider), never global: another client's
    identical key must neither replay its response nor block a new one.
    """

    __tablename__ = "response"
    __table_args__ = (UniqueConstraint("dossier_id", "instrument_code"),
                      UniqueConstraint("unit_id", "source", "idempotency_key"),
                      Index("ix_response_unit_submitted", "unit_id", "submitted_at"),  # a ward's latest comments
                      Index("ix_response_follow_up", "unit_id", "submitted_at",
                            sqlite_where=text(FOLLOW_UP_CANDIDATE), postgresql_where=text(FOLLOW_UP_CANDIDATE)))

    id: Mapped[int] = mapped_column(primary_key=True)
    # no index of its own: ix_response_unit_submitted begins with it (core_0023)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossier.id"))
    instrument_code: Mapped[str] = mapped_column(String(64))
    instrument_version: Mapped[str] = mapped_column(String(32))
    channel: Mapped[ResponseChannel] = mapped_column(enum_column(ResponseChannel, 16))
    submitted_at: Mapped[datetime] = mapped_column(index=True)
    comment: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str | None] = mapped_column(String(100))
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    # At least one answer the catalogue marks dissatisfied: set when the response is stored, recomputed by
    # ``sipas.tally.rebuild``; a follow-up candidate without reading its answers (index 8 of a province).
    negative: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # a case by its content: ``negative`` or a comment asking for action (sipas.tally.is_follow_up)
    follow_up: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utc_now)

    unit: Mapped[Unit] = relationship()
    dossier: Mapped[Dossier | None] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan", order_by="Answer.position"
    )


class Answer(Base):
    """One answer: an option (with its points at the time) or NULL for "not applicable"."""

    __tablename__ = "answer"
    __table_args__ = (UniqueConstraint("response_id", "criterion_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # no index of its own: the unique (response_id, criterion_code) serves every lookup by response (core_0023)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"))
    criterion_code: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    option_code: Mapped[str | None] = mapped_column(String(64))
    points: Mapped[int | None] = mapped_column(Integer)

    response: Mapped[Response] = relationship(back_populates="answers")


class AuditEvent(Base):
    """Imports, edits, issued notices, user actions, refused duplicates. Never holds phone numbers."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[Role] = mapped_column(enum_column(Role, 16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    # Stored in the session cookie and checked on every request: raising it ends every open session.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    units: Mapped[list[Unit]] = relationship(secondary="user_unit")


class UserUnit(Base):
    """The units a user may act for; a district grants its wards. An admin without units sees all."""

    __tablename__ = "user_unit"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True)


class ThrottleCounter(Base):
    """Attempts per key in a fixed time window, incremented in one statement (see ``sipas.throttle``)."""

    __tablename__ = "throttle_counter"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    bucket: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # epoch seconds // window
    count: Mapped[int]
    expires: Mapped[int] = mapped_column(index=True, server_default="0")  # epoch seconds the window ends


class ApiKey(Base):
    """A bearer key for the integration API, for one unit (a district key covers its wards)."""

    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    unit: Mapped[Unit] = relationship()


class SchedulerLock(Base):
    """One row per named lock: a lease the scheduler process renews (see ``sipas.scheduler``).

    ``token`` grows by one at every take-over (the fencing token); ``holder`` is empty once released.
    """

    __tablename__ = "scheduler_lock"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    heartbeat_at: Mapped[datetime]
    token: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime]


class SchedulerJobRun(Base):
    """One row per job run the scheduler started under its lease (kept two weeks)."""

    __tablename__ = "scheduler_job_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(100))
    holder: Mapped[str] = mapped_column(String(200))
    token: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(index=True)
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(16), default="running")


class ImportJob(Base):
    """A console import running in the background; its upload is kept in the instance folder until it ends."""

    __tablename__ = "import_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(200))
    upload_path: Mapped[str] = mapped_column(String(500))
    skip_invalid: Mapped[bool] = mapped_column(default=False)
    actor: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utc_now)
    finished_at: Mapped[datetime | None]


class ImportStaging(Base):
    """A validated import row waiting for the swap: an import writes its rows here in short batches, then
    moves them into the real tables in one short transaction (all or nothing). ``token`` names one run."""

    __tablename__ = "import_staging"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), index=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("import_job.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    row: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)


class DossierStaging(Base):
    """A checked dossier row of an import, as it will be written (``op``: insert or update, ``contact_op``: insert,
    update or none): the swap copies these rows into ``dossier``/``dossier_contact`` with a few set-based
    statements, so its write transaction stays short whatever the size of the file."""

    __tablename__ = "dossier_staging"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), index=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("import_job.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    row: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    op: Mapped[str] = mapped_column(String(8))
    dossier_id: Mapped[int | None] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(64))
    procedure: Mapped[str] = mapped_column(String(500))
    field: Mapped[str] = mapped_column(String(200))
    intake_channel: Mapped[IntakeChannel] = mapped_column(enum_column(IntakeChannel))
    received_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    returned_at: Mapped[datetime | None]
    received_local_date: Mapped[date] = mapped_column(Date)
    due_local_date: Mapped[date | None] = mapped_column(Date)
    returned_local_date: Mapped[date | None] = mapped_column(Date)
    contact_op: Mapped[str | None] = mapped_column(String(8))
    contact_id: Mapped[int | None] = mapped_column(Integer)
    phone_e164: Mapped[str | None] = mapped_column(String(20))
    phone_hash: Mapped[str | None] = mapped_column(String(64))
    sms_consent: Mapped[bool | None] = mapped_column(Boolean)
    consent_at: Mapped[datetime | None]
    consent_method: Mapped[str | None] = mapped_column(String(32))
    consent_wording_version: Mapped[str | None] = mapped_column(String(32))


class InstrumentVersionRecord(Base):
    """What one instrument version asked, recorded when its first response was stored.

    Lets the start-up check refuse a criterion file edited after use (history must not change under
    stored ratings): a change needs a new version file.
    """

    __tablename__ = "instrument_version_record"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime]
