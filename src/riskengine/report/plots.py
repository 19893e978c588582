"""The report's plots, drawn with matplotlib's object API and returned as inline SVG text.

No pyplot: every figure is a :class:`matplotlib.figure.Figure` of its own, rendered by the SVG
canvas, so nothing touches the host's backend, open figures or rcParams (thread-safe, and safe
to call from a Jupyter session with another backend active). Text is drawn as glyph paths
(matplotlib's default ``svg.fonttype``), so the SVG needs no fonts. Curves are evaluated on a log-spaced grid of return periods, never one
point per simulation, so a plot costs the same for 2,000 or 1,000,000 simulations.
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
    "return_period_grid",
    "ep_points",
    "ep_plot",
    "histogram_plot",
    "bar_plot",
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
    """0-based index of VaR_q in an ascending sort (vectorised :func:`riskengine.measures._rank`)."""
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


def svg_of(fig: Figure, key: str, title: str) -> str:
    """Render ``fig`` as an ``<svg>`` element ready to inline into HTML.

    Drops the XML prologue, metadata and comments; renames every id to ``<key>-<n>`` (unique in
    the page and the same on every render); replaces the fixed size by the viewBox alone, so CSS
    scales it to the container's width; adds ``role="img"`` and a ``<title>`` for screen readers.
    """
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    text = _PROLOGUE.sub("", buf.getvalue(), count=1)
    text = _METADATA.sub("", text)
    text = _COMMENT.sub("", text)
    names: dict[str, str] = {}

    def rename(m: re.Match[str]) -> str:
        new = names.setdefault(m.group(2), f"{key}-{len(names)}")
        return m.group(1) + new

    text = _IDREF.sub(rename, text)
    head_end = text.index(">")
    head = _SIZE.sub("", text[:head_end])
    head += f' class="plot" role="img" aria-label="{escape(title, quote=True)}" preserveAspectRatio="xMidYMid meet"'
    body = text[head_end:]
    body = ">" + f"<title>{escape(title)}</title>" + body[1:]
    return head + body.strip()


def _figure(
    height: float, *, left: float = 0.85, right: float = 0.2, bottom: float = 0.6, top: float = 0.15
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


def _rp_axis(ax: Axes, n_max: float) -> None:
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    ticks = [m * 10**e for e in range(0, 9) for m in (1, 2, 5) if m * 10**e <= n_max * 1.0001]
    ax.set_xscale("log")
    ax.set_xlim(1, max(n_max, 2))
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    ax.set_xlabel("Return period (years, log scale)", color=INK, fontsize=10)


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
    fig = _figure(4.6)
    ax = fig.add_subplot()
    _style(ax)
    vmax = max((float(np.nanmax(c.losses)) for c in curves if len(c.losses)), default=0.0)
    for c in curves:
        ax.plot(c.return_periods, c.losses, c.style, color=c.color, lw=c.width, label=c.label)
    _rp_axis(ax, n_sims)
    if mark is not None and n_sims >= mark[0]:
        t, v, label = mark
        ax.axvline(t, color=MUTED, lw=0.8, ls=":", zorder=1)
        ax.plot([t], [v], "o", ms=7, mfc="white", mec=GROSS, mew=2, zorder=5)
        ax.annotate(
            f"{label}\n{fmt_amount(v, currency)}",
            (t, v),
            xytext=(-10, 12),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=9,
            color=INK,
            bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "#9aa5b1", "lw": 0.6},
        )
    unit = _amount_axis(ax.yaxis, vmax, currency)
    ax.set_ylim(bottom=0, top=max(vmax * 1.08, 1e-9))
    ax.set_ylabel(f"Annual loss ({unit})", color=INK, fontsize=10)
    ax.legend(loc="upper left", frameon=False, fontsize=9)
    return svg_of(fig, key, title)


def histogram_plot(
    losses: np.ndarray,
    lines: Sequence[tuple[str, float, str, str]],
    currency: str,
    key: str,
    title: str,
    *,
    bins: int = 90,
) -> str:
    """Histogram of annual losses with log-scaled counts; ``lines`` = (label, x, colour, style)."""
    from matplotlib.ticker import FuncFormatter

    x = np.asarray(losses, dtype=np.float64)
    x = x[np.isfinite(x)]
    hi = float(x.max()) if len(x) else 0.0
    lo = min(0.0, float(x.min())) if len(x) else 0.0
    if hi <= lo:
        hi = lo + 1.0
    counts, edges = np.histogram(x, bins=bins, range=(lo, hi))
    fig = _figure(4.2, top=0.4)
    ax = fig.add_subplot()
    _style(ax)
    ax.grid(False, axis="x")
    ax.set_yscale("log", nonpositive="clip")
    floor = 0.7
    shown = np.maximum(counts, floor)
    ax.stairs(shown, edges, fill=True, color="#8fb3d9", baseline=floor, lw=0)
    ax.stairs(shown, edges, fill=False, color=GROSS, baseline=floor, lw=0.8)
    top = max(float(counts.max()) if len(counts) else 1.0, 1.0) * 3
    ax.set_ylim(floor, top)
    for label, v, color, style in lines:
        if not math.isfinite(v):
            continue
        ax.axvline(v, color=color, ls=style, lw=1.8, label=f"{label}: {fmt_amount(v, currency)}")
        ax.annotate(
            label,
            (v, top),
            xytext=(3, -4),
            textcoords="offset points",
            rotation=90,
            ha="left",
            va="top",
            fontsize=8.5,
            color=color,
        )
    unit = _amount_axis(ax.xaxis, hi, currency)
    ax.set_xlim(lo, hi * 1.01 if hi > 0 else hi)
    ax.set_xlabel(f"Annual gross loss ({unit})", color=INK, fontsize=10)
    ax.set_ylabel("Simulated years (log scale)", color=INK, fontsize=10)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}" if v >= 1 else ""))
    ax.legend(
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        ncol=len(lines),
        frameon=False,
        fontsize=9,
        borderaxespad=0.2,
    )
    return svg_of(fig, key, title)


def bar_plot(
    labels: Sequence[str],
    values: Sequence[float],
    shares: Sequence[float],
    currency: str,
    key: str,
    title: str,
) -> str:
    """Horizontal bars, the first label on top, each annotated with its amount and share."""
    n = len(labels)
    # y labels at 9 pt: about 0.075 in a character, plus the tick pad
    left = 0.25 + 0.065 * max((len(s) for s in labels), default=4)
    fig = _figure(max(1.6, 0.32 * n + 0.9), left=left, right=0.3, top=0.1)
    ax = fig.add_subplot()
    _style(ax)
    ax.grid(False, axis="y")
    y = np.arange(n)[::-1]
    vals = np.asarray(values, dtype=np.float64)
    ax.barh(y, vals, color=GROSS, height=0.66)
    vmax = float(vals.max()) if n else 0.0
    for yi, v, s in zip(y, vals, shares, strict=True):
        ax.annotate(
            f"{fmt_amount(v)}  ({s:.1%})",
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
    ax.set_xlim(0, max(vmax * 1.22, 1e-9))
    ax.set_xlabel(f"Expected gross loss ({unit})", color=INK, fontsize=10)
    return svg_of(fig, key, title)
