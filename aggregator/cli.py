"""``sipas report``: the report of a unit, or the ranking of a district, as JSON or a readable table."""

from __future__ import annotations

import json
from typing import Any

import click

from aggregator.labels import channel_label, decimal_vi, number_vi, percent_vi
from aggregator.params import PeriodError, parse_period
from aggregator.service import NotADistrict, district_ranking, ranking_filter, unit_report
from aggregator.zalo_section import KEY as ZALO_KEY
from aggregator.zalo_section import zalo_rating_text
from sipas.cli_context import Context, pass_context
from sipas.clock import local_date, utcnow
from sipas.errors import UnknownUnit
from sipas.units import get_unit


@click.command("report")
@click.option("--unit", "unit_code", help="Mã đơn vị (phường/xã; một quận/huyện gồm cả các đơn vị trực thuộc).")
@click.option("--district", "district_code", help="Mã quận/huyện: xếp hạng các phường/xã theo TT 01/2018.")
@click.option("--from", "start", help="Từ ngày: 31/12/2026 hoặc 2026-12-31.")
@click.option("--to", "end", help="Đến ngày: 31/12/2026 hoặc 2026-12-31.")
@click.option("--quarter", help="Quý, ví dụ 2023Q1.")
@click.option("--month", help="Tháng, ví dụ 2023-02.")
@click.option("--year", help="Năm, ví dụ 2023.")
@click.option("--field", help="Chỉ một lĩnh vực (ví dụ “Hộ tịch”); không dùng với --district.")
@click.option("--channel", help="Chỉ một kênh đánh giá: kiosk, sms, qr, paper, api, zalo; không dùng với --district.")
@click.option("--json", "as_json", is_flag=True, help="In JSON (giống GET /api/v1/reports).")
@pass_context
def report(ctx: Context, unit_code: str | None, district_code: str | None, start: str | None, end: str | None,
           quarter: str | None, month: str | None, year: str | None, field: str | None, channel: str | None,
           as_json: bool) -> None:
    """Báo cáo kết quả đánh giá của một đơn vị, hoặc xếp hạng các phường/xã của một quận/huyện."""
    if bool(unit_code) == bool(district_code):
        raise click.UsageError("Cần đúng một trong hai: --unit hoặc --district.")
    if district_code and ranking_filter(field, channel):
        raise click.UsageError("Bảng xếp hạng (--district) không lọc theo lĩnh vực hay kênh đánh giá: điểm theo "
                               "Thông tư 01/2018 tính trên mọi hồ sơ và mọi phiếu của đơn vị. Bỏ --field và "
                               "--channel, hoặc dùng --unit để xem báo cáo của một đơn vị theo lĩnh vực, kênh.")
    ctx.quiet = ctx.quiet or as_json  # machine-readable output: no database line on stderr
    settings = ctx.settings
    now = utcnow()
    try:
        period = parse_period(start=start, end=end, quarter=quarter, month=month, year=year,
                              today=local_date(now, settings.tz))
        with ctx.database.session() as session:
            unit = get_unit(session, unit_code or district_code or "")
            if district_code:
                data = district_ranking(session, ctx.catalogue(), unit, period, tz=settings.tz, now=now)
            else:
                data = unit_report(session, ctx.catalogue(), unit, period, tz=settings.tz, now=now, field=field,
                                   channel=channel)
    except PeriodError as exc:
        raise click.ClickException(str(exc)) from None
    except NotADistrict as exc:
        raise click.ClickException(f"{exc.message_vi} Dùng --unit {unit_code or district_code} để xem báo cáo của "
                                   "đơn vị này.") from None
    except UnknownUnit as exc:
        raise click.ClickException(exc.message_vi) from None
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    elif district_code:
        click.echo(ranking_text(data))
    else:
        click.echo(report_text(data))


def ranking_text(data: dict[str, Any]) -> str:
    code_w = max([len("Mã")] + [len(r["code"]) for r in data["units"]])
    name_w = max([len("Đơn vị")] + [len(r["name"]) for r in data["units"]])
    lines = [f"Xếp hạng theo Thông tư 01/2018/TT-VPCP: {data['district_name']}",
             f"Kỳ báo cáo {data['label']}", "",
             f"{'Hạng':>4}  {'Mã':<{code_w}}  {'Đơn vị':<{name_w}}  {'Tổng điểm':>9}  {'Số chỉ số':>11}  Xếp loại"]
    for row in data["units"]:
        rank = str(row["rank"]) if row["rank"] else "–"
        total = decimal_vi(row["total"], 1) if row["total"] is not None else "–"
        lines.append(f"{rank:>4}  {row['code']:<{code_w}}  {row['name']:<{name_w}}  {total:>9}  "
                     f"{row['coverage']:>11}  {row['class'] or row['class_reason_label']}")
    apart = [row for row in data["units"] if row["group"] == "incomplete"]
    if apart:
        lines += ["", "Đơn vị chưa đủ 9 chỉ số (không xếp loại, xếp riêng theo điểm trung bình mỗi chỉ số có dữ liệu):"]
        for row in apart:
            missing = "; ".join(f"chỉ số {m['index']}: {m['reason_label']}" for m in row["indices_missing"])
            lines.append(f"  {row['rank_apart']}. {row['name']}: {decimal_vi(row['mean_per_index'], 2)} điểm/chỉ số "
                         f"({row['coverage']}); thiếu {missing}")
    lines.append("")
    if data["highest"]:
        lines.append(f"Cao nhất: {data['highest']['name']} ({decimal_vi(data['highest']['total'], 1)} điểm)")
        lines.append(f"Thấp nhất: {data['lowest']['name']} ({decimal_vi(data['lowest']['total'], 1)} điểm)")
        lines.append(f"Điểm trung bình: {decimal_vi(data['average'], 1)} ({data['average_label']})")
    lines.append("Số đơn vị theo xếp loại: " + "; ".join(f"{k}: {v}" for k, v in data["count_per_class"].items()))
    return "\n".join(lines)


def _clip(text: str, limit: int) -> str:
    """Cut a long label at a word boundary, marked with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(" ,(") + "…"


FIELD_COLUMNS = (("received_total", "Nhận"), ("received_online", "T.tuyến"), ("received_direct_postal", "T.tiếp+BC"),
                 ("carried_over", "Kỳ trước"), ("resolved", "Đã GQ"), ("early", "Trước"), ("on_time", "Đúng"),
                 ("late", "Quá"), ("in_progress", "Đang GQ"), ("in_progress_on_time", "Trong hạn"),
                 ("in_progress_overdue", "Quá hạn"))
COLUMN_W = max(8, *(len(label) for _key, label in FIELD_COLUMNS))


def fields_text(rows: list[dict[str, Any]]) -> list[str]:
    """The Biểu II.06a table by field, in columns: received (online, in person and by post, carried over), resolved
    (early, on time, late), in progress (in time, overdue), and the on-time rate."""
    width = max([len("Lĩnh vực")] + [len(r["field"]) for r in rows])
    lines = [f"{'Lĩnh vực':<{width}}" + "".join(f" {label:>{COLUMN_W}}" for _key, label in FIELD_COLUMNS)
             + f"  {'Đúng hạn':>8}"]
    for row in rows:
        lines.append(f"{row['field']:<{width}}" + "".join(f" {number_vi(row[key]):>{COLUMN_W}}"
                                                          for key, _l in FIELD_COLUMNS)
                     + f"  {percent_vi(row['on_time_rate']):>8}")
    return lines


def report_text(data: dict[str, Any]) -> str:
    d = data["dossiers"]
    period = data["period"]
    filters = ([f"lĩnh vực: {period['field']}"] if period["field"] else []) + \
        ([f"kênh: {channel_label(period['channel'])}"] if period["channel"] else [])
    lines = [f"Báo cáo kết quả đánh giá: {data['unit_name']} ({data['unit']})", period["label"],
             # a field's or a channel's figures must not pass for the unit's (the dashboard's badges, the XLSX)
             *(["Đang lọc: " + "; ".join(filters)] if filters else []), "",
             "Hồ sơ:",
             f"  Tiếp nhận trong kỳ {number_vi(d['received'])} (trực tuyến {number_vi(d['received_online'])}, "
             f"trực tiếp và bưu chính {number_vi(d['received_direct_postal'])}); từ kỳ trước "
             f"{number_vi(d['carried_over'])}",
             f"  Đã giải quyết {number_vi(d['resolved'])}: trước hạn {number_vi(d['early'])}, đúng hạn "
             f"{number_vi(d['on_time'])}, quá hạn {number_vi(d['late'])}; "
             f"tỷ lệ đúng hạn {percent_vi(d['on_time_rate'])}",
             f"  Đang giải quyết {number_vi(d['in_progress'])} (quá hạn {number_vi(d['in_progress_overdue'])})", "",
             *fields_text(data["fields"]), ""]
    for instrument in data["instruments"]:
        lines.append(f"{instrument['label']} (phiên bản {instrument['version']}): {number_vi(instrument['responses'])}"
                     f" phiếu, tỷ lệ phản hồi {percent_vi(instrument['response_rate'])}")
        for criterion in instrument["criteria"]:
            parts = "; ".join(f"{o['label']} {number_vi(o['count'])} ({percent_vi(o['percent'])})"
                              for o in criterion["options"])
            flag = ", ít phiếu" if criterion["small_n"] and criterion["n"] else ""
            lines.append(f"  {_clip(criterion['short_label'], 60)} (n = {number_vi(criterion['n'])}{flag}): {parts}")
        lines.append("")
    scores = data["scores"]
    if scores["total"] is not None:
        indices = ", ".join(f"chỉ số {k}: {decimal_vi(v, 1)}" for k, v in scores["indices"].items())
        verdict = f"xếp loại {scores['class']}" if scores["class"] else f"{scores['class_reason_label']}, " \
            f"{scores['coverage']}, thiếu chỉ số " + ", ".join(str(m["index"]) for m in scores["indices_missing"])
        lines.append(f"Điểm TT 01/2018: {decimal_vi(scores['total'], 1)}/{number_vi(scores['max_total'])}, {verdict} "
                     f"({indices})")
        if scores.get("basis") == "pooled":  # a district's own score is no unit's (issue 11 §3)
            lines.append(f"  Cách tính: {scores['basis_label']}")
    else:
        lines.append("Điểm TT 01/2018: chưa có dữ liệu.")
    overall = data["overall"]
    interval = f", khoảng tin cậy 95%: {percent_vi(overall['ci95'][0])} – {percent_vi(overall['ci95'][1])}" \
        if overall["ci95"] else ""
    few = "; ít phiếu" if overall["small_n"] else ""
    lines.append(f"Tỷ lệ hài lòng chung: {percent_vi(overall['percent'])} "
                 f"(n = {number_vi(overall['answers'])} câu trả lời{interval}{few})")
    ratio = data["satisfaction_766"]  # with its n: (dossiers without a fault / all dossiers)
    lines.append(f"Tỷ lệ hài lòng theo QĐ 766: {percent_vi(ratio['percent'])} "
                 f"({number_vi(ratio['total_dossiers'] - ratio['unsatisfied_or_late'])}/"
                 f"{number_vi(ratio['total_dossiers'])} hồ sơ)")
    if ZALO_KEY in data:
        lines += ["", *zalo_rating_text(data[ZALO_KEY])]
    return "\n".join(lines)


COMMANDS: list[click.Command] = [report]

from aggregator.notices import cli as notices_cli  # noqa: E402  (the notice command lives with the notices)

COMMANDS += notices_cli.COMMANDS
