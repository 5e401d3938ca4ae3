"""Server-rendered SVG charts: pure functions from numbers to markup, labels escaped."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

W, H = 600, 180
PAD_L, PAD_R, PAD_T, PAD_B = 40, 10, 10, 24


def _frame(label: str, body: str) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>{body}</svg>'
    )


def _axis(top: str, bottom: str, labels: Sequence[str]) -> str:
    plot_w = W - PAD_L - PAD_R
    parts = [
        f'<line class="axis" x1="{PAD_L}" y1="{H - PAD_B}" x2="{W - PAD_R}" y2="{H - PAD_B}"/>',
        f'<text class="tick" x="{PAD_L - 4}" y="{PAD_T + 8}" text-anchor="end">'
        f"{escape(top)}</text>",
        f'<text class="tick" x="{PAD_L - 4}" y="{H - PAD_B}" text-anchor="end">'
        f"{escape(bottom)}</text>",
    ]
    if labels:
        step = max(1, len(labels) // 6)
        for i in range(0, len(labels), step):
            x = PAD_L + plot_w * (i + 0.5) / len(labels)
            parts.append(
                f'<text class="tick" x="{x:.1f}" y="{H - 6}" text-anchor="middle">'
                f"{escape(labels[i])}</text>"
            )
    return "".join(parts)


def bar_chart(label: str, labels: Sequence[str], values: Sequence[int | float]) -> Markup:
    """Bars of `values` (≥ 0) over `labels`, scaled to the largest."""
    top = max([*values, 0]) or 1
    plot_w, plot_h = W - PAD_L - PAD_R, H - PAD_T - PAD_B
    slot = plot_w / max(len(values), 1)
    bars = []
    for i, (name, value) in enumerate(zip(labels, values, strict=True)):
        h = plot_h * max(value, 0) / top
        bars.append(
            f'<rect class="bar" x="{PAD_L + i * slot + slot * 0.15:.1f}" '
            f'y="{PAD_T + plot_h - h:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}">'
            f"<title>{escape(name)}: {escape(str(value))}</title></rect>"
        )
    return _frame(label, _axis(f"{top:g}", "0", labels) + "".join(bars))


def line_chart(
    label: str, labels: Sequence[str], values: Sequence[float | None], low: float, high: float
) -> Markup:
    """A line through `values` between `low` and `high`; gaps where a value is None."""
    plot_w, plot_h = W - PAD_L - PAD_R, H - PAD_T - PAD_B
    span = (high - low) or 1
    points, dots = [], []
    for i, value in enumerate(values):
        if value is None:
            points.append("")
            continue
        x = PAD_L + plot_w * (i + 0.5) / max(len(values), 1)
        y = PAD_T + plot_h * (1 - (min(max(value, low), high) - low) / span)
        points.append(f"{x:.1f},{y:.1f}")
        dots.append(
            f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="3">'
            f"<title>{escape(labels[i])}: {value:.2f}</title></circle>"
        )
    runs = [seg.strip() for seg in " ".join(p or "|" for p in points).split("|")]
    lines = "".join(f'<polyline class="line" points="{seg}"/>' for seg in runs if seg)
    zero = PAD_T + plot_h * (1 - (0 - low) / span) if low < 0 < high else None
    mid = (
        f'<line class="zero" x1="{PAD_L}" y1="{zero:.1f}" x2="{W - PAD_R}" y2="{zero:.1f}"/>'
        if zero is not None
        else ""
    )
    return _frame(label, _axis(f"{high:g}", f"{low:g}", labels) + mid + lines + "".join(dots))


def _spark(label: str, w: int, h: int, body: str) -> Markup:
    return Markup(
        f'<svg class="spark" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(label)}</title>{body}</svg>"
    )


def spark_bars(label: str, labels: Sequence[str], values: Sequence[int], w: int = 150) -> Markup:
    """A sparkline of counts: one bar per label, scaled to the largest, each titled."""
    h, top = 30, max([*values, 0]) or 1
    slot = w / max(len(values), 1)
    bars = [f'<line class="axis" x1="0" y1="{h - 0.5}" x2="{w}" y2="{h - 0.5}"/>']
    for i, (name, value) in enumerate(zip(labels, values, strict=True)):
        if value > 0:
            bar_h = max(1.0, (h - 2) * value / top)
            bars.append(
                f'<rect class="bar" x="{i * slot:.1f}" y="{h - bar_h:.1f}" '
                f'width="{max(slot - 0.5, 0.5):.1f}" height="{bar_h:.1f}">'
                f"<title>{escape(name)}: {value}</title></rect>"
            )
    return _spark(label, w, h, "".join(bars))


def spark_line(
    label: str, labels: Sequence[str], values: Sequence[float | None], unit: str, w: int = 150
) -> Markup:
    """A sparkline of measurements scaled to the largest, broken where a value is None."""
    h = 30
    top = max([v for v in values if v is not None] or [0.0]) or 1.0
    slot = w / max(len(values), 1)
    runs: list[list[str]] = [[]]
    dots = []
    for i, value in enumerate(values):
        if value is None:
            runs.append([])
            continue
        x, y = (i + 0.5) * slot, 2 + (h - 4) * (1 - value / top)
        runs[-1].append(f"{x:.1f},{y:.1f}")
        dots.append(
            f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="1.5">'
            f"<title>{escape(labels[i])}: {value:,.1f} {escape(unit)}</title></circle>"
        )
    lines = "".join(f'<polyline class="line" points="{" ".join(r)}"/>' for r in runs if len(r) > 1)
    return _spark(label, w, h, lines + "".join(dots))
