"""Dossier import from one-stop system exports (CSV or XLSX): validate every row, then upsert by code.

All or nothing by default: one bad row and nothing is written, every bad row is reported. With
``skip_invalid`` the valid rows are written and the bad ones reported. A code repeated in the file
with the same data is imported once; repeated with different data it is a row error (we cannot tell
which row is right).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta, tzinfo
from time import perf_counter

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from sipas.audit import audit
from sipas.clock import local_date
from sipas.dossiers import UNRETURN_RATED, DossierInput, first_rating_days, return_after_rating
from sipas.errors import ValidationError
from sipas.imports import staging
from sipas.imports.cells import RowCollector, code_text, consent_value, is_blank, phone_value
from sipas.imports.dossier_swap import plan_batch, swap
from sipas.imports.headers import CODE_HEADERS, Header, find_header, header_key
from sipas.imports.reader import Row, fill_merged_down, read_sheets
from sipas.imports.report import ImportFileError, ImportReport, RowError
from sipas.imports.wrong_file import wrong_kind
from sipas.models import Dossier, DossierContact, DossierStaging, IntakeChannel, Unit
from sipas.parsing import clean_text, parse_bool, parse_intake_channel, parse_phone, parse_timestamp
from sipas.storage import write_queue_held

log = logging.getLogger(__name__)

PREFETCH_CHUNK = 500
#: Rows written per transaction by the console and the CLI (a writer waits for one batch at most).
IMPORT_BATCH = 500
FUTURE_TOLERANCE = timedelta(minutes=5)

DOSSIER_HEADERS: dict[str, frozenset[str]] = {
    "code": CODE_HEADERS,
    "procedure": frozenset({"thu tuc", "ten thu tuc", "thu tuc hanh chinh", "ten thu tuc hanh chinh", "ten tthc",
                            "tthc", "procedure", "ten thu tuc tthc"}),
    "field": frozenset({"linh vuc", "ten linh vuc", "field", "linh vuc tthc"}),
    "intake_channel": frozenset({"hinh thuc nop", "hinh thuc nop ho so", "hinh thuc tiep nhan", "kenh nop",
                                 "kenh tiep nhan", "hinh thuc", "intake channel", "nop qua"}),
    "received_at": frozenset({"ngay tiep nhan", "ngay nhan", "ngay nhan ho so", "ngay tiep nhan ho so",
                              "thoi gian tiep nhan", "thoi diem tiep nhan", "tiep nhan", "received at", "ngay nop",
                              "ngay nop ho so"}),
    "due_at": frozenset({"ngay hen tra", "ngay hen tra ket qua", "ngay hen", "hen tra", "hen tra ket qua",
                         "han giai quyet", "han xu ly", "han tra ket qua", "ngay het han", "due at",
                         "thoi gian hen tra"}),
    "returned_at": frozenset({"ngay tra ket qua", "ngay tra", "ngay tra kq", "tra ket qua", "thoi gian tra ket qua",
                              "thoi diem tra ket qua", "ngay tra ho so", "returned at", "ngay da tra"}),
    "phone": frozenset({"so dien thoai", "dien thoai", "sdt", "so dt", "dt", "phone", "di dong", "so di dong",
                        "dien thoai lien he", "so dien thoai lien he", "so dien thoai nguoi nop",
                        "dien thoai di dong"}),
    "sms_consent": frozenset({"dong y nhan tin nhan", "dong y nhan tin", "dong y nhan sms", "dong y",
                              "nhan tin nhan", "sms consent", "consent", "dong y nhan tin nhan danh gia",
                              "dong y nhan tin nhan sms", "nhan sms"}),
}
_BY_KEY = {key: name for name, keys in DOSSIER_HEADERS.items() for key in keys}


def match_dossier_header(key: str) -> str | None:
    return _BY_KEY.get(key)


@dataclass(frozen=True)
class ParsedRow:
    row: int
    data: DossierInput


def read_dossier_file(data: bytes, filename: str, report: ImportReport) -> tuple[Header, dict[str, int]]:
    """The sheet holding a "mã hồ sơ" header, and the column index of each known field."""
    for sheet in read_sheets(data, filename):
        header = find_header(sheet.rows)
        if header is None:
            continue
        columns: dict[str, int] = {}
        shown: dict[str, str] = {}
        for index, (text, name) in sorted(header.resolve(match_dossier_header).items()):
            if isinstance(name, str) and name not in columns:
                columns[name], shown[name] = index, text
        if "received_at" not in columns:
            raise ImportFileError(f"Không tìm thấy cột “Ngày tiếp nhận” (dòng tiêu đề là dòng {header.row}).",
                                  detail="no received column")
        report.sheet, report.header_row = sheet.name, header.row
        report.columns = shown
        return replace(header, rows=fill_merged_down(header.rows, sheet.merges())), columns
    raise ImportFileError("Không tìm thấy dòng tiêu đề có cột “Mã hồ sơ” trong 30 dòng đầu của tệp.",
                          detail="no header row")


def parse_dossier_row(number: int, row: Row, columns: dict[str, int], shown: dict[str, str], *, tz: tzinfo,
                      now: datetime, phone_regions: Collection[str] | None = ("VN",)
                      ) -> DossierInput | list[RowError] | None:
    """One spreadsheet row → a DossierInput, its errors, or None for a row with nothing to import."""
    cells = {name: row[index] if index < len(row) else None for name, index in columns.items()}
    if all(is_blank(v) for v in cells.values()):
        return None
    code = code_text(cells.get("code"))
    if header_key(code) in CODE_HEADERS:
        return None  # the header repeated on every printed page
    if not code and is_blank(cells.get("received_at")) and sum(not is_blank(v) for v in cells.values()) == 1:
        return None  # a note or signature line under the table ("Người lập biểu")
    out = RowCollector(number, shown)
    if not code:
        out.add("code", "Thiếu mã hồ sơ.")
    elif len(code) > 64:
        out.add("code", "Mã hồ sơ dài quá 64 ký tự.")
    procedure = out.parse("procedure", lambda: clean_text(cells.get("procedure"), field="procedure", max_length=500))
    field = out.parse("field", lambda: clean_text(cells.get("field"), field="field", max_length=200))
    channel = IntakeChannel.DIRECT
    if not is_blank(cells.get("intake_channel")):
        channel = out.parse("intake_channel", lambda: parse_intake_channel(cells["intake_channel"])) or channel
    received = _timestamp(out, cells, "received_at", tz, now, required=True)
    due = _timestamp(out, cells, "due_at", tz, None)
    returned = _timestamp(out, cells, "returned_at", tz, now)
    phone = None
    if not is_blank(cells.get("phone")):
        phone = out.parse("phone", lambda: parse_phone(phone_value(cells["phone"]), regions=phone_regions))
    consent = None
    if not is_blank(cells.get("sms_consent")):
        consent = out.parse("sms_consent", lambda: parse_bool(consent_value(cells["sms_consent"]),
                                                              field="sms_consent"))
    if out.errors or received is None:
        return out.errors
    due, returned = _same_day(due, received, tz), _same_day(returned, received, tz)
    data = DossierInput(code=code, received_at=received, procedure=procedure or "", field=field or "",
                        intake_channel=channel, due_at=due, returned_at=returned, phone_e164=phone,
                        sms_consent=consent, consent_method="import")
    try:
        data.check()
    except ValidationError as exc:
        out.add(exc.field, exc.message_vi)
        return out.errors
    return data


def _same_day(value: datetime | None, received: datetime, tz: tzinfo) -> datetime | None:
    """A date alone (local midnight) on the day of receipt means that day, not a midnight before the receipt:
    "hẹn trả 05/01/2026" for a dossier received 05/01/2026 09:40 is stored as the receipt instant."""
    if value is None or value >= received:
        return value
    local = value.astimezone(tz)
    if local.time() == time.min and local.date() == received.astimezone(tz).date():
        return received
    return value


def _timestamp(out: RowCollector, cells: dict[str, object], name: str, tz: tzinfo, now: datetime | None,
               *, required: bool = False) -> datetime | None:
    value = cells.get(name)
    if is_blank(value):
        if required:
            out.add(name, "Thiếu ngày tiếp nhận.")
        return None
    parsed = out.parse(name, lambda: parse_timestamp(value, tz, field=name))
    if parsed is not None and now is not None and parsed > now + FUTURE_TOLERANCE:
        out.add(name, f"Ngày “{value}” ở tương lai.")
        return None
    return parsed


#: Progress of an import: (rows checked and staged so far, rows in the file or 0 while not yet known).
Progress = Callable[[int, int], None]


def import_dossiers(session: Session, unit: Unit, data: bytes, filename: str, *, tz: tzinfo, now: datetime,
                    secret: str, actor: str, skip_invalid: bool = False,
                    phone_regions: Collection[str] | None = ("VN",), batch_size: int = IMPORT_BATCH,
                    progress: Progress | None = None, job_id: int | None = None) -> ImportReport:
    """Validate the file and stage its rows batch by batch, then swap them into ``dossier`` at once. Commits.

    Rows are read as a stream, checked ``batch_size`` at a time against the stored dossiers and written to
    the staging table in one short transaction per batch (on SQLite a transaction holds the write lock of
    the whole database: API writers wait for one batch at most, never for the file). Only when the whole
    file is valid (or ``skip_invalid``) does one transaction apply the staged rows and delete them: a
    crash, a kill or a conflict at any point leaves the dossiers exactly as they were.
    """
    report = ImportReport("dossiers", filename, skip_invalid)
    session.commit()  # on SQLite a write session holds the lock from its first statement: not while parsing
    staging.discard_stale(session, now)
    session.commit()
    token = staging.new_token()
    try:
        staged = _stage_file(session, unit, data, filename, report, token, batch_size, progress, tz=tz, now=now,
                             secret=secret, phone_regions=phone_regions, job_id=job_id)
    except ImportFileError as exc:
        session.rollback()
        staging.discard(session, token)
        if exc.detail in ("no received column", "no header row"):
            exc = wrong_kind(data, filename, "dossiers") or exc
        report.file_error = exc.message_vi
        report.file_error_code = exc.code
        report.created = report.updated = report.unchanged = 0
        audit(session, "import.dossiers", actor=actor, unit=unit, subject=filename[:200], status="file_error",
              detail=exc.detail)
        session.commit()
        log.info("dossier import of %s into %s refused: %s", filename, unit.code, exc.detail)
        return report
    if report.errors and not skip_invalid:
        report.errors.sort(key=lambda e: e.row)
        report.created = report.updated = report.unchanged = 0  # nothing is imported
        staging.discard(session, token)
        _audit(session, report, unit, actor, status="refused")
        session.commit()
        return report
    report.errors.sort(key=lambda e: e.row)
    if progress is not None:
        progress(staged, staged)
    # the intake writers queue behind the swap (sipas.storage.write_queue_held): on SQLite a rating waits for it
    # however long it takes, where SQLite's busy timeout refused one after 15 s
    with write_queue_held(session):
        try:
            started = perf_counter()
            if staging.count(session, DossierStaging, token) != report.created + report.updated:
                raise ValidationError(CONFLICT_VI, detail="staged rows deleted as stale before the swap")
            swap(session, unit, token)
            _audit(session, report, unit, actor, status="partial" if report.errors else "ok")
            session.commit()
            log.info("dossier import of %s: swapped %d staged rows in %.2f s", filename, staged,
                     perf_counter() - started)
            # Deleted after the swap, in a transaction of its own, to keep the swap short. Rows left by a crash
            # right here are never applied again (nothing resumes a run) and go with the next stale clean-up.
            staging.discard(session, token)
            session.commit()
        except (IntegrityError, ValidationError) as exc:
            # Another import or the API created one of these codes, or rated a dossier whose return date the
            # file clears, while the file was being staged: nothing of this file is kept.
            session.rollback()
            report.created = report.updated = report.unchanged = 0
            report.file_error, report.file_error_code = CONFLICT_VI, "import_conflict"
            staging.discard(session, token)
            _audit(session, report, unit, actor, status="conflict")
            session.commit()
            log.warning("dossier import of %s: conflict at the swap (%s)", filename, type(exc).__name__)
            return report
    report.written = True
    return report


def _stage_file(session: Session, unit: Unit, data: bytes, filename: str, report: ImportReport, token: str,
                batch_size: int, progress: Progress | None, *, tz: tzinfo, now: datetime, secret: str,
                phone_regions: Collection[str] | None, job_id: int | None) -> int:
    """Read, check and stage the file batch by batch; returns the number of staged rows.

    Once a row is refused without ``skip_invalid`` nothing more is staged (the swap will not happen), but
    the rest of the file is still checked so that every bad row is reported at once.
    """
    header, columns = read_dossier_file(data, filename, report)
    keep = {id(o) for o in session.identity_map.values()}
    staged = 0
    for batch in _parsed_batches(header, columns, report, batch_size, tz=tz, now=now, phone_regions=phone_regions):
        existing = _prefetch(session, unit, [p.data.code for p in batch])
        batch = [_keep_absent_columns(item, existing.get(item.data.code), columns) for item in batch]
        batch = _check_against_stored(session, batch, existing, report, tz)
        if report.errors and not report.skip_invalid:
            session.commit()
            continue
        planned = plan_batch(session, unit, [(p.row, p.data) for p in batch], report, tz=tz, now=now, secret=secret)
        staging.stage_dossiers(session, token, job_id, planned)
        session.commit()
        _forget_dossiers(session, keep)  # the prefetched dossiers of this batch are not needed any more
        staged += len(batch)
        if progress is not None:
            progress(staged, 0)
    return staged


def _forget_dossiers(session: Session, keep: set[int]) -> None:
    """Drop the dossiers this import loaded or created so that memory stays flat over a large file
    (``keep``: ids of the objects the caller's session held before, which stay)."""
    for obj in [o for o in session.identity_map.values() if isinstance(o, Dossier) and id(o) not in keep]:
        session.expunge(obj)  # cascades to its contact
    for obj in [o for o in session.identity_map.values() if isinstance(o, DossierContact) and id(o) not in keep]:
        session.expunge(obj)


#: Dossier fields an export may leave out; a column absent from the file keeps the stored value.
OPTIONAL_FIELDS = ("procedure", "field", "intake_channel", "due_at", "returned_at")


def _keep_absent_columns(item: ParsedRow, stored: Dossier | None, columns: dict[str, int]) -> ParsedRow:
    """A file without a "Ngày trả kết quả" column (say) says nothing about return dates: keep them.

    A blank cell in a column the file has still means "empty" (the file is the source of truth).
    Phone and consent already keep their stored values when absent or blank.
    """
    if stored is None:
        return item
    kept = {name: getattr(stored, name) for name in OPTIONAL_FIELDS if name not in columns}
    return ParsedRow(item.row, replace(item.data, **kept)) if kept else item


def _check_against_stored(session: Session, parsed: list[ParsedRow], existing: dict[str, Dossier],
                          report: ImportReport, tz: tzinfo) -> list[ParsedRow]:
    """Rules that need the stored dossier, checked before anything is written (so all-or-nothing holds).

    A rated dossier keeps its return date, and it is never moved after the dossier's first rating (row errors).
    A consent needs a phone number, in the row or on record: exports often say "có" on every row, so without a
    number the consent is simply not recorded.
    """
    refused: set[int] = set()

    def refuse(item: ParsedRow, name: str, message: str) -> None:
        report.errors.append(RowError(item.row, report.columns.get(name, ""), message))
        refused.add(item.row)

    for item in parsed:
        try:  # the row was checked alone; with the dates kept from the stored dossier it may not hold any more
            item.data.check()
        except ValidationError as exc:
            field = exc.field or "received_at"
            if field in report.columns:
                refuse(item, field, exc.message_vi)
            else:  # a kept date: the row's receipt moved past it
                refuse(item, "received_at", f"{exc.message_vi.rstrip('.')} (ngày đã lưu của hồ sơ; tệp không có "
                                            "cột này).")
    parsed = [p for p in parsed if p.row not in refused]
    for index, item in enumerate(parsed):
        stored = existing.get(item.data.code)
        contact = stored.contact if stored is not None else None
        if item.data.sms_consent and item.data.phone_e164 is None and (contact is None or contact.phone_e164 is None):
            parsed[index] = ParsedRow(item.row, replace(item.data, sms_consent=None))
    # the rows that clear a stored return date, or move it later (ratings may precede the new day)
    returning = {existing[p.data.code].id: p for p in parsed
                 if p.data.code in existing and existing[p.data.code].returned_at is not None
                 and (p.data.returned_at is None or p.data.returned_at > existing[p.data.code].returned_at)}
    for dossier_id, rated_on in first_rating_days(session, list(returning), tz).items():
        item = returning[dossier_id]
        if item.data.returned_at is None:
            refuse(item, "returned_at", UNRETURN_RATED)
        elif local_date(item.data.returned_at, tz) > rated_on:
            refuse(item, "returned_at", return_after_rating(rated_on))
    if not refused:
        return parsed
    report.errors.sort(key=lambda e: e.row)
    return [p for p in parsed if p.row not in refused]


CONFLICT_VI = ("Một số hồ sơ vừa được ghi bởi thao tác khác cùng lúc. Không dòng nào được nhập; "
               "hãy nhập lại tệp.")


def _parsed_batches(header: Header, columns: dict[str, int], report: ImportReport, batch_size: int, *,
                    tz: tzinfo, now: datetime, phone_regions: Collection[str] | None) -> Iterator[list[ParsedRow]]:
    """Valid rows of the file, ``batch_size`` at a time; bad rows and conflicting repeats go to the report.

    A code repeated with the same data is imported once. Only a digest of each row is kept to recognise
    repeats, so memory does not grow with the rows themselves.
    """
    first_seen: dict[str, tuple[int, int]] = {}
    batch: list[ParsedRow] = []
    for number, row in header.rows:
        outcome = parse_dossier_row(number, row, columns, report.columns, tz=tz, now=now,
                                    phone_regions=phone_regions)
        if outcome is None:
            continue
        report.rows += 1
        if isinstance(outcome, list):
            report.errors.extend(outcome)
            continue
        digest = hash(outcome)
        earlier = first_seen.get(outcome.code)
        if earlier is None:
            first_seen[outcome.code] = (number, digest)
            batch.append(ParsedRow(number, outcome))
            if len(batch) >= batch_size:
                yield batch
                batch = []
        elif earlier[1] == digest:
            report.unchanged += 1  # the same dossier listed twice: imported once
        else:
            report.errors.append(RowError(number, report.columns.get("code", ""),
                                          f"Mã hồ sơ “{outcome.code}” đã có ở dòng {earlier[0]} với dữ liệu khác."))
    if batch:
        yield batch


def _prefetch(session: Session, unit: Unit, codes: list[str], *, commit_each: bool = False) -> dict[str, Dossier]:
    """Existing dossiers of the unit by code, in a few chunked queries (never one per row).

    ``commit_each`` ends the transaction after every chunk (on SQLite a write session holds the lock
    from its first statement); the loaded rows stay usable (sessions do not expire on commit)."""
    found: dict[str, Dossier] = {}
    for start in range(0, len(codes), PREFETCH_CHUNK):
        chunk = codes[start:start + PREFETCH_CHUNK]
        query = select(Dossier).where(Dossier.unit_id == unit.id, Dossier.code.in_(chunk)).options(
            selectinload(Dossier.contact))
        found.update((d.code, d) for d in session.scalars(query))
        if commit_each:
            session.commit()
    return found


def _audit(session: Session, report: ImportReport, unit: Unit, actor: str, *, status: str) -> None:
    audit(session, "import.dossiers", actor=actor, unit=unit, subject=report.filename[:200], status=status,
          skip_invalid=report.skip_invalid, **report.counts())
    log.info("dossier import of %s into %s: %s %s", report.filename, unit.code, status, report.counts())
