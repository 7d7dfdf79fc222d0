"""SVG of the satisfaction trend: the rate as a line, its 95 % Wilson interval as a shaded band (pure).

Each quarter is labelled with its rate and n; "ít phiếu" under fewer than 30 answers; a quarter
without answers is a gap marked "chưa có phiếu", never a point at 0 %.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from aggregator.charts import SCREEN_FONT
from aggregator.labels import number_vi, percent_vi

WIDTH, HEIGHT, LEFT, TOP, PLOT_H = 740, 300, 60, 20, 200
LINE, BAND = "#1b5e20", "#c8e6c9"
RIGHT = 60  # room right of the last quarter for half its label
CHAR_WIDTH = 7.0  # px per character of a 12 px label, a little above the widest of these labels' average (~6.1)


def _y(percent: float) -> float:
    return TOP + PLOT_H * (1 - percent / 100)


def _label_x(x: float, label: str) -> float:
    """Where a label centred under the point at ``x`` is drawn: under it, or moved in just enough to stay inside
    the chart (the last quarter's "96,55% (n = 1.797)" ran past the right edge and was cut off)."""
    half = len(label) * CHAR_WIDTH / 2
    return min(max(x, half + 2), WIDTH - 2 - half)


def trend_chart(points: Sequence[dict[str, Any]], font: str = SCREEN_FONT) -> str:
    """The chart of ``aggregator.trend.satisfaction_trend`` points."""
    step = (WIDTH - LEFT - 20 - RIGHT) / max(len(points) - 1, 1)
    xs = [LEFT + 20 + i * step for i in range(len(points))]
    body = []
    for tick in (0, 25, 50, 75, 100):
        body.append(f'<line x1="{LEFT}" y1="{_y(tick):.1f}" x2="{WIDTH - 10}" y2="{_y(tick):.1f}" stroke="#d0d7de"/>'
                    f'<text x="{LEFT - 8}" y="{_y(tick) + 4:.1f}" font-size="12" text-anchor="end" '
                    f'fill="#000">{tick}%</text>')
    for run in _runs(points):  # the band and the line are drawn over consecutive quarters with answers
        upper = [f"{xs[i]:.1f},{_y(points[i]['ci95'][1]):.1f}" for i in run]
        lower = [f"{xs[i]:.1f},{_y(points[i]['ci95'][0]):.1f}" for i in reversed(run)]
        body.append(f'<polygon points="{" ".join(upper + lower)}" fill="{BAND}" stroke="none"/>')
        line = " ".join(f"{xs[i]:.1f},{_y(points[i]['percent']):.1f}" for i in run)
        body.append(f'<polyline points="{line}" fill="none" stroke="{LINE}" stroke-width="2"/>')
    for x, point in zip(xs, points, strict=True):
        base = TOP + PLOT_H
        body.append(f'<text x="{_label_x(x, point["label"]):.1f}" y="{base + 20}" font-size="12" '
                    f'text-anchor="middle" fill="#000">{escape(point["label"])}</text>')
        if point["percent"] is None:
            body.append(f'<text x="{_label_x(x, "chưa có phiếu"):.1f}" y="{base + 36}" font-size="12" '
                        'text-anchor="middle" fill="#57606a">chưa có phiếu</text>')
            continue
        low, high = point["ci95"]
        title = (f"{point['label']}: {percent_vi(point['percent'])}, khoảng tin cậy 95% {percent_vi(low)} – "
                 f"{percent_vi(high)}, n = {number_vi(point['answers'])}")
        body.append(f'<line x1="{x:.1f}" y1="{_y(low):.1f}" x2="{x:.1f}" y2="{_y(high):.1f}" stroke="{LINE}" '
                    'stroke-width="1" stroke-dasharray="3 2"/>')
        body.append(f'<circle cx="{x:.1f}" cy="{_y(point["percent"]):.1f}" r="4" fill="{LINE}">'
                    f'<title>{escape(title)}</title></circle>')
        figure = f'{percent_vi(point["percent"])} (n = {number_vi(point["answers"])})'
        body.append(f'<text x="{_label_x(x, figure):.1f}" y="{base + 36}" font-size="12" text-anchor="middle" '
                    f'fill="#000">{escape(figure)}</text>')
        if point["small_n"]:
            body.append(f'<text x="{_label_x(x, "ít phiếu"):.1f}" y="{base + 52}" font-size="12" '
                        'text-anchor="middle" fill="#8a4b00">ít phiếu</text>')
    body.append(f'<rect x="{LEFT}" y="{HEIGHT - 22}" width="14" height="10" fill="{BAND}"/>'
                f'<text x="{LEFT + 20}" y="{HEIGHT - 13}" font-size="12" fill="#000">khoảng tin cậy 95% (Wilson)</text>'
                f'<line x1="{LEFT + 230}" y1="{HEIGHT - 17}" x2="{LEFT + 250}" y2="{HEIGHT - 17}" stroke="{LINE}" '
                f'stroke-width="2"/><text x="{LEFT + 256}" y="{HEIGHT - 13}" font-size="12" fill="#000">'
                'tỷ lệ hài lòng chung</text>')
    title = "Tỷ lệ hài lòng chung theo quý, với khoảng tin cậy 95%"
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}"'
            f' role="img" aria-label={quoteattr(title)} font-family={quoteattr(font)}><title>{escape(title)}</title>'
            + "".join(body) + "</svg>")


def _runs(points: Sequence[dict[str, Any]]) -> list[list[int]]:
    """Indices of consecutive points that have a rate (a quarter without answers breaks the band)."""
    runs: list[list[int]] = []
    current: list[int] = []
    for i, point in enumerate(points):
        if point["percent"] is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(i)
    if current:
        runs.append(current)
    return runs
