"""The report's model-assumptions section: every setting a number on the page depends on."""

from __future__ import annotations

from .data import Assumptions, ReportData
from .format import esc, fmt_count
from .html import Card, cards, note, section, table

__all__ = ["assumptions"]


def _pct(x: float) -> str:
    """A setting as a percentage, as written: ``35 %``, ``0.02 %``, ``26.12 %``."""
    return f"{100 * x:.6g} %"


def _num(x: float) -> str:
    """A setting as written: ``0.2``, ``1.5``."""
    return f"{x:.6g}"


def _factor_model(a: Assumptions) -> tuple[str, str]:
    if a.explicit:
        named = f": {esc(', '.join(a.factors))}" if a.factors else ""
        return (
            f"explicit, {fmt_count(a.n_factors)} factors{named}",
            "loadings from the book's factor_loadings table",
        )
    weights = " · ".join(f"{k} {_pct(v)}" for k, v in a.factor_weights.items() if v > 0)
    return (weights, "structured model: weights of the systematic factors")


def _cards(d: ReportData) -> str:
    a, r = d.assumptions, d.run
    copula = "Gaussian" if a.copula == "gaussian" else f"Student-t, ν = {_num(a.dof or 0)}"
    factors, factors_note = _factor_model(a)
    lgd = (
        f"beta, mean {_pct(a.lgd_mean)}, sd {_pct(a.lgd_sd)}"
        if a.lgd_sd > 0
        else f"fixed at {_pct(a.lgd_mean)}"
    )
    items = [
        Card(
            "Simulated years",
            fmt_count(r.n_sims),
            f"seed {esc(r.seed)}, blocks of {fmt_count(r.block_size)}",
        ),
        Card("Copula", copula, "dependence of the buyers' asset values"),
        Card("Factor model" if a.explicit else "Factor weights", factors, factors_note, wide=True),
        *(
            []
            if a.explicit
            else [Card("Asset correlation R²", _num(a.asset_correlation), "where a buyer has none")]
        ),
        Card("Loss given default", lgd, "per defaulted buyer, where a buyer has none"),
        Card("Utilisation", f"{_pct(a.utilization)} of the limit", "where an exposure has none"),
    ]
    if a.political_enabled:
        items += [
            Card(
                "Political correlation",
                _num(a.political_correlation),
                "of two countries' events in one region",
            ),
            Card("Political LGD", _pct(a.political_lgd), "where a country has none"),
            Card(
                "Contagion PD multiplier",
                f"× {_num(a.pd_multiplier)}",
                "buyers' PDs in their country's event years (capped below 1)",
            ),
        ]
    else:
        items.append(Card("Political events", "not simulated", "political.enabled is false"))
    return cards(items)


def assumptions(d: ReportData) -> str:
    """The copula, factor model, LGD, utilisation, political and rating settings of the run."""
    a = d.assumptions
    body = _cards(d)
    if a.political_enabled:
        grades = [str(g) for g in range(len(a.grade_pd))]
        body += "<h3>Political event probability by country risk grade</h3>" + table(
            ["Risk grade", *grades],
            [["Annual probability", *[_pct(q) for q in a.grade_pd]]],
            cls="grade",
        )
        body += note("Where a country has no <code>political_pd</code> of its own.")
    if a.ratings:
        body += "<h3>Probability of default by rating</h3>" + table(
            ["Rating", *[esc(k) for k in a.ratings]],
            [["Annual PD", *[_pct(p) for p in a.ratings.values()]]],
            cls="grade",
        )
        body += note("Where a buyer has no <code>pd</code> of its own.")
    body += note(
        "Settings of the scenario; values given in the book for a buyer, exposure or country"
        " override them. The model is written out in riskengine's docs/model.md."
    )
    return section("assumptions", "Model assumptions", body)
