"""The report's plots, drawn with matplotlib's object API and returned as inline SVG text.

No pyplot: every figure is a :class:`matplotlib.figure.Figure` of its own, rendered by the SVG
canvas, so nothing touches the host's backend, open figures or rcParams (thread-safe, and safe
to call from a Jupyter session with another backend active). Text is drawn as glyph paths
(matplotlib's default ``svg.fonttype``), so the SVG needs no fonts; each text's group carries
``class="mpl-text"`` and its string in ``data-text``, which the browser test uses to check that
no text lies outside its plot. Curves are evaluated on a log-spaced grid of return periods,
never one point per simulation, so a plot costs the same for 2,000 or 1,000,000 simulations
(:func:`ep_points` is :func:`riskengine.measures.ep_points`, weighted under importance sampling).
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

import numpy as np

from ..measures import ep_points
from .format import fmt_amount, unit_of

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis
    from matplotlib.figure import Figure

__all__ = [
    "EPCurve",
    "HistPanel",
    "return_period_grid",
    "ep_points",
    "ep_plot",
    "histogram_plot",
    "bar_plot",
    "concentration_plot",
    "rate_card_plot",
    "SharePanel",
    "share_scatter",
    "TornadoSeries",
    "tornado_plot",
    "svg_of",
]

# Colours (colour-blind safe, Okabe-Ito based) by role.
GROSS = "#0b4f8a"
NET = "#009e73"
CEDED = "#d55e00"
OEP = "#e69f00"
TVAR = "#7b3294"
GRID = "#d9dde3"
INK = "#1f2933"
MUTED = "#5f6b7a"

_WIDTH = 9.0  # inches; the SVG scales to the page width


@dataclass(frozen=True)
class EPCurve:
    """One line of an EP plot."""

    label: str
    return_periods: np.ndarray
    losses: np.ndarray
    color: str
    style: str = "-"
    width: float = 2.0


def return_period_grid(n: int, points: int = 240) -> np.ndarray:
    """Return periods 1 … n on a log grid, each an exact empirical point T = n / k (k integer)."""
    if n <= 1:
        return np.ones(1)
    k = np.unique(np.round(np.geomspace(n, 1, points)).astype(np.int64))[::-1]
    return n / k


# ---------------------------------------------------------------------------------------------
# SVG plumbing
# ---------------------------------------------------------------------------------------------
_PROLOGUE = re.compile(r"^.*?(?=<svg\b)", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_COMMENT = re.compile(r"<!--.*?-->\s*", re.S)
_IDREF = re.compile(r'(\bid="|href="#|url\(#)([^")]+)')
_SIZE = re.compile(r'\s(width|height)="[^"]*"')
_TEXT_GROUP = re.compile(r'<g id="text_\d+"')


def _mark_texts(text: str) -> str:
    """Add ``class="mpl-text"`` and ``data-text`` (the string drawn) to every text's group.

    matplotlib writes each text as ``<g id="text_N">`` holding the glyphs after a comment with
    the string (and, for an annotation, its box before them).
    """
    out: list[str] = []
    pos = 0
    starts = [m.start() for m in _TEXT_GROUP.finditer(text)]
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        c = text.find("<!-- ", start, end)
        e = text.find(" -->", c, end) if c >= 0 else -1
        label = text[c + 5 : e] if c >= 0 and e >= 0 else ""
        tag_end = text.index(">", start)
        out.append(text[pos:tag_end])
        out.append(f' class="mpl-text" data-text="{escape(label, quote=True)}"')
        pos = tag_end
    out.append(text[pos:])
    return "".join(out)


def svg_of(fig: Figure, key: str, title: str) -> str:
    """Render ``fig`` as an ``<svg>`` element ready to inline into HTML.

    Drops the XML prologue, metadata and comments; marks each text's group (``mpl-text``);
    renames every id to ``<key>-<n>`` (unique in the page and the same on every render);
    replaces the fixed size by the viewBox alone, so CSS scales it to the container's width;
    adds ``role="img"`` and a ``<title>`` for screen readers.
    """
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = _PROLOGUE.sub("", buf.getvalue(), count=1)
    text = _METADATA.sub("", text)
    text = _COMMENT.sub("", _mark_texts(text))
    names: dict[str, str] = {}

    def rename(m: re.Match[str]) -> str:
        new = names.setdefault(m.group(2), f"{key}-{len(names)}")
        return m.group(1) + new

    text = _IDREF.sub(rename, text)
    head_end = text.index(">")
    head = _SIZE.sub("", text[:head_end])
    label = escape(title, quote=True)
    head += f' class="plot" role="img" aria-label="{label}" preserveAspectRatio="xMidYMid meet"'
    body = text[head_end:]
    body = ">" + f"<title>{escape(title)}</title>" + body[1:]
    return head + body.strip()


def _figure(
    height: float, *, left: float = 0.85, right: float = 0.3, bottom: float = 0.6, top: float = 0.15
) -> Figure:
    """A figure with fixed margins (inches) around one axes.

    Fixed margins rather than a layout engine: a layout engine costs two extra drawing passes,
    half the time of a report, and the plots' tick labels have known sizes.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(_WIDTH, height), facecolor="white")
    fig.subplots_adjust(
        left=left / _WIDTH, right=1 - right / _WIDTH, bottom=bottom / height, top=1 - top / height
    )
    return fig


def _text_width(s: str, size: float = 9.0) -> float:
    """Generous width (inches) of ``s`` in DejaVu Sans at ``size`` points."""
    return 0.62 * size / 72 * len(s)


def _style(ax: Axes) -> None:
    ax.set_facecolor("white")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#9aa5b1")
    ax.tick_params(colors=INK, labelsize=9, length=3)
    ax.grid(True, color=GRID, linewidth=0.7)
    ax.set_axisbelow(True)


def _amount_axis(axis: Axis, vmax: float, currency: str) -> str:
    """Format an axis in the unit of ``vmax``; return its label suffix (``m EUR``)."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    scale, word = unit_of(vmax)
    axis.set_major_locator(MaxNLocator(nbins=7, steps=[1, 2, 2.5, 5, 10]))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v / scale:,.6g}"))
    return " ".join(p for p in (word, currency) if p)


def _log_ticks(n_max: float) -> list[float]:
    """1, 2, 5, 10, 20, … up to ``n_max``: the ticks of a log axis that starts at 1."""
    return [m * 10**e for e in range(0, 13) for m in (1, 2, 5) if m * 10**e <= n_max * 1.0001]


def _log_count_axis(axis: Axis, n_max: float) -> None:
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    axis.set_major_locator(FixedLocator(_log_ticks(n_max)))
    axis.set_minor_locator(NullLocator())
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))


def _right_margin(n_max: float) -> float:
    """Right margin (inches) that holds half the last label of a log axis ending at ``n_max``."""
    return max(0.3, _text_width(f"{_log_ticks(max(n_max, 2))[-1]:,.0f}") / 2 + 0.1)


# ---------------------------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------------------------
def ep_plot(
    curves: Sequence[EPCurve],
    currency: str,
    key: str,
    title: str,
    *,
    n_sims: int,
    mark: tuple[float, float, str] | None = None,
) -> str:
    """EP curves on a log return-period axis; ``mark`` = (T, loss, label) is highlighted."""
    n_max = max(n_sims, 2)
    fig = _figure(4.6, right=_right_margin(n_max))
    ax = fig.add_subplot()
    _style(ax)
    vmax = max((float(np.nanmax(c.losses)) for c in curves if len(c.losses)), default=0.0)
    for c in curves:
        ax.plot(c.return_periods, c.losses, c.style, color=c.color, lw=c.width, label=c.label)
    ax.set_xscale("log")
    ax.set_xlim(1, n_max)
    _log_count_axis(ax.xaxis, n_max)
    ax.set_xlabel("Return period (years, log scale)", color=INK, fontsize=10)
    top = max(vmax * 1.08, 1e-9)
    if mark is not None and n_sims >= mark[0] and math.isfinite(mark[1]):
        t, v, label = mark
        ax.axvline(t, color=MUTED, lw=0.8, ls=":", zorder=1)
        ax.plot([t], [v], "o", ms=7, mfc="white", mec=GROSS, mew=2, zorder=5)
        # the box goes where the curve is not: left of the point in the right half of the
        # plot, below it in the upper part
        left = math.log(t) / math.log(n_max) > 0.5
        low = v > 0.6 * top
        ax.annotate(
            f"{label}\n{fmt_amount(v, currency)}",
            (t, v),
            xytext=(-10 if left else 10, -12 if low else 12),
            textcoords="offset points",
            ha="right" if left else "left",
            va="top" if low else "bottom",
            fontsize=9,
            color=INK,
            bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "#9aa5b1", "lw": 0.6},
            zorder=6,
        )
    unit = _amount_axis(ax.yaxis, vmax, currency)
    ax.set_ylim(bottom=0, top=top)
    ax.set_ylabel(f"Annual loss ({unit})", color=INK, fontsize=10)
    ax.legend(loc="upper left", frameon=False, fontsize=9)
    return svg_of(fig, key, title)


@dataclass(frozen=True)
class HistPanel:
    """One panel of :func:`histogram_plot`: a loss sample and its marked values.

    ``lines`` are (label, value, colour, line style); the legend shows each with its amount.
    ``weights``: the years' likelihood ratios (importance sampling), each year then counting
    as its weight.
    """

    name: str
    losses: np.ndarray
    lines: Sequence[tuple[str, float, str, str]]
    fill: str = "#8fb3d9"
    edge: str = GROSS
    weights: np.ndarray | None = None


def histogram_plot(
    panels: Sequence[HistPanel],
    currency: str,
    key: str,
    title: str,
    *,
    xlabel: str = "Annual loss",
    bins: int = 90,
) -> str:
    """Histograms of annual losses with log-scaled counts, one panel each, on one loss axis."""
    from matplotlib.ticker import FuncFormatter

    samples, weights = [], []
    for p in panels:
        x = np.asarray(p.losses, dtype=np.float64)
        ok = np.isfinite(x)
        samples.append(x[ok])
        weights.append(None if p.weights is None else np.asarray(p.weights)[ok])
    weighted = any(w is not None for w in weights)
    hi = max((float(x.max()) for x in samples if len(x)), default=0.0)
    lo = min([0.0, *(float(x.min()) for x in samples if len(x))])
    if hi <= lo:
        hi = lo + 1.0
    edges = np.linspace(lo, hi, bins + 1)
    h_axes, left, right, bottom = 3.0, 0.85, 0.3, 0.6
    heads = [0.75 if len(p.lines) > 3 else 0.5 for p in panels]  # panel title and legend
    height = bottom + len(panels) * h_axes + sum(heads)
    fig = _figure(height)
    unit = ""
    y = height
    # the bars start below one year; weighted counts can be far smaller, down to the smallest
    counts_of = [
        np.histogram(x, bins=edges, weights=w)[0] for x, w in zip(samples, weights, strict=True)
    ]
    floor = 0.7
    if weighted:
        positive = [float(c[c > 0].min()) for c in counts_of if np.any(c > 0)]
        floor = min(floor, 0.5 * min(positive, default=1.0))
    axes = []
    for p, counts, head in zip(panels, counts_of, heads, strict=True):
        y -= head + h_axes
        ax = fig.add_axes(
            (left / _WIDTH, y / height, 1 - (left + right) / _WIDTH, h_axes / height),
            sharex=axes[0] if axes else None,
        )
        axes.append(ax)
        _style(ax)
        ax.grid(False, axis="x")
        ax.set_yscale("log", nonpositive="clip")
        shown = np.maximum(counts, floor)
        ax.stairs(shown, edges, fill=True, color=p.fill, baseline=floor, lw=0)
        ax.stairs(shown, edges, fill=False, color=p.edge, baseline=floor, lw=0.8)
        ax.set_ylim(floor, max(float(counts.max()) if len(counts) else 1.0, 1.0) * 3)
        for label, v, color, style in p.lines:
            if math.isfinite(v):
                ax.axvline(
                    v, color=color, ls=style, lw=1.8, label=f"{label}: {fmt_amount(v, currency)}"
                )
        ax.set_title(p.name, loc="left", fontsize=10.5, fontweight="bold", color=INK, pad=6)
        ax.set_ylabel(
            "Weighted years (log scale)" if weighted else "Simulated years (log scale)",
            color=INK,
            fontsize=10,
        )
        ax.yaxis.set_major_formatter(FuncFormatter(_count_label(weighted)))
        ax.legend(
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            ncol=len(p.lines) if len(p.lines) <= 3 else 2,
            frameon=False,
            fontsize=9,
            borderaxespad=0.2,
        )
        unit = _amount_axis(ax.xaxis, hi, currency)
    for ax in axes[:-1]:
        ax.tick_params(labelbottom=False)
    axes[-1].set_xlim(lo, hi * 1.01 if hi > 0 else hi)
    axes[-1].set_xlabel(f"{xlabel} ({unit})", color=INK, fontsize=10)
    return svg_of(fig, key, title)


def _count_label(weighted: bool) -> Callable[[float, int], str]:
    """Tick labels of a log count axis: whole years, and fractions of a year when weighted."""

    def label(v: float, _pos: int) -> str:
        if v >= 1:
            return f"{v:,.0f}"
        return f"{v:.0e}".replace("e-0", "e−") if weighted and v > 0 else ""

    return label


def bar_plot(
    labels: Sequence[str],
    values: Sequence[float],
    shares: Sequence[float],
    currency: str,
    key: str,
    title: str,
    *,
    xlabel: str = "Expected gross loss",
    errors: Sequence[float] | None = None,
) -> str:
    """Horizontal bars, the first label on top, each annotated with its amount and share.

    ``errors`` (same unit as ``values``): a ± error bar on each bar (a standard error; NaN for
    none), its note placed right of the bar's end.
    """
    n = len(labels)
    left = 0.25 + _text_width(max(labels, key=len, default="")) * 0.9
    vals = np.asarray(values, dtype=np.float64)
    err = np.zeros(n) if errors is None else np.asarray(errors, dtype=np.float64)
    err = np.where(np.isfinite(err), err, 0.0)
    ends = vals + err
    vmax = float(ends.max()) if n else 0.0
    notes = [f"{fmt_amount(v)}  ({s:.1%})" for v, s in zip(vals, shares, strict=True)]
    fig = _figure(max(1.6, 0.32 * n + 0.9), left=left, right=0.3, top=0.1)
    ax = fig.add_subplot()
    _style(ax)
    ax.grid(False, axis="y")
    y = np.arange(n)[::-1]
    ax.barh(y, vals, color=GROSS, height=0.66)
    if errors is not None:
        ax.errorbar(vals, y, xerr=err, fmt="none", ecolor=INK, elinewidth=1.0, capsize=2.5)
    for yi, v, text in zip(y, ends, notes, strict=True):
        ax.annotate(
            text,
            (v, yi),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8.5,
            color=INK,
        )
    ax.set_yticks(y, labels=list(labels))
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(-0.6, n - 0.4)
    unit = _amount_axis(ax.xaxis, vmax, currency)
    # room right of the longest bar for its note
    axes_w = _WIDTH - left - 0.3
    room = _text_width(max(notes, key=len, default=""), 8.5) + 0.1
    ax.set_xlim(0, max(vmax / max(1 - room / axes_w, 0.3), 1e-9))
    ax.set_xlabel(f"{xlabel} ({unit})", color=INK, fontsize=10)
    return svg_of(fig, key, title)


def concentration_plot(
    curves: Sequence[tuple[str, np.ndarray, str, str]],
    key: str,
    title: str,
    *,
    xlabel: str = "Number of largest buyers k (log scale)",
) -> str:
    """Share of the total held by the k largest, against k on a log axis.

    ``curves`` are (label, values sorted descending, colour, line style).
    """
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    n_max = max((len(v) for _, v, _, _ in curves), default=2)
    n_max = max(n_max, 2)
    fig = _figure(3.4, right=_right_margin(n_max))
    ax = fig.add_subplot()
    _style(ax)
    for label, desc, color, style in curves:
        total = float(np.sum(desc))
        if len(desc) == 0 or total <= 0:
            continue
        k = np.unique(np.round(np.geomspace(1, len(desc), 240)).astype(np.int64))
        share = np.cumsum(desc)[k - 1] / total
        ax.plot(k, 100 * share, style, color=color, lw=2.0, label=label)
    ax.set_xscale("log")
    ax.set_xlim(1, n_max)
    _log_count_axis(ax.xaxis, n_max)
    ax.set_ylim(0, 100)
    ax.yaxis.set_major_locator(MultipleLocator(20))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:.0f} %"))
    ax.set_xlabel(xlabel, color=INK, fontsize=10)
    ax.set_ylabel("Share of total EAD", color=INK, fontsize=10)
    ax.legend(loc="upper left", frameon=False, fontsize=9)
    return svg_of(fig, key, title)


#: Colours of the rate card's ratings, best to worst (colour-blind safe, Okabe-Ito order).
RATING_COLOURS = ("#56b4e9", "#009e73", "#0b4f8a", "#7b3294", "#e69f00", "#d55e00", "#cc3311")
_MARKERS = "osD^vP*X"


def _percent_tick(v: float) -> str:
    """A tick of a log percentage axis without an exponent: ``3 %``, ``0.03 %``, ``0.0003 %``."""
    if v >= 1:
        return f"{v:,.4g} %"
    return (
        np.format_float_positional(v, precision=2, unique=False, fractional=False, trim="-") + " %"
    )


def rate_card_plot(
    grades: Sequence[int],
    lines: Sequence[tuple[str, np.ndarray]],
    key: str,
    title: str,
    *,
    benchmark: tuple[str, np.ndarray] | None = None,
) -> str:
    """Rates (fractions of turnover) by country risk grade, one line per rating, log scale.

    ``lines`` are (rating, rate of each grade) from the best rating to the worst; ``benchmark``
    an outside reference drawn dashed (NaN where it has no value).
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    labels = [label for label, _ in lines] + ([benchmark[0]] if benchmark else [])
    values = [np.asarray(v, dtype=np.float64) for _, v in lines]
    if benchmark is not None:
        values.append(np.asarray(benchmark[1], dtype=np.float64))
    finite = np.concatenate([v[np.isfinite(v) & (v > 0)] for v in values])
    lo = float(finite.min()) if len(finite) else 1e-4
    hi = float(finite.max()) if len(finite) else 1e-2
    bottom, top = 100 * lo / 1.6, 100 * hi * 1.6
    # room for the longest tick label (the lowest decade's) and the axis label
    lowest = _percent_tick(10 ** math.floor(math.log10(bottom)))
    right = 0.45 + _text_width(max(labels, key=len, default=""), 9.0)
    fig = _figure(4.2, right=right, left=0.45 + _text_width(lowest))
    ax = fig.add_subplot()
    _style(ax)
    x = np.asarray(grades, dtype=np.float64)
    for i, ((label, _), v) in enumerate(zip(lines, values, strict=False)):
        colour = RATING_COLOURS[i % len(RATING_COLOURS)]
        marker = _MARKERS[i % len(_MARKERS)]
        ax.plot(x, 100 * v, "-", marker=marker, ms=4.5, color=colour, lw=1.8, label=label)
    if benchmark is not None:
        ax.plot(x, 100 * values[-1], "--", color=MUTED, lw=1.6, label=benchmark[0])
    ax.set_yscale("log")
    ax.set_ylim(bottom, top)
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 3.0)))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: _percent_tick(v)))
    ax.set_xticks(x, labels=[str(int(g)) for g in grades])
    ax.set_xlim(x.min() - 0.3, x.max() + 0.3)
    ax.set_xlabel("Country risk grade (OECD scale)", color=INK, fontsize=10)
    ax.set_ylabel("Rate on insured turnover (log scale)", color=INK, fontsize=10)
    ax.legend(
        loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize=9, borderaxespad=0
    )
    return svg_of(fig, key, title)


@dataclass(frozen=True)
class SharePanel:
    """One panel of :func:`share_scatter`: segments' shares (fractions) of two totals.

    ``names`` label the points; the ``annotate`` points farthest from the origin are labelled
    where their label has room.
    """

    title: str
    x: np.ndarray
    y: np.ndarray
    names: Sequence[str]
    color: str = GROSS
    annotate: int = 6


_LABEL_PT = 8.5  # font size of point labels


def _place_labels(
    ax: Axes, p: SharePanel, lim: tuple[float, float, float, float], size: tuple[float, float]
) -> None:
    """Label the panel's largest points, each right (or left) of its point, skipping any label
    that would overlap another or leave the axes (greedy, in inches of the axes)."""
    x0, x1, y0, y1 = lim
    w, h = size
    th = _LABEL_PT / 72 * 1.3
    gap = 5 / 72
    boxes: list[tuple[float, float, float, float]] = []
    far = np.argsort(-np.hypot(p.x, p.y), kind="stable")[: p.annotate]
    for i in far:
        px = (100 * p.x[i] - x0) / (x1 - x0) * w
        py = (100 * p.y[i] - y0) / (y1 - y0) * h
        name = str(p.names[i])
        tw = _text_width(name, _LABEL_PT)
        for side in (1, -1):
            a = px + gap if side > 0 else px - gap - tw
            box = (a, py - th / 2, a + tw, py + th / 2)
            inside = box[0] >= 0 and box[2] <= w and box[1] >= 0 and box[3] <= h
            clear = all(
                box[2] < b[0] or box[0] > b[2] or box[3] < b[1] or box[1] > b[3] for b in boxes
            )
            if inside and clear:
                boxes.append(box)
                ax.annotate(
                    name,
                    (100 * p.x[i], 100 * p.y[i]),
                    xytext=(5 * side, 0),
                    textcoords="offset points",
                    ha="left" if side > 0 else "right",
                    va="center",
                    fontsize=_LABEL_PT,
                    color=INK,
                )
                break


def share_scatter(
    panels: Sequence[SharePanel],
    key: str,
    title: str,
    *,
    xlabel: str = "Share of exposure (EAD)",
    ylabel: str = "Share of capital",
) -> str:
    """Side-by-side scatters of shares (in %) with the diagonal of equal shares: a point above
    it takes a larger share of ``ylabel`` than of ``xlabel``."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    k = max(len(panels), 1)
    left, gap, right, bottom, top, h_axes = 0.8, 0.75, 0.3, 0.6, 0.35, 3.4
    w_axes = (_WIDTH - left - right - (k - 1) * gap) / k
    height = bottom + h_axes + top
    fig = _figure(height, left=left, right=right, bottom=bottom, top=top)
    for j, p in enumerate(panels):
        ax = fig.add_axes(
            (
                (left + j * (w_axes + gap)) / _WIDTH,
                bottom / height,
                w_axes / _WIDTH,
                h_axes / height,
            )
        )
        _style(ax)
        fx, fy = np.asarray(p.x, dtype=np.float64), np.asarray(p.y, dtype=np.float64)
        xs, ys = 100 * fx, 100 * fy
        ok = np.isfinite(xs) & np.isfinite(ys)
        hi = max(float(xs[ok].max()) if ok.any() else 0.0, float(ys[ok].max()) if ok.any() else 0.0)
        hi = max(hi * 1.1, 1e-6)
        lo = min(0.0, float(ys[ok].min()) * 1.1 if ok.any() else 0.0)
        ax.plot([0, hi], [0, hi], "--", color=MUTED, lw=1.0, zorder=1)
        ax.scatter(xs[ok], ys[ok], s=26, color=p.color, alpha=0.8, lw=0.5, ec="white", zorder=3)
        ax.axhline(0, color="#9aa5b1", lw=0.6, zorder=1)
        ax.set_xlim(0, hi)
        ax.set_ylim(lo, hi)
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
            axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v + 0.0:.4g} %"))
        ax.set_title(p.title, loc="left", fontsize=10.5, fontweight="bold", color=INK, pad=6)
        ax.set_xlabel(xlabel, color=INK, fontsize=10)
        if j == 0:
            ax.set_ylabel(ylabel, color=INK, fontsize=10)
        names = [n for n, g in zip(p.names, ok, strict=True) if g]
        ok_panel = SharePanel(p.title, fx[ok], fy[ok], names, p.color, p.annotate)
        _place_labels(ax, ok_panel, (0.0, hi, lo, hi), (w_axes, h_axes))
    return svg_of(fig, key, title)


@dataclass(frozen=True)
class TornadoSeries:
    """One bar of each row of :func:`tornado_plot`: changes (positive or negative) with the
    half-width of an error bar around each (same unit; NaN for none)."""

    label: str
    values: np.ndarray
    errors: np.ndarray
    color: str


def _signed(v: float) -> str:
    """An amount with its sign: ``+12.3 m``, ``−4.56 k``, ``0``."""
    return ("+" if v > 0 else "") + fmt_amount(v)


def tornado_plot(
    labels: Sequence[str],
    series: Sequence[TornadoSeries],
    currency: str,
    key: str,
    title: str,
    *,
    xlabel: str = "Change against the base",
) -> str:
    """Changes as horizontal bars from a zero line — right when positive, left when negative —
    one row per label (the first on top) holding one bar per series, each with its error bar
    and annotated with its signed amount beyond the bar's end."""
    n, k = len(labels), max(len(series), 1)
    note_pt = 8.5
    vals = [np.asarray(s.values, dtype=np.float64) for s in series]
    errs = [np.nan_to_num(np.asarray(s.errors, dtype=np.float64), nan=0.0) for s in series]
    hi = [np.maximum(v + e, 0.0) for v, e in zip(vals, errs, strict=True)]
    lo = [np.minimum(v - e, 0.0) for v, e in zip(vals, errs, strict=True)]
    notes = [[_signed(x) for x in v] for v in vals]
    # room for the notes: right of the longest positive bar, left of the longest negative one
    flat = np.concatenate(vals) if vals else np.zeros(0)
    width = np.array([_text_width(t, note_pt) + 0.1 for ts in notes for t in ts])
    room_r = float(width[flat >= 0].max(initial=0.0))
    room_l = float(width[flat < 0].max(initial=0.0))
    x_hi = max((float(h.max()) for h in hi if len(h)), default=0.0)
    x_lo = min((float(h.min()) for h in lo if len(h)), default=0.0)
    span = max(x_hi - x_lo, 1e-9)
    left = 0.35 + _text_width(max(labels, key=len, default=""))
    axes_w = _WIDTH - left - 0.3
    per_inch = span / max(axes_w - room_l - room_r, 0.3 * axes_w)
    row = 0.3 * k + 0.25
    fig = _figure(max(2.0, row * n + 1.25), left=left, right=0.3, top=0.45)
    ax = fig.add_subplot()
    _style(ax)
    ax.grid(False, axis="y")
    y = np.arange(n)[::-1].astype(np.float64)
    h = 0.8 / k
    for j, (s, v, e) in enumerate(zip(series, vals, errs, strict=True)):
        yj = y + (k - 1 - 2 * j) * h / 2
        ax.barh(yj, v, height=0.9 * h, color=s.color, label=s.label)
        ax.errorbar(v, yj, xerr=e, fmt="none", ecolor=INK, elinewidth=1.0, capsize=2.5)
        for yi, x, err, text in zip(yj, v, e, notes[j], strict=True):
            end = x + err if x >= 0 else x - err
            ax.annotate(
                text,
                (end, yi),
                xytext=(4 if x >= 0 else -4, 0),
                textcoords="offset points",
                ha="left" if x >= 0 else "right",
                va="center",
                fontsize=note_pt,
                color=INK,
            )
    ax.axvline(0.0, color=INK, lw=0.9, zorder=2)
    ax.set_yticks(y, labels=list(labels))
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(-0.6, n - 0.4)
    ax.set_xlim(x_lo - room_l * per_inch, x_hi + room_r * per_inch)
    unit = _amount_axis(ax.xaxis, max(abs(x_lo), abs(x_hi)), currency)
    ax.set_xlabel(f"{xlabel} ({unit})", color=INK, fontsize=10)
    ax.legend(
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncol=k,
        frameon=False,
        fontsize=9,
        borderaxespad=0.2,
    )
    return svg_of(fig, key, title)
