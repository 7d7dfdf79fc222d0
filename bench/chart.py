"""A horizontal bar chart as a self-contained SVG (no plotting library): one bar per measured ratio,
a dashed line at the goal, green where the goal holds and red where it is missed."""

from __future__ import annotations

from xml.sax.saxutils import escape


def bars(title: str, items: list[tuple[str, float, bool]], *, goal: float, unit: str = "×") -> str:
    label_width, bar_width, row, top = 390, 420, 26, 40
    top_value = max([goal * 1.25, *(value for _, value, _ in items)]) if items else goal * 1.25
    height = top + row * len(items) + 30
    scale = bar_width / top_value
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_width + bar_width + 80}" height="{height}" '
             'font-family="sans-serif" font-size="13">',
             f'<text x="10" y="22" font-size="15" font-weight="bold">{escape(title)}</text>']
    for index, (label, value, holds) in enumerate(items):
        y = top + index * row
        colour = "#2e7d32" if holds else "#c62828"
        parts.append(f'<text x="{label_width - 8}" y="{y + 16}" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect x="{label_width}" y="{y + 3}" width="{max(value * scale, 1):.1f}" height="{row - 8}" '
                     f'fill="{colour}"/>')
        parts.append(f'<text x="{label_width + value * scale + 6:.1f}" y="{y + 16}">{value:.2f}{unit}</text>')
    x = label_width + goal * scale
    parts.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{top + row * len(items)}" stroke="#333" '
                 'stroke-dasharray="4 3"/>')
    parts.append(f'<text x="{x:.1f}" y="{top + row * len(items) + 18}" text-anchor="middle">goal {goal:g}{unit}'
                 '</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
