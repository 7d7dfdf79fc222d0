"""Console users (hashed passwords, roles scoped to units, login rate limit) and API keys."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.security import check_password_hash, generate_password_hash

from sipas.audit import audit
from sipas.dossiers import note_found
from sipas.driver_statements import DriverStatement
from sipas.errors import ValidationError
from sipas.models import ApiKey, Dossier, Role, Unit, User
from sipas.orm_rows import persistent
from sipas.text import is_storable
from sipas.throttle import Limit, blocked_until, refund
from sipas.units import descendants, note_leaf

MIN_PASSWORD_LENGTH = 10
KEY_TOUCH_INTERVAL = timedelta(minutes=1)
_ALPHANUM = string.ascii_letters + string.digits
_TOKEN_SHAPE = re.compile(r"sipas_[A-Za-z0-9]{1,40}_[A-Za-z0-9]{1,200}")


def random_token(length: int) -> str:
    return "".join(secrets.choice(_ALPHANUM) for _ in range(length))


def create_user(
    session: Session, *, username: str, password: str, role: Role, units: list[Unit], full_name: str = "",
    actor: str,
) -> User:
    username = username.strip().lower()
    if not username:
        raise ValidationError("Vui lòng nhập tên đăng nhập.", field="username", detail="empty username")
    if len(username) > 100:
        raise ValidationError("Tên đăng nhập không hợp lệ.", field="username", detail="bad username")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"Mật khẩu cần ít nhất {MIN_PASSWORD_LENGTH} ký tự.", field="password",
                              detail="password too short")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ValidationError(f"Tên đăng nhập “{username}” đã có.", field="username", detail="username exists")
    if role is not Role.ADMIN and not units:
        raise ValidationError("Cán bộ và lãnh đạo cần được gán ít nhất một đơn vị.", field="units",
                              detail="non-admin user without units")
    user = User(username=username, password_hash=generate_password_hash(password), role=role,
                full_name=full_name, units=list(units))
    session.add(user)
    session.flush()
    audit(session, "user.created", actor=actor, subject=username, role=str(role))
    return user


def set_password(user: User, password: str) -> None:
    """Set a new password; every open session of the user ends."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(f"Mật khẩu cần ít nhất {MIN_PASSWORD_LENGTH} ký tự.", field="password",
                              detail="password too short")
    user.password_hash = generate_password_hash(password)
    end_sessions(user)


def end_sessions(user: User) -> None:
    """Invalidate every session cookie issued to ``user`` (logout, password, role change, deactivation)."""
    user.session_version = (user.session_version or 0) + 1


def set_active(session: Session, user: User, active: bool, *, actor: str) -> None:
    """Lock or unlock an account; locking ends its sessions."""
    if user.active == active:
        return
    user.active = active
    end_sessions(user)
    audit(session, "user.activated" if active else "user.deactivated", actor=actor, subject=user.username)


def units_of(session: Session, user: User) -> list[Unit]:
    """Every unit a user may act for: their units and all below them; an admin without units: all."""
    if user.role is Role.ADMIN and not user.units:
        return list(session.scalars(select(Unit).order_by(Unit.code)))
    seen: dict[int, Unit] = {}
    for unit in user.units:
        for member in descendants(session, unit):
            seen.setdefault(member.id, member)
    return sorted(seen.values(), key=lambda u: u.code)


def change_role(session: Session, user: User, role: Role, units: list[Unit], *, actor: str) -> None:
    """Give an account another role or other units (the caller checks ``account_policy``); its sessions end."""
    if role is not Role.ADMIN and not units:
        raise ValidationError("Cán bộ và lãnh đạo cần được gán ít nhất một đơn vị.", field="units",
                              detail="non-admin user without units")
    before = (str(user.role), sorted(u.code for u in user.units))
    user.role, user.units = role, list(units)
    after = (str(role), sorted(u.code for u in units))
    if before != after:
        end_sessions(user)
        audit(session, "user.role_changed", actor=actor, subject=user.username, role=after[0], units=after[1],
              previous_role=before[0], previous_units=before[1])


def revoke_api_key(session: Session, key: ApiKey, *, now: datetime, actor: str) -> None:
    """Revoke a key at once (idempotent)."""
    if key.revoked_at is None:
        key.revoked_at = now
        audit(session, "apikey.revoked", actor=actor, unit=key.unit, subject=key.prefix, name=key.name)


@dataclass(frozen=True)
class LoginOutcome:
    user: User | None
    throttled: bool = False
    retry_at: datetime | None = None  # throttled: when the limits that refused it let an attempt through again

    def wait_words(self, now: datetime, window: timedelta, tz: tzinfo) -> str:
        """When to try again, for the throttled message: "sau 15 phút" while a window's pause is all that stands
        in the way, else the local hour and day the day's limit ends ("từ 07:00 ngày 08/12/2026")."""
        if self.retry_at is None or self.retry_at - now <= window:
            return f"sau {int(window.total_seconds() // 60)} phút"
        later = self.retry_at.astimezone(tz)
        return f"từ {later:%H:%M} ngày {later:%d/%m/%Y}"


def login(session: Session, username: str, password: str, *, client: str, now: datetime,
          max_failures: int, window: timedelta) -> LoginOutcome:
    """Check a password, limited per (account, client) with backoff and per client (see ``login_limits``)."""
    username = username.strip().lower()
    limits = login_limits(username, client, max_failures=max_failures, window=window)
    retry_at = blocked_until(session, limits, now)
    if retry_at is not None:
        return LoginOutcome(None, throttled=True, retry_at=retry_at)
    user = session.scalar(select(User).where(User.username == username))
    # Hash even for unknown users so timing does not reveal which usernames exist.
    valid = check_password_hash(user.password_hash if user else _dummy_hash(), password)
    if user is None or not valid or not user.active:
        if user is not None:  # never store a typed unknown name (it may be a password typed in the wrong box)
            audit(session, "user.login_failed", actor=f"client:{client[:100]}", subject=user.username)
        return LoginOutcome(None)
    for limit in limits:
        refund(session, limit, now)
    audit(session, "user.login", actor=user.username, subject=user.username)
    return LoginOutcome(user)


def check_current_password(session: Session, user: User, password: str, *, client: str, now: datetime,
                           max_failures: int, window: timedelta) -> LoginOutcome:
    """The current password typed to change it, limited and audited as a login is (the same counters): a console
    left open, or a stolen session, is no way to try passwords without end."""
    limits = login_limits(user.username, client, max_failures=max_failures, window=window)
    retry_at = blocked_until(session, limits, now)
    if retry_at is not None:
        return LoginOutcome(None, throttled=True, retry_at=retry_at)
    if not check_password_hash(user.password_hash, password):
        audit(session, "user.password_check_failed", actor=user.username, subject=user.username,
              client=client[:100])
        return LoginOutcome(None)
    for limit in limits:
        refund(session, limit, now)
    return LoginOutcome(user)


def account_key(username: str) -> str:
    """Hashed: a username of any length or content fits the key column and is never stored as typed."""
    return f"login:{hashlib.sha256(username.strip().lower().encode('utf-8', 'replace')).hexdigest()}:"


def login_limits(username: str, client: str, *, max_failures: int, window: timedelta) -> list[Limit]:
    """Wrong passwords are counted per (account, client), never per account alone: a stranger's guesses
    must not lock the owner out. ``max_failures`` per window, and four windows' worth a day (the backoff:
    a client that keeps guessing waits until the next day). One client trying many accounts is limited too."""
    pair = f"{account_key(username)}{client[:100]}"
    return [Limit(pair, max_failures, window), Limit(f"{pair}:day", 4 * max_failures, timedelta(days=1)),
            Limit(f"login-client:{client[:100]}", 4 * max_failures, window)]


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_hex(8))


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(session: Session, unit: Unit, *, name: str, actor: str) -> tuple[ApiKey, str]:
    """Return the stored key and the plaintext ``sipas_<prefix>_<secret>`` (shown once)."""
    prefix, secret = random_token(10), random_token(32)
    key = ApiKey(unit_id=unit.id, name=name, prefix=prefix, secret_hash=_hash_secret(secret))
    session.add(key)
    session.flush()
    audit(session, "apikey.created", actor=actor, unit=unit, subject=prefix, name=name)
    return key, f"sipas_{prefix}_{secret}"


# Built once: SQLAlchemy memoises a statement's cache key on the object, so a statement made per request costs
# more to build and to look up than the database takes to run it (see docs/performance.md).
# The key's unit in the same query: every API request reads it (scope, source, answer), and whether units lie
# below it (a ward's key covers its ward alone: then a rating's scope needs no query).
_child_units = Unit.__table__.alias("child_unit")
_key_with_unit = (select(ApiKey.__table__, Unit.__table__,
                         exists().where(_child_units.c.parent_id == Unit.__table__.c.id).label("unit_has_children"))
                  .join_from(ApiKey.__table__, Unit.__table__, ApiKey.__table__.c.unit_id == Unit.__table__.c.id)
                  .where(ApiKey.__table__.c.prefix == bindparam("prefix")))
_KEY_BY_PREFIX = DriverStatement(_key_with_unit)  # on the driver's cursor (sipas.driver_statements)
# A rating's request names its dossier: that dossier of the key's own unit comes with the key (PostgreSQL: one
# round trip of the four a rating made; sipas.dossiers.note_found).
_dossiers = Dossier.__table__
_KEY_WITH_DOSSIER = DriverStatement(
    _key_with_unit.add_columns(_dossiers)
    .outerjoin(_dossiers, (_dossiers.c.unit_id == Unit.__table__.c.id) & (_dossiers.c.code == bindparam("code"))))


def authenticate_api_key(session: Session, token: str, *, now: datetime, touch: bool = True,
                         dossier_code: str | None = None) -> ApiKey | None:
    """The key for a bearer token, or None. ``touch`` records the use (at most once a minute, so
    requests with one key do not queue behind each other on its row); read-only requests pass False.

    ``dossier_code``: the dossier the request names (a rating's), read in the same statement from the key's own
    unit and handed to ``find_dossier`` (``note_found``); nothing about it is answered here."""
    if not _TOKEN_SHAPE.fullmatch(token.strip()):
        return None  # also keeps NUL and other odd characters away from the database
    parts = token.strip().split("_")
    with_dossier = bool(dossier_code and is_storable(dossier_code))
    row = (_KEY_WITH_DOSSIER.first(session.connection(), {"prefix": parts[1], "code": dossier_code})
           if with_dossier else _KEY_BY_PREFIX.first(session.connection(), {"prefix": parts[1]}))
    if row is None:
        return None
    if with_dossier and row[_dossiers.c.id] is not None:
        note_found(session, persistent(session, Dossier, row))
    key, unit = persistent(session, ApiKey, row), persistent(session, Unit, row)
    set_committed_value(key, "unit", unit)
    if not row["unit_has_children"]:
        note_leaf(session, unit.id)
    if key.revoked_at is not None:
        return None
    if not hmac.compare_digest(key.secret_hash, _hash_secret(parts[2])):
        return None
    if touch and (key.last_used_at is None or now - key.last_used_at > KEY_TOUCH_INTERVAL):
        key.last_used_at = now
    return key
