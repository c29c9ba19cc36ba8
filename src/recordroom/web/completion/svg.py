"""Charts drawn on the server as inline SVG (no script): a line of percentages
against a threshold, and grouped bars. Each carries a title and a description for
screen readers; the page shows the same figures in a table."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

W, H = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 36
COLORS = ("#1f5f8b", "#c0392b", "#7f8c8d", "#27ae60")


def _ticks(top: float) -> list[float]:
    step = max(1.0, top / 4)
    for nice in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if nice >= step:
            step = float(nice)
            break
    return [step * i for i in range(int(top // step) + 2) if step * i <= top * 1.001]


def _frame(title: str, desc: str, ident: str, body: list[str], top: float,
           labels: Sequence[str], suffix: str = "") -> SafeString:  # fmt: skip
    plot_h = H - TOP - BOTTOM
    parts: list[str] = [format_html(
        '<svg class="chart" id="{}" viewBox="0 0 {} {}" role="img" '
        'aria-labelledby="{}-t {}-d" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{}-t">{}</title><desc id="{}-d">{}</desc>',
        ident, W, H, ident, ident, ident, title, ident, desc)]  # fmt: skip
    for tick in _ticks(top):
        y = TOP + plot_h - tick / top * plot_h
        parts.append(format_html(
            '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#ddd"/>'
            '<text x="{}" y="{}" font-size="10" text-anchor="end">{}{}</text>',
            LEFT, W - RIGHT, f"{y:.1f}", f"{y:.1f}", LEFT - 4, f"{y + 3:.1f}",
            f"{tick:g}", suffix))  # fmt: skip
    step = (W - LEFT - RIGHT) / max(1, len(labels))
    for i, label in enumerate(labels):
        parts.append(format_html(
            '<text x="{}" y="{}" font-size="10" text-anchor="middle">{}</text>',
            f"{LEFT + step * (i + 0.5):.1f}", H - BOTTOM + 14, label))  # fmt: skip
    parts += body
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every part above is escaped by format_html


def line_chart(
    *, ident: str, title: str, labels: Sequence[str],
    values: Sequence[Decimal | None], threshold: Decimal | None = None,
) -> SafeString:  # fmt: skip
    """Percentages month by month (a gap where there is none), with the threshold
    as a dashed line."""
    shown = [float(v) for v in values if v is not None]
    top = max([*shown, float(threshold or 0), 10.0]) * 1.1
    plot_h = H - TOP - BOTTOM
    step = (W - LEFT - RIGHT) / max(1, len(labels))

    def y(v: float) -> str:
        return f"{TOP + plot_h - v / top * plot_h:.1f}"

    body: list[str] = []
    if threshold is not None:
        t = float(threshold)
        body.append(format_html(
            '<line class="threshold" x1="{}" x2="{}" y1="{}" y2="{}" '
            'stroke="{}" stroke-dasharray="6 4"/><text x="{}" y="{}" '
            'font-size="10" text-anchor="end" fill="{}">threshold {}%</text>',
            LEFT, W - RIGHT, y(t), y(t), COLORS[1], W - RIGHT,
            f"{float(y(t)) - 4:.1f}", COLORS[1], threshold))  # fmt: skip
    points = [(f"{LEFT + step * (i + 0.5):.1f}", y(float(v)), v)
              for i, v in enumerate(values) if v is not None]  # fmt: skip
    if len(points) > 1:
        path = " ".join(f"{x},{yy}" for x, yy, _ in points)
        body.append(format_html('<polyline points="{}" fill="none" stroke="{}" '
                                'stroke-width="2"/>', path, COLORS[0]))  # fmt: skip
    for x, yy, v in points:
        body.append(format_html(
            '<circle cx="{}" cy="{}" r="3.5" fill="{}"><title>{}%</title></circle>',
            x, yy, COLORS[0], v))  # fmt: skip
    desc = "; ".join(f"{label}: {'no discharges' if v is None else f'{v}%'}"
                     for label, v in zip(labels, values, strict=True))  # fmt: skip
    return _frame(title, desc, ident, body, top, labels, "%")


def bar_chart(
    *, ident: str, title: str, labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
) -> SafeString:  # fmt: skip
    """Grouped bars: one group per label, one bar per series, with a legend."""
    top = max([v for _, vals in series for v in vals] + [4]) * 1.1
    plot_h = H - TOP - BOTTOM
    step = (W - LEFT - RIGHT) / max(1, len(labels))
    bar = step * 0.8 / max(1, len(series))
    body: list[str] = []
    for s, (name, vals) in enumerate(series):
        color = COLORS[s % len(COLORS)]
        for i, v in enumerate(vals):
            h = v / top * plot_h
            body.append(format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}">'
                '<title>{}: {}</title></rect>',
                f"{LEFT + step * i + step * 0.1 + bar * s:.1f}",
                f"{TOP + plot_h - h:.1f}", f"{bar:.1f}", f"{h:.1f}", color, name, v))  # fmt: skip
        body.append(format_html(
            '<rect x="{}" y="{}" width="10" height="10" fill="{}"/>'
            '<text x="{}" y="{}" font-size="10">{}</text>',
            LEFT + 8 + 170 * s, H - 14, color, LEFT + 22 + 170 * s, H - 5, name))  # fmt: skip
    desc = "; ".join(
        f"{label}: " + ", ".join(f"{name} {vals[i]}" for name, vals in series)
        for i, label in enumerate(labels)
    )
    return _frame(title, desc, ident, body, top, labels)
