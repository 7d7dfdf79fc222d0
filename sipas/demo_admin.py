"""Around the demo data: knowing a demo database, starting it again, keeping its accounts in a file.

``sipas demo --reset`` empties the database and creates the demo again, so it must never run on a
deployment: it refuses unless every unit and every account is one the demo creates.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sipas.demo import DEMO_UNIT_CODES, DEMO_USERNAMES
from sipas.models import Base, Unit, User
from sipas.models_tally import DossierEventTally
from sipas.plugins import load_all_models

ACCOUNTS_FILE = "demo-accounts.txt"
#: Kept by a reset: the running scheduler's lock, and the record of criterion-set versions in use.
KEPT_TABLES = {"scheduler_lock", "instrument_version_record", "alembic_version", "apscheduler_jobs"}


class NotADemoDatabase(RuntimeError):
    """The database holds units or accounts the demo did not create."""


def foreign_data(session: Session) -> list[str]:
    """What in the database the demo did not create (unit codes and user names), sorted."""
    units = session.scalars(select(Unit.code).where(Unit.code.not_in(DEMO_UNIT_CODES))).all()
    users = session.scalars(select(User.username).where(User.username.not_in(DEMO_USERNAMES))).all()
    return sorted([f"đơn vị {code}" for code in units] + [f"tài khoản {name}" for name in users])


def empty_demo_database(session: Session) -> None:
    """Delete every row (children first), after checking that only demo data is there."""
    foreign = foreign_data(session)
    if foreign:
        raise NotADemoDatabase(", ".join(foreign[:10]) + (" ..." if len(foreign) > 10 else ""))
    load_all_models()
    for table in reversed(Base.metadata.sorted_tables):
        if table.name not in KEPT_TABLES:
            session.execute(delete(table))
            if table.name == "dossier":  # its triggers wrote the deleted dossiers' events away (rows of 0 or less)
                session.execute(delete(DossierEventTally))
    session.flush()


def accounts_text(credentials: list[tuple[str, str, str]]) -> str:
    lines = [f"  {username:<16} {password:<20} ({role})" for username, password, role in credentials]
    return "\n".join(lines) + "\n"


def write_accounts_file(instance_dir: Path, credentials: list[tuple[str, str, str]]) -> Path:
    """``instance/demo-accounts.txt``, readable by its owner only (mode 600), replaced whole."""
    instance_dir.mkdir(parents=True, exist_ok=True)
    path = instance_dir / ACCOUNTS_FILE
    scratch = path.with_name(f".{ACCOUNTS_FILE}.{os.getpid()}")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("Tài khoản dữ liệu mẫu SIPAS (hãy đổi mật khẩu khi dùng thật):\n")
        handle.write(accounts_text(credentials))
    os.chmod(scratch, 0o600)
    os.replace(scratch, path)
    return path
