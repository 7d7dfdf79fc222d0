"""The three answer levels look the same everywhere and stay apart for colour-blind citizens and clerks.

Plain math, no browser: the colours are read from the kiosk/phone stylesheet and from ``sipas.levels`` (the
charts and the notice), WCAG 2 contrast ratios are computed for each text colour on its fill, and the fills
are compared in CIELAB after simulating deuteranopia, protanopia and tritanopia (Machado, Oliveira and
Fernandes 2009, severity 1, in linear RGB).
"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from aggregator import charts
from sipas.levels import LEVELS, TONES

ROOT = Path(__file__).resolve().parents[1]
CSS = ROOT / "kiosk" / "static" / "kiosk" / "rating.css"
FLOW = ROOT / "kiosk" / "static" / "kiosk" / "rating-flow.js"
SIMULATIONS = {
    "normal": None,
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413), (-0.011820, 0.042940, 0.968881)),
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216), (-0.003882, -0.048116, 1.051998)),
    "tritanopia": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602), (0.004733, 0.691367, 0.303900)),
}
MIN_DELTA_E = 20.0  # CIE76; about 2.3 is a just-noticeable difference: 20 is plainly different at a glance


def _linear(hex_colour: str) -> tuple[float, float, float]:
    values = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in values)
    return r, g, b


def _luminance(hex_colour: str) -> float:
    r, g, b = _linear(hex_colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def lab(hex_colour: str, simulation: str = "normal") -> tuple[float, float, float]:
    rgb = _linear(hex_colour)
    matrix = SIMULATIONS[simulation]
    if matrix is not None:
        rgb = tuple(min(1.0, max(0.0, sum(m * c for m, c in zip(row, rgb, strict=True)))) for row in matrix)
    r, g, b = rgb
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def css_levels() -> dict[str, tuple[str, str]]:
    text = CSS.read_text(encoding="utf-8")
    found = {}
    for level in (*LEVELS, "na"):
        fill = re.search(rf"--rf-{level}:\s*(#[0-9a-fA-F]{{6}})", text)
        ink = re.search(rf"--rf-{level}-text:\s*(#[0-9a-fA-F]{{6}})", text)
        assert fill and ink, f"--rf-{level} / --rf-{level}-text not found as #rrggbb in {CSS.name}"
        found[level] = (fill.group(1).lower(), ink.group(1).lower())
    return found


def test_the_kiosk_and_phone_use_the_same_level_colours_as_the_charts_and_notice():
    assert css_levels() == {level: (tone.fill, tone.ink) for level, tone in TONES.items()}


@pytest.mark.parametrize("level", [*LEVELS, "na"])
def test_every_level_label_reads_at_wcag_aa_contrast_on_its_colour(level):
    fill, ink = css_levels()[level]
    assert contrast(fill, ink) >= 4.5, (level, fill, ink, round(contrast(fill, ink), 2))


@pytest.mark.parametrize("simulation", list(SIMULATIONS))
def test_the_three_levels_stay_apart_under_colour_vision_deficiencies(simulation):
    fills = {level: css_levels()[level][0] for level in LEVELS}
    for a, b in itertools.combinations(LEVELS, 2):
        distance = sum((p - q) ** 2 for p, q in zip(lab(fills[a], simulation), lab(fills[b], simulation),
                                                    strict=True)) ** 0.5
        assert distance >= MIN_DELTA_E, (simulation, a, b, round(distance, 1))


@pytest.mark.parametrize("simulation", ["normal", "deuteranopia", "protanopia"])
def test_positive_levels_share_a_cool_hue_and_the_negative_one_is_warm(simulation):
    """Positive, positive, negative: the two positives on the blue side (b* < 0), the negative on the yellow
    side (b* > 0), an axis red-green colour blindness keeps."""
    fills = {level: css_levels()[level][0] for level in LEVELS}
    assert lab(fills["good"], simulation)[2] < 0 and lab(fills["mid"], simulation)[2] < 0
    assert lab(fills["bad"], simulation)[2] > 0


def _mouth_bend(path: str) -> float:
    """How far a face's mouth curve bends down (y grows downwards in SVG: a smile is positive, a line 0)."""
    if "c" not in path:
        return 0.0
    numbers = [float(n) for n in re.findall(r"-?[\d.]+", path.split("c", 1)[1])]
    return (numbers[1] + numbers[3]) / 2  # the two control points' dy, relative to the start


def test_both_positive_faces_smile_and_the_negative_face_frowns():
    mouths = dict(re.findall(r'(\w+): "(M[^"]+)"', re.search(r"const MOUTHS = \{([^}]+)\}", FLOW.read_text()).group(1)))
    assert _mouth_bend(mouths["good"]) > 0 and _mouth_bend(mouths["mid"]) > 0  # no flat mouth on "Hài lòng"
    assert _mouth_bend(mouths["bad"]) < 0


def test_charts_colour_options_by_level_not_by_position():
    reversed_order = {"label": "Bộ", "criteria": [
        {"label": "A", "short_label": "A", "n": 3, "options": [
            {"label": "Không hài lòng", "points": 0, "count": 1}, {"label": "Hài lòng", "points": 1, "count": 1},
            {"label": "Rất hài lòng", "points": 2, "count": 1}]}]}
    svg = charts.criteria_chart(reversed_order)
    rects = [r for r in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}rect") if r.find(
        "{http://www.w3.org/2000/svg}title") is not None]
    assert [r.get("fill") for r in rects] == [TONES["bad"].fill, TONES["mid"].fill, TONES["good"].fill]
    timeliness = charts.timeliness_chart({"early": 1, "on_time": 1, "late": 1, "resolved": 3})
    assert [TONES[level].fill in timeliness for level in LEVELS] == [True, True, True]


def test_chart_labels_wrap_between_words_and_are_never_cut():
    label = ("Thời gian trả kết quả thủ tục hành chính so với thời gian cho phép theo quy định của pháp luật "
             "và mức độ hài lòng của người dân")
    chart = charts.criteria_chart({"label": "Bộ", "criteria": [
        {"label": label, "short_label": label, "n": 2, "options": [
            {"label": "Rất hài lòng", "points": 2, "count": 1}, {"label": "Hài lòng", "points": 1, "count": 1},
            {"label": "Không hài lòng", "points": 0, "count": 0}]},
        {"label": "Ngắn", "short_label": "Ngắn", "n": 1, "options": [
            {"label": "Rất hài lòng", "points": 2, "count": 1}, {"label": "Hài lòng", "points": 1, "count": 0},
            {"label": "Không hài lòng", "points": 0, "count": 0}]}]})
    svg = "{http://www.w3.org/2000/svg}"
    root = ET.fromstring(chart)
    first, second = [t for t in root.iter(f"{svg}text") if t.get("class") == "label"]
    lines = [span.text for span in first.iter(f"{svg}tspan")]
    assert len(lines) > 1 and " ".join(lines) == f"1. {label}"  # every word whole, nothing dropped
    assert all(len(line) <= charts.LABEL_CHARS for line in lines) and "…" not in chart
    last_line_y = float(list(first.iter(f"{svg}tspan"))[-1].get("y"))
    assert float(next(second.iter(f"{svg}tspan")).get("y")) > last_line_y + charts.LINE_H  # rows never overlap
