"""Risk measures of simulated annual losses, each with a Monte Carlo standard error.

Every function takes optional ``weights``: each year's likelihood ratio under importance
sampling (mean 1, not renormalised). Without weights, or with weights all exactly 1, values and
standard errors are those of the unweighted estimators of docs/model.md §7, bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._core import (
    Ranked,
    band_ranks,
    check_levels,
    check_weights,
    level_key,
    tail_count,
    var_rank,
)

#: Confidence levels reported everywhere.
LEVELS = (0.90, 0.95, 0.99, 0.995, 0.999)

#: The level of capital: VaR₉₉.₅ − EL.
CAPITAL_LEVEL = 0.995


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo estimate with its standard error (same unit as the loss; NaN: unknown)."""

    value: float
    se: float

    def as_dict(self) -> dict[str, float]:
        return {"value": self.value, "se": self.se}


def mean_se(x: np.ndarray, weights: np.ndarray | None = None) -> Estimate:
    """Mean Σ w·x / n and its standard error sd(w·x)/√n.

    Parameters
    ----------
    x : ndarray of float
        One value per year (currency units).
    weights : ndarray of float, optional
        Likelihood ratio of each year (default: 1).
    """
    x = np.asarray(x, dtype=np.float64)
    w = check_weights(weights, len(x))
    y = x if w is None else w * x
    n = len(y)
    if n == 0:
        return Estimate(math.nan, math.nan)
    with np.errstate(all="ignore"):
        m = float(np.mean(y))
        se = float(np.std(y, ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    return Estimate(m, se)


def sd_se(x: np.ndarray, weights: np.ndarray | None = None) -> Estimate:
    """Standard deviation and its delta-method standard error.

    s² = Σ w (x − m)² / (n − 1) with m = Σ w x / n; SE = sd(w (x − m)²) / (2 s √n), computed as
    √((mean(w² (x − m)⁴) − s⁴) / (4 s² n)): with w = 1 the unweighted formula exactly.
    """
    x = np.asarray(x, dtype=np.float64)
    w = check_weights(weights, len(x))
    n = len(x)
    if n < 2:
        return Estimate(math.nan, math.nan)
    with np.errstate(all="ignore"):
        d = x - (x.mean() if w is None else np.mean(w * x))
        s2 = float(np.sum(d * d if w is None else w * d * d) / (n - 1))
        s = math.sqrt(s2)
        m4 = float(np.mean(d**4 if w is None else (w * w) * d**4))
    se = math.sqrt(max(m4 - s2 * s2, 0.0) / (4 * s2 * n)) if s2 > 0 else 0.0
    return Estimate(s, se)


def var_se(xs: np.ndarray, q: float, weights: np.ndarray | None = None) -> Estimate:
    """VaR_q of ascending-sorted losses ``xs`` with its standard error.

    Unweighted: VaR_q = x₍⌈q·n⌉₎ and SE = (x₍j₊₎ − x₍j₋₎)/2 with j± = q·n ± √(n q (1 − q)), the
    distribution-free binomial band. Weighted: the smallest loss x with Σ w 1{L > x} / n ≤ 1 − q,
    and the band of losses whose weighted exceedance is (1 − q) ± sd(w·1{L > VaR})/√n (which
    reduces to the ranks j± when w = 1). The SE is NaN when the band runs off the sample.

    Parameters
    ----------
    xs : ndarray of float
        Losses sorted ascending (currency units).
    q : float
        Level in [0, 1].
    weights : ndarray of float, optional
        Likelihood ratios in the order of ``xs``.
    """
    xs = np.asarray(xs, dtype=np.float64)
    q = float(check_levels(q))
    w = check_weights(weights, len(xs))
    n = len(xs)
    if n == 0:
        return Estimate(math.nan, math.nan)
    if w is not None:
        return Estimate(*Ranked.of(xs[::-1], w[::-1], n).var_se(q))
    v = float(xs[var_rank(q, n)])
    lo, hi, inside = band_ranks(q, n)
    if not inside:
        return Estimate(v, math.nan)
    with np.errstate(all="ignore"):
        return Estimate(v, float(xs[hi] - xs[lo]) / 2)


def tvar_se(xs: np.ndarray, q: float, weights: np.ndarray | None = None) -> Estimate:
    """TVaR_q of ascending-sorted losses ``xs`` with its standard error.

    Unweighted: the mean of the k = ⌈(1 − q)·n⌉ largest losses, SE = √((Var(tail) + q·(TVaR −
    VaR)²) / (n (1 − q))). Weighted: the mean over the worst years up to weighted mass (1 − q)·n,
    the boundary year entering fractionally, SE = sd(w·(L − VaR)⁺) / ((1 − q)√n), which reduces
    to the unweighted formula when w = 1. The SE is NaN from fewer than 2 tail years.

    Parameters
    ----------
    xs : ndarray of float
        Losses sorted ascending (currency units).
    q : float
        Level in [0, 1].
    weights : ndarray of float, optional
        Likelihood ratios in the order of ``xs``.
    """
    xs = np.asarray(xs, dtype=np.float64)
    q = float(check_levels(q))
    w = check_weights(weights, len(xs))
    n = len(xs)
    if n == 0:
        return Estimate(math.nan, math.nan)
    if w is not None:
        return Estimate(*Ranked.of(xs[::-1], w[::-1], n).tvar_se(q))
    k = tail_count(q, n)
    tail = xs[n - k :]
    with np.errstate(all="ignore"):
        t = float(tail.mean())
        if k < 2 or q >= 1:
            return Estimate(t, math.nan)
        v = float(xs[var_rank(q, n)])
        var_tail = float(tail.var(ddof=1))
        d = t - v
        # d ** 2 as before (bit-identical), but Python's float power raises OverflowError
        sq = d**2 if not abs(d) > 1e150 else math.inf
        return Estimate(t, math.sqrt((var_tail + q * sq) / (n * (1 - q))))


def measures(
    x: np.ndarray, levels: Sequence[float] = LEVELS, weights: np.ndarray | None = None
) -> dict:
    """EL, SD, VaR and TVaR at ``levels`` (each with an SE), capital and tail years of losses ``x``.

    Parameters
    ----------
    x : ndarray of float
        Annual losses, one per simulated year (currency units), in any order.
    levels : sequence of float
        Levels q in [0, 1].
    weights : ndarray of float, optional
        Likelihood ratio of each year (importance sampling; default 1).

    Returns
    -------
    dict
        ``{"EL": {value, se}, "SD": {…}, "VaR": {"99.5": {…}, …}, "TVaR": {…},
        "capital": value, "tail_years": {"99.5": int, …}}`` (levels keyed as percentages;
        ``tail_years``: the years TVaR rests on, so callers can warn below about 10).
    """
    x = np.asarray(x, dtype=np.float64)
    w = check_weights(weights, len(x))
    check_levels(np.asarray(levels, dtype=np.float64))
    n = len(x)
    el = mean_se(x, w)
    out: dict = {"EL": el.as_dict(), "SD": sd_se(x, w).as_dict()}
    if w is None:
        xs = np.sort(x)
        out["VaR"] = {level_key(q): var_se(xs, q).as_dict() for q in levels}
        out["TVaR"] = {level_key(q): tvar_se(xs, q).as_dict() for q in levels}
        out["capital"] = var_se(xs, CAPITAL_LEVEL).value - el.value
        out["tail_years"] = {level_key(q): min(tail_count(q, n), n) for q in levels}
        return out
    order = np.argsort(-x, kind="stable")
    r = Ranked.of(x[order], w[order], n)
    out["VaR"] = {level_key(q): Estimate(*r.var_se(q)).as_dict() for q in levels}
    out["TVaR"] = {level_key(q): Estimate(*r.tvar_se(q)).as_dict() for q in levels}
    out["capital"] = float(r.var(r.mass(CAPITAL_LEVEL))) - el.value
    out["tail_years"] = {level_key(q): r.tail_years(float(r.mass(q))) for q in levels}
    return out


def ep_points(
    losses_sorted: np.ndarray,
    return_periods: np.ndarray,
    kind: str = "AEP",
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Loss exceeded once every T years, for many return periods T at once (q = 1 − 1/T).

    ``kind`` is ``"AEP"`` (VaR_q: also OEP when given occurrence maxima) or ``"TVaR"`` (TVaR_q).
    AEP points equal :func:`var_se` values exactly, TVaR points :func:`tvar_se` values to
    rounding (a running sum instead of a mean per level).

    Parameters
    ----------
    losses_sorted : ndarray of float
        Losses sorted ascending (currency units).
    return_periods : array of float
        Return periods T ≥ 1 (years).
    kind : {"AEP", "TVaR"}
    weights : ndarray of float, optional
        Likelihood ratios in the order of ``losses_sorted``.
    """
    xs = np.asarray(losses_sorted, dtype=np.float64)
    with np.errstate(divide="ignore"):
        q = check_levels(1.0 - 1.0 / np.asarray(return_periods, dtype=np.float64))
    if kind not in ("AEP", "TVaR"):
        raise ValueError(f"kind must be 'AEP' or 'TVaR', got {kind!r}")
    w = check_weights(weights, len(xs))
    n = len(xs)
    if n == 0:
        return np.full(q.shape, np.nan)
    if w is not None:
        r = Ranked.of(xs[::-1], w[::-1], n)
        return r.var(r.mass(q)) if kind == "AEP" else r.tvar(r.mass(q))
    if kind == "AEP":
        return xs[var_rank(q, n)]
    k = np.minimum(tail_count(q, n), n)
    with np.errstate(all="ignore"):
        top = np.cumsum(xs[::-1])
        return top[k - 1] / k


def ep_table(
    x: np.ndarray,
    return_periods: Sequence[float],
    occurrence: np.ndarray | None = None,
    weights: np.ndarray | None = None,
) -> dict[str, list[float]]:
    """Exceedance-probability points: AEP (VaR), TVaR_AEP and, given maxima, OEP.

    Parameters
    ----------
    x : ndarray of float
        Annual losses (currency units), any order.
    return_periods : sequence of float
        Return periods T ≥ 1 (years); q = 1 − 1/T.
    occurrence : ndarray of float, optional
        Each year's largest single occurrence, for the OEP.
    weights : ndarray of float, optional
        Likelihood ratio of each year (applies to ``x`` and ``occurrence`` alike).

    Returns
    -------
    dict
        ep_type → losses at ``return_periods``.
    """
    x = np.asarray(x, dtype=np.float64)
    w = check_weights(weights, len(x))
    if w is None:
        xs = np.sort(x)
        out = {
            "AEP": [var_se(xs, 1 - 1 / rp).value for rp in return_periods],
            "TVaR_AEP": [tvar_se(xs, 1 - 1 / rp).value for rp in return_periods],
        }
        if occurrence is not None:
            os_ = np.sort(np.asarray(occurrence, dtype=np.float64))
            out["OEP"] = [var_se(os_, 1 - 1 / rp).value for rp in return_periods]
        return out
    rps = np.asarray(return_periods, dtype=np.float64)
    order = np.argsort(x, kind="stable")
    out = {
        "AEP": ep_points(x[order], rps, "AEP", w[order]).tolist(),
        "TVaR_AEP": ep_points(x[order], rps, "TVaR", w[order]).tolist(),
    }
    if occurrence is not None:
        occ = np.asarray(occurrence, dtype=np.float64)
        o = np.argsort(occ, kind="stable")
        out["OEP"] = ep_points(occ[o], rps, "AEP", w[o]).tolist()
    return out
