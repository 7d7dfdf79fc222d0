"""The shapes the doctor's checks share: what they look at, what they return, how they are run."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sipas.settings import Settings, SettingsError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Finding:
    """One check's answer: ``ok``, what was found (Vietnamese), and how to fix it (Vietnamese, empty when ok)."""

    ok: bool
    message_vi: str
    fix_vi: str = ""


@dataclass
class Deployment:
    """What the checks look at. Tests replace the parts they break (``now``, ``processes``...)."""

    settings: Settings
    now: datetime
    env_file: Path | None = None
    #: command lines of the processes on this machine (``None``: read /proc)
    processes: Sequence[Sequence[str]] | None = None
    #: the Twilio HTTP client (tests pass a canned one); ``None``: the real one
    twilio_http_client: object | None = None
    #: set by the database check; the checks that read the database say so when it is False
    database_ok: bool | None = None
    _database: object | None = field(default=None, repr=False)

    @property
    def database(self):  # type: ignore[no-untyped-def]
        from sipas.storage import Database

        if self._database is None:
            self._database = Database(self.settings)
        return self._database

    def close(self) -> None:
        if self._database is not None:
            self._database.dispose()  # type: ignore[attr-defined]
            self._database = None


Check = Callable[[Deployment], Finding]


@dataclass(frozen=True)
class Outcome:
    name: str
    title_vi: str
    finding: Finding

    def as_json(self) -> dict[str, object]:
        return {"check": self.name, "title": self.title_vi, "ok": self.finding.ok,
                "message": self.finding.message_vi, "fix": self.finding.fix_vi}


def run_checks(deployment: Deployment, checks: Sequence[tuple[str, str, Check]]) -> list[Outcome]:
    """Run every check; a check that crashes is a failed check (with the error), never a crashed doctor."""
    outcomes = []
    for name, title, check in checks:
        try:
            finding = check(deployment)
        except SettingsError as exc:  # a setting the check reads: named like the settings check names one
            finding = Finding(False, f"Cấu hình sai: {exc}",
                              "Sửa biến này trong tệp cấu hình (SIPAS_ENV_FILE, mặc định /etc/sipas/sipas.env).")
        except Exception as exc:  # the doctor reports, it does not stop at the first broken thing
            log.debug("doctor check %s crashed", name, exc_info=True)
            finding = Finding(False, f"Không kiểm tra được: {type(exc).__name__}: {exc}",
                              "Chạy lại với sipas -v doctor để xem chi tiết.")
        outcomes.append(Outcome(name, title, finding))
    return outcomes
