"""Inline SVG charts for the satisfaction dashboard (no scripts, no CDN). Labels are escaped; every
coordinate is a number, so the markup is safe to embed."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from desk.metrics import Interval


def _svg(width: int, height: int, body: str, title: str, testid: str) -> str:
    return (
        f'<svg class="chart" data-testid="{escape(testid)}" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>{body}</svg>'
    )


def line_chart(points: Sequence[tuple[str, float]], *, low: float, high: float, title: str, testid: str,
               width: int = 480, height: int = 160, target: float | None = None, target_label: str = "") -> str:
    """Values over time (oldest first) between ``low`` and ``high``; each point is labelled; ``target``
    draws a dashed target line."""
    pad_l, pad_r, pad_t, pad_b = 34, 10, 10, 26
    inner_w, inner_h = width - pad_l - pad_r, height - pad_t - pad_b

    def y(v: float) -> float:
        return pad_t + (1 - (min(high, max(low, v)) - low) / ((high - low) or 1)) * inner_h

    step = inner_w / (len(points) - 1) if len(points) > 1 else 0
    xy = [(pad_l + (i * step if len(points) > 1 else inner_w / 2), y(v)) for i, (_, v) in enumerate(points)]
    body = (f'<line x1="{pad_l}" y1="{y(low):.1f}" x2="{width - pad_r}" y2="{y(low):.1f}" class="axis"/>'
            f'<text x="2" y="{y(high) + 4:.1f}" class="tick">{high:g}</text>'
            f'<text x="2" y="{y(low) + 4:.1f}" class="tick">{low:g}</text>')
    if target is not None:
        body += (f'<line x1="{pad_l}" y1="{y(target):.1f}" x2="{width - pad_r}" y2="{y(target):.1f}" class="target" '
                 f'data-target="{target:g}"><title>{escape(target_label)} {target:g}</title></line>'
                 f'<text x="{width - pad_r}" y="{y(target) - 3:.1f}" text-anchor="end" class="tick target-label">'
                 f'{escape(target_label)} {target:g}</text>')
    if len(xy) > 1:
        body += '<polyline fill="none" class="series" points="' + " ".join(f"{a:.1f},{b:.1f}" for a, b in xy) + '"/>'
    for (label, value), (a, b) in zip(points, xy):
        body += (f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" class="dot"><title>{escape(label)}: {value:.2f}</title></circle>'
                 f'<text x="{a:.1f}" y="{height - 8}" text-anchor="middle" class="tick">{escape(label[5:])}</text>')
    return _svg(width, height, body, title, testid)


def bar_chart(bars: Sequence[tuple[str, float]], *, maximum: float, title: str, testid: str, percent: bool = True,
              width: int = 480, bar_h: int = 18) -> str:
    """Horizontal bars, one per label (share 0..1 shown as %)."""
    label_w, gap = 150, 6
    height = max(1, len(bars)) * (bar_h + gap) + gap
    inner = width - label_w - 60
    body = ""
    for i, (label, value) in enumerate(bars):
        top = gap + i * (bar_h + gap)
        w = inner * (value / maximum if maximum else 0)
        shown = f"{value * 100:.1f}%" if percent else f"{value:.2f}"
        body += (f'<text x="0" y="{top + bar_h - 5}" class="label">{escape(label)}</text>'
                 f'<rect x="{label_w}" y="{top}" width="{max(0.0, w):.1f}" height="{bar_h}" class="bar"/>'
                 f'<text x="{label_w + w + 4:.1f}" y="{top + bar_h - 5}" class="value">{shown}</text>')
    return _svg(width, height, body, title, testid)


def interval_chart(rows: Sequence[tuple[str, Interval | None]], *, title: str, testid: str,
                   low: float = 0.0, high: float = 1.0, width: int = 480, row_h: int = 24) -> str:
    """A point estimate with its confidence interval per row (proportions by default)."""
    label_w, right = 110, 130
    inner = width - label_w - right
    height = max(1, len(rows)) * row_h + 8

    def x(v: float) -> float:
        return label_w + (min(high, max(low, v)) - low) / ((high - low) or 1) * inner

    body = ""
    for i, (label, ci) in enumerate(rows):
        mid = 4 + i * row_h + row_h / 2
        body += f'<text x="0" y="{mid + 4:.1f}" class="label">{escape(label)}</text>'
        if ci is None:
            body += f'<text x="{label_w}" y="{mid + 4:.1f}" class="value">–</text>'
            continue
        body += (f'<line x1="{x(ci.low):.1f}" y1="{mid:.1f}" x2="{x(ci.high):.1f}" y2="{mid:.1f}" class="ci"/>'
                 f'<circle cx="{x(ci.estimate):.1f}" cy="{mid:.1f}" r="4" class="dot"/>'
                 f'<text x="{width - right + 6}" y="{mid + 4:.1f}" class="value">'
                 f'{ci.estimate * 100:.1f}% [{ci.low * 100:.1f}, {ci.high * 100:.1f}] n={ci.n}</text>')
    return _svg(width, height, body, title, testid)


def diverging_chart(bars: Sequence[tuple[str, float | None]], *, title: str, testid: str, limit: float = 1.0,
                    width: int = 480, bar_h: int = 18) -> str:
    """Horizontal bars around a zero axis for scores in [-limit, limit] (sentiment): a negative value is
    drawn left of the axis, a positive one right of it, each labelled just outside its end; the value
    labels have their own margins, so they never run over the row labels. None: no bar, a dash at zero."""
    label_w, value_w, gap = 110, 46, 6
    rows = max(1, len(bars))
    height = rows * (bar_h + gap) + gap + 14
    half = (width - label_w - 2 * value_w) / 2
    zero = label_w + value_w + half

    def x(v: float) -> float:
        return zero + max(-limit, min(limit, v)) / (limit or 1) * half

    body = (f'<line x1="{zero:.1f}" y1="0" x2="{zero:.1f}" y2="{rows * (bar_h + gap) + gap}" class="axis"/>'
            f'<text x="{x(-limit):.1f}" y="{height - 2}" text-anchor="middle" class="tick">{escape(f"{-limit:g}")}</text>'
            f'<text x="{zero:.1f}" y="{height - 2}" text-anchor="middle" class="tick">0</text>'
            f'<text x="{x(limit):.1f}" y="{height - 2}" text-anchor="middle" class="tick">{escape(f"{limit:g}")}</text>')
    for i, (label, value) in enumerate(bars):
        top = gap + i * (bar_h + gap)
        baseline = top + bar_h - 5
        body += f'<text x="0" y="{baseline}" class="label">{escape(label)}</text>'
        if value is None:
            body += f'<text x="{zero + 4:.1f}" y="{baseline}" class="value">–</text>'
            continue
        end = x(value)
        left, span = min(zero, end), abs(end - zero)
        shown = escape(f"{value:+.2f}" if value else "0.00")
        kind = "bar negative" if value < 0 else "bar"
        body += f'<rect x="{left:.1f}" y="{top}" width="{span:.1f}" height="{bar_h}" class="{kind}"/>'
        if value < 0:
            body += f'<text x="{end - 4:.1f}" y="{baseline}" text-anchor="end" class="value">{shown}</text>'
        else:
            body += f'<text x="{end + 4:.1f}" y="{baseline}" class="value">{shown}</text>'
    return _svg(width, height, body, title, testid)
