"""Console pages: the report dashboard, its downloads, and the quarterly staff inputs form."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from aggregator import charts, exports
from aggregator.inputs import QuarterFigures, get_quarter_input, parse_ballots, save_quarter_input, staff_criteria
from aggregator.labels import CHANNEL_LABELS, date_vi, decimal_vi, number_vi, percent_vi
from aggregator.params import PERIOD_KINDS, PeriodError, parse_field, parse_period, period_values, picker_choices
from aggregator.report import make_scope
from aggregator.service import check_channel, district_ranking, unit_report
from aggregator.trend import satisfaction_trend
from aggregator.trend_chart import trend_chart
from sipas.audit_text import full_names, who
from sipas.cases.index8 import quarter_index8
from sipas.cases.overrides import index8_reason
from sipas.clock import ROMAN_QUARTERS, Period, local_date, utcnow
from sipas.console.auth import actor_name, allowed_units, current_user, login_required, roles_required, unit_for_user
from sipas.console.refusal import refuse
from sipas.context import get_catalogue, get_settings
from sipas.errors import ValidationError
from sipas.models import Dossier, Role, Unit, UnitKind
from sipas.storage import db_session, get_database
from sipas.text import vietnamese_key
from sipas.units import descendants

__all__ = ["bp", "date_vi", "decimal_vi", "number_vi", "percent_vi"]

bp = Blueprint("aggregator", __name__, url_prefix="/console/bao-cao", template_folder="templates")
GROUP_KINDS = (UnitKind.DISTRICT, UnitKind.PROVINCE)


def merge(args: Any, **overrides: str) -> dict[str, str]:
    """The current query string with some values replaced (for drill-down links)."""
    return {k: v for k, v in dict(args).items() if v} | overrides


def _default_unit() -> Unit:
    user = current_user()
    units = allowed_units()
    if not units:
        abort(404)
    own = user.units if user is not None and user.units else units
    return own[0]


def _period(args: MultiDict[str, str]) -> tuple[Period, str]:
    """The period and the period kind asked for by the query string; a PeriodError if they are bad."""
    kind, values = period_values(args, args.get("kind"))
    return parse_period(today=local_date(utcnow(), get_settings().tz), **values), kind


def _unit(args: MultiDict[str, str]) -> Unit:
    """The unit asked for (404 if not the user's), else the user's own."""
    return unit_for_user(args["unit"]) if args.get("unit") else _default_unit()


def _selection(args: MultiDict[str, str]) -> tuple[Unit, Period, str, bool]:
    """The dashboard's unit, period, period kind, and whether the period asked for was bad: then it is flashed
    and the current quarter shown."""
    unit = _unit(args)
    try:
        period, kind = _period(args)
    except PeriodError as exc:
        flash(str(exc), "error")
        return unit, Period.containing_quarter(local_date(utcnow(), get_settings().tz)), "quarter", True
    return unit, period, kind, False


def _quarter_code(period: Period) -> str:
    """``2026Q1``: the quarter a period starts in, as the period picker names it."""
    return f"{period.start.year}Q{(period.start.month - 1) // 3 + 1}"


def _filters(args: MultiDict[str, str]) -> tuple[str | None, str | None]:
    """The dashboard's field and channel: a bad one is flashed and left out."""
    field, channel = None, None
    try:
        field = parse_field(args.get("field"))
        channel = check_channel(args.get("channel"))
    except PeriodError as exc:
        flash(str(exc), "error")
    return field, channel


def _download_selection(args: MultiDict[str, str]) -> tuple[Unit, Period, str | None, str | None]:
    """A download's unit, period, field and channel, exactly as asked: unlike the dashboard, which shows its
    fallback under the message, a file has no room for one, so a bad value raises PeriodError (the CLI and
    the API refuse it too) rather than giving a file of other data."""
    unit = _unit(args)
    period, _kind = _period(args)
    return unit, period, parse_field(args.get("field")), check_channel(args.get("channel"))


def _download_args(args: MultiDict[str, str], unit: Unit, period: Period, period_fell_back: bool,
                   field: str | None, channel: str | None) -> dict[str, str]:
    """The query of the dashboard's download buttons: what the page shows. After a flashed fallback (a bad
    period: the current quarter; a bad filter: none) the query as typed would lead to the refusal page."""
    if period_fell_back:
        shown = {"kind": "quarter", "quarter": _quarter_code(period)}
    else:
        shown = {k: v for k, v in args.items() if v and k not in ("field", "channel")}
    filters = {k: v for k, v in (("field", field), ("channel", channel)) if v}
    return shown | {"unit": unit.code} | filters


def _download_refused(exc: PeriodError) -> ResponseReturnValue:
    """The console's Vietnamese error page, saying why no file was made."""
    message = f"{exc} Hãy chọn lại kỳ báo cáo hoặc bộ lọc trên trang Báo cáo rồi tải lại."
    return render_template("errors/http.html", code=400, title="Không tạo được tệp tải về", message=message), 400


def _report(unit: Unit, period: Period, field: str | None, channel: str | None) -> dict[str, Any]:
    settings = get_settings()
    return unit_report(db_session(), get_catalogue(), unit, period, tz=settings.tz, now=utcnow(), field=field,
                       channel=channel)


def _ranking(unit: Unit, period: Period) -> dict[str, Any] | None:
    if unit.kind not in GROUP_KINDS:
        return None
    return district_ranking(db_session(), get_catalogue(), unit, period, tz=get_settings().tz, now=utcnow())


@bp.get("/", endpoint="dashboard")
@login_required
def dashboard() -> ResponseReturnValue:
    """Results of the selected unit and period, with charts, drill-down and comments to follow up."""
    unit, period, kind, fell_back = _selection(request.args)
    field, channel = _filters(request.args)
    report = _report(unit, period, field, channel)
    units_below = descendants(db_session(), unit)
    unit_ids = [u.id for u in units_below]
    trend = satisfaction_trend(db_session(), get_catalogue(), units_below, period, tz=get_settings().tz, now=utcnow())
    fields = sorted(db_session().scalars(select(Dossier.field).distinct().where(Dossier.unit_id.in_(unit_ids))),
                    key=lambda f: vietnamese_key(f or ""))
    query = {k: v for k, v in request.args.items() if k not in ("field", "channel")} | {"unit": unit.code}
    return render_template(
        "aggregator/dashboard.html", unit=unit, units=allowed_units(), period=period, kind=kind,
        kinds=PERIOD_KINDS, choices=picker_choices(local_date(utcnow(), get_settings().tz)),
        report=report, ranking=_ranking(unit, period), field=field, channel=channel,
        fields=[f for f in fields if f], channel_labels={c.value: label for c, label in CHANNEL_LABELS.items()},
        charts=[(i, charts.criteria_chart(i)) for i in report["instruments"] if i["criteria"]],
        timeliness_svg=charts.timeliness_chart(report["dossiers"]), query=query, args=request.args, merge=merge,
        download=_download_args(request.args, unit, period, fell_back, field, channel),
        quarter_code=_quarter_code(period), indices=_index_rows(period),
        classes=_class_rule(), trend=trend, trend_svg=trend_chart(trend),
    )


def _class_rule() -> str:
    """"xuất sắc từ 15 điểm; tốt từ 12 điểm; …; yếu dưới 6 điểm" from the versioned scoring."""
    classes = get_catalogue().scoring.classes
    parts = [f"{c.label} từ {decimal_vi(c.min_total, 1)} điểm" for c in classes if c.min_total > 0]
    lowest = [c for c in classes if c.min_total <= 0]
    if lowest and len(classes) > 1:
        parts.append(f"{lowest[0].label} dưới {decimal_vi(classes[-2].min_total, 1)} điểm")
    return "; ".join(parts)


INDEX_SOURCES = {1: "ngày trả kết quả của hồ sơ", 2: "ngày trả kết quả của hồ sơ", 3: "ý kiến người dân",
                 4: "ý kiến người dân", 5: "đơn vị tự đánh giá", 6: "đơn vị tự đánh giá", 7: "ý kiến người dân",
                 8: "phản ánh trả lời đúng hạn (hoặc đơn vị nhập thay, có lý do)", 9: "tỷ lệ hồ sơ trực tuyến"}


def _index_rows(period: Period) -> list[tuple[str, str, str]]:
    """(index, label, where its points come from) of the TT 01/2018 version in effect at the period's end."""
    try:
        instrument = get_catalogue().current("tt01_2018", period.end)
    except (KeyError, LookupError):
        return []
    return [(str(c.tt01_index), c.short_label, INDEX_SOURCES.get(c.tt01_index, ""))
            for c in instrument.criteria if c.tt01_index is not None]


@bp.get("/bang-tinh.xlsx", endpoint="export_xlsx")
@login_required
def export_xlsx() -> ResponseReturnValue:
    """The report tables (criteria, fields and, for a district, the ranking) as an Excel workbook."""
    try:
        unit, period, field, channel = _download_selection(request.args)
    except PeriodError as exc:
        return _download_refused(exc)
    data = exports.report_xlsx(_report(unit, period, field, channel), _ranking(unit, period))
    name = exports.file_name("bao-cao", unit.code, period, field, channel, "xlsx")
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/phieu.csv", endpoint="export_csv")
@login_required
def export_csv() -> ResponseReturnValue:
    """Anonymised responses (no dossier code, no phone, no comment) as CSV."""
    try:
        unit, period, field, channel = _download_selection(request.args)
    except PeriodError as exc:
        return _download_refused(exc)
    settings = get_settings()
    scope = make_scope(descendants(db_session(), unit), period, tz=settings.tz, now=utcnow(), field=field,
                       channel=channel)
    database = get_database()

    def rows() -> Iterator[str]:
        # its own session, closed when the download ends or is cut, whatever happens to the request
        with database.read_sessionmaker() as session:
            yield from exports.responses_csv(session, scope, settings.tz)

    name = exports.file_name("phieu", unit.code, period, field, channel, "csv")
    return Response(rows(), mimetype="text/csv",  # Werkzeug adds "; charset=utf-8" to text/* itself
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/so-lieu-quy", methods=["GET", "POST"], endpoint="inputs")
@roles_required(Role.ADMIN, Role.CLERK)
def inputs() -> ResponseReturnValue:
    """Indices 5, 6, 8 and paper ballots handed out, entered by the unit once per quarter."""
    source = request.form if request.method == "POST" else request.args
    unit = unit_for_user(source["unit"]) if source.get("unit") else _default_unit()
    today = local_date(utcnow(), get_settings().tz)
    valid = True
    try:
        period = Period.parse_quarter(source.get("quarter") or "")
        criteria = staff_criteria(get_catalogue(), period.start.year, (period.start.month - 1) // 3 + 1)
    except (ValueError, ValidationError) as exc:
        valid = request.method == "GET" and "quarter" not in source  # a first visit, not an emptied field
        if not valid:
            flash(exc.message_vi if isinstance(exc, ValidationError) else "Quý không hợp lệ, cần dạng 2026Q1.",
                  "error")
        period = Period.containing_quarter(today)
        criteria = staff_criteria(get_catalogue(), period.start.year, (period.start.month - 1) // 3 + 1)
    year, quarter = period.start.year, (period.start.month - 1) // 3 + 1
    if request.method == "POST" and not valid:
        return render_template("aggregator/inputs.html", unit=unit, units=allowed_units(), year=year,
                               quarter=quarter, criteria=criteria, row=None, form=request.form, updated=""), 400
    if request.method == "POST":
        session = db_session()
        try:
            figures = QuarterFigures(index5=request.form.get("index5", ""), index6=request.form.get("index6", ""),
                                     index8=request.form.get("index8", ""),
                                     index8_reason=request.form.get("index8_reason", ""),
                                     ballots_handed_out=parse_ballots(request.form.get("ballots_handed_out", "")))
            save_quarter_input(session, get_catalogue(), unit, year, quarter, figures, actor=actor_name(),
                               now=utcnow())
        except ValidationError as exc:
            session.rollback()
            refuse(exc.message_vi, exc.field)
            return render_template("aggregator/inputs.html", unit=unit, units=allowed_units(), year=year,
                                   quarter=quarter, criteria=criteria, row=None, form=request.form, updated=""), 400
        session.commit()
        flash(f"Đã lưu số liệu quý {ROMAN_QUARTERS[quarter]} năm {year} của {unit.name}.", "success")
        return redirect(url_for("aggregator.inputs", unit=unit.code, quarter=f"{year}Q{quarter}"))
    row = get_quarter_input(db_session(), unit, year, quarter)
    updated = ""
    if row:
        at = row.updated_at.astimezone(get_settings().tz)
        # who saved, as the audit log names them (a person's full name, "Dữ liệu mẫu"), not "user:canbo…"
        by = who(row.updated_by, full_names(db_session(), [row.updated_by]))
        updated = f"{at:%H:%M} ngày {date_vi(at)} bởi {by}"
    computed8 = quarter_index8(db_session(), unit.id, year, quarter, tz=get_settings().tz,
                               today=today)
    return render_template("aggregator/inputs.html", unit=unit, units=allowed_units(), year=year, quarter=quarter,
                           criteria=criteria, row=row, form=None, updated=updated, computed8=computed8,
                           reason8=index8_reason(db_session(), unit.id, year, quarter))
