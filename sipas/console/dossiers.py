"""Console pages for dossiers: the list with search, one dossier, and the spreadsheet import."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Response as FlaskResponse
from flask import abort, current_app, jsonify, redirect, render_template, request, url_for
from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session, selectinload
from werkzeug.exceptions import RequestEntityTooLarge

from sipas import code_search
from sipas.clock import local_date, utcnow
from sipas.console import bp
from sipas.console.auth import (
    actor_name,
    allowed_units,
    current_user,
    login_required,
    roles_required,
    unit_for_user,
)
from sipas.context import get_catalogue, get_settings
from sipas.error_pages import http_error_page
from sipas.imports import ImportReport, jobs
from sipas.imports.templates import csv_template, dossier_headers, dossier_template, response_headers, response_template
from sipas.models import Dossier, ImportJob, Response, Role, Unit
from sipas.parsing import CHANNEL_LABELS_VI, INTAKE_LABELS_VI
from sipas.storage import db_session, get_database
from sipas.text import fold
from sipas.timeliness import Timeliness, timeliness

PAGE_SIZE = 50
MAX_ERRORS_SHOWN = 1000
MAX_SEARCH = 100
MAX_PAGE = 100_000  # beyond any real list; keeps OFFSET within a database integer
#: a search counts at most this many dossiers ("hơn 1.000 hồ sơ"); see ``search_page``
SEARCH_COUNT_CAP = 1_000
STATUSES = {
    "": "Tất cả",
    "returned": "Đã trả kết quả",
    "in_progress": "Đang giải quyết",
    "overdue": "Đang giải quyết quá hạn",
    "late": "Trả quá hạn",
}
CONSENT_METHODS_VI = {"import": "nhập tệp", "api": "hệ thống một cửa", "console": "cán bộ nhập",
                      "paper_form": "phiếu giấy", "phone_changed": "đổi số điện thoại"}
_BADGE = {Timeliness.EARLY: "ok", Timeliness.ON_TIME: "ok", Timeliness.LATE: "bad", Timeliness.IN_PROGRESS: "",
          Timeliness.IN_PROGRESS_OVERDUE: "warn"}


def mask_phone(phone_e164: str | None) -> str:
    """``+84912345678`` → ``091*****78``: enough to recognise a number, never the whole of it."""
    if not phone_e164:
        return ""
    national = "0" + phone_e164[3:] if phone_e164.startswith("+84") else phone_e164
    return national[:3] + "*" * max(len(national) - 5, 3) + national[-2:]


def local_text(value: datetime | None, with_time: bool = False) -> str:
    if value is None:
        return ""
    local = value.astimezone(get_settings().tz)
    return local.strftime("%d/%m/%Y %H:%M" if with_time else "%d/%m/%Y")


@dataclass(frozen=True)
class Filters:
    unit: str
    q: str
    status: str
    page: int

    @classmethod
    def from_request(cls) -> Filters:
        status = request.args.get("status", "")
        try:
            page = min(max(int(request.args.get("page", "1")), 1), MAX_PAGE)
        except ValueError:
            page = 1
        query = " ".join(request.args.get("q", "").split())[:MAX_SEARCH]
        return cls(unit=request.args.get("unit", "").strip(), q=query, status=status if status in STATUSES else "",
                   page=page)

    def args(self, **changes: object) -> dict[str, object]:
        values: dict[str, object] = {"unit": self.unit, "q": self.q, "status": self.status, "page": self.page}
        values.update(changes)
        return {k: v for k, v in values.items() if v not in ("", None, 1)}


def unit_names(session: Session, unit_ids: list[int]) -> list[tuple[str, str]]:
    """The distinct (procedure, field) names of the units' dossiers, read from ``ix_dossier_unit_names`` alone
    (0.1 s a province's 1.1 M dossiers; the two ``SELECT DISTINCT`` over the rows took 4 s each)."""
    rows = session.execute(select(Dossier.procedure, Dossier.field).where(Dossier.unit_id.in_(unit_ids)).distinct())
    return [(procedure, field) for procedure, field in rows]


def _matching(names: set[str], needle: str) -> list[str]:
    """The names containing the search words, ignoring case and diacritics ("ho tich" finds "Hộ tịch"). There are
    few distinct names per unit, so they are folded here rather than in SQL."""
    return sorted(name for name in names if name and needle in fold(name))


def _code_condition(q: str, *, by_trigrams: bool = False) -> ColumnElement[bool]:
    """The dossiers whose code contains ``q``, without case, ``%``, ``_`` and ``/`` taken literally. Only with
    ``by_trigrams`` may PostgreSQL's trigram index serve it (``sipas.code_search``); otherwise it is written on
    ``code || ''``: a short search has no trigram (the index would be read whole), and one unit's codes are read
    from the (unit, code) index. The page beyond the cap keeps the plain column, whose statistics tell PostgreSQL
    that so many match (on ``code || ''`` it sorted every match of "h57-0040": 0.44 s instead of 36 ms)."""
    return (Dossier.code if by_trigrams else Dossier.code + "").icontains(q, autoescape=True)


def _name_conditions(session: Session, unit_ids: list[int], q: str) -> list[ColumnElement[bool]]:
    """The dossiers whose procedure or field names contain the folded words of ``q`` (none when no name matches)."""
    needle = fold(q)
    if not needle:
        return []
    names = unit_names(session, unit_ids)
    procedures = _matching({procedure for procedure, _field in names}, needle)
    fields = _matching({field for _procedure, field in names}, needle)
    return ([Dossier.procedure.in_(procedures)] if procedures else []) + ([Dossier.field.in_(fields)] if fields else [])


def _search_condition(session: Session, unit_ids: list[int], q: str) -> ColumnElement[bool]:
    """The dossiers ``q`` finds: a case-insensitive substring of the code, or the procedure or field names that
    contain its folded words (a name list that matched nothing is left out: the code alone is then read from its
    index)."""
    return or_(_code_condition(q), *_name_conditions(session, unit_ids, q))


def _filtered(session: Session, units: list[Unit], filters: Filters, *, in_received_order: bool = False,
              search: ColumnElement[bool] | None = None) -> Select[tuple[Dossier]]:
    """The dossiers the filters select. ``in_received_order``: for a page of several units, newest first, the unit
    test written so that no index serves it (``unit_id + 0``): the page is then read down
    ``ix_dossier_received_order`` and stops after its rows, where the units' index made SQLite (without
    statistics, as a deployment runs) sort every dossier of the units (7.7 s for a province's 1.1 M). ``search``:
    the search's condition when the caller has it already (its name lists read every dossier of the units)."""
    unit_ids = [u.id for u in units]
    unit_id = Dossier.unit_id + 0 if in_received_order and len(unit_ids) > 1 else Dossier.unit_id
    query = select(Dossier).where(unit_id.in_(unit_ids))
    if filters.q:
        query = query.where(search if search is not None else _search_condition(session, unit_ids, filters.q))
    today = local_date(utcnow(), get_settings().tz)
    if filters.status == "returned":
        query = query.where(Dossier.returned_at.is_not(None))
    elif filters.status == "in_progress":
        query = query.where(Dossier.returned_at.is_(None))
    elif filters.status == "overdue":
        query = query.where(Dossier.returned_at.is_(None), Dossier.due_local_date < today)
    elif filters.status == "late":
        query = query.where(Dossier.returned_local_date > Dossier.due_local_date)
    return query


def list_page(session: Session, units: list[Unit], filters: Filters, page: int,
              search: ColumnElement[bool] | None = None) -> Select[tuple[Dossier]]:
    """One page of the list, newest first."""
    return (_filtered(session, units, filters, in_received_order=True, search=search)
            .order_by(Dossier.received_at.desc(), Dossier.id.desc())
            .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))


@dataclass(frozen=True)
class SearchPage:
    total: int  # at most SEARCH_COUNT_CAP
    more: bool  # more than SEARCH_COUNT_CAP dossiers match
    pages: int
    page: int
    dossiers: list[Dossier]
    has_next: bool = False  # a dossier follows the page's


def search_page(session: Session, units: list[Unit], filters: Filters) -> SearchPage:
    """A page of a search (``filters.q``). The matching ids are read first, at most ``SEARCH_COUNT_CAP`` + 1 of
    them: a search by code reads only the (unit, code) index (no dossier row), and stops at the cap. Up to the
    cap the count is exact and the page is those ids, newest first; beyond it the count says "hơn 1.000" and the
    page is read down the received order as the plain list's is, which stops soon because so many match. Counting
    every match and sorting them scanned the province's 1.1 M dossiers twice (6–10 s, 23–45 s cold)."""
    unit_ids = [u.id for u in units]
    names = _name_conditions(session, unit_ids, filters.q)
    search = or_(_code_condition(filters.q, by_trigrams=True), *names)
    ids = _matching_ids(session, units, filters, names)
    more = len(ids) > SEARCH_COUNT_CAP
    total = min(len(ids), SEARCH_COUNT_CAP)
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = filters.page if more else min(filters.page, pages)
    if not ids:
        return SearchPage(0, False, 1, 1, [])
    if more:  # one dossier beyond the page tells whether another follows (the pages are not counted)
        query = list_page(session, units, filters, page, search).limit(PAGE_SIZE + 1)
    else:
        query = (select(Dossier).where(Dossier.id.in_(ids)).order_by(Dossier.received_at.desc(), Dossier.id.desc())
                 .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))
    dossiers = list(session.scalars(query.options(selectinload(Dossier.unit))))
    has_next = len(dossiers) > PAGE_SIZE if more else page < pages
    return SearchPage(total, more, pages, page, dossiers[:PAGE_SIZE], has_next)


def _matching_ids(session: Session, units: list[Unit], filters: Filters, names: list[ColumnElement[bool]]) -> list[int]:
    """At most ``SEARCH_COUNT_CAP`` + 1 ids of the dossiers the search finds (the code or the ``names``). A
    search of several units by three characters or more on SQLite finds the codes through ``dossier_code_fts``
    (``sipas.code_search``: the trigrams of the words, then the plain condition on those rows only; 2.5–4.5 s for
    a province's 1.1 M codes before) and the names by their own condition; PostgreSQL's trigram index serves the
    plain condition itself. One unit's few thousand codes, and a search of one or two characters, are read from
    the (unit, code) index as before."""
    def capped(condition: ColumnElement[bool]) -> Select[tuple[int]]:
        return (_filtered(session, units, filters, search=condition).with_only_columns(Dossier.id)
                .limit(SEARCH_COUNT_CAP + 1))

    if len(units) < 2 or len(filters.q) < code_search.MIN_LENGTH:
        return list(session.scalars(capped(or_(_code_condition(filters.q), *names))))
    if not code_search.fts_available(session):  # PostgreSQL (or SQLite without FTS5's trigrams)
        return list(session.scalars(capped(or_(_code_condition(filters.q, by_trigrams=True), *names))))
    by_code = capped(_code_condition(filters.q)).join(code_search.FTS, code_search.FTS.c.rowid == Dossier.id)
    ids = list(session.scalars(by_code.where(code_search.matches(filters.q))))
    if names and len(ids) <= SEARCH_COUNT_CAP:
        ids = list(dict.fromkeys(ids + list(session.scalars(capped(or_(*names))))))
    return ids


@bp.get("/dossiers", endpoint="dossiers")
@login_required
def dossier_list():  # type: ignore[no-untyped-def]
    """Dossiers of the user's units, newest first, with search by code, procedure or field."""
    filters = Filters.from_request()
    units = allowed_units()
    shown_units = [unit_for_user(filters.unit)] if filters.unit else units
    session = db_session()
    more, dossiers = False, []
    if filters.q and shown_units:
        found = search_page(session, shown_units, filters)
        total, more, pages, page, dossiers = found.total, found.more, found.pages, found.page, found.dossiers
        has_next = found.has_next
    else:
        query = _filtered(session, shown_units, filters) if shown_units else None
        total = session.scalar(select(func.count()).select_from(query.subquery())) if query is not None else 0
        pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
        page = min(filters.page, pages)
        if query is not None:
            dossiers = list(session.scalars(list_page(session, shown_units, filters, page)
                                            .options(selectinload(Dossier.unit))))
        has_next = page < pages
    rated = dict(session.execute(
        select(Response.dossier_id, func.count()).where(Response.dossier_id.in_([d.id for d in dossiers]))
        .group_by(Response.dossier_id)).all()) if dossiers else {}
    now, tz = utcnow(), get_settings().tz
    rows = [{"dossier": d, "status": (s := timeliness(d.due_at, d.returned_at, now, tz)), "badge": _BADGE[s],
             "rated": rated.get(d.id, 0)} for d in dossiers]
    return render_template("console/dossiers/list.html", rows=rows, filters=filters, units=units, total=total,
                           more=more, has_next=has_next, page=page, pages=pages, statuses=STATUSES,
                           local_text=local_text, intake_labels=INTAKE_LABELS_VI)


@bp.get("/dossiers/<unit_code>/<path:code>", endpoint="dossier_detail")
@login_required
def dossier_detail(unit_code: str, code: str):  # type: ignore[no-untyped-def]
    """One dossier: its dates, timeliness, rating status per instrument and a masked phone number."""
    unit = unit_for_user(unit_code)
    session = db_session()
    dossier = session.scalar(select(Dossier).where(Dossier.unit_id == unit.id, Dossier.code == code))
    if dossier is None:
        abort(404)
    now, tz = utcnow(), get_settings().tz
    status = timeliness(dossier.due_at, dossier.returned_at, now, tz)
    stored = session.scalars(select(Response).where(Response.dossier_id == dossier.id))
    responses = {r.instrument_code: r for r in stored}
    instruments = get_catalogue().latest(local_date(now, tz))
    codes = [i.code for i in instruments] + [c for c in responses if c not in {i.code for i in instruments}]
    labels = {i.code: i.label for i in instruments}
    ratings = [{"code": c, "label": labels.get(c, c), "response": responses.get(c)} for c in codes]
    contact = dossier.contact
    user = current_user()
    return render_template("console/dossiers/detail.html", dossier=dossier, unit=unit, status=status,
                           badge=_BADGE[status], ratings=ratings, contact=contact, mask_phone=mask_phone,
                           local_text=local_text, intake_labels=INTAKE_LABELS_VI, channel_labels=CHANNEL_LABELS_VI,
                           consent_methods=CONSENT_METHODS_VI,
                           consent_wording=current_app.extensions["sipas_consent"].get(
                               contact.consent_wording_version if contact else None),
                           can_return=user is not None and user.role in (Role.ADMIN, Role.CLERK))


@bp.route("/dossiers/import", methods=["GET", "POST"], endpoint="dossier_import")
@roles_required(Role.ADMIN, Role.CLERK)
def dossier_import():  # type: ignore[no-untyped-def]
    """Upload a CSV or XLSX of dossiers or ratings: the import runs as a job, the answer is its page."""
    units = allowed_units()
    form = {"unit": units[0].code if len(units) == 1 else "", "kind": "dossiers", "skip_invalid": False}
    if request.method == "POST":
        form = {"unit": request.form.get("unit", "").strip(), "kind": request.form.get("kind", "dossiers"),
                "skip_invalid": request.form.get("skip_invalid") == "1"}
        upload = request.files.get("file")
        problem = _form_problem(form, upload, units)
        if problem:
            return _import_page(units, form, None, problem), 400
        assert upload is not None
        unit = unit_for_user(str(form["unit"]))
        job = _start_job(unit, str(form["kind"]), upload.read(), upload.filename or "tệp tải lên",
                         bool(form["skip_invalid"]))
        return redirect(url_for("console.dossier_import_job", job_id=job.id), 303)
    return _import_page(units, form, None, None)


@bp.get("/dossiers/import/jobs/<int:job_id>", endpoint="dossier_import_job")
@roles_required(Role.ADMIN, Role.CLERK)
def dossier_import_job(job_id: int):  # type: ignore[no-untyped-def]
    """The job page: a progress bar while the import runs (polled by import_progress.js), then the report."""
    job = _job_for_user(job_id)
    units = allowed_units()
    form = {"unit": "", "kind": job.kind, "skip_invalid": job.skip_invalid}
    status = jobs.effective_status(job, utcnow())
    if status not in jobs.FINISHED:
        return render_template("console/dossiers/import_job.html", job=job)
    report, error_total = jobs.report_of(job)
    retry = status == "failed" and jobs.upload_kept(job)
    if status == "failed" and (report is None or not retry):
        report, error_total = jobs.report_of(_interrupted(job, gone=not retry))
    assert report is not None
    page = _import_page(units, form, report, None, job=job if retry else None, error_total=error_total)
    return page, 200 if not report.refused else 422


@bp.get("/dossiers/import/jobs/<int:job_id>/progress", endpoint="dossier_import_progress")
@roles_required(Role.ADMIN, Role.CLERK)
def dossier_import_progress(job_id: int):  # type: ignore[no-untyped-def]
    return jsonify(jobs.progress_json(_job_for_user(job_id), utcnow()))


@bp.post("/dossiers/import/jobs/<int:job_id>/retry", endpoint="dossier_import_retry")
@roles_required(Role.ADMIN, Role.CLERK)
def dossier_import_retry(job_id: int):  # type: ignore[no-untyped-def]
    """Start an interrupted job again from its stored upload."""
    job = _job_for_user(job_id)
    if jobs.restart(db_session(), job, utcnow()):
        db_session().commit()
        _start_thread(job.id)
    return redirect(url_for("console.dossier_import_job", job_id=job.id), 303)


def _job_for_user(job_id: int) -> ImportJob:
    job = db_session().get(ImportJob, job_id)
    if job is None or job.unit_id not in {unit.id for unit in allowed_units()}:
        abort(404)
    return job


def _interrupted(job: ImportJob, *, gone: bool = False) -> ImportJob:
    """A failed job as the page reports it: retry it, or (its upload deleted after ``UPLOAD_KEPT``) choose the
    file again."""
    return ImportJob(kind=job.kind, filename=job.filename, skip_invalid=job.skip_invalid,
                     result={"file_error": jobs.UPLOAD_GONE_VI if gone else jobs.INTERRUPTED_VI,
                             "file_error_code": "import_job_failed"})


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/dossiers/import/template/<kind>", endpoint="dossier_import_template")
@roles_required(Role.ADMIN, Role.CLERK)
def dossier_import_template(kind: str):  # type: ignore[no-untyped-def]
    """A blank template to fill in: ``dossiers``, or ``responses`` for one instrument (``?instrument=``);
    XLSX with drop-down lists, or the same header row as CSV with ``?format=csv``."""
    as_csv = request.args.get("format") == "csv"
    if kind == "dossiers":
        data = csv_template(dossier_headers()) if as_csv else dossier_template()
        name = "mau-nhap-ho-so"
    elif kind == "responses":
        instruments = {i.code: i for i in get_catalogue().latest(local_date(utcnow(), get_settings().tz))}
        instrument = instruments.get(request.args.get("instrument", ""))
        if instrument is None:
            abort(404)
        data = csv_template(response_headers(instrument)) if as_csv else response_template(instrument)
        name = f"mau-nhap-phieu-{instrument.code}"
    else:
        abort(404)
    name += ".csv" if as_csv else ".xlsx"
    return FlaskResponse(data, mimetype="text/csv" if as_csv else XLSX_TYPE,
                         headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.errorhandler(RequestEntityTooLarge)
def upload_too_large(exc: RequestEntityTooLarge):  # type: ignore[no-untyped-def]
    """The upload page explains the size limit in Vietnamese (the CSRF check hits it before the view)."""
    if request.endpoint != "console.dossier_import":
        return http_error_page(exc)  # any other console form: the general Vietnamese page
    size = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    limit = f"{size // (1024 * 1024)} MB" if size >= 1024 * 1024 else f"{size // 1024} KB"
    problem = f"Tệp quá lớn (tối đa {limit}). Hãy chia tệp thành nhiều phần rồi nhập lần lượt."
    form = {"unit": "", "kind": "dossiers", "skip_invalid": False}
    return _import_page(allowed_units(), form, None, problem), 413


def _import_page(units: list[Unit], form: dict[str, object], report: ImportReport | None, problem: str | None,
                 *, job: ImportJob | None = None, error_total: int = 0) -> str:
    instruments = get_catalogue().latest(local_date(utcnow(), get_settings().tz))
    return render_template("console/dossiers/import.html", units=units, form=form, report=report, problem=problem,
                           max_errors_shown=MAX_ERRORS_SHOWN, instruments=instruments, retry_job=job,
                           error_total=error_total)


def _form_problem(form: dict[str, object], upload: object, units: list[Unit]) -> str | None:
    if not units:
        return "Tài khoản chưa được gán đơn vị nào."
    if not form["unit"]:
        return "Hãy chọn đơn vị nhận dữ liệu."
    if form["kind"] not in ("dossiers", "responses"):
        return "Hãy chọn loại dữ liệu: hồ sơ hoặc phiếu đánh giá."
    if upload is None or not getattr(upload, "filename", ""):
        return "Hãy chọn tệp CSV hoặc Excel (.xlsx) cần nhập."
    return None


def _start_job(unit: Unit, kind: str, data: bytes, filename: str, skip_invalid: bool) -> ImportJob:
    session = db_session()
    job = jobs.create_job(session, unit, kind, filename, data, skip_invalid=skip_invalid, actor=actor_name(),
                          instance_dir=get_settings().instance_dir)
    session.commit()
    _start_thread(job.id)
    return job


def _start_thread(job_id: int) -> None:
    settings = get_settings()
    jobs.start_thread(get_database(), job_id, tz=settings.tz, secret=current_app.config["SECRET_KEY"],
                      catalogue=get_catalogue(), phone_regions=settings.phone_regions)
