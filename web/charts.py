"""Small server-side SVG charts: no script, no inline style, every label escaped.

Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that reads out every value,
so a screen reader gets the numbers the bars show; each bar carries its own ``<title>`` as a tooltip.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

from web.i18n import _

Row = tuple[str, float | None]

BAR = "#1f5fae"
EMPTY = "#5d6b7a"
INK = "#1d2733"
GRID = "#d9dee5"
CHAR_WIDTH = 7  # px per character at the charts' 12px font, roughly
MAX_LABEL = 36  # characters; longer labels are cut, the full one stays in the bar's <title>


def percent(value: float) -> str:
    """Format a share as a whole percent."""
    return f"{value * 100:.0f} %"


def count(value: float) -> str:
    """Format a count."""
    return f"{value:.0f}"


def _cut(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def _head(chart_id: str, title: str, rows: Sequence[Row], fmt: Callable[[float], str], width: int, height: int) -> str:
    none = _("no data")
    said = "; ".join(f"{label}: {none if value is None else fmt(value)}" for label, value in rows) or none
    cid = escape(chart_id)
    return (
        f'<svg class="chart-svg" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="{cid}-title {cid}-desc" '
        f'font-family="system-ui, sans-serif" font-size="12">'
        f'<title id="{cid}-title">{escape(title)}</title><desc id="{cid}-desc">{escape(said)}</desc>'
    )


def _empty() -> str:
    text = escape(_("No data"))
    return f'<text x="4" y="20">{text}</text></svg>'


def _scale(rows: Sequence[Row], maximum: float | None) -> float:
    if maximum is not None and maximum > 0:
        return maximum
    top = max((v for _, v in rows if v is not None), default=0.0)
    return top if top > 0 else 1.0


def bar_chart(
    rows: Sequence[Row],
    *,
    title: str,
    chart_id: str,
    maximum: float | None = None,
    fmt: Callable[[float], str] = count,
    width: int = 640,
) -> Markup:
    """Draw horizontal bars, one per (label, value); None reads 'no data'. maximum: the full-width value."""
    if not rows:
        return Markup(_head(chart_id, title, rows, fmt, width, 30) + _empty())
    line, top = 24, 6
    label_width = min(max(len(_cut(label)) for label, _value in rows) * CHAR_WIDTH + 12, 270)
    value_width = 56
    area = width - label_width - value_width
    scale = _scale(rows, maximum)
    height = top * 2 + line * len(rows)
    parts = [_head(chart_id, title, rows, fmt, width, height)]
    parts.append(f'<line x1="{label_width}" y1="0" x2="{label_width}" y2="{height}" stroke="{GRID}" stroke-width="1"/>')
    for i, (label, value) in enumerate(rows):
        y = top + i * line
        said = f"{label}: {_('no data') if value is None else fmt(value)}"
        parts.append(f'<g class="bar"><title>{escape(said)}</title>')
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 16}" text-anchor="end" fill="{INK}">{escape(_cut(label))}</text>'
        )
        if value is None:
            none = escape(_("no data"))
            parts.append(f'<text x="{label_width + 6}" y="{y + 16}" fill="{EMPTY}">{none}</text>')
        else:
            length = max(0.0, min(value / scale, 1.0)) * area
            parts.append(
                f'<rect x="{label_width}" y="{y + 3}" width="{length:.1f}" height="{line - 6}" fill="{BAR}"/>'
                f'<text x="{label_width + length + 6:.1f}" y="{y + 16}" fill="{INK}">{escape(fmt(value))}</text>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("".join(parts))


def column_chart(
    rows: Sequence[Row],
    *,
    title: str,
    chart_id: str,
    maximum: float | None = None,
    fmt: Callable[[float], str] = count,
    height: int = 200,
) -> Markup:
    """Draw vertical columns, one per (label, value), e.g. per month; None reads 'no data'."""
    column = 64
    width = max(column * len(rows), 200)
    if not rows:
        return Markup(_head(chart_id, title, rows, fmt, width, 30) + _empty())
    top, bottom = 18, 22
    area = height - top - bottom
    scale = _scale(rows, maximum)
    base = height - bottom
    parts = [_head(chart_id, title, rows, fmt, width, height)]
    parts.append(f'<line x1="0" y1="{base}" x2="{width}" y2="{base}" stroke="{GRID}" stroke-width="1"/>')
    for i, (label, value) in enumerate(rows):
        x = i * column
        middle = x + column / 2
        said = f"{label}: {_('no data') if value is None else fmt(value)}"
        parts.append(f'<g class="bar"><title>{escape(said)}</title>')
        if value is None:
            none = escape(_("no data"))
            parts.append(f'<text x="{middle}" y="{base - 6}" text-anchor="middle" fill="{EMPTY}">{none}</text>')
        else:
            tall = max(0.0, min(value / scale, 1.0)) * area
            parts.append(
                f'<rect x="{x + 10}" y="{base - tall:.1f}" width="{column - 20}" height="{tall:.1f}" fill="{BAR}"/>'
                f'<text x="{middle}" y="{base - tall - 4:.1f}" text-anchor="middle" fill="{INK}">'
                f"{escape(fmt(value))}</text>"
            )
        parts.append(
            f'<text x="{middle}" y="{height - 6}" text-anchor="middle" fill="{INK}">{escape(_cut(label))}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
