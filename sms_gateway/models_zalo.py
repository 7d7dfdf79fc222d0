"""Tables of the Zalo channel: the OA's token pair and what the console must show about Zalo.

The token pair is one row (``id = 1``): the refresh token is single-use, so the row is locked while it
is exchanged and the new pair is written in the transaction that consumed the old one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sipas.models import Base, utc_now

ACCOUNT_ID = 1


class ZaloAccount(Base):
    """The Official Account's current token pair; ``failure`` is set when a refresh was refused."""

    __tablename__ = "zalo_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    access_token: Mapped[str] = mapped_column(Text, default="")
    refresh_token: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[datetime]
    refreshed_at: Mapped[datetime] = mapped_column(default=utc_now)
    generation: Mapped[int] = mapped_column(default=1)  # +1 on every new pair (grant or refresh)
    failure: Mapped[str | None] = mapped_column(String(200))
    failed_at: Mapped[datetime | None]


class ZaloNotice(Base):
    """Something an administrator must see: a refused token refresh, a template status or quota change."""

    __tablename__ = "zalo_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)  # token | template_status | quota | alert
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
