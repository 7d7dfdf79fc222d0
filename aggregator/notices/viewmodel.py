"""The notice view-model: every string the DOCX, PDF and HTML show is formatted here, once.

Input: a report dict (``aggregator.report.build_report`` or a frozen copy), the unit, the editable
template, the number (``None`` for a draft) and the issue date. Renderers only lay these strings out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from aggregator import charts, stats
from aggregator.notices import report_keys as rk
from aggregator.notices.template import NoticeTemplate, fill
from aggregator.notices.vnformat import date_short, date_words, decimal, number, percent, period_dates, period_words
from sipas.models import Unit

NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
COMMITTEE = "ỦY BAN NHÂN DÂN"
DRAFT_MARK = "DỰ THẢO"
HEADINGS = {
    "dossiers": "1. Tình hình tiếp nhận, giải quyết hồ sơ thủ tục hành chính",
    "ballots": "2. Kết quả thu thập ý kiến đánh giá",
    "criteria": "3. Kết quả đánh giá theo từng tiêu chí",
    "overall": "4. Mức độ hài lòng chung",
}
SMALL_N_MARK = "ít phiếu (*)"
LEGAL_INDEX_FORM = "tt01_2018"  # the form of TT 01/2018's indices (domain notes §2.3)
SMALL_N_FOOTNOTE = (f"(*) Ít phiếu: tiêu chí có dưới {stats.SMALL_N} phiếu trả lời; tỷ lệ chỉ có giá trị tham khảo "
                    "vì sai số lớn (với 10 phiếu, tỷ lệ 50% có khoảng tin cậy 95% từ 23,66% đến 76,34%).")
FIELD_COLUMNS = ("received_total", "received_online", "received_direct", "carried_over", "resolved", "early",
                 "on_time", "late", "in_progress", "in_progress_in_time", "in_progress_overdue")

PLACEHOLDERS = {
    "committee": "“Ủy ban nhân dân phường …” (đầu câu)",
    "unit_name": "tên đơn vị, ví dụ “Phường Phú Hội”",
    "unit_name_lower": "tên đơn vị viết thường chữ đầu, ví dụ “phường Phú Hội”",
    "parent_name": "tên đơn vị cấp trên, ví dụ “quận Thuận Hóa” (không có cấp trên: bỏ dòng nơi nhận dùng trường này)",
    "period_words": "kỳ báo cáo bằng chữ, ví dụ “quý I năm 2023”",
    "period_dates": "“từ ngày 01/01/2023 đến ngày 31/3/2023”",
    "legal_basis": "căn cứ pháp lý theo ngày cuối kỳ (tệp cấu hình)",
    "counter_name": "tên bộ phận một cửa theo ngày cuối kỳ: “Bộ phận Một cửa”, từ 01/7/2025 “Trung tâm Phục vụ hành "
                    "chính công”",
    "received_total": "tổng số hồ sơ (mới và từ kỳ trước)",
    "received": "số hồ sơ tiếp nhận mới trong kỳ",
    "received_online": "tiếp nhận trực tuyến",
    "received_direct": "tiếp nhận trực tiếp và qua bưu chính",
    "carried_over": "từ kỳ trước chuyển sang",
    "resolved": "đã giải quyết",
    "early": "trước hạn", "on_time": "đúng hạn", "late": "quá hạn",
    "on_time_rate": "tỷ lệ giải quyết đúng hạn, ví dụ “98,53%”",
    "in_progress": "đang giải quyết", "in_progress_in_time": "đang giải quyết trong hạn",
    "in_progress_overdue": "đang giải quyết quá hạn",
    "responses": "tổng số phiếu đánh giá",
    "response_rate": "tỷ lệ hồ sơ được đánh giá",
    "channels": "số phiếu theo kênh",
    "paper_ballots": "câu về phiếu giấy phát ra / thu vào (kỳ không trọn quý: chỉ số thu vào và lý do)",
    "overall_satisfaction": "tỷ lệ hài lòng chung",
    "satisfaction_766": "tỷ lệ hài lòng theo QĐ 766/QĐ-TTg",
    "scores": "câu về điểm và xếp loại theo TT 01/2018 (trống khi chưa có)",
    "public_url": "địa chỉ trang công khai kết quả",
}


@dataclass(frozen=True)
class CriterionRow:
    index: str
    label: str
    n: str
    cells: tuple[str, ...]
    line: str


@dataclass(frozen=True)
class InstrumentBlock:
    code: str
    heading: str
    columns: tuple[str, ...]
    rows: tuple[CriterionRow, ...]
    chart_title: str = ""
    chart_svg: str = ""  # the per-criterion stacked bars; "" in notices issued before charts were added
    footnote: str = ""  # "(*) Ít phiếu: …" when a criterion has fewer than 30 answers; "" in older notices


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: tuple[str, ...]
    bullets: tuple[str, ...] = ()
    instruments: tuple[InstrumentBlock, ...] = ()


@dataclass(frozen=True)
class NoticeView:
    draft: bool
    body_lines: tuple[str, ...]
    number_line: str
    number_label: str
    date_line: str
    title: str
    summary: str
    opening: str
    sections: tuple[Section, ...]
    closing: str
    authority: str
    signatory_title: str
    signatory_name: str
    recipients: tuple[str, ...]
    annex_title: str
    annex_subtitle: str
    instruments: tuple[InstrumentBlock, ...]
    field_rows: tuple[tuple[str, ...], ...]
    public_url: str
    unit_name: str
    period_words: str
    nation: str = NATION
    motto: str = MOTTO
    draft_mark: str = DRAFT_MARK
    values: dict[str, str] = field(default_factory=dict)


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text else text


def body_lines(unit: Unit) -> tuple[str, ...]:
    """The issuing body in capitals: ("ỦY BAN NHÂN DÂN", "PHƯỜNG PHÚ HỘI")."""
    body = (unit.issuing_body or unit.name).strip().upper()
    if "\n" in body:
        return tuple(line.strip() for line in body.splitlines() if line.strip())
    if body.startswith(COMMITTEE):
        rest = body[len(COMMITTEE):].strip()
        return (COMMITTEE, rest) if rest else (COMMITTEE,)
    return (COMMITTEE, body)


NO_DATA = "– (không có số liệu)"


def rate(value: float | None) -> str:
    return NO_DATA if value is None else percent(value)


def rate_of(value: float | None, part: int | None, whole: int | None, what: str, *, small: bool = False) -> str:
    """A rate with its n beside it (domain notes §3): ``98,53% (1.271/1.290 hồ sơ)``; a rate over few answers says
    so. Without the counts (a report frozen before they were kept) the rate alone."""
    if value is None or part is None or not whole:
        return rate(value)
    caveat = "; ít phiếu, tỷ lệ chỉ có giá trị tham khảo" if small else ""
    return f"{percent(value)} ({number(part)}/{number(whole)} {what}{caveat})"


def placeholder_values(report: dict[str, Any], unit: Unit, template: NoticeTemplate, *,
                       public_url: str, parent_name: str) -> dict[str, str]:
    """Every ``{name}`` a wording may use, already formatted."""
    start, end = rk.period(report)
    dossiers = rk.dossiers(report)
    paper = rk.paper_ballots(report)
    responses = rk.total_responses(report)
    overall, ratio_766 = report.get("overall") or {}, report.get("satisfaction_766") or {}
    values = {
        "unit_name": unit.name, "unit_name_lower": lower_first(unit.name),
        "committee": "Ủy ban nhân dân " + lower_first(unit.name),
        "parent_name": lower_first(parent_name),
        "period_words": period_words(start, end), "period_dates": period_dates(start, end),
        "legal_basis": template.legal_basis_on(end), "counter_name": template.counter_name_on(end),
        "on_time_rate": rate_of(dossiers.get("on_time_rate"), _sum(dossiers.get("early"), dossiers.get("on_time")),
                                dossiers.get("resolved"), "hồ sơ"),
        "responses": number(responses),
        "response_rate": rate_of(rk.response_rate(report, responses, dossiers.get("resolved")),
                                 dossiers.get("rated"), dossiers.get("resolved"), "hồ sơ"),
        "channels": "; ".join(f"{label}: {number(count)}" for label, count in rk.channels(report)) or "không có",
        "paper_ballots": paper_sentence(*paper),
        "overall_satisfaction": rate_of(rk.overall_percent(report), overall.get("satisfied"), overall.get("answers"),
                                        "câu trả lời", small=bool(overall.get("small_n"))),
        "satisfaction_766": rate_of(rk.satisfaction_766(report), _difference(ratio_766.get("total_dossiers"),
                                                                             ratio_766.get("unsatisfied_or_late")),
                                    ratio_766.get("total_dossiers"), "hồ sơ"),
        "scores": scores_sentence(report),
        "public_url": public_url,
    }
    for key in (*FIELD_COLUMNS, "received"):
        values[key] = number(dossiers.get(key))
    return values


def _sum(*values: int | None) -> int | None:
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def _difference(whole: int | None, part: int | None) -> int | None:
    return None if whole is None or part is None else whole - part


def paper_sentence(handed_out: int, returned: int, note: str) -> str:
    """Handed out and returned; without an honest handed-out figure, returned and the reason."""
    if handed_out:
        return f"Phiếu đánh giá bằng giấy: phát ra {number(handed_out)} phiếu, thu vào {number(returned)} phiếu."
    if note:
        return f"Phiếu đánh giá bằng giấy: thu vào {number(returned)} phiếu; {note}."
    return ""


def scores_sentence(report: dict[str, Any]) -> str:
    scores = report.get("scores") or {}
    if scores.get("total") is None or not scores.get("indices"):
        return ""
    ordered = sorted(scores["indices"].items(), key=lambda item: int(item[0]))
    indices = "; ".join(f"chỉ số {k}: {decimal(v)}" for k, v in ordered)
    maximum = number(scores.get("max_total") or 18)
    if scores.get("class"):
        verdict = f"xếp loại {scores['class']}"
    else:  # issue 11 §3: a partial total is never classed as if the missing indices scored 0
        missing = ", ".join(str(m["index"]) for m in scores.get("indices_missing", []))
        verdict = f"chưa đủ dữ liệu xếp loại ({scores.get('coverage', '')}; thiếu chỉ số {missing})"
    # a district's figures pool every dossier and answer of its units: labelled, never read as a unit's (issue 11 §3)
    basis = f" Cách tính: {scores['basis_label']}." if scores.get("basis") == "pooled" and scores.get("basis_label") \
        else ""
    return (f"Điểm đánh giá theo Thông tư số 01/2018/TT-VPCP đạt {decimal(scores['total'])}/{maximum} điểm ({indices}),"
            f" {verdict}.{basis}")


def instrument_blocks(report: dict[str, Any]) -> tuple[InstrumentBlock, ...]:
    blocks = []
    for letter, instrument in zip("abcdefgh", [i for i in report.get("instruments", []) if i.get("responses")],
                                  strict=False):
        labels = [tuple(o["label"] for o in c.get("options", [])) for c in instrument.get("criteria", [])]
        uniform = len(set(labels)) == 1
        width = max((len(x) for x in labels), default=0)
        columns = labels[0] if uniform and labels else tuple(f"Mức {i + 1}" for i in range(width))
        rows, flagged = [], False
        # TT 01/2018's own form names its questions by their legal numbers (chỉ số 1, 3, 4, 7), which the scores
        # sentence cites too; numbering them 1-4 made "Tiêu chí 4" and "chỉ số 4" two different questions
        legal = instrument.get("code") == LEGAL_INDEX_FORM
        for position, criterion in enumerate(instrument.get("criteria", []), start=1):
            if legal and criterion.get("tt01_index"):
                position = int(criterion["tt01_index"])
            options = criterion.get("options", [])
            n = int(criterion.get("n") or 0)
            small = n > 0 and bool(criterion.get("small_n", stats.is_small_n(n)))
            flagged = flagged or small
            parts = [f"{o['label']} {number(o['count'])} phiếu ({percent(o['percent'])})" for o in options]
            cells = tuple(("" if uniform else o["label"] + ": ") + f"{percent(o['percent'])} ({number(o['count'])})"
                          if n else "–" for o in options)
            cells += ("",) * (len(columns) - len(cells))
            detail = "; ".join(parts) if n else "chưa có phiếu trả lời"
            mark = f" – {SMALL_N_MARK}" if small else ""
            word = "Chỉ số" if legal else "Tiêu chí"
            line = f"{word} {position}. {criterion['label']} ({number(n)} phiếu trả lời{mark}): {detail}."
            rows.append(CriterionRow(str(position), criterion["label"], number(n) + (" (*)" if small else ""), cells,
                                     line))
        name = instrument.get("label") or instrument["code"]
        heading = f"{letter}) {name}: {number(instrument['responses'])} phiếu"
        title = f"Biểu đồ {len(blocks) + 1}. Tỷ lệ các mức đánh giá theo từng tiêu chí – {name}"
        svg = charts.criteria_chart(instrument, font=charts.DOCUMENT_FONT) if instrument.get("criteria") else ""
        blocks.append(InstrumentBlock(instrument["code"], heading, tuple(columns), tuple(rows), title if svg else "",
                                      svg, SMALL_N_FOOTNOTE if flagged else ""))
    return tuple(blocks)


def field_rows(report: dict[str, Any]) -> tuple[tuple[str, ...], ...]:
    """The Biểu II.06a rows, one per field; the last row is the total."""
    rows = [(str(i), row.get("field") or "Chưa phân loại", *(number(row.get(k)) for k in FIELD_COLUMNS))
            for i, row in enumerate(rk.fields(report), start=1)]
    total = rk.dossiers(report)
    rows.append(("", "Tổng cộng", *(number(total.get(k)) for k in FIELD_COLUMNS)))
    return tuple(rows)


def dates_once(text: str, values: dict[str, str]) -> str:
    """A period without a name (15/12–06/3) is written by its dates alone: "{period_words} ({period_dates})" would
    print them twice, "từ ngày 15/12/2025 đến ngày 06/3/2026 (từ ngày 15/12/2025 đến ngày 06/3/2026)"."""
    words, dates = values["period_words"], values["period_dates"]
    return text.replace(f"{words} ({dates})", words) if words == dates else text


def recipients_lines(template: NoticeTemplate, values: dict[str, str]) -> tuple[str, ...]:
    usable = [r for r in template.recipients if r.strip() and (values["parent_name"] or "{parent_name}" not in r)]
    lines = [f"- {fill(r, values).rstrip(';. ')};" for r in usable]  # no parent: its line is left out
    lines.append(f"- {fill(template.archive, values).rstrip(';. ')}.")
    return tuple(lines)


def build_view(report: dict[str, Any], unit: Unit, template: NoticeTemplate, *, number_: int | None,
               issue_date: date, public_url: str, parent_name: str = "", replaces: str = "") -> NoticeView:
    """Everything the notice shows; ``number_=None`` makes a draft (no number, marked DỰ THẢO).

    ``replaces`` names the notice a correction replaces, e.g. "số 02/TB-UBND ngày 06/3/2023".
    """
    values = placeholder_values(report, unit, template, public_url=public_url, parent_name=parent_name)
    paragraphs = {key: dates_once(fill(text, values), values).strip() for key, text in template.paragraphs.items()}
    instruments = instrument_blocks(report)
    sections = (
        Section(HEADINGS["dossiers"], (paragraphs["dossiers"],)),
        Section(HEADINGS["ballots"], (paragraphs["ballots"],)),
        Section(HEADINGS["criteria"], (paragraphs["criteria"],), instruments=instruments,
                bullets=() if instruments else ("Chưa có phiếu đánh giá trong kỳ.",)),
        Section(HEADINGS["overall"], (paragraphs["overall"],)),
    )
    label = f"{number_:02d}/{template.number_suffix}" if number_ is not None else f"     /{template.number_suffix}"
    place = unit.place_name or unit.name
    committee_short = "UBND " + lower_first(unit.name)
    number_ref = f"số {label}" if number_ is not None else "(dự thảo)"
    return NoticeView(
        draft=number_ is None, body_lines=body_lines(unit), number_line=f"Số: {label}", number_label=label,
        date_line=f"{place}, {date_words(issue_date)}", title=template.title,
        summary=dates_once(fill(template.summary, values), values), opening=paragraphs["opening"], sections=sections,
        closing=paragraphs["closing"] + (f" Thông báo này thay thế Thông báo {replaces}." if replaces else ""),
        authority=template.authority.upper(),
        signatory_title=template.signatory_title.upper(), signatory_name=template.signatory_name,
        recipients=recipients_lines(template, values), annex_title="PHỤ LỤC",
        annex_subtitle="\u00a0".join(  # a no-break space before the last word: "Hội)" never alone on a line
            f"(Kèm theo Thông báo {number_ref} ngày {date_short(issue_date)} của {committee_short})".rsplit(" ", 1)),
        instruments=instruments, field_rows=field_rows(report), public_url=public_url, unit_name=unit.name,
        period_words=values["period_words"], values=values,
    )


def view_from_dict(data: dict[str, Any]) -> NoticeView:
    """Rebuild a view stored with ``dataclasses.asdict`` (JSON turns tuples into lists)."""
    def block(item: dict[str, Any]) -> InstrumentBlock:
        rows = tuple(CriterionRow(r["index"], r["label"], r["n"], tuple(r["cells"]), r["line"]) for r in item["rows"])
        return InstrumentBlock(item["code"], item["heading"], tuple(item["columns"]), rows,
                               item.get("chart_title", ""), item.get("chart_svg", ""), item.get("footnote", ""))

    sections = tuple(Section(s["heading"], tuple(s["paragraphs"]), tuple(s.get("bullets", ())),
                             tuple(block(b) for b in s.get("instruments", ()))) for s in data["sections"])
    simple = {k: v for k, v in data.items() if k not in ("sections", "instruments", "field_rows")}
    for key, value in simple.items():
        if isinstance(value, list):
            simple[key] = tuple(value)
    return NoticeView(**simple, sections=sections, instruments=tuple(block(b) for b in data["instruments"]),
                      field_rows=tuple(tuple(r) for r in data["field_rows"]))
