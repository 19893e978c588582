"""Risk measures of a discrete loss distribution (an analytic law: values and probabilities).

The same definitions as for a weighted sample with the probabilities as weights and divisor 1:
VaR_q is the smallest value whose CDF is ≥ q, TVaR_q the mean of the worst (1 − q) of
probability, the boundary atom entering fractionally. Exact, so every standard error is 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ._core import Ranked, check_levels, level_key
from .sample import CAPITAL_LEVEL, LEVELS

#: How far the probabilities may sum from 1 (rounding of an FFT or a recursion).
PROBABILITY_SUM_TOLERANCE = 1e-6


def discrete_measures(
    values: np.ndarray, probabilities: np.ndarray, levels: Sequence[float] = LEVELS
) -> dict:
    """EL, SD, VaR and TVaR at ``levels`` and capital of a discrete distribution.

    Parameters
    ----------
    values : ndarray of float
        The loss values (currency units), any order, repeats allowed.
    probabilities : ndarray of float
        Their probabilities (≥ 0, summing to 1 within 1e-6; not renormalised).
    levels : sequence of float
        Levels q in [0, 1].

    Returns
    -------
    dict
        The layout of :func:`riskengine.measures.measures` without ``tail_years``:
        ``{"EL": {value, se}, "SD": {…}, "VaR": {"99.5": {…}, …}, "TVaR": {…}, "capital"}``,
        every ``se`` 0.0. SD is the distribution's (population) standard deviation.

    Raises
    ------
    ValueError
        When the arrays differ in length, are empty, or the probabilities are not a distribution.
    """
    v = np.asarray(values, dtype=np.float64)
    p = np.asarray(probabilities, dtype=np.float64)
    _check(v, p)
    check_levels(np.asarray(levels, dtype=np.float64))
    order = np.argsort(-v, kind="stable")
    r = Ranked.of(v[order], p[order], 1.0)
    qs = np.asarray(levels, dtype=np.float64)
    with np.errstate(all="ignore"):
        el = float(np.sum(p * v))
        sd = math.sqrt(float(np.sum(p * (v - el) ** 2)))
        var, tvar = r.var(r.mass(qs)), r.tvar(r.mass(qs))
    return {
        "EL": {"value": el, "se": 0.0},
        "SD": {"value": sd, "se": 0.0},
        "VaR": {level_key(q): {"value": float(var[i]), "se": 0.0} for i, q in enumerate(levels)},
        "TVaR": {level_key(q): {"value": float(tvar[i]), "se": 0.0} for i, q in enumerate(levels)},
        "capital": float(r.var(r.mass(CAPITAL_LEVEL))) - el,
    }


def _check(v: np.ndarray, p: np.ndarray) -> None:
    if v.ndim != 1 or v.shape != p.shape or len(v) == 0:
        raise ValueError(
            f"values and probabilities: expected two non-empty 1-D arrays of one length, "
            f"got shapes {v.shape} and {p.shape}"
        )
    bad = ~(np.isfinite(p) & (p >= 0.0))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"probabilities must be finite and ≥ 0; row {row} is {p[row]!r}")
    total = float(np.sum(p))
    if abs(total - 1.0) > PROBABILITY_SUM_TOLERANCE:
        raise ValueError(f"probabilities must sum to 1, they sum to {total!r}")
    if np.isnan(v).any():
        raise ValueError(f"values must not be NaN (row {int(np.flatnonzero(np.isnan(v))[0])})")
