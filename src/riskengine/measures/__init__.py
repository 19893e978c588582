"""Risk measures: estimators on simulated years (optionally weighted) and on discrete laws.

Conventions (docs/model.md §7, "Risk measures")
-----------------------------------------------
For n simulated years with losses L and weights w (likelihood ratios of importance sampling,
mean 1, not renormalised; w = 1 without it):

* EL = Σ w L / n, SE = sd(w L)/√n.
* SD: s² = Σ w (L − EL)² / (n − 1); delta-method SE.
* VaR_q = the smallest loss x with Σ w 1{L > x} / n ≤ 1 − q (unweighted: the ⌈q·n⌉-th smallest
  loss). SE = half the width of the band of losses whose weighted exceedance is (1 − q) ±
  sd(w·1{L > VaR})/√n; unweighted, the order statistics j± = q·n ± √(n q (1 − q)).
* TVaR_q = the mean over the worst years up to weighted mass (1 − q)·n, the boundary year
  entering fractionally (unweighted: the mean of the k = ⌈(1 − q)·n⌉ largest losses).
  SE = sd(w·(L − VaR)⁺) / ((1 − q)√n); unweighted √((Var(tail) + q (TVaR − VaR)²) / (n(1 − q))).
* A standard error that cannot be estimated is NaN: TVaR from fewer than 2 tail years, VaR
  whose band runs off the sample.
* Capital = VaR₉₉.₅ − EL. A return period T years corresponds to q = 1 − 1/T.
* Two runs on the same years (common random numbers): differences of EL, VaR and TVaR with
  paired standard errors (:mod:`.paired`).

Without weights (or with weights all exactly 1) every value and standard error is the
unweighted estimator's, bit for bit. Huge or infinite amounts give inf or NaN, never an error.
This package imports only numpy and the standard library.
"""

from __future__ import annotations

from ._core import level_key, tail_count, var_rank
from .discrete import discrete_measures
from .paired import Paired, paired_measures
from .sample import (
    CAPITAL_LEVEL,
    LEVELS,
    Estimate,
    ep_points,
    ep_table,
    mean_se,
    measures,
    sd_se,
    tvar_se,
    var_se,
)
from .tail import Tail, tail

__all__ = [
    "CAPITAL_LEVEL",
    "LEVELS",
    "Estimate",
    "Paired",
    "Tail",
    "discrete_measures",
    "ep_points",
    "ep_table",
    "level_key",
    "mean_se",
    "measures",
    "paired_measures",
    "sd_se",
    "tail",
    "tail_count",
    "tvar_se",
    "var_rank",
    "var_se",
]
