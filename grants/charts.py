"""Charts drawn on the server as plain SVG: a picture beside every table people would rather look at.

No library: the portal's charts are a few lines and bars, and the libraries that draw them
write inline ``<style>`` (the public site's Content-Security-Policy refuses it), random ids and
links to their own sites (see docs/decisions.md, "Charts"). Here Python works out the geometry
and ``templates/charts/chart.html`` writes the markup:

- ``<svg role="img">`` with ``<title>`` and ``<desc>`` (a sentence that says what the picture
  shows), a ``viewBox`` and no fixed size, so it shrinks to a phone's width;
- presentation attributes only (``fill``, ``stroke``…: no ``style``), no script, no font and no
  URL but the SVG namespace;
- series told apart by more than colour: each line has its own dash and marker shape, each bar
  series its own fill pattern; the legend shows the same marks;
- the figures as a real table below, in a ``<details>`` element (exact amounts; a hidden
  figure says it is hidden).

A figure can be ``None`` (hidden to protect a small group): no bar or point is drawn for it,
only a dashed empty box on the baseline, and the scale is worked out from the figures shown, so
a hidden figure leaves no trace in the picture.
"""

import itertools
import math
from dataclasses import dataclass, field
from decimal import Decimal

from babel.numbers import format_decimal

from grants.money import reader_locale

WIDTH, HEIGHT = 420, 250
TOP, BOTTOM, RIGHT = 14, 30, 10
FONT = 14
CHAR = 7.8  # an average character's width at FONT, to leave room for the axis labels
INK, GRID, MUTED = "#1a1a1a", "#d0d0d0", "#595959"
# Dark enough for 4.5:1 on white (WCAG 1.4.11 asks 3:1 of graphics), and told apart by shape too.
COLOURS = ("#1d4f91", "#a23b00", "#1b6e3a", "#6b2d8f")
DASHES = ("", "7 4", "2 3", "9 3 2 3")
MARKERS = ("circle", "square", "triangle", "diamond")
PATTERNS = ("solid", "hatch", "dots", "cross")
_ids = itertools.count(1)


def locale() -> str:
    """The Babel locale of the active language (the one the money filter uses)."""
    return reader_locale()


def number(value) -> str:
    """``value`` in the reader's language: "12,500" in English, "12.500" in Spanish."""
    return format_decimal(value, locale=locale())


def _n(value: float) -> str:
    return f"{round(value, 1):g}"


def marker_path(shape: str, x: float, y: float, r: float = 4.5) -> str:
    """An SVG path for a point's mark: each series has its own shape, not only its own colour."""
    if shape == "square":
        return f"M{_n(x - r)},{_n(y - r)}h{_n(2 * r)}v{_n(2 * r)}h{_n(-2 * r)}z"
    if shape == "triangle":
        return f"M{_n(x)},{_n(y - r * 1.2)}L{_n(x + r * 1.1)},{_n(y + r * 0.9)}L{_n(x - r * 1.1)},{_n(y + r * 0.9)}z"
    if shape == "diamond":
        return f"M{_n(x)},{_n(y - r * 1.3)}L{_n(x + r * 1.1)},{_n(y)}L{_n(x)},{_n(y + r * 1.3)}L{_n(x - r * 1.1)},{_n(y)}z"
    return f"M{_n(x - r)},{_n(y)}a{_n(r)},{_n(r)} 0 1,0 {_n(2 * r)},0a{_n(r)},{_n(r)} 0 1,0 {_n(-2 * r)},0z"


@dataclass
class Series:
    """One named row of figures (``None`` for a hidden one), in the order of the categories."""

    label: str
    values: list


@dataclass
class Chart:
    """A line or bar chart with its accessible text and the table of its figures.

    ``categories`` are the short labels under the x axis; ``table_head`` and ``table_rows`` are
    the table below the picture, already formatted (one row per category).
    """

    kind: str  # "line" or "bar"
    title: str
    description: str
    unit: str  # what the y axis counts, e.g. "Amounts in USD"
    categories: list[str]
    series: list[Series]
    table_caption: str
    table_head: list[str]
    table_rows: list[list[str]]
    hidden_note: str = ""
    uid: str = field(default_factory=lambda: f"chart-{next(_ids)}")

    # --- Geometry -----------------------------------------------------------------------

    @property
    def shown(self) -> list[Decimal]:
        return [Decimal(v) for s in self.series for v in s.values if v is not None]

    @property
    def has_hidden(self) -> bool:
        return any(v is None for s in self.series for v in s.values)

    @property
    def is_empty(self) -> bool:
        return not self.categories or not any(self.shown)

    def ticks(self) -> list[Decimal]:
        """Round figures from below the smallest (or zero) to above the largest shown one."""
        low, high = min([Decimal(0), *self.shown]), max([Decimal(0), *self.shown])
        if high == low:
            high = low + 1
        raw = (high - low) / 4
        power = Decimal(10) ** math.floor(math.log10(raw))
        step = next(
            m * power
            for m in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))
            if m * power >= raw
        )
        start = (low / step).to_integral_value(rounding="ROUND_FLOOR") * step
        ticks = [start]
        while ticks[-1] < high:
            ticks.append(ticks[-1] + step)
        return ticks

    def drawing(self) -> dict:
        """Everything the template places: axes, ticks, lines or bars, in viewBox units."""
        ticks = self.ticks()
        labels = [number(t.normalize() if t == t.to_integral_value() else t) for t in ticks]
        left = 8 + CHAR * max(len(label) for label in labels)
        plot_w, plot_h = WIDTH - left - RIGHT, HEIGHT - TOP - BOTTOM
        low, high = ticks[0], ticks[-1]

        def y(value) -> float:
            return round(TOP + plot_h * float((high - Decimal(value)) / (high - low)), 1)

        band = plot_w / max(len(self.categories), 1)
        drawing = {
            "width": WIDTH,
            "height": HEIGHT,
            "left": round(left, 1),
            "tick_x": round(left - 6, 1),
            "right": WIDTH - RIGHT,
            "top": TOP,
            "bottom": TOP + plot_h,
            "font": FONT,
            "ink": INK,
            "grid": GRID,
            "muted": MUTED,
            "ticks": [
                {"y": y(t), "label": label, "zero": t == 0} for t, label in zip(ticks, labels, strict=True)
            ],
            # On a phone every other month's name is left out (the CSS hides the "thin" ones); the
            # last one is always shown.
            "x_labels": [
                {
                    "x": round(left + band * (i + 0.5), 1),
                    "label": label,
                    "thin": len(self.categories) > 6 and (len(self.categories) - 1 - i) % 2 == 1,
                }
                for i, label in enumerate(self.categories)
            ],
            "label_y": TOP + plot_h + FONT + 6,
            "zero_y": y(0),
        }
        if self.kind == "line":
            drawing["lines"] = [self._line(n, s, left, band, y) for n, s in enumerate(self.series)]
        else:
            drawing["bars"], drawing["placeholders"] = self._bars(left, band, y)
        return drawing

    def _line(self, n: int, series: Series, left: float, band: float, y) -> dict:
        points = [
            (round(left + band * (i + 0.5), 1), y(v)) for i, v in enumerate(series.values) if v is not None
        ]
        return {
            "colour": COLOURS[n % 4],
            "dash": DASHES[n % 4],
            "marker": MARKERS[n % 4],
            "points": " ".join(f"{px},{py}" for px, py in points),
            "markers": [marker_path(MARKERS[n % 4], px, py) for px, py in points],
        }

    def _bars(self, left: float, band: float, y):
        count = max(len(self.series), 1)
        width = min(band * 0.8 / count, 36)
        start = (band - width * count) / 2
        bars, placeholders = [], []
        base = y(0)
        for n, series in enumerate(self.series):
            for i, value in enumerate(series.values):
                x = round(left + band * i + start + width * n, 1)
                if value is None:
                    placeholders.append(
                        {"x": x, "y": round(base - 14, 1), "width": round(width, 1), "height": 14}
                    )
                    continue
                top = y(value)
                bars.append({
                    "x": x, "y": min(top, base), "width": round(width, 1), "height": round(abs(base - top), 1),
                    "colour": COLOURS[n % 4], "pattern": PATTERNS[n % 4],
                })  # fmt: skip
        return bars, placeholders

    def legend(self) -> list[dict]:
        return [
            {
                "label": s.label,
                "colour": COLOURS[n % 4],
                "dash": DASHES[n % 4],
                "marker": MARKERS[n % 4],
                "pattern_id": f"{self.uid}-{PATTERNS[n % 4]}",
                "marker_path": marker_path(MARKERS[n % 4], 14, 8),
            }
            for n, s in enumerate(self.series)
        ]

    def patterns(self) -> list[dict]:
        """The fill patterns this chart's bars use (ids unique on the page)."""
        if self.kind != "bar":
            return []
        return [
            {"id": f"{self.uid}-{PATTERNS[n % 4]}", "kind": PATTERNS[n % 4], "colour": COLOURS[n % 4]}
            for n in range(len(self.series))
        ]
