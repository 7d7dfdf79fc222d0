"""Response import: ratings a ward already has (keyed-in paper ballots, provincial portal exports).

Columns: mã hồ sơ (optional), bộ tiêu chí, kênh, thời điểm, then one column per criterion (its code
such as ``tc01``/``q1``, or its label) holding an option code or label. Every row goes through
``record_response`` with an idempotency key derived from the unit and the row's content, so importing
the same file again stores nothing new (those rows count as unchanged).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from time import perf_counter
from typing import Any

from sqlalchemy.orm import Session

from sipas.audit import audit
from sipas.catalogue import NOT_APPLICABLE, Catalogue, Instrument, Option
from sipas.clock import local_date
from sipas.errors import AlreadyRated, DomainError, DossierNotReturned, UnknownDossier
from sipas.imports import staging
from sipas.imports.cells import RowCollector, code_text, is_blank
from sipas.imports.dossier_import import IMPORT_BATCH, Progress
from sipas.imports.headers import CODE_HEADERS, cell_text, find_header, header_key
from sipas.imports.reader import Row, read_sheets
from sipas.imports.report import ImportFileError, ImportReport, RowError
from sipas.imports.wrong_file import wrong_kind
from sipas.models import ImportStaging, ResponseChannel, Unit
from sipas.parsing import parse_response_channel, parse_timestamp
from sipas.responses import MAX_COMMENT, ResponseInput, record_response, resolve_option
from sipas.text import fold

log = logging.getLogger(__name__)

RESPONSE_HEADERS: dict[str, frozenset[str]] = {
    "dossier_code": CODE_HEADERS,
    "instrument": frozenset({"bo tieu chi", "ma bo tieu chi", "instrument", "mau phieu", "loai phieu", "bo cau hoi"}),
    "channel": frozenset({"kenh", "kenh danh gia", "hinh thuc danh gia", "channel", "nguon"}),
    "submitted_at": frozenset({"thoi diem", "thoi diem danh gia", "ngay danh gia", "thoi gian danh gia",
                               "submitted at", "ngay", "ngay gio danh gia"}),
    "comment": frozenset({"y kien", "y kien khac", "y kien gop y", "gop y", "comment", "y kien de xuat"}),
}
_FIELD_BY_KEY = {key: name for name, keys in RESPONSE_HEADERS.items() for key in keys}


@dataclass(frozen=True)
class CriterionColumn:
    """A criterion column: instrument code → criterion code (a label can belong to several instruments)."""

    by_instrument: dict[str, str]


class ResponseColumns:
    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.criteria: dict[str, dict[str, str]] = {}
        self.instruments: dict[str, str] = {}
        for code in catalogue.codes:
            for version in catalogue.versions(code):
                self.instruments[fold(code)] = self.instruments[fold(version.label)] = code
                for criterion in version.citizen_criteria:
                    for key in (fold(criterion.code), fold(criterion.label), fold(criterion.short_label)):
                        self.criteria.setdefault(key, {}).setdefault(code, criterion.code)

    def is_header_key(self, key: str) -> bool:
        """A cell that marks the header row: the dossier code, the instrument or a criterion column."""
        found = self.match(key)
        return found in ("dossier_code", "instrument") or isinstance(found, CriterionColumn)

    def match(self, key: str) -> str | CriterionColumn | None:
        if key in _FIELD_BY_KEY:
            return _FIELD_BY_KEY[key]
        found = self.criteria.get(key) or self.criteria.get(key.split(" ", 1)[0])  # "TC01. Đánh giá tổng thể"
        return CriterionColumn(found) if found else None


def import_responses(session: Session, catalogue: Catalogue, unit: Unit, data: bytes, filename: str, *,
                     tz: tzinfo, now: datetime, actor: str, skip_invalid: bool = False,
                     batch_size: int = IMPORT_BATCH, progress: Progress | None = None,
                     job_id: int | None = None) -> ImportReport:
    """Record every row as a response. All or nothing unless ``skip_invalid``. Commits.

    Rows are read and checked as a stream and staged ``batch_size`` at a time (one short transaction per
    batch); then one transaction records every staged row and deletes them. The rules that need the
    database (dossier known and returned, not rated yet) are checked there: with a refused row and without
    ``skip_invalid`` that transaction is rolled back, so a kill, a crash or a refusal leaves no rating.
    """
    report = ImportReport("responses", filename, skip_invalid)
    columns = ResponseColumns(catalogue)
    session.commit()  # on SQLite a write session holds the lock from its first statement: not while parsing
    staging.discard_stale(session, now)
    session.commit()
    token = staging.new_token()
    try:
        fields, criteria, rows = _read(data, filename, columns, report)
        shown = _shown(report, fields, criteria)
        staged = 0
        for batch in _checked_batches(catalogue, unit, rows, fields, criteria, columns, report, shown, batch_size,
                                      tz=tz):
            staging.stage(session, token, unit.id, job_id, batch, now=now)
            session.commit()
            staged += len(batch)
            if progress is not None:
                progress(staged, 0)
    except ImportFileError as exc:  # also a file that broke half-way (damaged sheet, bad CSV quoting)
        session.rollback()
        staging.discard(session, token)
        if exc.detail in ("no criterion column", "no submitted_at column", "no header row"):
            exc = wrong_kind(data, filename, "responses") or exc
        report.created = report.unchanged = 0
        report.file_error = exc.message_vi
        report.file_error_code = exc.code
        audit(session, "import.responses", actor=actor, unit=unit, subject=filename[:200], status="file_error",
              detail=exc.detail)
        session.commit()
        return report
    if progress is not None:
        progress(staged, staged)
    refused_duplicates: list[dict[str, str | None]] = []
    if staging.count(session, ImportStaging, token) != staged:  # deleted as stale: this run outlived the limit
        session.rollback()
        staging.discard(session, token)
        report.created = report.unchanged = 0
        report.file_error, report.file_error_code = STAGING_LOST_VI, "import_conflict"
        audit(session, "import.responses", actor=actor, unit=unit, subject=filename[:200], status="conflict")
        session.commit()
        return report
    try:  # the swap; with a refused row and without skip_invalid it still runs (every bad row is reported)
        started = perf_counter()
        for chunk in staging.staged(session, token):
            for number, payload in chunk:
                _record(session, catalogue, unit, number, payload, report, shown, refused_duplicates, tz=tz,
                        now=now, actor=actor)
        log.info("response import of %s: recorded %d staged rows in %.2f s", filename, staged,
                 perf_counter() - started)
    except BaseException:
        session.rollback()
        raise
    report.errors.sort(key=lambda e: e.row)
    if report.errors and not skip_invalid:
        session.rollback()  # the swap: nothing of it is kept
        report.created = report.unchanged = 0
        for details in refused_duplicates:  # the refusals stay in the audit log even when nothing is written
            audit(session, "response.duplicate_refused", actor=actor, unit=unit, subject=details["dossier"],
                  instrument=details["instrument"], channel=details["channel"])
        status = "refused"
    else:
        report.written = True
        status = "partial" if report.errors else "ok"
    staging.discard(session, token)
    audit(session, "import.responses", actor=actor, unit=unit, subject=filename[:200], status=status,
          skip_invalid=skip_invalid, **report.counts())
    session.commit()
    log.info("response import of %s into %s: %s %s", filename, unit.code, status, report.counts())
    return report


def _read(data: bytes, filename: str, columns: ResponseColumns, report: ImportReport
          ) -> tuple[dict[str, int], dict[int, CriterionColumn], Iterator[tuple[int, Row]]]:
    for sheet in read_sheets(data, filename):
        header = find_header(sheet.rows, columns.is_header_key)
        if header is None:
            continue
        fields: dict[str, int] = {}
        criteria: dict[int, CriterionColumn] = {}
        for index, (text, found) in sorted(header.resolve(columns.match).items()):
            if isinstance(found, CriterionColumn):
                criteria[index] = found
                report.columns[f"col{index}"] = text
            elif isinstance(found, str) and found not in fields:
                fields[found] = index
                report.columns[found] = text
        if not criteria:
            raise ImportFileError("Không tìm thấy cột tiêu chí nào (tiêu đề là mã tiêu chí như tc01, q1 hoặc "
                                  "tên tiêu chí).", detail="no criterion column")
        if "submitted_at" not in fields:
            raise ImportFileError("Không tìm thấy cột “Thời điểm” (ngày đánh giá).", detail="no submitted_at column")
        report.sheet, report.header_row = sheet.name, header.row
        return fields, criteria, header.rows
    raise ImportFileError("Không tìm thấy dòng tiêu đề (cần cột “Mã hồ sơ” hoặc “Bộ tiêu chí” và các cột tiêu chí) "
                          "trong 30 dòng đầu của tệp.", detail="no header row")


STAGING_LOST_VI = ("Quá trình nhập kéo dài quá lâu nên các dòng đã kiểm tra bị xóa trước khi ghi. Không dòng nào "
                   "được nhập; hãy nhập lại tệp.")


def _shown(report: ImportReport, fields: dict[str, int], criteria: dict[int, CriterionColumn]) -> dict[str, str]:
    """The header a person sees for each field name (row errors name their column)."""
    shown = {name: report.columns[name] for name in fields}
    shown.update({f"answers.{code}": report.columns[f"col{i}"] for i, col in criteria.items()
                  for code in col.by_instrument.values()})
    return shown


def _checked_batches(catalogue: Catalogue, unit: Unit, rows: Iterable[tuple[int, Row]], fields: dict[str, int],
                     criteria: dict[int, CriterionColumn], columns: ResponseColumns, report: ImportReport,
                     shown: dict[str, str], batch_size: int, *, tz: tzinfo
                     ) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    """Rows that pass the checks needing no database, as staging payloads, ``batch_size`` at a time."""
    occurrences: Counter[str] = Counter()
    batch: list[tuple[int, dict[str, Any]]] = []
    for number, row in rows:
        payload = _check_row(catalogue, unit, number, row, fields, criteria, columns, report, shown, occurrences,
                             tz=tz)
        if payload is not None:
            batch.append((number, payload))
            if len(batch) >= batch_size:
                yield batch
                batch = []
    if batch:
        yield batch


def _check_row(catalogue: Catalogue, unit: Unit, number: int, row: Row, fields: dict[str, int],
               criteria: dict[int, CriterionColumn], columns: ResponseColumns, report: ImportReport,
               shown: dict[str, str], occurrences: Counter[str], *, tz: tzinfo) -> dict[str, Any] | None:
    cell = {name: row[i] if i < len(row) else None for name, i in fields.items()}
    answers_raw = {i: row[i] if i < len(row) else None for i in criteria}
    if all(is_blank(v) for v in [*cell.values(), *answers_raw.values()]):
        return None
    dossier_code = code_text(cell.get("dossier_code")) or None
    if dossier_code and header_key(dossier_code) in CODE_HEADERS:
        return None  # a repeated header row
    report.rows += 1
    out = RowCollector(number, shown)
    instrument_text = cell_text(cell.get("instrument"))
    instrument_code = columns.instruments.get(fold(instrument_text)) if instrument_text else unit.default_instrument
    if instrument_code is None:
        out.add("instrument", f"Bộ tiêu chí “{instrument_text}” không tồn tại (dùng: {', '.join(catalogue.codes)}).")
    channel = ResponseChannel.PAPER
    if not is_blank(cell.get("channel")):
        channel = out.parse("channel", lambda: parse_response_channel(cell["channel"])) or channel
    submitted = None
    if is_blank(cell.get("submitted_at")):
        out.add("submitted_at", "Thiếu thời điểm đánh giá.")
    else:
        submitted = out.parse("submitted_at", lambda: parse_timestamp(cell["submitted_at"], tz, field="submitted_at"))
    instrument = _version(catalogue, instrument_code, submitted, tz) if instrument_code and submitted else None
    answers = _answers(out, instrument, answers_raw, criteria, report) if instrument else {}
    comment = cell_text(cell.get("comment")) or None
    if comment and len(" ".join(comment.split())) > MAX_COMMENT:
        out.add("comment", f"Ý kiến dài quá {MAX_COMMENT:,} ký tự.".replace(",", "."))
    if out.errors:
        report.errors.extend(out.errors)
        return None
    assert instrument_code is not None and submitted is not None
    content = json.dumps([unit.code, dossier_code, instrument_code, str(channel), submitted.isoformat(),
                          sorted(answers.items()), comment], ensure_ascii=False)
    digest = hashlib.sha256(content.encode()).hexdigest()[:48]
    occurrences[digest] += 1  # two identical anonymous ballots in one file are two ballots
    return {"instrument": instrument_code, "channel": str(channel), "answers": answers, "dossier_code": dossier_code,
            "submitted_at": submitted.isoformat(), "comment": comment,
            "idempotency_key": f"import:{digest}:{occurrences[digest]}"}


def _record(session: Session, catalogue: Catalogue, unit: Unit, number: int, payload: dict[str, Any],
            report: ImportReport, shown: dict[str, str], refused: list[dict[str, str | None]], *, tz: tzinfo,
            now: datetime, actor: str) -> None:
    """Record one staged row (inside the swap transaction); the rules needing the database refuse it here."""
    out = RowCollector(number, shown)
    dossier_code, instrument_code, channel = payload["dossier_code"], payload["instrument"], payload["channel"]
    data = ResponseInput(instrument=instrument_code, channel=ResponseChannel(channel), answers=payload["answers"],
                         dossier_code=dossier_code, submitted_at=datetime.fromisoformat(payload["submitted_at"]),
                         comment=payload["comment"], source="import", idempotency_key=payload["idempotency_key"])
    try:
        recorded = record_response(session, catalogue, unit, data, now=now, tz=tz, actor=actor)
    except AlreadyRated:
        out.add("dossier_code", f"Hồ sơ “{dossier_code}” đã được đánh giá theo bộ tiêu chí {instrument_code}.")
        refused.append({"dossier": dossier_code, "instrument": instrument_code, "channel": channel})
    except UnknownDossier:
        out.add("dossier_code", f"Không tìm thấy hồ sơ “{dossier_code}” của đơn vị {unit.code}.")
    except DossierNotReturned:
        out.add("dossier_code", f"Hồ sơ “{dossier_code}” chưa được trả kết quả nên chưa thể đánh giá.")
    except DomainError as exc:
        out.add(exc.field, exc.message_vi)
    else:
        if recorded.replayed:
            report.unchanged += 1
        else:
            report.created += 1
    report.errors.extend(out.errors)


def _version(catalogue: Catalogue, code: str, submitted: datetime, tz: tzinfo) -> Instrument | None:
    try:
        return catalogue.current(code, local_date(submitted, tz))
    except LookupError:
        return None  # record_response reports the precise error


def _answers(out: RowCollector, instrument: Instrument, raw: dict[int, object], criteria: dict[int, CriterionColumn],
             report: ImportReport) -> dict[str, str]:
    """Option codes by criterion; every bad or missing answer of the row is reported."""
    answers: dict[str, str] = {}
    own = {c.code: c for c in instrument.citizen_criteria}
    for index, value in raw.items():
        code = criteria[index].by_instrument.get(instrument.code)
        header = report.columns[f"col{index}"]
        if is_blank(value) or (code is not None and code in answers):
            continue
        if code is None or code not in own:
            out.errors.append(RowError(out.row, header, f"Cột này không thuộc bộ tiêu chí {instrument.code}."))
            continue
        criterion = own[code]
        resolved = resolve_option(criterion, cell_text(value))
        if resolved is None:
            labels = ", ".join(o.label for o in criterion.options) + (", Không áp dụng" if criterion.allow_na else "")
            message = f"Lựa chọn “{cell_text(value)}” không hợp lệ (dùng: {labels})."
            out.errors.append(RowError(out.row, header, message))
        elif isinstance(resolved, Option):
            answers[code] = resolved.code
        elif criterion.allow_na:
            answers[code] = NOT_APPLICABLE
        else:
            out.errors.append(RowError(out.row, header, "Tiêu chí này không cho phép chọn “Không áp dụng”."))
    for code, criterion in own.items():
        if code not in answers and not any(e.column == out.header(f"answers.{code}") for e in out.errors):
            out.add(f"answers.{code}", f"Chưa trả lời tiêu chí {code}: {criterion.short_label}.")
    return answers
