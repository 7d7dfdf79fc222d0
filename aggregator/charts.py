"""Server-side SVG charts (pure: report dicts in, SVG strings out), for pages and documents alike.

Colours go by an option's level (``sipas.levels``: the same as the kiosk and the phone): dark blue and
light blue for the two positive levels, burnt orange for the negative one, by points (by position when an
option has none); every text colour on a segment has a contrast ratio of at least 4.5:1 against it. A segment
narrower than its label shows no label; the legend and n are always drawn. A criterion's label wraps
between words onto as many lines as it needs (never cut mid-word: the chart goes into an official
notice). No script, no web font.
A criterion's percentages are the report's own (largest remainder, the figures of the tables), so a
chart never shows a number the tables do not. Documents ask for ``DOCUMENT_FONT`` (Liberation Serif,
metric-compatible with Times New Roman, with every Vietnamese letter).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from aggregator.labels import TIMELINESS_LABELS, number_vi, percent_vi
from aggregator.stats import largest_remainder
from sipas.levels import TONES, tone, tone_of

EMPTY = (TONES["na"].fill, TONES["na"].ink)
SCREEN_FONT = "Liberation Sans, Arial, sans-serif"
DOCUMENT_FONT = "Liberation Serif, Times New Roman, serif"
# N_W holds "n = 4.321.987" (a province's year) in the screen font: at 80 px a seven-digit n ran 2 px past the edge
LABEL_W, BAR_W, N_W, ROW_H, BAR_H = 280, 370, 90, 44, 22
LINE_H = 14  # a wrapped label's line height (12 px text)
LABEL_CHARS = 40  # what fits in LABEL_W at 12 px, with room for wide Vietnamese letters


def colours(position: int, points: Sequence[float | None] = ()) -> tuple[str, str]:
    """Fill and text colour of the option at ``position`` among options worth ``points`` (best first if none)."""
    own = points[position] if position < len(points) else None
    chosen = tone(tone_of(own, points or [None] * (position + 1), position))
    return chosen.fill, chosen.ink


def _wrap(text: str, width: int = LABEL_CHARS) -> list[str]:
    """Lines of at most ``width`` characters, broken between words only (a longer word keeps its line)."""
    return textwrap.wrap(text, width=width, break_long_words=False, break_on_hyphens=False) or [""]


def _points(options: Sequence[dict[str, Any]]) -> list[float | None]:
    return [o.get("points") for o in options]


def _legend(labels: Sequence[str], x: float, y: float,
            points: Sequence[float | None] = ()) -> tuple[list[str], float]:
    """Legend items laid out left to right, wrapping; returns the elements and the height used."""
    parts, cx, cy = [], x, y
    for position, label in enumerate(labels):
        width = 22 + 7 * len(label)
        if cx + width > LABEL_W + BAR_W + N_W and cx > x:
            cx, cy = x, cy + 20
        fill = colours(position, points)[0]
        parts.append(f'<rect x="{cx}" y="{cy}" width="14" height="14" fill="{fill}" stroke="#333"/>'
                     f'<text x="{cx + 19}" y="{cy + 12}" font-size="12" fill="#000">{escape(label)}</text>')
        cx += width + 14
    return parts, cy - y + 20


def _bar(counts: Sequence[int], x: float, y: float, width: float, height: float,
         shares: Sequence[float] | None = None, points: Sequence[float | None] = (),
         empty: str = "Chưa có câu trả lời") -> list[str]:
    """One 100 % bar; ``shares`` are the percentages to print (default: largest remainder of ``counts``);
    ``empty`` says what is missing when every count is 0."""
    total = sum(counts)
    if total == 0:
        fill, ink = EMPTY
        return [f'<rect x="{x}" y="{y}" width="{width}" height="{height}" fill="{fill}"/>',
                f'<text x="{x + width / 2}" y="{y + height / 2 + 4}" font-size="12" text-anchor="middle" '
                f'fill="{ink}">{escape(empty)}</text>']
    parts, cx = [], x
    printed = list(shares) if shares is not None else list(largest_remainder(counts))
    for position, (count, share) in enumerate(zip(counts, printed, strict=True)):
        segment = width * count / total
        if segment <= 0:
            continue
        fill, ink = colours(position, points)
        text = percent_vi(share)
        parts.append(f'<rect x="{cx:.2f}" y="{y}" width="{segment:.2f}" height="{height}" fill="{fill}">'
                     f'<title>{escape(text)} ({number_vi(count)})</title></rect>')
        if segment >= 7 * len(text) + 6:
            parts.append(f'<text x="{cx + segment / 2:.2f}" y="{y + height / 2 + 4}" font-size="12" '
                         f'text-anchor="middle" fill="{ink}">{escape(text)}</text>')
        cx += segment
    return parts


def _svg(body: list[str], height: float, title: str, font: str = SCREEN_FONT) -> str:
    width = LABEL_W + BAR_W + N_W
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" '
            f'viewBox="0 0 {width} {height:.0f}" role="img" aria-label={quoteattr(title)} '
            f'font-family={quoteattr(font)}>'
            f'<title>{escape(title)}</title>' + "".join(body) + "</svg>")


def _shares(options: Sequence[dict[str, Any]]) -> list[float] | None:
    values = [o.get("percent") for o in options]
    return None if any(v is None for v in values) else [float(v) for v in values]  # type: ignore[arg-type]


def criteria_chart(instrument: dict[str, Any], font: str = SCREEN_FONT) -> str:
    """One 100 % stacked bar per criterion, split by option, with n at the right."""
    criteria = instrument["criteria"]
    common = [o["label"] for o in criteria[0]["options"]] if criteria else []
    body, legend_h = _legend(common, 0, 4, _points(criteria[0]["options"]) if criteria else ())
    y = legend_h + 10
    for number, criterion in enumerate(criteria, start=1):
        label = f"{number}. {criterion.get('short_label') or criterion['label']}"
        lines = _wrap(label)
        # The label wraps at word boundaries (an official document never cuts a word); the bar sits by its first line.
        first = y + BAR_H / 2 + 4 - (LINE_H / 2 if len(lines) > 1 else 0)
        spans = "".join(f'<tspan x="0" y="{first + i * LINE_H:.1f}">{escape(line)}</tspan>'
                        for i, line in enumerate(lines))
        body.append(f'<g><title>{escape(criterion["label"])}</title>'
                    f'<text class="label" font-size="12" fill="#000">{spans}</text></g>')
        options = criterion["options"]
        body.extend(_bar([o["count"] for o in options], LABEL_W, y, BAR_W, BAR_H, _shares(options), _points(options)))
        body.append(f'<text x="{LABEL_W + BAR_W + 8}" y="{y + BAR_H / 2 + 4}" font-size="12" fill="#000">'
                    f'n = {number_vi(criterion["n"])}</text>')
        y += max(ROW_H, first - y + (len(lines) - 1) * LINE_H + 16) - 10
        own = [o["label"] for o in criterion["options"]]
        if own != common:
            parts, height = _legend(own, LABEL_W, y, _points(options))
            body.extend(parts)
            y += height
        y += 10
    return _svg(body, y, f"Kết quả theo tiêu chí: {instrument.get('label') or instrument['code']}", font)


def timeliness_chart(dossiers: dict[str, Any]) -> str:
    """Resolved dossiers split early / on time / late, with n."""
    keys = ("early", "on_time", "late")
    body, legend_h = _legend([TIMELINESS_LABELS[k] for k in keys], 0, 4)
    y = legend_h + 10
    body.append(f'<text x="0" y="{y + BAR_H / 2 + 4}" font-size="12" fill="#000">Hồ sơ đã giải quyết</text>')
    body.extend(_bar([dossiers[k] for k in keys], LABEL_W, y, BAR_W, BAR_H, empty="Chưa có hồ sơ giải quyết xong"))
    body.append(f'<text x="{LABEL_W + BAR_W + 8}" y="{y + BAR_H / 2 + 4}" font-size="12" fill="#000">'
                f'n = {number_vi(dossiers["resolved"])}</text>')
    return _svg(body, y + ROW_H, "Tiến độ giải quyết hồ sơ")
