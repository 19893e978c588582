"""The sweep's plot: loss avoided against turnover lost, one point per swept value.

Each point is one trigger (or notice, noise, …) a credit-limit committee could choose: how much
expected loss its cuts avoid a year (up) against how much insured turnover a year they cost on
buyers that do not default (right), with ± 1 standard error bars. The run without monitoring is
the origin; the scenario's own parameters are marked. :func:`draw_sweep` draws on any axes (the
report styles its own); :func:`sweep_png` is ``monitor_sweep.png``.
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["draw_sweep", "sweep_png", "spaced"]

SWEEP_COLOR = "#0b4f8a"
SCENARIO_COLOR = "#d55e00"


def spaced(xy: np.ndarray, widths: np.ndarray, height: float) -> list[bool]:
    """Which labels to show so that none overlaps another: label i is a box ``widths[i]`` ×
    ``height`` (pixels) beside point ``xy[i]`` (pixels), on the side :func:`_side` puts it;
    labels are kept greedily in order."""
    kept: list[tuple[float, float, float, float]] = []
    out = []
    for (x, y), w in zip(xy, widths, strict=True):
        left, below = _side(x, y, xy)
        x0 = x - w - 4 if left else x + 4
        y0 = y - height - 4 if below else y + 4
        box = (x0, x0 + w, y0, y0 + height)
        ok = all(box[1] < k[0] or box[0] > k[1] or box[3] < k[2] or box[2] > k[3] for k in kept)
        out.append(ok)
        if ok:
            kept.append(box)
    return out


def _side(x: float, y: float, xy: np.ndarray) -> tuple[bool, bool]:
    """(left, below): a label goes left of its point in the right half of the points' span,
    and below it in the upper half, so that it stays inside the plot."""
    xs, ys = xy[:, 0], xy[:, 1]
    mid_x = 0.5 * (float(xs.min()) + float(xs.max()))
    mid_y = 0.5 * (float(ys.min()) + float(ys.max()))
    return x > mid_x, y > mid_y


def _label(key: str, value: float) -> str:
    if key == "notice_days":
        return f"{value:g} d"
    if key in ("trigger_pd", "cut_to"):
        return f"{100 * value:.3g} %"
    return f"{value:g}"


def draw_sweep(ax: Axes, table: pl.DataFrame, *, fontsize: float = 8.0) -> str | None:
    """Draw the sweep of ``table`` (monitor.parquet's rows) on ``ax``: the points in order of
    the swept value, joined, with ± 1 se bars and their values as labels (those that would
    overlap left out), the scenario's own point and the origin (monitoring off). Amounts are
    plotted as they are (currency units). Returns the swept key (None without a sweep)."""
    sweep = table.filter(pl.col("run") == "sweep").sort("value")
    on = table.filter(pl.col("run") == "on")
    key = sweep["key"][0] if sweep.height else None
    points = sweep if sweep.height else on
    x, y = points["turnover_lost"].to_numpy(), points["loss_avoided"].to_numpy()
    xe, ye = points["turnover_lost_se"].to_numpy(), points["loss_avoided_se"].to_numpy()
    ax.errorbar(
        x,
        y,
        xerr=xe,
        yerr=ye,
        fmt="-o",
        color=SWEEP_COLOR,
        ms=4,
        lw=1.6,
        elinewidth=0.8,
        capsize=2,
        label=f"{key} swept" if key else "scenario",
    )
    if on.height and key is not None:
        ax.plot(
            on["turnover_lost"].to_numpy(),
            on["loss_avoided"].to_numpy(),
            "D",
            ms=7,
            mfc="white",
            mec=SCENARIO_COLOR,
            mew=1.8,
            label="scenario's parameters",
            zorder=5,
        )
    ax.plot([0.0], [0.0], "s", color="#5f6b7a", ms=4, label="monitoring off", zorder=4)
    hi_x = max(float(np.nanmax(x + xe)) if len(x) else 0.0, 1.0)
    hi_y = max(float(np.nanmax(y + ye)) if len(y) else 0.0, 1.0)
    ax.set_xlim(-0.04 * hi_x, 1.12 * hi_x)
    ax.set_ylim(-0.04 * hi_y, 1.15 * hi_y)
    if key is not None:
        texts = [_label(key, v) for v in points["value"].to_numpy()]
        fig = ax.figure
        px = ax.transData.transform(np.column_stack([x, y]))
        char = fontsize / 72 * fig.dpi * 0.62
        show = spaced(px, np.array([char * len(t) for t in texts]), fontsize / 72 * fig.dpi)
        for xi, yi, text, ok, p in zip(x, y, texts, show, px, strict=True):
            if not ok or not (math.isfinite(xi) and math.isfinite(yi)):
                continue
            left, below = _side(p[0], p[1], px)
            ax.annotate(
                text,
                (xi, yi),
                xytext=(-4 if left else 4, -4 if below else 4),
                textcoords="offset points",
                ha="right" if left else "left",
                va="top" if below else "bottom",
                fontsize=fontsize,
                color="#1f2933",
            )
    return key


def sweep_png(table: pl.DataFrame, currency: str, dpi: int = 110) -> bytes:
    """``monitor_sweep.png``: :func:`draw_sweep` with axes in the reporting currency."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    fig = Figure(figsize=(8, 5.2), layout="constrained")
    ax = fig.subplots()
    key = draw_sweep(ax, table)
    sims = int(table["sims"][0]) if table.height else 0
    scale = max(float(table["turnover_lost"].max() or 0), float(table["loss_avoided"].max() or 0))
    unit, word = next(
        ((u, w) for u, w in ((1e9, "bn"), (1e6, "m"), (1e3, "k")) if scale >= u), (1.0, "")
    )
    fmt = FuncFormatter(lambda v, _pos: f"{v / unit:,.4g}")
    ax.xaxis.set_major_formatter(fmt)
    ax.yaxis.set_major_formatter(fmt)
    ax.set_xlabel(
        f"insured turnover lost to cuts on buyers that do not default ({word} {currency} a year)"
    )
    ax.set_ylabel(f"expected loss avoided, ground-up ({word} {currency} a year)")
    swept = f"{key} swept (labels: its values), " if key else ""
    ax.set_title(
        f"Dynamic limit management: loss avoided against turnover lost\n{swept}"
        f"{sims:,} simulated years, ± 1 standard error",
        fontsize=10,
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
