"""The report's CreditRisk+ section: the analytic ground-up law beside the simulated one.

Shown when the run's folder also holds ``riskengine analytic`` outputs of the same book: both
exceedance curves on one plot, and EL, SD, VaR and TVaR side by side with the difference in
simulation standard errors. The two models differ (docs/analytic.md, "What it leaves out"), so
the page says when the comparison is like for like: the simulation's exact expected ground-up
loss equals CreditRisk+'s EL only for the same book with no political events (and so no
contagion); ground-up losses are before policy terms on both sides.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..measures import ep_points
from .data import ReportData, SimulatedGroundUp, simulated_ground_up
from .format import esc, fmt_amount, fmt_count, fmt_pct
from .html import figure, note, section, table, value_se, wall_time, z_score
from .plots import GROSS, TVAR, EPCurve, ep_plot, return_period_grid

if TYPE_CHECKING:
    from ..analytic.outputs import AnalyticOutputs

__all__ = ["analytic_section", "comparison", "IDENT", "TITLE", "SAME_EL"]

IDENT = "analytic"
TITLE = "CreditRisk+"
#: Relative difference of the two exact expected losses below which they are the same number
#: (the same sum in another order).
SAME_EL = 1e-9


def _analytic_ep(analytic: AnalyticOutputs, rps: np.ndarray) -> np.ndarray:
    """Loss exceeded with probability 1/T under CreditRisk+ (VaR at q = 1 − 1/T).

    The distribution enters as a weighted sample: its N grid points weighted by N × their
    probability, so that the weighted exceedance over N is the probability of exceeding.
    """
    p = analytic.probability
    return ep_points(analytic.loss, rps, "AEP", weights=p * len(p))


def _simulated_ep(sim: SimulatedGroundUp, rps: np.ndarray) -> np.ndarray:
    order = np.argsort(sim.losses, kind="stable")
    w = None if sim.weights is None else sim.weights[order]
    return ep_points(sim.losses[order], rps, "AEP", weights=w)


def _plot(sim: SimulatedGroundUp, analytic: AnalyticOutputs) -> str:
    rps = return_period_grid(sim.n)
    curves = [
        EPCurve(f"Simulation ({fmt_count(sim.n)} years)", rps, _simulated_ep(sim, rps), GROSS),
        EPCurve("CreditRisk+", rps, _analytic_ep(analytic, rps), TVAR, "--"),
    ]
    title = "Ground-up exceedance curves: CreditRisk+ and simulation"
    svg = ep_plot(curves, sim.currency, "analytic-ep", title, n_sims=sim.n)
    caption = (
        "Annual ground-up loss exceeded once every T years (VaR at 1 − 1/T): simulated years "
        "(solid) and the CreditRisk+ distribution of the same book (dashed)."
    )
    return figure(svg, caption)


def _signed(text: str, x: float) -> str:
    """``text`` (a formatted number) with its sign: + when positive, − (not -) when negative."""
    text = text.replace("-", "\u2212", 1) if text.startswith("-") else text
    return "+" + text if isinstance(x, int | float) and x > 0 and text[:1].isdigit() else text


def _rows(sim: SimulatedGroundUp, analytic: AnalyticOutputs) -> tuple[list[list[str]], list[str]]:
    ccy = sim.currency
    a, s = analytic.measures, sim.measures
    keys: list[tuple[str, Any]] = [("Expected loss (EL)", ("EL",)), ("Standard deviation", ("SD",))]
    for kind in ("VaR", "TVaR"):
        keys += [(f"{kind} {q} %", (kind, q)) for q in a[kind] if q in s.get(kind, {})]
    rows, cls = [], []
    for label, path in keys:
        av, sv = a, s
        for k in path:
            av, sv = av[k], sv[k]
        x, y, se = av["value"], sv["value"], sv["se"]
        diff = y - x
        rel = diff / x if x else math.nan
        z = diff / se if isinstance(se, int | float) and se and se > 0 else math.nan
        rows.append(
            [
                label,
                f'<span class="v">{fmt_amount(x, ccy)}</span>',
                value_se(y, se, ccy),
                f'<span class="v">{_signed(fmt_amount(diff, ccy), diff)}</span>'
                f'<span class="se">{_signed(fmt_pct(rel), rel)}</span>',
                z_score(z),
            ]
        )
        cls.append("key" if path in (("EL",), ("VaR", "99.5")) else "")
    return rows, cls


def _fairness(sim: SimulatedGroundUp, analytic: AnalyticOutputs) -> str:
    el = analytic.measures["EL"]["value"]
    ccy = sim.currency
    base = (
        "The comparison is fair only for a simulation with political events off and contagion "
        "off (<code>political.enabled: false</code>) and compares <strong>ground-up</strong> "
        "losses: before policy terms, which CreditRisk+ does not apply."
    )
    exact = sim.exact_el
    if exact is None or not math.isfinite(exact):
        return note(base + " The simulation's exact expected loss is not known.", "warn")
    if abs(exact - el) <= SAME_EL * max(abs(el), abs(exact), 1.0):
        return note(
            base + " Here the simulation's exact expected ground-up loss equals CreditRisk+'s "
            f"EL ({fmt_amount(el, ccy)}): the same book and no political losses, so the two "
            "differ only by their models (gamma sectors, Poisson defaults and mean LGDs against "
            "the simulation's factor copula and beta LGDs)."
        )
    years = (
        f"; {fmt_count(sim.political_years)} of {fmt_count(sim.n)} simulated years have political "
        "losses"
        if sim.political_years
        else ""
    )
    return note(
        base + f" <strong>Not here</strong>: the simulation's exact expected ground-up loss is "
        f"{fmt_amount(exact, ccy)}, CreditRisk+'s EL {fmt_amount(el, ccy)}{years}. Simulate "
        "with political events off (and the same ratings, LGDs and utilisation) to compare.",
        "warn",
    )


def _parameters(analytic: AnalyticOutputs) -> str:
    m, run = analytic.document["model"], analytic.document["run"]
    ccy = analytic.currency
    sectors = m.get("sectors")
    sector_by = esc(m.get("sector_by"))
    parts = [
        f"loss unit {fmt_amount(m.get('band'), ccy)} ({esc(m.get('band_from'))})",
        f"pd_volatility {esc(format(m.get('pd_volatility'), 'g'))}",
        f"sector_by {sector_by} ({fmt_count(sectors)} sectors)",
        f"specific share {fmt_pct(m.get('specific_share'))}",
        f"a grid of {fmt_count(m.get('grid_points'))} points",
        f"computed in {wall_time(sum((run.get('timings') or {}).values()))}",
    ]
    return (
        "CreditRisk+ (scenario "
        f"<em>{esc(run.get('scenario'))}</em>): " + ", ".join(parts) + ". Exposure: EAD × mean "
        "LGD per buyer, exposures with commercial cover. z = (simulated − CreditRisk+) / the "
        "simulated value's standard error: it measures Monte Carlo noise only, so a large |z| "
        "on an otherwise fair comparison is a difference of the models, not an error."
    )


def comparison(sim: SimulatedGroundUp, analytic: AnalyticOutputs) -> str:
    """The ``<section>`` comparing ``analytic`` with the simulation ``sim`` (HTML)."""
    rows, cls = _rows(sim, analytic)
    head = ["Ground-up", "CreditRisk+", "Simulation", "Simulation − CreditRisk+", "z"]
    intro = note(
        "CreditRisk+ (docs/analytic.md) gives the ground-up loss distribution of the book in "
        "closed form: buyers default as Poisson events whose rates move with independent gamma "
        "sector factors; a buyer's loss is its EAD × mean LGD."
    )
    body = (
        intro
        + _fairness(sim, analytic)
        + _plot(sim, analytic)
        + table(head, rows, cls="figures", row_cls=cls)
        + note(_parameters(analytic))
    )
    return section(IDENT, "CreditRisk+ against the simulation", body)


def analytic_section(d: ReportData) -> str:
    """The comparison section of a gathered run, or nothing without CreditRisk+ outputs."""
    if d.analytic is None:
        return ""
    return comparison(simulated_ground_up(d), d.analytic)
