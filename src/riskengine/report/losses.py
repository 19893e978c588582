"""The report's loss sections: key figures and loss ratios, EP curves, the loss distribution."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .data import ImportanceInfo, ReportData
from .format import esc, fmt_amount, fmt_count, fmt_number, fmt_pct
from .html import figure, note, section, table, value_se
from .plots import (
    GROSS,
    NET,
    OEP,
    TVAR,
    EPCurve,
    HistPanel,
    ep_plot,
    histogram_plot,
    return_period_grid,
)
from .stats import Exceedance, LossRatio, loss_ratio

__all__ = [
    "key_figures",
    "ep_section",
    "distribution",
    "perspectives",
    "net_premium",
    "importance_note",
]

#: Components of an importance-sampling mixture named in the note; the rest are counted.
SHOWN_COMPONENTS = 5

PREMIUM_LINE = "#b42318"


def perspectives(d: ReportData) -> list[tuple[str, str]]:
    """(YLT column, heading) of the loss perspectives the page compares."""
    out = [("ground_up", "Ground-up"), ("gross", "Gross")]
    if d.treaties:
        out.append(("net", "Net"))
    return out


def net_premium(d: ReportData) -> np.ndarray | None:
    """Book premium less the programme's cost, per year; ``None`` without treaties."""
    if d.reinsurance_cost is None:
        return None
    return d.book.premium - d.reinsurance_cost


def _measures_table(d: ReportData) -> str:
    persp = perspectives(d)
    ms = {p: d.measures[p] for p, _ in persp}
    levels = list(d.measures["gross"]["VaR"])
    rows: list[list[str]] = []
    row_cls: list[str] = []

    def add(label: str, cls: str, get: Callable[[dict[str, Any]], tuple[Any, Any]]) -> None:
        rows.append([label, *[value_se(*get(ms[p]), d.currency) for p, _ in persp]])
        row_cls.append(cls)

    add("Expected loss (EL)", "key", lambda m: (m["EL"]["value"], m["EL"]["se"]))
    add("Standard deviation", "", lambda m: (m["SD"]["value"], m["SD"]["se"]))
    for kind in ("VaR", "TVaR"):
        for lvl in levels:
            add(
                f"{kind} {lvl} %",
                "key" if lvl == "99.5" else "",
                lambda m, k=kind, q=lvl: (m[k][q]["value"], m[k][q]["se"]),
            )
    rows.append(
        [
            "Capital (VaR 99.5 % − EL)",
            *[
                f'<span class="v">{fmt_amount(ms[p]["capital"], d.currency)}</span>'
                for p, _ in persp
            ],
        ]
    )
    row_cls.append("key total")
    return table(["Measure", *[h for _, h in persp]], rows, cls="figures", row_cls=row_cls)


def _exceedance(e: Exceedance) -> str:
    if e.n == 0:
        return fmt_pct(math.nan)
    years = f"{fmt_count(e.count)} of {fmt_count(e.n)} years"
    if e.count == 0:
        return f'0 %<span class="se">{years}; below {fmt_pct(e.upper95)} (95 %)</span>'
    return f'{fmt_pct(e.p)}<span class="se">± {fmt_pct(e.se)} · {years}</span>'


def _ratio_row(label: str, lr: LossRatio) -> list[str]:
    var = fmt_pct(lr.var995)
    if math.isfinite(lr.var995_se):
        var += f'<span class="se">± {fmt_pct(lr.var995_se)}</span>'
    return [label, fmt_pct(lr.expected), var, _exceedance(lr.over_100)]


def _loss_ratios(d: ReportData) -> str:
    premium = d.book.premium
    if not premium > 0:
        return "<h3>Loss ratio</h3>" + note("The book has no premium: no loss ratio to show.")
    w = d.weights
    rows = [_ratio_row("Gross", loss_ratio(d.ylt["gross"], premium, w))]
    net_prem = net_premium(d)
    defs = (
        f"The <strong>gross loss ratio</strong> of a year is its gross claims (after policy terms)"
        f" divided by the book premium, {fmt_amount(premium, d.currency)} (the policies' premiums)."
    )
    if net_prem is not None:
        rows.append(_ratio_row("Net", loss_ratio(d.ylt["net"], net_prem, w)))
        cost = d.mean(d.reinsurance_cost)
        defs += (
            " The <strong>net loss ratio</strong> is the year's net claims divided by its net"
            " premium: the book premium less the cost of reinsurance that year (treaty premiums"
            " − ceding commissions + reinstatement premiums; on average"
            f" {fmt_amount(cost, d.currency)}, so the net premium is"
            f" {fmt_amount(premium - cost, d.currency)})."
        )
    defs += (
        " Expected: expected claims / expected premium. The probability of a loss ratio above"
        " 100 % is the share of simulated years whose claims exceed their premium, ± one standard"
        " error; when no year does, the 95 % upper bound 3 / n is given."
    )
    head = ["Loss ratio", "Expected", "1-in-200 (VaR 99.5 %)", "P(loss ratio > 100 %)"]
    return "<h3>Loss ratio</h3>" + table(head, rows, cls="ratios") + note(defs)


def key_figures(d: ReportData) -> str:
    """Measures by perspective (ground-up, gross, net), capital and loss ratios."""
    if d.treaties:
        names = esc(", ".join(d.treaties))
        text = f"Net of {len(d.treaties)} treaties ({names}), applied in programme order."
        relief = d.summary.get("capital", {}).get("relief")
        if relief is not None:
            text += (
                " Capital relief from reinsurance:"
                f" <strong>{fmt_amount(relief, d.currency)}</strong>."
            )
    else:
        text = "No reinsurance treaties in this scenario: net equals gross."
    text += (
        " <strong>Ground-up</strong>: the insureds' losses before policy terms;"
        " <strong>gross</strong>: claims after the policies' indemnity, deductibles and limits;"
        " <strong>net</strong>: what the insurer retains after reinsurance."
        f" ± is one Monte Carlo standard error over {fmt_count(d.n)} simulated years."
        " VaR<sub>q</sub> is the loss not exceeded in a share q of years; TVaR<sub>q</sub> the"
        " average loss in the worst 1 − q of years; capital is the 1-in-200 unexpected loss"
        " (Solvency II)."
    )
    sampling = importance_note(d.importance) if d.importance is not None else ""
    return section(
        "key-figures",
        "Key figures",
        _measures_table(d) + sampling + note(text) + _loss_ratios(d),
    )


def _shift(info: ImportanceInfo) -> str:
    if info.shift == "given":
        means = ", ".join(f"{esc(k)} {v:+.3g}" for k, v in info.means.items())
        return f"the scenario's mean shift ({means})"
    return f"a mixture of mean shifts chosen from a plain pilot run for {info.level:g} %"


def importance_note(info: ImportanceInfo) -> str:
    """What importance sampling did to the run's years, and how to read the estimates (HTML)."""
    if not info.weighted:
        why = f" ({esc(info.status)})" if info.status else ""
        return note(
            f"<strong>Importance sampling</strong> was asked for, but no shift was used{why}:"
            " every year weighs 1, as in plain Monte Carlo."
        )
    comps = [f"{esc(name)} ({fmt_pct(share)} of years)" for name, share in info.components]
    if len(comps) > SHOWN_COMPONENTS:
        comps = [*comps[:SHOWN_COMPONENTS], f"{len(comps) - SHOWN_COMPONENTS} more"]
    n_comp = len(info.components)
    drawn = f"{n_comp} shifted component{'s' if n_comp != 1 else ''}: " + ", ".join(comps)
    if info.defensive > 0:
        drawn += f"; {fmt_pct(info.defensive)} of years drawn without a shift"
    return note(
        f"<strong>Importance sampling.</strong> The systematic and political draws were shifted"
        f" towards the tail with {_shift(info)}; {drawn}. Every figure on this page is weighted"
        " by the years' likelihood ratios, standard errors included. The weights' effective"
        f" sample size (Σw)²/Σw² is {fmt_count(round(info.effective_years))} of"
        f" {fmt_count(info.n)} years: it measures how uneven the weights are, not how precise"
        " the tail figures are (their standard errors say that).",
        "sampling",
    )


def _ep_table(d: ReportData) -> str:
    ep = d.ep
    cols = [
        ("ground_up", "AEP", "AEP ground-up"),
        ("gross", "AEP", "AEP gross"),
        ("gross", "OEP", "OEP gross"),
        ("gross", "TVaR_AEP", "TVaR-AEP gross"),
    ]
    if d.treaties:
        cols.append(("net", "AEP", "AEP net"))
    values: dict[tuple[str, str], dict[float, float]] = {}
    for p, t, _ in cols:
        sub = ep.filter((ep["perspective"] == p) & (ep["ep_type"] == t))
        values[(p, t)] = dict(
            zip(sub["return_period"].to_list(), sub["loss"].to_list(), strict=True)
        )
    rp_list = sorted({rp for v in values.values() for rp in v})
    rows, row_cls = [], []
    for rp in rp_list:
        cells = [fmt_amount(values[(p, t)].get(rp), d.currency) for p, t, _ in cols]
        rows.append([f"{rp:,.6g}", fmt_pct(1 / rp), *cells])
        row_cls.append("beyond" if rp > d.n else ("key" if rp == 200 else ""))
    if not rows:
        return ""
    out = table(
        ["Return period (years)", "Annual probability", *[c[2] for c in cols]],
        rows,
        cls="ep",
        row_cls=row_cls,
    )
    if any(rp > d.n for rp in rp_list):
        out += note(
            "Greyed rows lie beyond the number of simulated years: the value is the largest"
            " simulated loss, not an estimate."
        )
    return out


def ep_section(d: ReportData) -> str:
    """AEP, OEP and TVaR-AEP curves, and the table at the scenario's return periods."""
    n = d.n
    rps = return_period_grid(n)
    curves = [EPCurve("AEP gross", rps, d.ep_points("gross", rps), GROSS, width=2.4)]
    if d.treaties:
        curves.append(EPCurve("AEP net", rps, d.ep_points("net", rps), NET, width=2.2))
    curves.append(
        EPCurve("OEP gross", rps, d.ep_points("max_occurrence", rps), OEP, "--", width=1.8)
    )
    curves.append(EPCurve("TVaR-AEP gross", rps, d.ep_points("gross", rps, "TVaR"), TVAR, ":"))
    v995 = d.measures["gross"]["VaR"].get("99.5", {}).get("value", math.nan)
    svg = ep_plot(
        curves,
        d.currency,
        "ep",
        "Exceedance probability curves",
        n_sims=n,
        mark=(200.0, v995, "1-in-200 (VaR 99.5 %)"),
    )
    caption = (
        "<strong>AEP</strong>: annual aggregate loss exceeded once every T years (probability"
        " 1/T a year). <strong>OEP</strong>: the year's largest single occurrence (one buyer's"
        " claims, or one country's political event) exceeded once every T years."
        " <strong>TVaR-AEP</strong>: average annual loss in the years beyond the T-year loss."
        f" Return periods run from 1 to {fmt_count(n)} years, the number of simulated years"
        + (
            "; the circle marks the 1-in-200 loss."
            if n >= 200
            else "; too few years to show the 1-in-200 loss."
        )
    )
    return section(
        "ep-curve", "Exceedance probability (EP) curve", figure(svg, caption) + _ep_table(d)
    )


def _panel(d: ReportData, column: str, name: str, premium: float | None, **kw: Any) -> HistPanel:
    m = d.measures[column]
    lines = [
        ("EL", m["EL"]["value"], "#1f2933", "-"),
        ("VaR 99.5 %", m["VaR"].get("99.5", {}).get("value", math.nan), "#d55e00", "--"),
        ("TVaR 99.5 %", m["TVaR"].get("99.5", {}).get("value", math.nan), "#7b3294", ":"),
    ]
    if premium is not None and premium > 0:
        lines.append(
            ("Premium" if column == "gross" else "Net premium", premium, PREMIUM_LINE, "-.")
        )
    return HistPanel(name, d.ylt[column], lines, weights=d.weights, **kw)


def distribution(d: ReportData) -> str:
    """Histograms of the annual gross (and net) loss, and the expected loss by cause."""
    premium = d.book.premium if d.book.premium > 0 else None
    panels = [_panel(d, "gross", "Gross claims", premium)]
    net_prem = net_premium(d)
    if net_prem is not None:
        mean_net_prem = d.book.premium - d.mean(d.reinsurance_cost) if len(net_prem) else None
        panels.append(
            _panel(d, "net", "Net of reinsurance", mean_net_prem, fill="#9fd8c4", edge=NET)
        )
    title = "Histogram of the annual gross loss" + (" and net loss" if d.treaties else "")
    svg = histogram_plot(panels, d.currency, "hist", title)
    x = d.ylt["gross"]
    p0 = d.mean(x <= 0)
    biggest = fmt_amount(float(x.max()) if len(x) else math.nan, d.currency)
    caption = (
        f"How often each annual loss occurred in the {fmt_count(d.n)} simulated years"
        + (
            " (each year counted with its likelihood ratio: the expected number of years)"
            if d.weights is not None
            else ""
        )
        + "; counts on a log scale so the tail stays visible. Vertical lines: expected loss,"
        " the 1-in-200 VaR and TVaR, and the premium (a loss ratio of 100 %"
        + (
            "; for net, the book premium less the expected cost of reinsurance"
            if d.treaties
            else ""
        )
        + f"). The largest simulated year lost {biggest} gross; years with no gross loss:"
        f" {fmt_pct(p0)}."
    )
    stats = [
        ["Ground-up (before policy terms)", fmt_amount(d.mean("ground_up"), d.currency)],
        ["Gross: commercial", fmt_amount(d.mean("commercial"), d.currency)],
        ["Gross: political", fmt_amount(d.mean("political"), d.currency)],
        ["Defaulted buyers a year (mean)", fmt_number(d.mean("n_defaults"))],
        ["Political events a year (mean)", fmt_number(d.mean("n_political_events"))],
    ]
    return section(
        "distribution",
        "Annual loss distribution",
        figure(svg, caption)
        + "<h3>Expected loss by cause</h3>"
        + table(["", "Expected a year"], stats, cls="compact"),
    )
