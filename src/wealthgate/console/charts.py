"""Charts as SVG, built here in Python: no script, no charting library, nothing loaded from elsewhere.

Each chart is an `<svg role="img">` with a title and a description that say what it shows in words, and the
page puts the same figures in a table beside it, so a screen reader loses nothing. Colours are paired with
text or patterns (a bar outside its band is labelled so), never the only signal.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from html import escape

from markupsafe import Markup

from wealthgate.portfolios.schemas import DriftRow

INK = "#1f2933"
MUTED = "#52606d"
GRID = "#cbd2d9"
BAND = "#d9e8f6"
BAR = "#1d4ed8"
OUT = "#b45309"
TARGET = "#111827"


def _pct(share: Decimal) -> str:
    return f"{(share * 100).quantize(Decimal('0.1'))}%"


def _text(x: float, y: float, body: str, *, size: int = 11, fill: str = MUTED, anchor: str = "start") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" text-anchor="{anchor}">{body}</text>'
    )


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str, width: int = 1) -> str:
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}"'
        f' stroke-width="{width}"/>'
    )


def _rect(x: float, y: float, w: float, h: float, fill: str) -> str:
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}"/>'


def _open(name: str, width: int, height: int, title: str, desc: str) -> str:
    return (
        f'<svg role="img" aria-labelledby="{name}-title {name}-desc" viewBox="0 0 {width} {height}"'
        f' width="100%" class="chart"><title id="{name}-title">{escape(title)}</title>'
        f'<desc id="{name}-desc">{escape(desc)}</desc>'
    )


def allocation(rows: Sequence[DriftRow], *, title: str = "Allocation against the model") -> Markup:
    """Per asset class: the actual weight as a bar, the model's target as a line and its tolerance band as a
    shaded range. A bar outside its band is drawn in another colour and labelled "outside band"."""
    label_w, chart_w, right_w, row_h = 150, 340, 270, 34
    width = label_w + chart_w + right_w
    height = 30 + row_h * max(len(rows), 1) + 10
    top = max([Decimal("0.1")] + [max(Decimal(r.actual), Decimal(r.target) + Decimal(r.band)) for r in rows])
    scale = min(Decimal(1), (top * Decimal("1.1")).quantize(Decimal("0.01")))

    def x(share: Decimal) -> float:
        return label_w + float(max(Decimal(0), min(share, scale)) / scale) * chart_w

    described = "; ".join(
        f"{r.asset_class.replace('_', ' ')}: actual {_pct(Decimal(r.actual))},"
        f" target {_pct(Decimal(r.target))} plus or minus {_pct(Decimal(r.band))}"
        f"{'' if r.in_band else ', outside its band'}"
        for r in rows
    )
    parts = [_open("alloc", width, height, title, described or "No asset classes to show.")]
    for tick in (Decimal(0), scale / 2, scale):
        parts.append(_line(x(tick), 22, x(tick), height - 8, GRID))
        parts.append(_text(x(tick), 14, _pct(tick), anchor="middle"))
    for i, r in enumerate(rows):
        y = 30 + i * row_h
        target, band, actual = Decimal(r.target), Decimal(r.band), Decimal(r.actual)
        low, high = x(target - band), x(target + band)
        figures = f"{_pct(actual)} vs {_pct(target)} ±{_pct(band)}{'' if r.in_band else ' · outside band'}"
        parts += [
            _text(
                label_w - 8, y + 17, escape(r.asset_class.replace("_", " ")), size=13, fill=INK, anchor="end"
            ),
            _rect(low, y + 2, max(high - low, 1), row_h - 10, BAND),
            _rect(label_w, y + 7, max(x(actual) - label_w, 0), row_h - 20, BAR if r.in_band else OUT),
            _line(x(target), y, x(target), y + row_h - 6, TARGET, 2),
            _text(label_w + chart_w + 8, y + 17, figures, size=12, fill=INK),
        ]
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  (every text inserted is escaped or a formatted number)


def performance(points: Sequence[tuple[date, Decimal]], *, title: str = "Portfolio value") -> Markup:
    """The total value at each market day's close as a line, with the lowest and highest values and the
    first and last dates on the axes."""
    width, height, left, right, top, bottom = 720, 240, 90, 16, 16, 34
    if len(points) < 2:
        return Markup('<p class="muted">Not enough history for a chart yet (two market days are needed).</p>')
    step = max(1, len(points) // 360)  # at most ~360 vertices: the shape stays, the page stays small
    shown = list(points[::step])
    if shown[-1] != points[-1]:
        shown.append(points[-1])
    values = [v for _, v in shown]
    low, high = min(values), max(values)
    span = high - low or Decimal(1)
    first, last = shown[0][0], shown[-1][0]
    days = max((last - first).days, 1)
    base = height - bottom

    def xy(on: date, value: Decimal) -> str:
        px = left + (on - first).days / days * (width - left - right)
        py = top + float((high - value) / span) * (height - top - bottom)
        return f"{px:.1f},{py:.1f}"

    line = " ".join(xy(on, v) for on, v in shown)
    desc = (
        f"From {first} to {last}: {points[0][1]:,.2f} to {points[-1][1]:,.2f};"
        f" lowest {low:,.2f}, highest {high:,.2f}."
    )
    return Markup(  # noqa: S704  (the inserted texts are numbers, dates and escaped words)
        _open("perf", width, height, title, desc)
        + _line(left, top, left, base, GRID)
        + _line(left, base, width - right, base, GRID)
        + _text(left - 6, top + 4, f"{high:,.0f}", anchor="end")
        + _text(left - 6, base, f"{low:,.0f}", anchor="end")
        + _text(left, height - 12, str(first))
        + _text(width - right, height - 12, str(last), anchor="end")
        + f'<polyline points="{line}" fill="none" stroke="{BAR}" stroke-width="2" stroke-linejoin="round"/>'
        + "</svg>"
    )
