"""The report's book sections: concentration of exposure, expected loss by country and sector,
book totals and the self-check."""

from __future__ import annotations

import math

import polars as pl

from .data import ReportData
from .format import esc, fmt_amount, fmt_count, fmt_pct
from .html import Card, cards, figure, note, section, table, value_se, z_score
from .nace import sector_label, sector_name
from .plots import CEDED, GROSS, bar_plot, concentration_plot
from .stats import Concentration, concentration

__all__ = [
    "concentration_section",
    "segments",
    "book_section",
    "TOP_N",
    "country_name",
    "country_cell",
    "country_bar_label",
    "sector_cell",
]

#: Rows of the top-countries and top-sectors tables (and bars of the country chart).
TOP_N = 15


def country_name(code: str) -> str:
    """The common English name of an ISO 3166-1 alpha-2 code (``""`` if unknown)."""
    import pycountry

    from ..book.schema import ISO_COUNTRY_ALLOW_LIST

    try:
        c = pycountry.countries.get(alpha_2=code)
    except (KeyError, LookupError):
        c = None
    if c is None:
        return ISO_COUNTRY_ALLOW_LIST.get(code, "")
    return str(getattr(c, "common_name", None) or c.name)


def country_cell(code: str) -> str:
    """A table cell's HTML for a country: its code in bold and its name."""
    name = country_name(code)
    return f'<span class="code">{esc(code)}</span>{esc(name)}' if name else esc(code)


def country_bar_label(code: str) -> str:
    """A country's label on a bar chart: its code and name, the name cut at 24 characters
    (``$`` escaped: matplotlib would read mathtext)."""
    name = country_name(code)
    if len(name) > 24:
        name = name[:23] + "…"
    return f"{code}  {name}".replace("$", r"\$").strip()


def sector_cell(code: str) -> str:
    """A table cell's HTML for a sector: its label, the full NACE name as a tooltip."""
    full = sector_name(code, short=False)
    title = f' title="{esc(full)}"' if full else ""
    return f'<span class="name"{title}>{esc(sector_label(code))}</span>'


def _share(x: float, total: float) -> str:
    return fmt_pct(x / total if total > 0 else math.nan)


def _ranked(
    df: pl.DataFrame,
    key: str,
    cells: list[tuple[str, str]],
    total: float,
    currency: str,
    *,
    top: int = TOP_N,
) -> tuple[list[list[str]], list[str]]:
    """Rows of a "top k, other, total" table of ``df`` (sorted descending by ``key``).

    ``cells`` are (column, kind) before the amount and share: kind ``country``, ``sector``,
    ``count`` or ``text``.
    """
    render = {
        "country": country_cell,
        "sector": sector_cell,
        "count": fmt_count,
        "text": esc,
    }
    k = min(top, df.height)
    rows, row_cls = [], []
    for i, r in enumerate(df.head(k).iter_rows(named=True), start=1):
        lead = [render[kind](r[col]) for col, kind in cells]
        rows.append([str(i), *lead, fmt_amount(r[key], currency), _share(r[key], total)])
        row_cls.append("")
    pad = [""] * (len(cells) - 1)
    if df.height > k:
        rest = float(df.tail(df.height - k)[key].sum())
        label = f"Other ({fmt_count(df.height - k)})"
        rows.append(["", label, *pad, fmt_amount(rest, currency), _share(rest, total)])
        row_cls.append("muted")
    rows.append(["", "Total", *pad, fmt_amount(total, currency), _share(total, total)])
    row_cls.append("total")
    return rows, row_cls


def _concentration_cards(d: ReportData, c: Concentration) -> str:
    items = [
        Card(
            "Total EAD", fmt_amount(c.total_ead, d.currency), f"{fmt_count(d.book.n_buyers)} buyers"
        )
    ]
    for k, share in c.top_shares.items():
        label = "Largest buyer" if k == 1 else f"Largest {fmt_count(k)} buyers"
        items.append(Card(label, fmt_pct(share), "of the total EAD"))
    eff = 1 / c.hhi_buyers if c.hhi_buyers > 0 else math.nan
    items.append(
        Card(
            "Effective number of buyers",
            f"{eff:,.0f}" if math.isfinite(eff) else "—",
            f"1 / HHI, the Herfindahl index of the buyers' EAD shares ({c.hhi_buyers:.2g})",
        )
    )
    if c.n_groups:
        eff_o = 1 / c.hhi_obligors if c.hhi_obligors > 0 else math.nan
        items.append(
            Card(
                "Buyer groups",
                fmt_count(c.n_groups),
                f"holding {fmt_pct(c.grouped_share)} of the EAD",
            )
        )
        items.append(
            Card(
                "Effective number of obligors",
                f"{eff_o:,.0f}" if math.isfinite(eff_o) else "—",
                "a group counted as one obligor",
            )
        )
    return cards(items)


def concentration_section(d: ReportData) -> str:
    """Largest buyers and groups, shares of the largest, EAD by country and by sector."""
    c = concentration(d.book, top=TOP_N)
    money = d.currency
    curves = [("Buyers", c.buyers_desc, GROSS, "-")]
    if c.n_groups:
        curves.append(("Obligors (a group as one)", c.obligors_desc, CEDED, "--"))
    svg = concentration_plot(curves, "conc", "Share of the EAD held by the largest buyers")
    body = _concentration_cards(d, c) + figure(
        svg,
        "Share of the book's exposure at default held by its k largest buyers"
        + (" and obligors" if c.n_groups else "")
        + ". The flatter the start of the curve, the less the book depends on a few names.",
    )
    rows = []
    for r in c.top_buyers.iter_rows(named=True):
        rows.append(
            [
                str(r["rank"]),
                esc(r["buyer_id"]),
                esc(r["group_id"]) or "—",
                country_cell(r["country"]),
                sector_cell(r["sector"]),
                fmt_amount(r["ead"], money),
                fmt_pct(r["share"]),
                fmt_pct(r["cum_share"]),
            ]
        )
    head = ["#", "Buyer", "Group", "Country", "Sector", "EAD", "Share", "Cumulative"]
    body += f"<h3>Largest {c.top_buyers.height} buyers</h3>" + table(
        head, rows, cls="buyers", numeric_from=5
    )
    if c.top_groups.height:
        rows = [
            [
                str(r["rank"]),
                esc(r["group_id"]),
                fmt_count(r["buyers"]),
                fmt_count(r["countries"]),
                fmt_amount(r["ead"], money),
                fmt_pct(r["share"]),
            ]
            for r in c.top_groups.iter_rows(named=True)
        ]
        body += f"<h3>Largest {c.top_groups.height} buyer groups</h3>" + table(
            ["#", "Group", "Buyers", "Countries", "EAD", "Share"],
            rows,
            cls="groups",
            numeric_from=2,
        )
    else:
        body += note("No buyer belongs to a group (the book has no <code>group_id</code>s).")
    rc, cc = _ranked(
        c.by_country, "ead", [("country", "country"), ("buyers", "count")], c.total_ead, money
    )
    rs, cs = _ranked(
        c.by_sector,
        "ead",
        [("sector", "sector"), ("buyers", "count")],
        c.total_ead,
        money,
        top=max(TOP_N, 21),
    )
    body += (
        '<div class="grid2">'
        "<div><h3>EAD by country</h3>"
        + table(
            ["#", "Country", "Buyers", "EAD", "Share"],
            rc,
            cls="segments",
            numeric_from=2,
            row_cls=cc,
        )
        + "</div><div><h3>EAD by sector</h3>"
        + table(
            ["#", "Sector", "Buyers", "EAD", "Share"],
            rs,
            cls="segments",
            numeric_from=2,
            row_cls=cs,
        )
        + "</div></div>"
    )
    body += note(
        "EAD (exposure at default) is each exposure's limit × utilisation in the reporting"
        " currency, summed by buyer; a buyer's share is of the book's total EAD. Sectors are"
        " NACE Rev. 2 sections where the book codes them so."
    )
    return section("concentration", "Concentration", body)


def segments(d: ReportData) -> str:
    """Expected gross loss by country (chart and table) and by sector."""
    c, s = d.segment_el["country"], d.segment_el["sector"]
    total_c = float(c["el"].sum()) if c.height else 0.0
    total_s = float(s["el"].sum()) if s.height else 0.0
    gross_el = d.measures["gross"]["EL"]["value"]
    title = "Expected loss by country and sector"
    if total_c <= 0 and gross_el > 0:
        return section(
            "segments",
            title,
            note(
                "Losses by segment were not recorded in this run (set"
                " <code>outputs.segments</code> or <code>outputs.report</code> in the scenario)."
            ),
        )
    top = c.head(TOP_N).filter(pl.col("el") > 0)
    chart = ""
    if top.height:
        labels = [country_bar_label(code) for code in top["segment"].to_list()]
        vals = top["el"].to_list()
        svg = bar_plot(
            labels,
            vals,
            [v / total_c for v in vals],
            d.currency,
            "countries",
            f"Top {top.height} countries by expected loss",
        )
        chart = figure(
            svg,
            f"Expected annual gross loss of the {top.height} countries with the largest expected"
            " loss, with each country's share of the portfolio's expected gross loss.",
        )
    region = dict(
        zip(
            [str(x) for x in d.book.country_codes],
            [str(x) for x in d.book.country_region],
            strict=True,
        )
    )
    c = c.with_columns(
        pl.col("segment").replace_strict(region, default="", return_dtype=pl.String).alias("r")
    )
    rc, cc = _ranked(c, "el", [("segment", "country"), ("r", "text")], total_c, d.currency)
    rs, cs = _ranked(s, "el", [("segment", "sector")], total_s, d.currency, top=max(TOP_N, 21))
    return section(
        "segments",
        title,
        chart
        + '<div class="grid2">'
        + "<div><h3>Countries</h3>"
        + table(
            ["#", "Country", "Region", "Expected loss", "Share"], rc, numeric_from=3, row_cls=cc
        )
        + "</div><div><h3>Sectors</h3>"
        + table(
            ["#", "Sector", "Expected loss", "Share"],
            rs,
            cls="segments",
            numeric_from=2,
            row_cls=cs,
        )
        + "</div></div>"
        + note(
            "Expected gross claim (after policy terms, before reinsurance) per simulated year,"
            " and its share of the portfolio's expected gross loss."
        ),
    )


def book_section(d: ReportData) -> str:
    """Book totals and the self-check of the simulated ground-up loss against its exact mean."""
    b = d.summary["book"]
    money = d.currency
    rows = [
        ["Buyers", fmt_count(b["buyers"])],
        ["Exposures", fmt_count(b["exposures"])],
        ["Policies", fmt_count(b["policies"])],
        ["Countries", fmt_count(b["countries"])],
        ["Sectors", fmt_count(len(d.book.sector_codes))],
        ["Total exposure at default (EAD)", fmt_amount(b["total_ead"], money)],
        ["Annual premium", fmt_amount(b["premium"], money)],
    ]
    el = d.measures["gross"]["EL"]["value"]
    ead = b["total_ead"] or 0.0
    if ead > 0:
        rows.append(["Expected gross loss / EAD", fmt_pct(el / ead)])
    gu = d.summary["checks"]["expected_ground_up"]
    if gu["ok"] is None:  # too few years for the check to test anything
        badge = '<span class="badge">not enough years</span>'
    elif gu["ok"]:
        badge = '<span class="badge ok">OK</span>'
    else:
        badge = '<span class="badge bad">CHECK</span>'

    check_rows = [
        ["Expected ground-up loss (exact, from the book)", fmt_amount(gu["exact"], money)],
        ["Simulated ground-up loss (mean)", value_se(gu["simulated"], gu["se"], money)],
        ["Difference in standard errors (z)", f"{z_score(gu['z'])} {badge}"],
    ]
    return section(
        "book",
        "Book",
        table(["", ""], rows, cls="kv")
        + "<h3>Self-check</h3>"
        + table(["", ""], check_rows, cls="kv")
        + note(
            "The simulated mean ground-up loss (before policy terms) should lie within about 4"
            " standard errors of the closed-form expectation Σ EAD × PD × LGD (with political"
            " events); a larger gap points at the model or the inputs."
        ),
    )
