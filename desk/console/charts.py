"""Small inline SVG charts. The markup is built from numbers only, so it is safe to embed as is."""

from __future__ import annotations

from collections.abc import Iterable


def sentiment_svg(scores: Iterable[float | int | str], *, width: int = 240, height: int = 64, label: str = "") -> str:
    """A line of sentiment scores in [-1, 1] (oldest first) over a zero line; empty input, empty chart."""
    values: list[float] = []
    for raw in scores:
        try:
            values.append(max(-1.0, min(1.0, float(raw))))
        except (TypeError, ValueError):
            continue
    pad = 6
    inner_w, inner_h = width - 2 * pad, height - 2 * pad

    def y(value: float) -> float:
        return pad + (1 - (value + 1) / 2) * inner_h

    step = inner_w / (len(values) - 1) if len(values) > 1 else 0.0
    points = [(pad + i * step if len(values) > 1 else width / 2, y(v)) for i, v in enumerate(values)]
    path = " ".join(f"{x:.1f},{py:.1f}" for x, py in points)
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{py:.1f}" r="2.5" class="{"neg" if v < -0.2 else "pos" if v > 0.2 else "neu"}"/>'
        for (x, py), v in zip(points, values)
    )
    title = "".join(ch for ch in label if ch.isalnum() or ch in " -_:/") if label else ""
    return (
        f'<svg class="sentiment-chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        + (f"<title>{title}</title>" if title else "")
        + f'<line x1="{pad}" y1="{y(0):.1f}" x2="{width - pad}" y2="{y(0):.1f}" class="zero"/>'
        + (f'<polyline points="{path}" fill="none" class="trend"/>' if len(values) > 1 else "")
        + dots
        + "</svg>"
    )
