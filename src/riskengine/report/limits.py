"""The report's Limits section: portfolio-wide limits proposed by ``riskengine limits``.

Shown when the run's folder also holds limits outputs of the same book (``limits.json``,
``limits.parquet``, ``frontier.parquet``): the proposed limits against today's exposure by
segment, the book today and as proposed, the efficient frontier, the ``--verify``
re-simulations, and what the figures assume (claims scaled linearly with limits).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from .data import ReportData
from .format import esc, fmt_amount, fmt_count, fmt_number, fmt_pct, fmt_se
from .html import Card, cards, figure, note, section, table, value_se
from .plots import CEDED, GROSS, INK, MUTED, _amount_axis, _figure, _style, _text_width, svg_of

if TYPE_CHECKING:
    from ..limits.outputs import LimitsOutputs

__all__ = ["IDENT", "TITLE", "TOP", "limits_body", "limits_section"]

IDENT = "limits"
TITLE = "Limits"
#: Segments shown by name (the largest by today's exposure); the others are summed in one row.
TOP = 15

_TODAY = "#9dbbd9"


def _dimension(limits: LimitsOutputs) -> str:
    return limits.dimension.replace("_", " ")


def _bars(top: pl.DataFrame, currency: str, dim: str) -> str:
    """Today's exposure and the proposed limit of each segment, as paired horizontal bars."""
    labels = top["segment"].to_list()
    n = len(labels)
    exposure = top["exposure"].to_numpy()
    limit = top["limit"].to_numpy()
    notes = [f"× {s:.2f}" for s in top["scale"].to_numpy()]
    left = 0.35 + _text_width(max(labels, key=len, default="")) * 0.9
    fig = _figure(max(2.2, 0.42 * n + 1.3), left=left, right=0.3, top=0.45)
    ax = fig.add_subplot()
    _style(ax)
    ax.grid(False, axis="y")
    y = np.arange(n)[::-1].astype(np.float64)
    ax.barh(y + 0.19, exposure, height=0.36, color=_TODAY, label="today's exposure")
    ax.barh(y - 0.19, limit, height=0.36, color=GROSS, label="proposed limit")
    for yi, v, text in zip(y, limit, notes, strict=True):
        ax.annotate(
            text,
            (v, yi - 0.19),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
            color=INK,
        )
    ax.set_yticks(y, labels=labels)
    ax.tick_params(axis="y", length=0)
    ax.set_ylim(-0.6, n - 0.4)
    vmax = float(max(exposure.max(initial=0.0), limit.max(initial=0.0)))
    unit = _amount_axis(ax.xaxis, vmax, currency)
    axes_w = 9.0 - left - 0.3
    room = _text_width("× 0.00", 8) + 0.1
    ax.set_xlim(0, max(vmax / max(1 - room / axes_w, 0.3), 1e-9))
    ax.set_xlabel(f"Exposure and limit ({unit})", color=INK, fontsize=10)
    ax.legend(
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncol=2,
        frameon=False,
        fontsize=9,
        borderaxespad=0.2,
    )
    return svg_of(fig, "limits-bars", f"Proposed limits against today's exposure by {dim}")


def _frontier(limits: LimitsOutputs, currency: str) -> str:
    """Expected profit against TVaR along the efficient frontier, the proposal and today."""
    doc = limits.document
    f = limits.frontier
    prop, cur = doc["proposed"], doc["current"]
    appetite = float(doc["settings"]["appetite"])
    level = f"{float(doc['settings']['level']):g}"
    tvar, profit = f["tvar"].to_numpy(), f["profit"].to_numpy()
    xs = [*tvar, prop["tvar"], cur["tvar"], appetite]
    ys = [*profit, prop["profit"], cur["profit"], 0.0]
    fig = _figure(4.2, left=0.95, top=0.2)
    ax = fig.add_subplot()
    _style(ax)
    ax.plot(tvar, profit, "-", color=GROSS, lw=2, label="efficient frontier")
    ax.axvline(appetite, color=MUTED, lw=0.9, ls=":", zorder=1, label="appetite")
    ax.plot(
        [prop["tvar"]],
        [prop["profit"]],
        "o",
        ms=8,
        mfc="white",
        mec=GROSS,
        mew=2,
        zorder=5,
        label="proposed limits",
    )
    ax.plot([cur["tvar"]], [cur["profit"]], "s", ms=7, color=CEDED, zorder=5, label="today")
    xunit = _amount_axis(ax.xaxis, max(abs(v) for v in xs), currency)
    yunit = _amount_axis(ax.yaxis, max(abs(v) for v in ys), currency)
    lo, hi = min(ys), max(ys)
    pad = 0.08 * (hi - lo if hi > lo else max(abs(hi), 1.0))
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlim(0, max(xs) * 1.05 if max(xs) > 0 else 1.0)
    ax.set_xlabel(f"Gross TVaR {level} % ({xunit})", color=INK, fontsize=10)
    ax.set_ylabel(f"Expected profit a year ({yunit})", color=INK, fontsize=10)
    ax.legend(loc="lower right", frameon=False, fontsize=9)
    return svg_of(fig, "limits-frontier", "Efficient frontier: expected profit against TVaR")


def _cards(limits: LimitsOutputs, currency: str) -> str:
    doc = limits.document
    s, prop, cur = doc["settings"], doc["proposed"], doc["current"]
    level = f"{float(s['level']):g}"
    price = prop.get("shadow_price")
    binding = bool(prop.get("binding"))
    price_text = fmt_number(price) if binding and isinstance(price, int | float) else "0"
    binding_text = (
        "the appetite binds" if binding else "not binding: profitable segments at max_scale"
    )
    items = [
        Card(f"Appetite: gross TVaR {level} %", fmt_amount(s["appetite"], currency)),
        Card(
            f"TVaR {level} %: proposed",
            fmt_amount(prop["tvar"], currency),
            f"{fmt_se(prop.get('tvar_se'), prop['tvar'])}; {binding_text}",
        ),
        Card(
            f"TVaR {level} %: today",
            fmt_amount(cur["tvar"], currency),
            fmt_se(cur.get("tvar_se"), cur["tvar"]),
        ),
        Card(
            "Expected profit a year",
            fmt_amount(prop["profit"], currency),
            f"today {fmt_amount(cur['profit'], currency)}",
        ),
        Card(
            "Total limit",
            fmt_amount(prop["limit"], currency),
            f"today's exposure {fmt_amount(cur['exposure'], currency)}",
        ),
        Card("Shadow price", price_text, f"expected profit per {esc(currency)} of appetite"),
    ]
    return cards(items)


def _segment_table(frame: pl.DataFrame, currency: str, dim: str) -> str:
    order = frame.sort("exposure", descending=True)
    top, rest = order.head(TOP), order.slice(TOP)
    cols = ("exposure", "limit", "el", "premium", "profit", "tvar_contribution")

    def row(label: str, r: dict[str, Any], scale: str) -> list[str]:
        return [label, *(fmt_amount(r[c], currency) for c in cols[:2]), scale] + [
            fmt_amount(r[c], currency) for c in cols[2:]
        ]

    def ratio(r: dict[str, Any]) -> str:
        return f"{r['limit'] / r['exposure']:.2f}" if r["exposure"] > 0 else "—"

    rows = [row(esc(r["segment"]), r, f"{r['scale']:.2f}") for r in top.iter_rows(named=True)]
    cls = [""] * len(rows)
    if rest.height:
        other = {c: float(rest[c].sum()) for c in cols}
        rows.append(row(f"{fmt_count(rest.height)} other segments", other, ratio(other)))
        cls.append("muted")
    total = {c: float(order[c].sum()) for c in cols}
    rows.append(row("All segments", total, ratio(total)))
    cls.append("total")
    head = [dim.capitalize(), "Exposure today", "Proposed limit", "Scale", "EL", "Premium"]
    head += ["Profit", "TVaR contribution"]
    return table(head, rows, cls="figures", row_cls=cls)


def _rounds(limits: LimitsOutputs, currency: str) -> str:
    verify = limits.document.get("verify")
    if not verify:
        return note(
            "Not verified by re-simulation: run <code>riskengine limits … --verify</code> to "
            "re-simulate the book with these limits applied.",
            "warn",
        )
    level = f"{float(limits.document['settings']['level']):g}"
    rows = []
    for r in verify["rounds"]:
        rows.append(
            [
                str(r["round"]),
                fmt_amount(r["lp_appetite"], currency),
                fmt_amount(r["lp_tvar"], currency),
                value_se(r["tvar"], r.get("tvar_se"), currency),
                fmt_amount(r["lp_el"], currency),
                value_se(r["el"], r.get("el_se"), currency),
                "yes" if r["within"] else "no",
            ]
        )
    head = ["Round", "LP appetite", f"Linear TVaR {level} %", "Re-simulated TVaR"]
    head += ["Linear EL", "Re-simulated EL", "Within"]
    intro = note(
        "<code>--verify</code> re-simulated the book with the proposed limits applied (each "
        "segment's exposures scaled by a stress transform) and, while the re-simulated TVaR "
        "exceeded the appetite, lowered the appetite the linear programme sees by the excess."
    )
    verdict = (
        ""
        if verify.get("within")
        else note("The last re-simulation is still above the appetite.", "warn")
    )
    return intro + table(head, rows, cls="figures") + verdict


def limits_body(limits: LimitsOutputs, currency: str) -> str:
    """The section of ``limits`` (HTML)."""
    doc = limits.document
    dim = _dimension(limits)
    s = doc["settings"]
    frame = limits.segments
    top = frame.sort("exposure", descending=True).head(TOP)
    intro = note(
        f"Each {esc(dim)}'s limits scaled (between {float(s['min_scale']):g} and "
        f"{float(s['max_scale']):g} times today's) to earn the most expected "
        f"underwriting profit (premium × (1 − {fmt_pct(float(s['expense_share']))} expenses and "
        "commission) − EL) with the gross TVaR at "
        f"{float(s['level']):g} % within the appetite: the Rockafellar–Uryasev linear programme "
        f"on {fmt_count(doc['run'].get('sims'))} simulated years (docs/limits.md)."
    )
    bars = figure(
        _bars(top, currency, dim),
        f"Today's exposure (Σ EAD) and the proposed limit (scale × exposure) of the "
        f"{fmt_count(top.height)} largest segments by {esc(dim)}, each labelled with its scale.",
    )
    frontier = figure(
        _frontier(limits, currency),
        "The most expected profit each appetite allows (the efficient frontier), the proposed "
        "limits and today's book; its slope is the shadow price of the appetite.",
    )
    parts = [
        intro,
        _cards(limits, currency),
        bars,
        _segment_table(frame, currency, dim),
        frontier,
        _rounds(limits, currency),
        note(esc(doc.get("note") or ""), "warn"),
    ]
    return section(IDENT, f"Limits by {esc(dim)}", "".join(parts))


def limits_section(d: ReportData) -> str:
    """The Limits section of a gathered run, or nothing without limits outputs."""
    if d.limits is None:
        return ""
    return limits_body(d.limits, d.currency)
