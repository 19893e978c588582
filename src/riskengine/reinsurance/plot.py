"""The treaty-sweep plot: what a layer costs and what capital it releases."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .sweep import SweepResult

__all__ = ["sweep_figure_png"]


def sweep_figure_png(res: SweepResult, dpi: int = 110) -> bytes:
    """Two panels as PNG bytes: expected ceded and premium against the first swept key (one line
    per value of the second key, if any); the layer's own capital relief against ceded margin."""
    from matplotlib.figure import Figure

    df = res.table
    x_key = res.keys[0]
    series_key = res.keys[1] if len(res.keys) > 1 else None
    ccy = res.reporting_currency
    fig = Figure(figsize=(11, 4.4), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    groups = (
        [(None, df)] if series_key is None else list(df.group_by(series_key, maintain_order=True))
    )
    for key, sub in groups:
        label = (
            ""
            if series_key is None
            else f"{series_key} = {key[0] if isinstance(key, tuple) else key:,.4g}"
        )
        sub = sub.sort(x_key)
        x = sub[x_key].to_numpy()
        ax1.plot(
            x, sub["expected_ceded"].to_numpy(), marker="o", label=f"expected ceded {label}".strip()
        )
        ax1.plot(
            x,
            sub["premium"].to_numpy(),
            linestyle="--",
            marker=".",
            label=f"premium {label}".strip(),
        )
        margin = (sub["premium"] - sub["expected_ceded"]).to_numpy()
        relief = sub["layer_capital_relief"].to_numpy()
        ax2.plot(margin, relief, marker="o", label=label or res.treaty)
        for xi, mi, ri in zip(x, margin, relief, strict=True):
            ax2.annotate(
                f"{xi:,.3g}", (mi, ri), textcoords="offset points", xytext=(4, 4), fontsize=7
            )
    ax1.set_xlabel(f"{res.treaty}.{x_key}")
    ax1.set_ylabel(f"{ccy} per year")
    ax1.set_title(f"Expected ceded loss and premium (loading {res.loading:.0%})")
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize=8)
    ax2.set_xlabel(f"ceded margin: premium − expected ceded ({ccy})")
    ax2.set_ylabel(f"capital the layer releases ({ccy})")
    ax2.set_title(f"Layer capital relief vs margin (points labelled by {x_key})")
    ax2.grid(alpha=0.3)
    if series_key is not None:
        ax2.legend(fontsize=8)
    fig.suptitle(
        f"Sizing {res.treaty}: {res.sims:,} simulated years; gross capital "
        f"{res.gross_capital:,.0f} {ccy}",
        fontsize=11,
    )
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
