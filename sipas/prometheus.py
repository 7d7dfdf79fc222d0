"""The Prometheus text exposition format (version 0.0.4), written by hand: a few families, no dependency.

A :class:`Family` is one metric name with its type, help and samples; :func:`render` writes families
as the text ``GET /metrics`` answers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class Family:
    name: str
    kind: str  # counter | gauge | histogram
    help: str
    #: (suffix, labels, value): suffix is "" or a histogram's "_bucket"/"_sum"/"_count" for the sample's name.
    #: A counter's name ends in ``_total`` (format 0.0.4: the TYPE line names the samples exactly).
    samples: list[tuple[str, dict[str, str], float]] = field(default_factory=list)

    def add(self, labels: Mapping[str, str], value: float, suffix: str = "") -> None:
        self.samples.append((suffix, dict(labels), value))

    def add_histogram(self, labels: Mapping[str, str], bounds: Sequence[float], counts: Sequence[int],
                      total: float) -> None:
        """``counts[i]`` observations fell at or below ``bounds[i]`` and above the bound before it (not cumulative);
        ``counts`` has one more entry than ``bounds`` (above the last bound)."""
        running = 0
        for bound, count in zip(bounds, counts, strict=False):
            running += count
            self.add({**labels, "le": format_value(bound)}, running, "_bucket")
        running += counts[len(bounds)]
        self.add({**labels, "le": "+Inf"}, running, "_bucket")
        self.add(labels, total, "_sum")
        self.add(labels, running, "_count")


def escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def format_value(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def render(families: Iterable[Family]) -> str:
    lines: list[str] = []
    for family in families:
        lines.append(f"# HELP {family.name} {family.help.replace(chr(92), chr(92) * 2).replace(chr(10), ' ')}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        for suffix, labels, value in family.samples:
            label_text = ",".join(f'{key}="{escape_label(str(val))}"' for key, val in labels.items())
            name = family.name + suffix
            lines.append(f"{name}{{{label_text}}} {format_value(value)}" if label_text
                         else f"{name} {format_value(value)}")
    return "\n".join(lines) + "\n"
