"""Guarding history: a criterion-set version, once it has ratings, must not be edited in place.

The first response stored under a version records what that version asked (codes, wording, options
and points). At start-up the web app, the scheduler and ``sipas db upgrade`` compare the records with
``config/instruments`` and refuse to run if a used version changed or disappeared, naming the file
and what differs. How reports *read* answers (the ``dissatisfied`` / ``satisfaction`` flags) is not
part of the record: those may be corrected without a new version (docs/criteria.md).
"""

from __future__ import annotations

import hashlib
import json
import weakref
from datetime import datetime
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sipas.catalogue import Catalogue, Instrument
from sipas.models import InstrumentVersionRecord, Response


class InstrumentChanged(RuntimeError):
    """A used instrument version differs from its record; the message says where (Vietnamese)."""


def asked_content(instrument: Instrument) -> dict[str, Any]:
    """What a citizen (or the system) was asked under this version, as plain data."""
    return {
        "code": instrument.code, "version": instrument.version, "label": instrument.label,
        "effective_from": instrument.effective_from.isoformat(),
        "criteria": [{"code": c.code, "label": c.label, "source": str(c.source), "allow_na": c.allow_na,
                      "tt01_index": c.tt01_index,
                      "options": [{"code": o.code, "label": o.label, "points": o.points} for o in c.options]}
                     for c in instrument.criteria],
    }


def _canonical(content: dict[str, Any]) -> str:
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


#: Versions this process has seen recorded, per engine: a record is never deleted, so after the first
#: read per process and version a response no longer reads it again (inside the write lock).
_KNOWN: weakref.WeakKeyDictionary[Engine, set[tuple[str, str]]] = weakref.WeakKeyDictionary()


def record_use(session: Session, instrument: Instrument, *, now: datetime) -> None:
    """Called when a response is stored: record the version the first time (one primary-key read after,
    once per process)."""
    version = (instrument.code, instrument.version)
    bind = session.get_bind()
    known = _KNOWN.get(bind) if isinstance(bind, Engine) else None
    if known is not None and version in known:
        return
    if session.get(InstrumentVersionRecord, version) is not None:
        if isinstance(bind, Engine):
            _KNOWN.setdefault(bind, set()).add(version)  # committed by someone: it stays
        return
    content = _canonical(asked_content(instrument))
    try:
        with session.begin_nested():
            session.add(InstrumentVersionRecord(code=instrument.code, version=instrument.version, content=content,
                                                digest=hashlib.sha256(content.encode()).hexdigest(),
                                                recorded_at=now))
    except IntegrityError:
        pass  # another worker recorded it at the same moment


def _difference(stored: dict[str, Any], current: dict[str, Any]) -> str:
    for key in ("label", "effective_from"):
        if stored.get(key) != current.get(key):
            return f"“{key}” đã đổi"
    old = {c["code"]: c for c in stored.get("criteria", [])}
    new = {c["code"]: c for c in current["criteria"]}
    for code in old.keys() | new.keys():
        if code not in new:
            return f"tiêu chí {code} đã bị xóa"
        if code not in old:
            return f"tiêu chí {code} được thêm vào"
        if old[code] != new[code]:
            return f"tiêu chí {code} đã bị sửa"
    return "thứ tự tiêu chí đã đổi"


def check_records(connection: Connection, catalogue: Catalogue) -> None:
    """Raise ``InstrumentChanged`` if a recorded version is gone from, or differs in, the catalogue."""
    if not inspect(connection).has_table(InstrumentVersionRecord.__tablename__):
        return  # not migrated yet: `sipas db upgrade` checks again afterwards
    problems = []
    for record in connection.execute(select(InstrumentVersionRecord.code, InstrumentVersionRecord.version,
                                            InstrumentVersionRecord.digest, InstrumentVersionRecord.content)):
        where = f"bộ tiêu chí {record.code} phiên bản {record.version}"
        try:
            instrument = catalogue.version(record.code, record.version)
        except KeyError:
            problems.append(f"{where} đã có phiếu đánh giá nhưng không còn trong config/instruments")
            continue
        current = _canonical(asked_content(instrument))
        if hashlib.sha256(current.encode()).hexdigest() != record.digest:
            problems.append(f"{where} đã có phiếu đánh giá nhưng tệp đã bị sửa ("
                            f"{_difference(json.loads(record.content), json.loads(current))})")
    if problems:
        raise InstrumentChanged("; ".join(problems) + ". Hãy khôi phục tệp như cũ và thêm một phiên bản mới "
                                "(docs/criteria.md).")


def record_existing(session: Session, catalogue: Catalogue, *, now: datetime) -> int:
    """Record every version that stored responses name and that has no record yet (after an upgrade)."""
    recorded = {(r.code, r.version) for r in session.execute(select(InstrumentVersionRecord.code,
                                                                   InstrumentVersionRecord.version))}
    used = [(r[0], r[1]) for r in session.execute(select(Response.instrument_code, Response.instrument_version)
                                                  .distinct())]
    count = 0
    for code, version in used:
        if (code, version) in recorded:
            continue
        try:
            instrument = catalogue.version(code, version)
        except KeyError:
            raise InstrumentChanged(f"bộ tiêu chí {code} phiên bản {version} đã có phiếu đánh giá nhưng không còn "
                                    "trong config/instruments. Hãy khôi phục tệp (docs/criteria.md).") from None
        record_use(session, instrument, now=now)
        count += 1
    return count
