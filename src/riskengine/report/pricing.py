"""The report's pricing section: premium adequacy and the rate card of a priced run.

Shown when the run was priced (``riskengine price``; :func:`riskengine.pricing.price_book`): the
book's actual premiums against its technical premiums, the published card's rates by country
risk grade for each rating at the most common payment term (with the OECD benchmark), the card
at the most common cell against the market's ranges, and adequacy by country risk grade, sector
and policy size. Everything shown is computed by :mod:`riskengine.pricing`; this module lays it
out.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from .data import ReportData
from .format import DASH, esc, fmt_amount, fmt_count, fmt_pct
from .html import Card, cards, figure, note, section, table
from .nace import sector_label
from .plots import rate_card_plot

if TYPE_CHECKING:
    from ..pricing import PricedBook

__all__ = ["IDENT", "TITLE", "pricing_section", "priced_section"]

IDENT = "pricing"
TITLE = "Pricing"


def _rate(x: Any) -> str:
    """A rate on turnover as a percentage with three significant digits."""
    return fmt_pct(x) if isinstance(x, int | float) and math.isfinite(x) else DASH


def _ratio(x: Any) -> str:
    return f"{x:.2f}" if isinstance(x, int | float) and math.isfinite(x) else DASH


def _cards(p: PricedBook) -> str:
    b, ccy = p.book, p.currency
    adequacy = b["premium"] / b["technical_premium"] if b["technical_premium"] > 0 else math.nan
    items = [
        Card(
            "Technical premium",
            fmt_amount(b["technical_premium"], ccy),
            f"{_rate(b['technical_premium'] / b['turnover'])} of insured turnover"
            if b["turnover"] > 0
            else "",
        ),
        Card(
            "Actual premium",
            fmt_amount(b["premium"], ccy),
            f"{_rate(b['premium'] / b['turnover'])} of insured turnover"
            if b["turnover"] > 0
            else "",
        ),
        Card("Adequacy", _ratio(adequacy), "actual / technical premium (below 1: under-priced)"),
        Card(
            "Policies under-priced",
            fmt_pct(b["under_priced"]),
            f"of {fmt_count(p.policies.height)} policies with adequacy below 1",
        ),
        Card(
            "Return on capital",
            fmt_pct(b["return_on_capital"]),
            f"at the actual premiums, on {fmt_amount(b['capital'], ccy)} of capital",
        ),
        Card("Combined ratio", fmt_pct(b["combined_ratio"]), "at the actual premiums"),
    ]
    cal = p.calibration
    if cal is not None:
        target = "return on capital" if cal.target == "return_on_capital" else "combined ratio"
        items.append(
            Card(
                "Card calibrated ×",
                f"{cal.factor:.3f}",
                f"± {cal.factor_se:.3f} to a {target} of {fmt_pct(cal.target_value)}",
            )
        )
    return cards(items)


def _method(p: PricedBook) -> str:
    cfg = p.config
    return note(
        f"Technical premium = (EL + {fmt_pct(cfg.cost_of_capital)} × capital) / (1 − "
        f"{fmt_pct(cfg.expense_ratio)} expenses − {fmt_pct(cfg.commission)} commission), each "
        f"policy's capital its {p.capital_label} contribution to the gross loss less its EL, so "
        "the policies' capital adds up to the book's; rates are on insured turnover (limit × "
        "utilisation × 365 / payment term, or the policy's declared turnover). Adequacy = actual "
        "/ technical premium. docs/pricing.md explains each step."
    )


def _plot(p: PricedBook) -> str:
    by_grade = p.card_by_grade()
    band = int(by_grade["term_band"][0])
    grades = sorted(set(by_grade["risk_grade"].to_list()))
    ratings = list(dict.fromkeys(by_grade["rating"].to_list()))
    lines = []
    for r in ratings:
        rows = by_grade.filter(pl.col("rating") == r).sort("risk_grade")
        lines.append((r, rows["fitted_rate"].to_numpy()))
    oecd = p.country_rates.group_by("risk_grade").agg(pl.col("oecd_mpr").first()).sort("risk_grade")
    mpr = dict(zip(oecd["risk_grade"].to_list(), oecd["oecd_mpr"].to_list(), strict=True))
    bench = np.array([np.nan if mpr.get(g) is None else mpr[g] for g in grades])
    benchmark = ("OECD MPR (extrapolated)", bench) if np.isfinite(bench).any() else None
    title = f"Rate card by country risk grade, terms up to {band} days"
    svg = rate_card_plot(grades, lines, "rate-card", title, benchmark=benchmark)
    caption = (
        f"The published card's rate for each buyer rating, by country risk grade, in the most "
        f"common payment-term band (up to {band} days). Dashed: the OECD Arrangement's minimum "
        "premium rate for a sovereign-like buyer at that horizon, used far below its two-year "
        "minimum (an extrapolation: an outside reference for how rates rise with country risk)."
    )
    return figure(svg, caption)


def _realism(p: PricedBook) -> str:
    r = p.realism
    rating, band = esc(r["rating"][0]), int(r["term_band"][0])
    rows, cls = [], []
    for row in r.iter_rows(named=True):
        lo, hi = row["market_low"], row["market_high"]
        market = DASH if lo is None else f"{_rate(lo)} – {_rate(hi)}"
        within = DASH
        if row["within"] is not None:
            ok = bool(row["within"])
            within = f'<span class="badge {"ok" if ok else "bad"}">{"yes" if ok else "no"}</span>'

        rows.append(
            [
                str(row["risk_grade"]),
                fmt_count(row["n_exposures"]),
                fmt_amount(row["turnover"], p.currency),
                _rate(row["technical_rate"]),
                _rate(row["fitted_rate"]),
                market,
                within,
            ]
        )
        cls.append("")
    head = [
        "Grade",
        "Exposures",
        "Turnover",
        "Technical rate",
        "Card rate",
        "Market range",
        "Within",
    ]
    intro = note(
        f"The card at its most common cell by insured turnover ({rating} buyers, terms up to "
        f"{band} days) against the rates the market charges: about 0.1–0.5 % of insured "
        "turnover for developed markets (grades 0–1), 0.3–1.2 % for emerging ones (grades 3–6). "
        "Technical rate: the cell's own technical premiums over its turnover; card rate: the "
        "published, monotone and credibility-weighted rate."
    )
    return "<h3>The card against the market</h3>" + intro + table(head, rows, row_cls=cls)


def _adequacy(p: PricedBook, by: str, title: str, label: Any) -> str:
    df = p.adequacy(by)
    total = df.select(pl.col("n", "turnover", "premium", "technical_premium").sum()).row(
        0, named=True
    )
    total |= {
        by: "Total",
        "actual_rate": _quotient(total["premium"], total["turnover"]),
        "technical_rate": _quotient(total["technical_premium"], total["turnover"]),
        "adequacy": _quotient(total["premium"], total["technical_premium"]),
    }
    rows, cls = [], []
    for r in [*df.iter_rows(named=True), total]:
        rows.append(
            [
                "Total" if r is total else label(r[by]),
                fmt_count(r["n"]),
                fmt_amount(r["turnover"], p.currency),
                fmt_amount(r["premium"], p.currency),
                fmt_amount(r["technical_premium"], p.currency),
                _rate(r["actual_rate"]),
                _rate(r["technical_rate"]),
                _ratio(r["adequacy"]),
            ]
        )
        adequacy = r["adequacy"]
        under = "under" if adequacy is not None and adequacy < 1 else ""
        cls.append(f"total {under}".strip() if r is total else under)
    unit = "Policies" if by == "size_band" else "Exposures"
    head = [
        title,
        unit,
        "Turnover",
        "Premium",
        "Technical premium",
        "Actual rate",
        "Technical rate",
        "Adequacy",
    ]
    return table(head, rows, row_cls=cls)


def _quotient(num: float, den: float) -> float:
    return num / den if den > 0 else math.nan


def _band(label: str) -> str:
    """A size band's label without its sort prefix (``3. 20 m – 100 m`` → ``20 m – 100 m``)."""
    return esc(label.split(". ", 1)[-1])


def priced_section(p: PricedBook) -> str:
    """The pricing ``<section>`` of a priced book (HTML)."""
    grades = _adequacy(p, "risk_grade", "Country risk grade", str)
    sectors = _adequacy(p, "sector", "Sector", lambda s: esc(sector_label(s)))
    sizes = _adequacy(p, "size_band", f"Policy turnover ({esc(p.currency)})", _band)
    body = (
        _cards(p)
        + _method(p)
        + _plot(p)
        + _realism(p)
        + "<h3>Adequacy by country risk grade</h3>"
        + note(
            "Each policy's premium is split over its exposures by insured turnover; rows below "
            "an adequacy of 1 are under-priced."
        )
        + grades
        + "<h3>Adequacy by sector</h3>"
        + sectors
        + "<h3>Adequacy by policy size</h3>"
        + sizes
    )
    return section(IDENT, "Pricing: premium adequacy and the rate card", body)


def pricing_section(d: ReportData) -> str:
    """The pricing section of a gathered run, or nothing when it was not priced."""
    if d.pricing is None:
        return ""
    return priced_section(d.pricing)
