"""The executive summary's trend chart: inline SVG written by hand (no plotting library).

Lines and bars share one axis, 0-100 % of the framework's controls: the dashed line is the
share of all controls passing, the solid line the share of controls with automated tests
passing, and each bar the share of all controls failing in that run (16 of 61 failing is a
bar up to 26 %). The report prints the same values in a table under the chart.
Every text in the SVG is escaped; the chart fetches nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from xml.sax.saxutils import escape

from markupsafe import Markup


@dataclass(frozen=True)
class TrendPoint:
    run_id: str
    at: datetime
    pass_rate: float  # 0..1: share of all the framework's controls that passed in this run
    automated_rate: float  # 0..1: share of the controls with automated tests that passed
    failing: int  # controls that failed in this run
    controls: int  # controls of the framework (the denominator of every share)

    @property
    def failing_rate(self) -> float:
        """0..1: share of all the framework's controls that failed in this run."""
        return self.failing / self.controls if self.controls else 0.0


WIDTH, HEIGHT = 640, 230
LEFT, RIGHT, TOP, BOTTOM = 46, 34, 14, 46


def trend_svg(points: list[TrendPoint], title: str) -> Markup:
    """Lines: automated and all controls passing per run (oldest left); bars: controls failing.

    All three are shares of controls drawn on the same 0-100 % axis."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title, {chr(34): "&quot;"})}">',
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#ffffff" stroke="#b8c0cc" '
        'stroke-width="0.8"/>',
    ]
    for pct in (0, 25, 50, 75, 100):
        y = TOP + plot_h - plot_h * pct / 100
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="#e3e7ed" stroke-width="0.6"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 3:.1f}" font-size="9" text-anchor="end" fill="#4a5568">{pct} %</text>'
        )
    if not points:
        parts.append(
            f'<text x="{LEFT + plot_w / 2:.1f}" y="{TOP + plot_h / 2:.1f}" font-size="11" text-anchor="middle" '
            'fill="#4a5568">No stored runs</text>'
        )
        parts.append("</svg>")
        return Markup("".join(parts))
    n = len(points)
    pad = 12  # keep the first and last bars inside the plot
    step = (plot_w - 2 * pad) / max(n - 1, 1)
    bar_w = max(min(step * 0.5, 14), 1.5)

    def x_of(i: int) -> float:
        return LEFT + (pad + i * step if n > 1 else plot_w / 2)

    for i, p in enumerate(points):  # controls failing: bars on the same 0-100 % axis as the lines
        h = plot_h * p.failing_rate
        if h > 0:
            parts.append(
                f'<rect x="{x_of(i) - bar_w / 2:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="#f3c4c4" data-share="{p.failing_rate:.4f}"/>'
            )
    all_xy = [(x_of(i), TOP + plot_h - plot_h * p.pass_rate) for i, p in enumerate(points)]
    auto_xy = [(x_of(i), TOP + plot_h - plot_h * p.automated_rate) for i, p in enumerate(points)]
    parts.append(
        '<polyline points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y in all_xy) + '" fill="none" stroke="#7a8699" '
        'stroke-width="1.3" stroke-dasharray="4 3"/>'
    )
    parts.append(
        '<polyline points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y in auto_xy) + '" fill="none" stroke="#1f4e79" '
        'stroke-width="1.8"/>'
    )
    if n <= 40:
        for x, y in auto_xy:
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.4" fill="#1f4e79"/>')
    # x labels: at most 8, evenly spaced, always the first and the last
    label_idx = sorted({round(k * (n - 1) / 7) for k in range(8)}) if n > 8 else list(range(n))
    for i in label_idx:
        parts.append(
            f'<text x="{x_of(i):.1f}" y="{TOP + plot_h + 14}" font-size="8.5" text-anchor="middle" '
            f'fill="#4a5568">{escape(points[i].at.strftime("%Y-%m-%d"))}</text>'
        )
    ly = HEIGHT - 10
    legend = [
        (
            '<line x1="{x}" y1="{y}" x2="{x2}" y2="{y}" stroke="#1f4e79" stroke-width="1.8"/>',
            "automated controls passing",
        ),
        (
            '<line x1="{x}" y1="{y}" x2="{x2}" y2="{y}" stroke="#7a8699" stroke-width="1.3" stroke-dasharray="4 3"/>',
            "all controls passing (incl. manual)",
        ),
        ('<rect x="{x}" y="{yb}" width="10" height="8" fill="#f3c4c4"/>', "controls failing"),
    ]
    x = LEFT
    for shape, label in legend:
        parts.append(shape.format(x=x, x2=x + 18, y=ly - 3, yb=ly - 8))
        parts.append(f'<text x="{x + 23}" y="{ly}" font-size="9" fill="#1a202c">{escape(label)}</text>')
        x += 40 + 5 * len(label)
    parts.append("</svg>")
    return Markup("".join(parts))
