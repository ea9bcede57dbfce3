"""Chart geometry for the dashboard's inline SVG, computed on the server (the pages run no scripts).

Each function returns plain numbers and labels; templates/dash/_charts.html draws them, autoescaped, with a
<title> per bar (the hover text) and the same numbers in a table beside the chart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

WIDTH = 720  # the viewBox; the SVG scales to its container (390 px phones included)
HEIGHT = 200
_LEFT, _BOTTOM, _TOP = 36, 22, 8
SENTIMENT_COLOURS = {"negative": "#d92d20", "neutral": "#98a2b3", "positive": "#12b76a"}


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    w: float
    h: float
    title: str  # hover text: what the bar means, with its number
    css: str = ""
    fill: str = ""


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    title: str
    href: str


@dataclass(frozen=True)
class TimeChart:
    bars: list[Bar]
    markers: list[Marker]
    ticks: list[tuple[float, str]]  # x, label
    grid: list[tuple[float, str]]  # y, label
    width: int = WIDTH
    height: int = HEIGHT


def _label(at: datetime, step: timedelta) -> str:
    return at.strftime("%d %b") if step >= timedelta(days=1) else at.strftime("%d %b %H:%M")


def _nice_max(value: int) -> int:
    if value <= 5:
        return 5
    for base in (1, 2, 2.5, 5):
        magnitude = 10 ** (len(str(value)) - 1)
        top = int(base * magnitude)
        if top >= value:
            return top
    return 10 ** len(str(value))


def volume_chart(
    points: list[tuple[datetime, int]], step: timedelta, spikes: list[tuple[datetime, str, str]]
) -> TimeChart:
    """Bars of mentions per interval, and a marker above each bar in which an alerted spike's window starts
    (`spikes`: window start, hover text, link to the alert)."""
    n = max(1, len(points))
    inner_w = WIDTH - _LEFT
    slot = inner_w / n
    top = _nice_max(max((c for _, c in points), default=0))
    inner_h = HEIGHT - _BOTTOM - _TOP
    bars, markers = [], []
    for i, (at, count) in enumerate(points):
        h = inner_h * count / top
        bars.append(
            Bar(
                x=_LEFT + i * slot + slot * 0.1,
                y=_TOP + inner_h - h,
                w=max(slot * 0.8, 1),
                h=h,
                title=f"{_label(at, step)}: {count} mention{'s' if count != 1 else ''}",
                css="bar",
            )
        )
        for start, text, href in spikes:
            if at <= start < at + step:
                markers.append(
                    Marker(
                        x=_LEFT + i * slot + slot / 2, y=max(_TOP + inner_h - h - 4, _TOP + 6), title=text, href=href
                    )
                )
    return TimeChart(bars=bars, markers=markers, ticks=_ticks(points, step, slot), grid=_grid(top, inner_h))


def sentiment_chart(points: list[tuple[datetime, int, dict[str, int]]], step: timedelta) -> TimeChart:
    """Stacked 100 % bars: the share of negative, neutral and positive mentions per interval."""
    n = max(1, len(points))
    slot = (WIDTH - _LEFT) / n
    inner_h = HEIGHT - _BOTTOM - _TOP
    bars = []
    for i, (at, count, by_sentiment) in enumerate(points):
        y: float = _TOP + inner_h
        for name in ("negative", "neutral", "positive"):
            part = by_sentiment.get(name, 0)
            if not count or not part:
                continue
            h = inner_h * part / count
            y -= h
            bars.append(
                Bar(
                    x=_LEFT + i * slot + slot * 0.1,
                    y=y,
                    w=max(slot * 0.8, 1),
                    h=h,
                    title=f"{_label(at, step)}: {name} {part} of {count} ({100 * part / count:.0f} %)",
                    fill=SENTIMENT_COLOURS[name],
                )
            )
    grid = [(_TOP + inner_h * (1 - f), f"{int(f * 100)}%") for f in (0, 0.5, 1)]
    return TimeChart(bars=bars, markers=[], ticks=_ticks([(p[0], p[1]) for p in points], step, slot), grid=grid)


def _ticks(points: list[tuple[datetime, int]], step: timedelta, slot: float) -> list[tuple[float, str]]:
    every = max(1, len(points) // 6)
    return [(_LEFT + i * slot + slot / 2, _label(at, step)) for i, (at, _) in enumerate(points) if i % every == 0]


def _grid(top: int, inner_h: int) -> list[tuple[float, str]]:
    return [(_TOP + inner_h * (1 - f), f"{top * f:g}") for f in (0, 0.5, 1)]


@dataclass(frozen=True)
class HBar:
    label: str
    count: int
    share: float  # of the total, 0..1
    y: float
    w: float
    title: str


@dataclass(frozen=True)
class HChart:
    bars: list[HBar]
    height: int
    width: int = 360
    label_w: int = 110


def share_chart(items: list[tuple[str, int]], total: int | None = None, row: int = 22) -> HChart:
    """Horizontal bars with each item's count and share of the total (default: the sum of the items)."""
    total = total or sum(c for _, c in items) or 1
    biggest = max((c for _, c in items), default=1) or 1
    width, label_w = 360, 110
    bars = [
        HBar(
            label=label,
            count=count,
            share=count / total,
            y=i * row,
            w=(width - label_w - 60) * count / biggest,
            title=f"{label}: {count} ({100 * count / total:.1f} %)",
        )
        for i, (label, count) in enumerate(items)
    ]
    return HChart(bars=bars, height=max(row, len(items) * row), width=width, label_w=label_w)
