"""Risk measures of simulated annual losses, each with a Monte Carlo standard error.

Conventions (docs/model.md, "Risk measures")
--------------------------------------------
For n simulated years with losses x sorted ascending (x₍₁₎ ≤ … ≤ x₍ₙ₎):

* EL = mean, SE = sd/√n.
* SD = sample standard deviation (n − 1); SE ≈ √((m₄ − s⁴)/(4 s² n)).
* VaR_q = x₍⌈q·n⌉₎, the smallest simulated loss L with F̂(L) ≥ q (lower empirical quantile).
  Its SE comes from the order statistics: (x₍j₊₎ − x₍j₋₎)/2 with j± = q·n ± √(n·q·(1 − q)),
  the distribution-free binomial band of the quantile.
* TVaR_q = mean of the ⌈(1 − q)·n⌉ largest losses (the expected loss in the worst (1 − q)
  of years). SE = √((Var(tail) + q·(TVaR − VaR)²)/(n(1 − q))) (asymptotic variance of the
  CVaR estimator).
* Capital = VaR₉₉.₅ − EL (the 1-in-200 unexpected loss, Solvency II).
* A return period T years corresponds to q = 1 − 1/T.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["LEVELS", "Estimate", "mean_se", "sd_se", "var_se", "tvar_se", "measures", "ep_table"]

#: Confidence levels reported everywhere.
LEVELS = (0.90, 0.95, 0.99, 0.995, 0.999)


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo estimate with its standard error (same unit as the loss)."""

    value: float
    se: float

    def as_dict(self) -> dict[str, float]:
        return {"value": self.value, "se": self.se}


def mean_se(x: np.ndarray) -> Estimate:
    """Mean and its standard error."""
    n = len(x)
    if n == 0:
        return Estimate(math.nan, math.nan)
    m = float(np.mean(x))
    se = float(np.std(x, ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    return Estimate(m, se)


def sd_se(x: np.ndarray) -> Estimate:
    """Standard deviation and its (delta-method) standard error."""
    n = len(x)
    if n < 2:
        return Estimate(math.nan, math.nan)
    d = x - x.mean()
    s2 = float(np.sum(d * d) / (n - 1))
    s = math.sqrt(s2)
    m4 = float(np.mean(d**4))
    se = math.sqrt(max(m4 - s2 * s2, 0.0) / (4 * s2 * n)) if s2 > 0 else 0.0
    return Estimate(s, se)


def _rank(q: float, n: int) -> int:
    """0-based index of VaR_q in an ascending sort of n values."""
    return min(n - 1, max(0, math.ceil(q * n - 1e-9) - 1))


def var_se(xs: np.ndarray, q: float) -> Estimate:
    """VaR_q of ascending-sorted losses ``xs`` with its order-statistic standard error."""
    n = len(xs)
    if n == 0:
        return Estimate(math.nan, math.nan)
    v = float(xs[_rank(q, n)])
    half = math.sqrt(n * q * (1 - q))
    lo = xs[min(n - 1, max(0, math.floor(q * n - half) - 1))]
    hi = xs[min(n - 1, max(0, math.ceil(q * n + half) - 1))]
    return Estimate(v, float(hi - lo) / 2)


def tvar_se(xs: np.ndarray, q: float) -> Estimate:
    """TVaR_q (mean of the worst ⌈(1 − q)n⌉ years) of ascending-sorted losses, with its SE."""
    n = len(xs)
    if n == 0:
        return Estimate(math.nan, math.nan)
    k = max(1, math.ceil((1 - q) * n - 1e-9))
    tail = xs[n - k :]
    t = float(tail.mean())
    v = float(xs[_rank(q, n)])
    var_tail = float(tail.var(ddof=1)) if k > 1 else 0.0
    se = math.sqrt((var_tail + q * (t - v) ** 2) / (n * (1 - q))) if q < 1 else math.nan
    return Estimate(t, se)


def measures(x: np.ndarray, levels: tuple[float, ...] = LEVELS) -> dict:
    """EL, SD, VaR and TVaR at ``levels`` (each with an SE) and capital of losses ``x``.

    Returns
    -------
    dict
        ``{"EL": {value, se}, "SD": {…}, "VaR": {"99.5": {…}, …}, "TVaR": {…},
        "capital": value}`` (levels keyed as percentages).
    """
    x = np.asarray(x, dtype=np.float64)
    xs = np.sort(x)
    el = mean_se(x)
    out = {
        "EL": el.as_dict(),
        "SD": sd_se(x).as_dict(),
        "VaR": {_key(q): var_se(xs, q).as_dict() for q in levels},
        "TVaR": {_key(q): tvar_se(xs, q).as_dict() for q in levels},
    }
    out["capital"] = var_se(xs, 0.995).value - el.value
    return out


def _key(q: float) -> str:
    return f"{100 * q:g}"


def ep_table(
    x: np.ndarray, return_periods: list[float], occurrence: np.ndarray | None = None
) -> dict[str, list[float]]:
    """Exceedance-probability points: AEP (VaR), TVaR_AEP and, given maxima, OEP.

    Returns a mapping ep_type → losses at ``return_periods``.
    """
    xs = np.sort(np.asarray(x, dtype=np.float64))
    out = {
        "AEP": [var_se(xs, 1 - 1 / rp).value for rp in return_periods],
        "TVaR_AEP": [tvar_se(xs, 1 - 1 / rp).value for rp in return_periods],
    }
    if occurrence is not None:
        os_ = np.sort(np.asarray(occurrence, dtype=np.float64))
        out["OEP"] = [var_se(os_, 1 - 1 / rp).value for rp in return_periods]
    return out
