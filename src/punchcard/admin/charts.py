"""Chart geometry for inline SVG, pure: bars and lines placed on a fixed canvas with round-numbered axis ticks.

The template draws the shapes and, next to each chart, a table of the same numbers: that table is the accessible
alternative and what a screen reader announces. No JavaScript and no chart library; a chart weighs a few kilobytes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 64, 8, 12, 40
MAX_X_LABELS = 12

Value = int | Decimal
"""A charted number: a count, or an average (a CES score) as a decimal."""


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int
    label: str
    value: Value


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    series: tuple[str, ...]
    labels: tuple[str, ...]
    values: tuple[tuple[Value, ...], ...]
    """``values[s][i]``: series ``s`` at label ``i``; the table alternative is drawn from these."""
    bars: tuple[Bar, ...] = ()
    line: str = ""
    """SVG polyline points, for a line chart."""
    y_ticks: tuple[Tick, ...] = ()
    x_ticks: tuple[Tick, ...] = ()
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def baseline(self) -> float:
        return HEIGHT - BOTTOM

    @property
    def plot_left(self) -> int:
        return LEFT

    @property
    def plot_right(self) -> int:
        return WIDTH - RIGHT


def nice_step(span: Value, ticks: int = 4) -> int:
    """A round step (1, 2 or 5 × a power of ten) that cuts ``span`` into about ``ticks`` parts."""
    if span <= 0:
        return 1
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    step = next(factor * power for factor in (1, 2, 5, 10) if factor * power >= raw)
    return max(int(step), 1)


def _scale(low: Value, high: Value) -> tuple[int, int, int]:
    """Axis bounds covering ``low``..``high`` (and zero) on whole steps, and the step."""
    low, high = min(low, 0), max(high, 0)
    step = nice_step(high - low)
    return math.floor(low / step) * step, max(math.ceil(high / step) * step, step), step


def _y(value: Value | float, bottom: int, top: int) -> float:
    plot = HEIGHT - TOP - BOTTOM
    return round(TOP + plot * (top - float(value)) / (top - bottom), 1)


def _y_ticks(bottom: int, top: int, step: int) -> tuple[Tick, ...]:
    return tuple(Tick(_y(value, bottom, top), f"{value:,}") for value in range(bottom, top + 1, step))


def _x_ticks(labels: Sequence[str], centre: Sequence[float]) -> tuple[Tick, ...]:
    every = math.ceil(len(labels) / MAX_X_LABELS) or 1
    return tuple(Tick(centre[i], labels[i]) for i in range(0, len(labels), every))


def bar_chart(key: str, title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[Value]]]) -> Chart:
    """Grouped bars: one group per label, one bar per series."""
    values = tuple(tuple(numbers) for _, numbers in series)
    bottom, top, step = _scale(min((min(v, default=0) for v in values), default=0), max(map(max, values), default=0))
    slot = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    bar = slot * 0.8 / max(len(series), 1)
    bars = []
    for s, numbers in enumerate(values):
        for i, value in enumerate(numbers):
            x = LEFT + slot * i + slot * 0.1 + bar * s
            upper, lower = _y(max(value, 0), bottom, top), _y(min(value, 0), bottom, top)
            bars.append(Bar(round(x, 1), upper, round(bar, 1), round(lower - upper, 1), s, labels[i], value))
    centres = [LEFT + slot * (i + 0.5) for i in range(len(labels))]
    return Chart(
        key=key,
        title=title,
        series=tuple(name for name, _ in series),
        labels=tuple(labels),
        values=values,
        bars=tuple(bars),
        y_ticks=_y_ticks(bottom, top, step),
        x_ticks=_x_ticks(labels, [round(c, 1) for c in centres]),
    )


def line_chart(key: str, title: str, labels: Sequence[str], name: str, values: Sequence[Value]) -> Chart:
    bottom, top, step = _scale(min(values, default=0), max(values, default=0))
    slot = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    centres = [round(LEFT + slot * (i + 0.5), 1) for i in range(len(labels))]
    points = " ".join(f"{x},{_y(v, bottom, top)}" for x, v in zip(centres, values, strict=True))
    return Chart(
        key=key,
        title=title,
        series=(name,),
        labels=tuple(labels),
        values=(tuple(values),),
        line=points,
        y_ticks=_y_ticks(bottom, top, step),
        x_ticks=_x_ticks(labels, centres),
    )
