"""One visual language for an answer's level, everywhere a citizen or a clerk sees it.

Kiosk and phone faces and chips (``kiosk/static/kiosk/rating.css``, ``--rf-good`` …), the dashboard charts and
the notice's charts (``aggregator/charts.py``) all take their colours from here. Of the three levels two are
positive and one negative ("Rất hài lòng", "Hài lòng", "Không hài lòng"): the positive ones are two blues
(dark, light) with smiling faces, the negative one is a burnt orange with a frown. Blue against orange stays
apart for red-green colour blindness (deuteranopia, protanopia) and the blues differ in lightness;
``tests/test_levels_palette.py`` checks the contrast of every text colour on its fill (WCAG ≥ 4.5:1) and the
distances under simulated colour-vision deficiencies, computed from the CSS file itself.

A level goes by points, as the kiosk's ``toneOf`` does: the best option is "good", the worst "bad", any
between "mid" (positive); an option with no points (a count with no order) falls back to its position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Tone:
    fill: str
    ink: str  # text drawn on the fill


TONES: dict[str, Tone] = {
    "good": Tone("#17447e", "#ffffff"),  # positive, strong: dark blue
    "mid": Tone("#8ec3ea", "#1f1f1f"),  # positive: light blue
    "bad": Tone("#b35400", "#ffffff"),  # negative: burnt orange
    "na": Tone("#e3e6ea", "#1f1f1f"),  # not applicable / no answer: grey
}
LEVELS = ("good", "mid", "bad")
# Positions past three (an option set with more answers): still apart from the three levels.
EXTRA = (Tone("#5d4037", "#ffffff"), Tone("#fbc02d", "#000000"))


def tone_of(points: float | None, all_points: Sequence[float | None], position: int) -> str:
    """The level of one option among its criterion's options (see the module docstring)."""
    known = [p for p in all_points if p is not None]
    if points is None or len(known) != len(all_points) or len(set(known)) < 2:
        return LEVELS[position] if position < len(LEVELS) else f"extra{position - len(LEVELS)}"
    if points == max(known):
        return "good"
    if points == min(known):
        return "bad"
    return "mid"


def tone(name: str) -> Tone:
    """The colours of a level name from ``tone_of``."""
    if name.startswith("extra"):
        return EXTRA[int(name[5:]) % len(EXTRA)]
    return TONES[name]
