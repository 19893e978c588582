"""The report's capital section: Euler contributions to TVaR by country, sector, buyer and buyer
group, and the concentration picture (shares of capital against shares of EL and exposure).

Renders what :func:`riskengine.report.data.gather` collected in :class:`CapitalData` (one view
per allocated perspective at the highest level allocated); nothing here computes a contribution.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import polars as pl

from .data import CAPITAL_DIMENSIONS, CapitalView, ReportData
from .exposure import TOP_N, country_bar_label, country_cell, sector_cell
from .format import esc, fmt_amount, fmt_count, fmt_pct, fmt_se
from .html import Card, cards, figure, note, section, table, value_se
from .plots import NET, SharePanel, bar_plot, share_scatter

__all__ = ["capital_section", "IDENT", "TITLE"]

IDENT = "capital"
TITLE = "Capital allocation"
#: Rows of the largest buyer groups' table.
TOP_GROUPS = 10
#: Rows of the sectors' table (every NACE section fits).
TOP_SECTORS = max(TOP_N, 21)

#: Table columns: heading of each amount (with its standard error) and share (a fraction).
_HEADS = {
    "tvar_contribution": "TVaR<br>contribution",
    "var_contribution": "VaR<br>contribution",
    "el": "EL",
    "capital": "Capital<br>(TVaR − EL)",
    "capital_share": "Share of<br>capital",
    "tvar_share": "Share of<br>TVaR",
    "el_share": "Share of<br>EL",
    "ead_share": "Share of<br>exposure",
}
#: Columns of the segments' tables (countries, sectors) and of the buyers' and groups'.
_FULL = ("tvar_contribution", "var_contribution", "el", "capital")
_FULL_SHARES = ("capital_share", "tvar_share", "el_share", "ead_share")
_SHORT = ("tvar_contribution", "el", "capital")
_SHORT_SHARES = ("capital_share", "el_share", "ead_share")

#: A lead column: heading and the cell's HTML from the row.
Lead = tuple[str, Callable[[dict[str, Any]], str]]


def _ranked_table(
    df: pl.DataFrame,
    top: int,
    total: dict[str, float],
    ccy: str,
    lead: list[Lead],
    columns: tuple[tuple[str, ...], tuple[str, ...]],
    *,
    other: str = "Other",
    extra: list[tuple[str, dict[str, float]]] | None = None,
) -> str:
    """The ``top`` largest contributors to TVaR, the rest summed (``other``), ``extra`` rows of
    sums (label, sums) and the total.

    ``lead`` are the columns before the numbers; ``columns`` the amounts (each shown with its
    standard error, ``<amount>_se``) and the shares.
    """
    amounts, shares = columns
    k = min(top, df.height)
    pad = [""] * (len(lead) - 1)

    def sums_row(label: str, sums: dict[str, float]) -> list[str]:
        cells = [value_se(sums[c], math.nan, ccy) for c in amounts]
        return ["", label, *pad, *cells, *[fmt_pct(sums[c]) for c in shares]]

    rows, row_cls = [], []
    for i, r in enumerate(df.head(k).iter_rows(named=True), start=1):
        cells = [value_se(r[c], r[f"{c}_se"], ccy) for c in amounts]
        rows.append(
            [str(i), *[cell(r) for _, cell in lead], *cells, *[fmt_pct(r[c]) for c in shares]]
        )
        row_cls.append("")
    if df.height > k:
        rest = df.tail(df.height - k)
        rest_sums = {c: float(rest[c].sum()) for c in (*amounts, *shares)}
        rows.append(sums_row(f"{other} ({fmt_count(df.height - k)})", rest_sums))
        row_cls.append("muted")
    for label, sums in extra or []:
        rows.append(sums_row(label, sums))
        row_cls.append("muted")
    rows.append(sums_row("Total", {**{c: total[c] for c in amounts}, **dict.fromkeys(shares, 1.0)}))
    row_cls.append("total")
    head = ["#", *[h for h, _ in lead], *[_HEADS[c] for c in (*amounts, *shares)]]
    return table(head, rows, cls="capital", numeric_from=1 + len(lead), row_cls=row_cls)


def _cards(d: ReportData, v: CapitalView) -> str:
    ccy, lvl = d.currency, f"{v.level:g} %"
    m = v.measures
    dim = next(iter(v.totals))
    tot = v.totals[dim]
    tvar, var, el = m["TVaR"]["value"], m["VaR"]["value"], m["EL"]["value"]
    items = [
        Card(
            f"TVaR {lvl}",
            f"{fmt_amount(tvar, ccy)} {fmt_se(m['TVaR']['se'], tvar)}",
            f"the mean of the worst {fmt_count(v.tail_years)} simulated years; the"
            f" contributions by {dim} add up to {fmt_amount(tot['tvar_contribution'], ccy)}",
        ),
        Card(
            f"VaR {lvl}",
            f"{fmt_amount(var, ccy)} {fmt_se(m['VaR']['se'], var)}",
            f"contributions from the {fmt_count(v.window_years)} years around it add up to"
            f" {fmt_amount(tot['var_contribution'], ccy)}",
        ),
        Card(
            "Expected loss",
            f"{fmt_amount(el, ccy)} {fmt_se(m['EL']['se'], el)}",
            f"the segments' EL add up to {fmt_amount(tot['el'], ccy)}",
        ),
        Card(
            "Capital allocated",
            fmt_amount(tot["capital"], ccy),
            f"TVaR {lvl} − EL, shared out by the segments' TVaR contribution − EL",
        ),
    ]
    top = v.top_buyers
    if top:
        k = int(top["k"])
        items.append(
            Card(
                f"Largest {k} buyers",
                f"{fmt_pct(top['capital_share'])} of the capital",
                f"with {fmt_pct(top['ead_share'])} of the exposure and"
                f" {fmt_pct(top['el_share'])} of the EL (the {k} largest contributors to TVaR)",
            )
        )
    imp = d.importance
    if imp is not None and imp.weighted:
        items.append(
            Card(
                "Importance sampling",
                f"{fmt_count(round(imp.effective_years))} effective years",
                f"of {fmt_count(imp.n)} simulated, {len(imp.components)} shifted"
                f" component{'s' if len(imp.components) != 1 else ''} aimed at"
                f" {imp.level:g} %; every estimate weighted (see the key figures)",
            )
        )
    return cards(items)


def _bars(d: ReportData, v: CapitalView) -> str:
    df = v.segments["country"].head(TOP_N).filter(pl.col("tvar_contribution") > 0)
    if df.is_empty():
        return ""
    lvl = f"{v.level:g} %"
    title = f"{v.name}: top {df.height} countries by contribution to TVaR {lvl}"
    svg = bar_plot(
        [country_bar_label(c) for c in df["segment"].to_list()],
        df["tvar_contribution"].to_list(),
        df["tvar_share"].to_list(),
        d.currency,
        f"capital-{v.perspective}-countries",
        title,
        xlabel=f"Contribution to the {v.name.lower()} TVaR {lvl}",
        errors=df["tvar_contribution_se"].to_list(),
    )
    return figure(
        svg,
        f"The {df.height} countries that contribute most to the {v.name.lower()} TVaR {lvl},"
        " each ± one standard error, with its share of TVaR.",
    )


def _scatter(v: CapitalView) -> str:
    panels = [
        SharePanel(
            title,
            v.segments[dim]["ead_share"].to_numpy(),
            v.segments[dim]["capital_share"].to_numpy(),
            v.segments[dim]["segment"].to_list(),
            color,
        )
        for dim, title, color in (("country", "Countries", "#0b4f8a"), ("sector", "Sectors", NET))
        if dim in v.segments
    ]
    if not panels:
        return ""
    title = f"{v.name}: share of capital against share of exposure"
    svg = share_scatter(panels, f"capital-{v.perspective}-shares", title)
    return figure(
        svg,
        "Each point is a segment: its share of the capital (TVaR contribution − EL) against its"
        " share of the exposure at default. Above the dashed diagonal a segment takes more"
        " capital than its size: its losses come in the tail years (large names, correlated"
        " defaults, political events); below it, less. The largest points are labelled.",
    )


def _view(d: ReportData, v: CapitalView) -> str:
    """One perspective: key figures, contributions by country and sector, the concentration
    scatter, the largest buyers and groups."""
    ccy, seg, tot = d.currency, v.segments, v.totals
    head = f"<h3>{v.name}: TVaR {v.level:g} % and who takes it</h3>"
    if not tot:
        shown = ", ".join(CAPITAL_DIMENSIONS)
        return (
            f'<div id="capital-{esc(v.perspective)}">{head}'
            + note(
                f"This run allocated capital by none of {shown}: its contributions are in"
                " <code>allocation.parquet</code>."
            )
            + "</div>"
        )
    out = [head, _cards(d, v)]
    full, short = (_FULL, _FULL_SHARES), (_SHORT, _SHORT_SHARES)
    if "country" in seg:
        out.append(_bars(d, v))
        lead: list[Lead] = [("Country", lambda r: country_cell(r["segment"]))]
        out.append(f"<h3>{v.name}: contributions by country</h3>")
        out.append(_ranked_table(seg["country"], TOP_N, tot["country"], ccy, lead, full))
    if "sector" in seg:
        lead = [("Sector", lambda r: sector_cell(r["segment"]))]
        out.append(f"<h3>{v.name}: contributions by sector</h3>")
        out.append(_ranked_table(seg["sector"], TOP_SECTORS, tot["sector"], ccy, lead, full))
    out.append(_scatter(v))
    if "buyer" in seg:
        lead = [
            ("Buyer", lambda r: esc(r["segment"])),
            ("Country", lambda r: f'<span class="code">{esc(r["country"])}</span>'),
            ("Sector", lambda r: sector_cell(r["sector"])),
        ]
        out.append(f"<h3>{v.name}: largest {min(TOP_N, seg['buyer'].height)} buyers</h3>")
        out.append(_ranked_table(seg["buyer"], TOP_N, tot["buyer"], ccy, lead, short))
    if "group" in seg:
        df, alone = seg["group"], v.ungrouped
        extra = []
        if alone.get("buyers"):
            extra.append((f"Buyers without a group ({fmt_count(alone['buyers'])})", alone))
        lead = [
            ("Group", lambda r: esc(r["segment"])),
            ("Buyers", lambda r: fmt_count(r["buyers"])),
        ]
        if df.is_empty():
            out.append(f"<h3>{v.name}: buyer groups</h3>" + note("No buyer belongs to a group."))
        else:
            out.append(f"<h3>{v.name}: largest {min(TOP_GROUPS, df.height)} buyer groups</h3>")
            out.append(
                _ranked_table(
                    df,
                    TOP_GROUPS,
                    tot["group"],
                    ccy,
                    lead,
                    short,
                    other="Other groups",
                    extra=extra,
                )
            )
    return f'<div id="capital-{esc(v.perspective)}">{"".join(out)}</div>'


def _estimators(d: ReportData) -> str:
    c = d.capital
    assert c is not None
    levels = ", ".join(f"{x:g}" for x in c.levels)
    weighted = d.importance is not None and d.importance.weighted
    return note(
        "<strong>Estimators.</strong> A segment's TVaR contribution is its mean claim over"
        " exactly the simulated years whose mean is TVaR<sub>q</sub>, so the contributions of"
        " every dimension add up to TVaR<sub>q</sub> exactly (the Euler allocation); its standard"
        " error comes from the estimator's influence function. A VaR contribution is the"
        " segment's mean claim over the years whose loss lies in a window around VaR<sub>q</sub>"
        " (its standard-error band), rescaled to add up to VaR<sub>q</sub>: far fewer years, and"
        " a bias of the order of the window's width, make it noisier than the TVaR contribution"
        " — prefer TVaR contributions for decisions. EL is the segment's mean claim over all"
        " years (ground-up: exact). Capital = TVaR contribution − EL; its standard error treats"
        " the two as independent, which overstates it. A share's standard error is that of its"
        " amount divided by the total."
        + (" Every mean is weighted by the years' likelihood ratios." if weighted else "")
        + f" Levels allocated: {levels} % (the page shows the highest; all are in"
        " <code>allocation.parquet</code>). See docs/model.md (risk measures, weighted years)."
    )


def capital_section(d: ReportData) -> str:
    """The capital section of a run that allocated capital, or nothing (HTML)."""
    if d.capital is None or not d.capital.views:
        return ""
    names = " and ".join(v.name.lower() for v in d.capital.views)
    intro = note(
        "Which countries, sectors, buyers and buyer groups take the capital: each segment's"
        f" contribution to TVaR ({names} claims) and its capital, the contribution less its"
        " expected loss. The contributions add up to the book's TVaR. A segment whose share of"
        " capital exceeds its share of exposure adds more risk than its size."
    )
    body = intro + "".join(_view(d, v) for v in d.capital.views) + _estimators(d)
    return section(IDENT, TITLE, body)
