"""``frontier.png``: the efficient frontier of portfolio-wide limits, for people and slides."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .plan import LimitsPlan

__all__ = ["frontier_png"]


def _unit(vmax: float) -> tuple[float, str]:
    for scale, word in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if vmax >= scale:
            return scale, word
    return 1.0, ""


def frontier_png(plan: LimitsPlan, dpi: int = 110) -> bytes:
    """Expected profit against gross TVaR along the frontier, with the proposed limits, the
    appetite and today's book marked (PNG bytes)."""
    from matplotlib.figure import Figure

    f = plan.frontier
    ccy = plan.currency
    tvar, profit = f["tvar"].to_numpy(), f["profit"].to_numpy()
    sol, cur = plan.solution, plan.current
    xs = [*tvar, sol.tvar.value, cur.value, plan.settings.appetite]
    ys = [*profit, sol.profit, plan.current_profit]
    sx, ux = _unit(max(abs(v) for v in xs))
    sy, uy = _unit(max(abs(v) for v in ys))
    fig = Figure(figsize=(8, 4.8), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(tvar / sx, profit / sy, "-o", ms=3, color="#0b4f8a", label="efficient frontier")
    ax.plot(
        [sol.tvar.value / sx],
        [sol.profit / sy],
        "o",
        ms=9,
        mfc="white",
        mec="#0b4f8a",
        mew=2,
        label="proposed limits",
    )
    ax.plot([cur.value / sx], [plan.current_profit / sy], "s", ms=8, color="#d55e00", label="today")
    ax.axvline(
        plan.settings.appetite / sx, color="#5f6b7a", ls=":", lw=1, label="appetite", zorder=1
    )
    level = f"{plan.settings.level:g}"
    ax.set_xlabel(f"Gross TVaR {level} % ({' '.join(p for p in (ux, ccy) if p)})")
    ax.set_ylabel(f"Expected underwriting profit ({' '.join(p for p in (uy, ccy) if p)} a year)")
    ax.set_title(
        f"Portfolio limits by {plan.inputs.dimension.replace('_', ' ')}: "
        f"profit against TVaR {level} % ({plan.inputs.n:,} simulated years)",
        fontsize=10.5,
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8.5, loc="lower right")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
