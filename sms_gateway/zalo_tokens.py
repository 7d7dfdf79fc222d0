"""The OA token pair: granted once by an administrator, refreshed ahead of expiry and after a -124.

The refresh token is single-use and rotates, so a refresh runs with the account row locked (the write
session's ``BEGIN IMMEDIATE`` on SQLite, ``SELECT … FOR UPDATE`` on PostgreSQL): a second process waits,
then finds the new pair and uses it. The new pair is written in the transaction that read the old one.
A refused refresh is recorded (console notice "cần quản trị OA cấp lại quyền") and Zalo is not used
until an administrator grants again; invitations meanwhile fall back to SMS. A refresh that could not be
made (network, 5xx, rate limit: HTTP 429 or a ``retry`` code such as -32) is not a refusal: the pair is kept
and tried again at the next send. Token values are never logged nor shown again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sipas.clock import utcnow
from sipas.storage import Database
from sms_gateway.models_zalo import ACCOUNT_ID, ZaloAccount, ZaloNotice
from sms_gateway.providers.base import TemporaryFailure
from sms_gateway.providers.zalo import TokenUnavailable, ZaloClient
from sms_gateway.zalo_settings import ZaloSettings

log = logging.getLogger(__name__)
DEFAULT_EXPIRES_IN = 90_000  # seconds: Zalo's OA access token lasts about 25 h
REGRANT = "cần quản trị OA cấp lại quyền"


def expires_in(raw: object) -> int:
    """Zalo sends ``expires_in`` as a string ("90000"); anything unreadable counts as the usual 25 h."""
    try:
        value = int(str(raw))
    except ValueError:
        return DEFAULT_EXPIRES_IN
    return value if value > 0 else DEFAULT_EXPIRES_IN


def set_token(session: Session, *, refresh_token: str, access_token: str = "",
              expires_in_seconds: int = DEFAULT_EXPIRES_IN, now: datetime) -> ZaloAccount:
    """The administrator's grant (console or ``sipas zalo set-token``). Without an access token the pair
    is refreshed before the first send."""
    account = session.get(ZaloAccount, ACCOUNT_ID, with_for_update=True)
    if account is None:
        account = ZaloAccount(id=ACCOUNT_ID, generation=0)
        session.add(account)
    account.access_token, account.refresh_token = access_token, refresh_token
    account.expires_at = now + timedelta(seconds=expires_in_seconds) if access_token else now
    account.refreshed_at, account.generation = now, (account.generation or 0) + 1
    account.failure = account.failed_at = None
    session.add(ZaloNotice(kind="token", message="Quản trị viên đã cấp quyền OA (token mới).", created_at=now))
    session.flush()
    return account


def token_state(session: Session) -> ZaloAccount | None:
    return session.get(ZaloAccount, ACCOUNT_ID)


class DatabaseTokens:
    """``TokenSource`` over the ``zalo_account`` row."""

    def __init__(self, database: Database, settings: ZaloSettings, client: ZaloClient, *,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.database = database
        self.settings = settings
        self.client = client
        self.clock = clock

    def _fresh(self, account: ZaloAccount, now: datetime) -> bool:
        return bool(account.access_token) and account.expires_at - timedelta(
            minutes=self.settings.refresh_margin_minutes) > now

    def current(self) -> str:
        with self.database.read_sessionmaker() as session:
            account = token_state(session)
            if account is not None and account.failure is None and self._fresh(account, self.clock()):
                return account.access_token
        return self._refresh(rejected=None)

    def refreshed(self, rejected: str) -> str:
        return self._refresh(rejected=rejected)

    def _refresh(self, *, rejected: str | None) -> str:
        refused: str | None = None
        with self.database.session() as session:
            account = session.scalar(select(ZaloAccount).where(ZaloAccount.id == ACCOUNT_ID).with_for_update())
            now = self.clock()
            if account is None:
                raise TokenUnavailable("chưa cấp quyền OA (sipas zalo set-token)")
            if account.failure is not None:
                raise TokenUnavailable(f"làm mới token đã bị từ chối: {REGRANT}")
            if (account.access_token != rejected if rejected is not None else self._fresh(account, now)):
                return account.access_token  # another process refreshed while this one waited for the lock
            try:
                answer = self.client.refresh(account.refresh_token)
            except TemporaryFailure as exc:  # the pair is kept: try again at the next send
                raise TemporaryFailure(f"zalo_refresh_{exc.code}", exc.detail) from exc
            if answer.get("access_token") and answer.get("refresh_token"):
                account.access_token, account.refresh_token = str(answer["access_token"]), str(answer["refresh_token"])
                account.expires_at = now + timedelta(seconds=expires_in(answer.get("expires_in")))
                account.refreshed_at, account.generation = now, account.generation + 1
                log.info("Zalo OA token refreshed (generation %s)", account.generation)
                return account.access_token
            refused = f"{answer.get('error')} {answer.get('error_name') or answer.get('message') or ''}".strip()[:200]
            account.failure, account.failed_at = refused, now
            session.add(ZaloNotice(kind="token", created_at=now,
                                   message=f"Zalo từ chối làm mới token (mã {refused}): {REGRANT}."))
        log.error("Zalo refused the token refresh (%s): an OA administrator must grant access again", refused)
        raise TokenUnavailable(f"làm mới token bị từ chối: {REGRANT}")
