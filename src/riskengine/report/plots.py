"""The report's plots, drawn with matplotlib's object API and returned as inline SVG text.

No pyplot: every figure is a :class:`matplotlib.figure.Figure` of its own, rendered by the SVG
canvas, so nothing touches the host's backend, open figures or rcParams (thread-safe, and safe
to call from a Jupyter session with another backend active). Text is drawn as glyph paths
(matplotlib's default ``svg.fonttype``), so the SVG needs no fonts; each text's group carries
``class="mpl-text"`` and its string in ``data-text``, which the browser test uses to check that
no text lies outside its plot. Curves are evaluated on a log-spaced grid of return periods,
never one point per simulation, so a plot costs the same for 2,000 or 1,000,000 simulations.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

import numpy as np

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


def _rank(q: np.ndarray, n: int) -> np.ndarray:
    """0-based index of VaR_q in an ascending sort (:func:`riskengine.measures._rank`, vectorised)."""
    return np.clip(np.ceil(q * n - 1e-9).astype(np.int64) - 1, 0, n - 1)


def return_period_grid(n: int, points: int = 240) -> np.ndarray:
    """Return periods 1 … n on a log grid, each an exact empirical point T = n / k (k integer)."""
    if n <= 1:
        return np.ones(1)
    k = np.unique(np.round(np.geomspace(n, 1, points)).astype(np.int64))[::-1]
    return n / k


def ep_points(
    losses_sorted: np.ndarray, return_periods: np.ndarray, kind: str = "AEP"
) -> np.ndarray:
    """Loss exceeded once every T years, with the conventions of :mod:`riskengine.measures`.

    ``kind`` is ``"AEP"`` (the quantile, VaR at q = 1 − 1/T: also OEP when given occurrence
    maxima) or ``"TVaR"`` (mean of the ⌈n/T⌉ largest).
    """
    xs = losses_sorted
    n = len(xs)
    if n == 0:
        return np.full(len(return_periods), np.nan)
    q = 1.0 - 1.0 / np.asarray(return_periods, dtype=np.float64)
    if kind == "AEP":
        return xs[_rank(q, n)]
    k = np.maximum(1, np.ceil((1 - q) * n - 1e-9).astype(np.int64))
    k = np.minimum(k, n)
    top = np.cumsum(xs[::-1])
    return top[k - 1] / k


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
    """

    name: str
    losses: np.ndarray
    lines: Sequence[tuple[str, float, str, str]]
    fill: str = "#8fb3d9"
    edge: str = GROSS


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

    samples = [np.asarray(p.losses, dtype=np.float64) for p in panels]
    samples = [x[np.isfinite(x)] for x in samples]
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
    floor = 0.7
    axes = []
    for p, x, head in zip(panels, samples, heads, strict=True):
        y -= head + h_axes
        ax = fig.add_axes(
            (left / _WIDTH, y / height, 1 - (left + right) / _WIDTH, h_axes / height),
            sharex=axes[0] if axes else None,
        )
        axes.append(ax)
        _style(ax)
        ax.grid(False, axis="x")
        ax.set_yscale("log", nonpositive="clip")
        counts, _ = np.histogram(x, bins=edges)
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
        ax.set_ylabel("Simulated years (log scale)", color=INK, fontsize=10)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}" if v >= 1 else ""))
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


def bar_plot(
    labels: Sequence[str],
    values: Sequence[float],
    shares: Sequence[float],
    currency: str,
    key: str,
    title: str,
    *,
    xlabel: str = "Expected gross loss",
) -> str:
    """Horizontal bars, the first label on top, each annotated with its amount and share."""
    n = len(labels)
    left = 0.25 + _text_width(max(labels, key=len, default="")) * 0.9
    vals = np.asarray(values, dtype=np.float64)
    vmax = float(vals.max()) if n else 0.0
    notes = [f"{fmt_amount(v)}  ({s:.1%})" for v, s in zip(vals, shares, strict=True)]
    fig = _figure(max(1.6, 0.32 * n + 0.9), left=left, right=0.3, top=0.1)
    ax = fig.add_subplot()
    _style(ax)
    ax.grid(False, axis="y")
    y = np.arange(n)[::-1]
    ax.barh(y, vals, color=GROSS, height=0.66)
    for yi, v, text in zip(y, vals, notes, strict=True):
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
