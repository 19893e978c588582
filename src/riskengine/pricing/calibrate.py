"""Calibration of a rate level to a target return on capital or combined ratio (docs/pricing.md §4).

With P the premium the card (or the technical premiums) charges the book at scale 1, EL the
book's expected loss and K its allocated capital (contribution − EL, summed: TVaR_q − EL or
VaR_q − EL), both from the simulated years, and r = 1 − expense − commission the share of premium
left after expenses and commission, the premium k·P meets

* a target return on allocated capital t, (k P r − EL) / K = t, for k = (t K + EL) / (P r);
* a target combined ratio c, (EL + (expense + commission) k P) / (k P) = c, for
  k = EL / (P (c − expense − commission)).

Both are closed forms, so the target is met exactly (to rounding). The factor's standard error
comes from those of EL and K (P is a price, not an estimate).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ._checks import check_parameter, raise_scenario
from .premium import Loadings

__all__ = ["Calibration", "calibrate", "combined_ratio", "return_on_capital"]


def return_on_capital(premium: float, el: float, capital: float, loadings: Loadings) -> float:
    """(premium × (1 − expense − commission) − EL) / capital (fraction per year).

    Parameters
    ----------
    premium, el, capital : float
        Annual premium, expected loss and allocated capital (currency).
    loadings : Loadings
    """
    return (premium * loadings.retained - el) / capital


def combined_ratio(premium: float, el: float, loadings: Loadings) -> float:
    """(EL + expenses + commission) / premium, expenses and commission as shares of premium."""
    return el / premium + loadings.expense_ratio + loadings.commission


@dataclass(frozen=True)
class Calibration:
    """A calibrated rate level.

    Attributes
    ----------
    factor : float
        Scale k to apply to the card's rates (or the technical premiums).
    factor_se : float
        Its Monte Carlo standard error (NaN without the standard errors of EL and capital).
    premium : float
        k × P, the book's premium at the calibrated level (currency per year).
    target : str
        ``"return_on_capital"`` or ``"combined_ratio"``.
    target_value : float
        The target (fraction).
    return_on_capital : float
        The book's return on allocated capital at the calibrated level.
    combined_ratio : float
        The book's combined ratio at the calibrated level.
    """

    factor: float
    factor_se: float
    premium: float
    target: str
    target_value: float
    return_on_capital: float
    combined_ratio: float


def calibrate(
    premium: float,
    el: float,
    capital: float,
    loadings: Loadings,
    *,
    target_roc: float | None = None,
    target_combined_ratio: float | None = None,
    el_se: float = math.nan,
    capital_se: float = math.nan,
    rho: float = 0.0,
) -> Calibration:
    """The scale factor on premium that meets one target exactly.

    Parameters
    ----------
    premium : float
        The book's premium at scale 1 (currency per year, > 0): e.g. ``RateCard.premium()`` or the
        sum of the technical premiums.
    el : float
        The book's expected loss (currency per year, ≥ 0).
    capital : float
        The book's allocated capital, TVaR_q − EL or VaR_q − EL (currency, > 0 for a target
        return on capital).
    loadings : Loadings
    target_roc : float, optional
        Target return on allocated capital (fraction per year, e.g. 0.12).
    target_combined_ratio : float, optional
        Target combined ratio (fraction, above expense + commission, e.g. 0.85).
    el_se, capital_se : float
        Standard errors of EL and capital (for ``factor_se``).
    rho : float
        Correlation between the EL and capital estimates.

    Returns
    -------
    Calibration

    Raises
    ------
    ScenarioError
        Unless exactly one target is given, in its range.
    """
    if (target_roc is None) == (target_combined_ratio is None):
        raise_scenario(
            [check_parameter("pricing.target", math.nan, False, "give exactly one target")]
        )
    if not (premium > 0 and math.isfinite(premium)):
        raise ValueError(f"premium at scale 1 must be finite and > 0, got {premium!r}")
    if not (el >= 0 and math.isfinite(el)):
        raise ValueError(f"EL must be finite and ≥ 0, got {el!r}")
    r = loadings.retained
    if target_roc is not None:
        t = float(target_roc)
        raise_scenario(
            [
                check_parameter("pricing.target_roc", t, t > -1.0, "must be above −1"),
                check_parameter(
                    "pricing.target_roc",
                    capital,
                    capital > 0,
                    "needs allocated capital > 0 (the book's TVaR or VaR above its EL)",
                ),
            ]
        )
        factor = (t * capital + el) / (premium * r)
        var = (t * capital_se) ** 2 + el_se**2 + 2.0 * rho * t * capital_se * el_se
        se = math.sqrt(max(var, 0.0)) / (premium * r) if math.isfinite(var) else math.nan
        kind = "return_on_capital"
    else:
        c = float(target_combined_ratio)  # type: ignore[arg-type]
        floor = loadings.expense_ratio + loadings.commission
        raise_scenario(
            [
                check_parameter(
                    "pricing.target_combined_ratio",
                    c,
                    c > floor,
                    f"must exceed expense_ratio + commission = {floor:g}",
                ),
                check_parameter(
                    "pricing.target_combined_ratio", el, el > 0, "needs an expected loss > 0"
                ),
            ]
        )
        factor = el / (premium * (c - floor))
        se = el_se / (premium * (c - floor))
        t, kind = c, "combined_ratio"
    if factor <= 0:
        raise ValueError(f"no positive premium meets the target (factor {factor:g})")
    p = factor * premium
    roc = return_on_capital(p, el, capital, loadings) if capital != 0 else math.nan
    return Calibration(factor, se, p, kind, t, roc, combined_ratio(p, el, loadings))
