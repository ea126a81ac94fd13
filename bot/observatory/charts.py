"""Bar charts as static SVG, written on the server: no script, no style attribute (the
inbox's content security policy forbids both), only SVG presentation attributes.

A bar whose count is hidden by the small-cell rule is drawn as a hatched stub of one fixed
height labelled "< 5", so that its height reveals nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bot.observatory.figures import Row

WIDTH = 640
BAR = 22
GAP = 8
LABEL = 230
STUB = 0.06  # share of the width a hidden bar takes


def bar_chart(title: str, rows: Sequence[Row], chart_id: str) -> str:
    """Horizontal bars, one per row, with the value written at the end of each."""
    height = 34 + len(rows) * (BAR + GAP) + 6
    shown = [r.count for r in rows if not r.hidden]
    top = max(shown, default=1)
    room = WIDTH - LABEL - 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{escape(chart_id)}" class="chart" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        '<defs><pattern id="' + escape(chart_id) + '-hatch" width="6" height="6" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#8a8f98" stroke-width="2"/></pattern></defs>',
        f'<text x="0" y="18" font-size="15" font-weight="bold" fill="#1d2733">'
        f'{escape(title)}</text>',
    ]
    if not rows:
        parts.append('<text x="0" y="44" font-size="13" fill="#555">Aucune donnée sur la '
                     'période.</text>')
    for i, row in enumerate(rows):
        y = 32 + i * (BAR + GAP)
        if row.hidden:
            width, fill = room * STUB, f"url(#{escape(chart_id)}-hatch)"
        else:
            width, fill = max(room * row.count / top, 2), "#2f6fb3"
        parts.append(f'<text x="{LABEL - 8}" y="{y + BAR * 0.7:.1f}" font-size="12" '
                     f'text-anchor="end" fill="#1d2733">{escape(_short(row.label))}</text>')
        parts.append(f'<rect class="bar" x="{LABEL}" y="{y}" width="{width:.1f}" '
                     f'height="{BAR}" fill="{fill}"/>')
        parts.append(f'<text class="value" x="{LABEL + width + 6:.1f}" '
                     f'y="{y + BAR * 0.7:.1f}" font-size="12" fill="#1d2733">'
                     f'{escape(row.shown)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _short(label: str, limit: int = 34) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
