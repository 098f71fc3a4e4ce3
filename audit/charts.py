"""Charts drawn on the server as inline SVG: lines over weeks, a funnel, stacked bars. Pure: numbers in, markup out.

No script and no outside file (the Content-Security-Policy allows neither): each chart is one ``<svg role="img">``
named by its ``<title>`` and described by its ``<desc>`` for screen readers, with every label escaped. No data at
all draws an empty state that says so; a zero or missing value never divides.
"""

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

WIDTH = 640
FONT = 'font-family="system-ui, sans-serif" font-size="11"'
INK, MUTED, LINE, SHADE = "#1d2430", "#667085", "#e4e7ec", "#f2f4f7"
PALETTE = ("#2457d6", "#b54708", "#067647", "#b42318", "#7a5af8", "#667085")


@dataclass(frozen=True)
class Series:
    """One line: its name (in the legend) and a value per label (None: nothing that week)."""

    name: str
    values: Sequence[float | None]


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 10 or value == int(value) else f"{value:,.1f}"


def _id(*parts) -> str:
    return "chart-" + hashlib.sha1(repr(parts).encode()).hexdigest()[:10]


def _svg(title: str, description: str, height: int, body: list[str], ident: str) -> SafeString:
    head = (
        f'<svg class="chart" role="img" aria-labelledby="{ident}-t" aria-describedby="{ident}-d" '
        f'viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" style="max-width:{WIDTH}px" xmlns="http://www.w3.org/2000/svg" {FONT}>'
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(description)}</desc>'
    )
    return mark_safe(head + "".join(body) + "</svg>")  # noqa: S308 - every text above and in body is escaped


def empty_chart(title: str, message: str = "No data in this period.") -> SafeString:
    """The empty state: the chart's title and what is missing, in place of axes with nothing on them."""
    ident = _id("empty", title, message)
    body = [
        f'<rect x="0.5" y="0.5" width="{WIDTH - 1}" height="79" rx="6" fill="{SHADE}" stroke="{LINE}"/>',
        f'<text x="{WIDTH / 2}" y="34" text-anchor="middle" font-size="13" fill="{INK}">{escape(title)}</text>',
        f'<text x="{WIDTH / 2}" y="54" text-anchor="middle" fill="{MUTED}">{escape(message)}</text>',
    ]
    return _svg(title, f"{title}: {message}", 80, body, ident)


def _legend(names: Sequence[str], y: float, x: float = 60) -> list[str]:
    parts = []
    for i, name in enumerate(names):
        color = PALETTE[i % len(PALETTE)]
        parts.append(f'<rect x="{x:.1f}" y="{y - 9}" width="10" height="10" fill="{color}"/>')
        parts.append(f'<text x="{x + 14:.1f}" y="{y}" fill="{INK}">{escape(name)}</text>')
        x += 24 + 7 * len(name)
    return parts


# Round durations in seconds for a log axis: 1 s, 10 s, 1 min, 10 min, 1 h, 6 h, 1 day, 1 week, 4 weeks.
LOG_TICKS = (1, 10, 60, 600, 3600, 21600, 86400, 604800, 2419200)


def line_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    marked: Sequence[bool] = (),
    mark_label: str = "",
    log: bool = False,
    value_text: Callable[[float], str] = _number,
    description: str = "",
) -> SafeString:
    """Lines over ``labels`` (weeks), with the columns ``marked`` shaded (the baseline) and named ``mark_label``.

    ``log`` draws the values on a logarithmic axis (durations from seconds to days); values at or below zero sit
    on its floor. Every point has a ``<title>`` with its label and value, for hovering and for screen readers.
    """
    points = [v for s in series for v in s.values if v is not None]
    if not labels or not points:
        return empty_chart(title)
    left, right, top, bottom = 60, 12, 28, 46
    height = 260
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    if log:
        floor = 1.0
        ceiling = next((t for t in LOG_TICKS if t >= max(points)), max(points))
        low, high = math.log10(floor), math.log10(max(ceiling, 10))
        ticks = [t for t in LOG_TICKS if t <= 10**high]

        def y_of(value: float) -> float:
            return top + plot_h * (1 - (math.log10(max(value, floor)) - low) / ((high - low) or 1))

    else:
        high = max(max(points), 0) or 1
        step = 10 ** math.floor(math.log10(high))
        high = math.ceil(high / step) * step
        ticks = [high * i / 4 for i in range(5)]

        def y_of(value: float) -> float:
            return top + plot_h * (1 - max(value, 0) / high)

    column = plot_w / len(labels)

    def x_of(i: int) -> float:
        return left + column * (i + 0.5)

    body = []
    shaded = [i for i, flag in enumerate(marked) if flag and i < len(labels)]
    if shaded:
        x0, x1 = left + column * shaded[0], left + column * (shaded[-1] + 1)
        body.append(f'<rect x="{x0:.1f}" y="{top}" width="{x1 - x0:.1f}" height="{plot_h}" fill="{SHADE}"/>')
        if mark_label:
            body.append(f'<text x="{x0 + 4:.1f}" y="{top + plot_h - 6}" fill="{MUTED}">{escape(mark_label)}</text>')
    for tick in ticks:
        y = y_of(tick)
        body.append(f'<line x1="{left}" x2="{WIDTH - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{LINE}"/>')
        body.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}">{escape(value_text(tick))}</text>'
        )
    every = max(1, math.ceil(len(labels) / 12))
    for i, label in enumerate(labels):
        if i % every == 0:
            body.append(
                f'<text x="{x_of(i):.1f}" y="{height - bottom + 16}" text-anchor="middle" fill="{MUTED}">'
                f"{escape(label)}</text>"
            )
    for n, line in enumerate(series):
        color = PALETTE[n % len(PALETTE)]
        coords = [(x_of(i), y_of(v)) for i, v in enumerate(line.values[: len(labels)]) if v is not None]
        if len(coords) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            body.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for i, value in enumerate(line.values[: len(labels)]):
            if value is None:
                continue
            tip = escape(f"{labels[i]}: {line.name} {value_text(value)}")
            body.append(
                f'<circle cx="{x_of(i):.1f}" cy="{y_of(value):.1f}" r="3" fill="{color}"><title>{tip}</title></circle>'
            )
    body += _legend([s.name for s in series], height - 8)
    return _svg(title, description or _describe(labels, series, value_text), height, body, _id(title, labels, series))


def _describe(labels: Sequence[str], series: Sequence[Series], value_text) -> str:
    parts = []
    for line in series:
        known = [(label, v) for label, v in zip(labels, line.values, strict=False) if v is not None]
        if known:
            (first, a), (last, b) = known[0], known[-1]
            parts.append(f"{line.name} from {value_text(a)} ({first}) to {value_text(b)} ({last})")
    return "; ".join(parts) + "."


def funnel_chart(*, title: str, stages: Sequence[tuple[str, int]]) -> SafeString:
    """Each stage a bar centred under the one before, as wide as its share of the first; the share beside it."""
    top_value = stages[0][1] if stages else 0
    if not top_value:
        return empty_chart(title)
    row, gap, label_w = 30, 6, 150
    height = len(stages) * (row + gap) + 10
    span = WIDTH - label_w - 70
    centre = label_w + span / 2
    body = []
    previous = None
    for i, (label, value) in enumerate(stages):
        share = value / top_value
        width = max(span * share, 2)
        y = 5 + i * (row + gap)
        if previous is not None:
            (pw, py) = previous
            body.append(
                f'<polygon points="{centre - pw / 2:.1f},{py + row} {centre + pw / 2:.1f},{py + row} '
                f'{centre + width / 2:.1f},{y} {centre - width / 2:.1f},{y}" fill="{SHADE}"/>'
            )
        tip = escape(f"{label}: {value:,} ({share:.0%} of {stages[0][0].lower()})")
        body.append(
            f'<rect x="{centre - width / 2:.1f}" y="{y}" width="{width:.1f}" height="{row}" rx="3" '
            f'fill="{PALETTE[0]}" fill-opacity="{1 - i * 0.1:.2f}"><title>{tip}</title></rect>'
        )
        body.append(f'<text x="0" y="{y + 19}" fill="{INK}">{escape(label)}</text>')
        body.append(f'<text x="{label_w - 8}" y="{y + 19}" text-anchor="end" fill="{INK}">{value:,}</text>')
        body.append(f'<text x="{WIDTH - 4}" y="{y + 19}" text-anchor="end" fill="{MUTED}">{share:.0%}</text>')
        previous = (width, y)
    description = ", ".join(f"{label} {value:,}" for label, value in stages)
    return _svg(title, f"{title}: {description}.", height, body, _id(title, stages))


def stacked_bars(*, title: str, parts: Sequence[str], rows: Sequence[tuple[str, Sequence[int]]]) -> SafeString:
    """A bar per row split into ``parts`` (a legend names them), all on one scale: the largest row's total."""
    totals = [sum(v for v in values if v) for _, values in rows]
    top_value = max(totals, default=0)
    if not top_value:
        return empty_chart(title)
    row, gap, label_w = 20, 8, 170
    height = len(rows) * (row + gap) + 34
    span = WIDTH - label_w - 60
    body = []
    for i, ((label, values), total) in enumerate(zip(rows, totals, strict=True)):
        y = 4 + i * (row + gap)
        body.append(f'<text x="0" y="{y + 14}" fill="{INK}">{escape(label)}</text>')
        x = label_w
        for n, value in enumerate(values):
            if not value:
                continue
            width = span * value / top_value
            tip = escape(f"{label}: {parts[n]} {value:,} of {total:,}")
            body.append(
                f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{row}" fill="{PALETTE[n % len(PALETTE)]}">'
                f"<title>{tip}</title></rect>"
            )
            x += width
        body.append(f'<text x="{x + 6:.1f}" y="{y + 14}" fill="{MUTED}">{total:,}</text>')
    body += _legend(parts, height - 8, x=0)
    description = "; ".join(
        f"{label}: " + ", ".join(f"{parts[n]} {v:,}" for n, v in enumerate(values) if v) for label, values in rows
    )
    return _svg(title, f"{title}. {description}.", height, body, _id(title, parts, rows))
