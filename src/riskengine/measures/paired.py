"""Two runs on the same simulated years: their measures and the differences, with paired
standard errors.

When two runs share their random numbers year by year (common random numbers: the same seed,
and a change that leaves the draws alone), year i of one is paired with year i of the other,
and the difference of a measure is far less noisy than either measure. For losses x₀ and x₁
(weights w₀, w₁; the weighted estimators of :mod:`.sample`):

* EL: Δ = EL₁ − EL₀, SE = sd(w₁x₁ − w₀x₀)/√n, the standard error of the mean paired difference;
* VaR_q and TVaR_q: Δ of the estimates, SE by a paired bootstrap: the same resampled years for
  both runs, :data:`BOOTSTRAP` replicates from a fixed seed (so the figure is reproducible).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._core import check_levels, check_weights, tail_count, var_rank
from .sample import Estimate, mean_se, measures, tvar_se, var_se

__all__ = ["BOOTSTRAP", "Paired", "paired_measures"]

#: Paired bootstrap replicates for the standard errors of VaR and TVaR differences.
BOOTSTRAP = 200
#: Seed of the bootstrap's resampling.
BOOTSTRAP_SEED = 20261129


@dataclass(frozen=True)
class Paired:
    """One measure of both runs and its difference ``delta`` = run 1 − run 0 (each with an SE)."""

    run0: Estimate
    run1: Estimate
    delta: Estimate


def _var_tvar_unweighted(xs: np.ndarray, q: float) -> tuple[np.ndarray, np.ndarray]:
    """VaR_q and TVaR_q of each row of ``xs`` (rows sorted ascending), unweighted conventions."""
    n = xs.shape[1]
    k = tail_count(q, n)
    return xs[:, var_rank(q, n)], xs[:, n - k :].mean(axis=1)


def _bootstrap(
    x0: np.ndarray,
    w0: np.ndarray | None,
    x1: np.ndarray,
    w1: np.ndarray | None,
    q: float,
    replicates: int,
) -> tuple[float, float]:
    """Standard errors of the VaR_q and TVaR_q differences by a paired bootstrap."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    n = len(x0)
    deltas = np.empty((replicates, 2))
    if w0 is None and w1 is None:
        step = max(1, 2_000_000 // max(n, 1))  # resample in batches of ~2 million draws
        for lo in range(0, replicates, step):
            idx = rng.integers(0, n, (min(step, replicates - lo), n))
            v0, t0 = _var_tvar_unweighted(np.sort(x0[idx], axis=1), q)
            v1, t1 = _var_tvar_unweighted(np.sort(x1[idx], axis=1), q)
            deltas[lo : lo + len(idx)] = np.stack([v1 - v0, t1 - t0], axis=1)
    else:
        for r in range(replicates):
            i = rng.integers(0, n, n)
            m0 = measures(x0[i], levels=(q,), weights=None if w0 is None else w0[i])
            m1 = measures(x1[i], levels=(q,), weights=None if w1 is None else w1[i])
            key = next(iter(m0["VaR"]))
            deltas[r] = [
                m1["VaR"][key]["value"] - m0["VaR"][key]["value"],
                m1["TVaR"][key]["value"] - m0["TVaR"][key]["value"],
            ]
    with np.errstate(all="ignore"):
        se = np.std(deltas, axis=0, ddof=1) if replicates > 1 else np.full(2, np.nan)
    return float(se[0]), float(se[1])


def paired_measures(
    x0: np.ndarray,
    x1: np.ndarray,
    q: float,
    weights0: np.ndarray | None = None,
    weights1: np.ndarray | None = None,
    *,
    replicates: int = BOOTSTRAP,
) -> dict[str, Paired]:
    """EL, VaR_q and TVaR_q of two runs on the same years, and their differences.

    Parameters
    ----------
    x0, x1 : ndarray of float
        Annual losses of run 0 and run 1 (currency units), year i of both the same simulated
        year.
    q : float
        Level of VaR and TVaR in [0, 1].
    weights0, weights1 : ndarray of float, optional
        Likelihood ratios of the years under importance sampling (default 1).
    replicates : int
        Bootstrap replicates for the VaR and TVaR differences' standard errors.

    Returns
    -------
    dict
        ``{"EL": Paired, "VaR": Paired, "TVaR": Paired}``; ``delta`` is run 1 − run 0.
    """
    x0 = np.asarray(x0, dtype=np.float64)
    x1 = np.asarray(x1, dtype=np.float64)
    if x0.shape != x1.shape:
        raise ValueError(f"paired runs need the same years: {len(x0)} and {len(x1)}")
    q = float(check_levels(q))
    w0, w1 = check_weights(weights0, len(x0)), check_weights(weights1, len(x1))
    d = (x1 if w1 is None else w1 * x1) - (x0 if w0 is None else w0 * x0)
    el0, el1 = mean_se(x0, w0), mean_se(x1, w1)
    out = {"EL": Paired(el0, el1, Estimate(el1.value - el0.value, mean_se(d).se))}

    def tails(x: np.ndarray, w: np.ndarray | None) -> tuple[Estimate, Estimate]:
        order = np.argsort(x, kind="stable")
        ws = None if w is None else w[order]
        return var_se(x[order], q, ws), tvar_se(x[order], q, ws)

    (v0, t0), (v1, t1) = tails(x0, w0), tails(x1, w1)
    se_v, se_t = _bootstrap(x0, w0, x1, w1, q, replicates) if len(x0) else (np.nan, np.nan)
    out["VaR"] = Paired(v0, v1, Estimate(v1.value - v0.value, se_v))
    out["TVaR"] = Paired(t0, t1, Estimate(t1.value - t0.value, se_t))
    return out
