"""The years that define TVaR_q and VaR_q of a sample: what capital allocation averages over."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._core import Ranked, band_ranks, check_levels, check_weights, tail_count, var_rank


@dataclass(frozen=True)
class Tail:
    """The tail of a sample of n years at level q.

    Attributes
    ----------
    level : float
        q.
    n : int
        Years in the sample.
    index : ndarray of int64
        The years whose losses define TVaR_q, worst first (among equal losses the lower index
        counts as worse).
    mass : ndarray of float64
        The weighted mass each of them carries, summing to (1 − q)·n (less only when all the
        weights together fall short of it). Weighted: the year's weight, the boundary year's
        share of it. Unweighted: the k = ⌈(1 − q)·n⌉ worst years share (1 − q)·n equally, as
        TVaR_q is their plain mean.
    var_index : int
        The year whose loss is VaR_q.
    window : ndarray of int64
        The years whose losses lie in VaR_q's band, worst first: ranks q·n ± √(n q (1 − q))
        unweighted, weighted exceedance (1 − q) ± sd(w·1{L > VaR})/√n weighted; clamped to the
        sample.
    """

    level: float
    n: int
    index: np.ndarray
    mass: np.ndarray
    var_index: int
    window: np.ndarray

    @property
    def denominator(self) -> float:
        """(1 − q)·n: the tail's mass, the divisor of every tail mean."""
        return (1.0 - self.level) * self.n

    def mean(self, values: np.ndarray) -> float | np.ndarray:
        """Σ mass × values[index] / ((1 − q)·n): TVaR_q of the losses, a segment's contribution.

        Parameters
        ----------
        values : ndarray
            One row per year of the sample (shape (n,) or (n, segments)).
        """
        v = np.asarray(values, dtype=np.float64)
        with np.errstate(all="ignore"):
            out = self.mass @ v[self.index] / self.denominator
        return float(out) if np.ndim(out) == 0 else out


def tail(x: np.ndarray, q: float, weights: np.ndarray | None = None) -> Tail:
    """The tail of annual losses ``x`` at level ``q``: TVaR's years with their mass, VaR's window.

    ``tail(x, q).mean(x)`` equals TVaR_q of :func:`measures` to rounding, weighted or not.

    Parameters
    ----------
    x : ndarray of float
        Annual losses, one per simulated year (currency units), in simulation order.
    q : float
        Level in [0, 1).
    weights : ndarray of float, optional
        Likelihood ratio of each year (importance sampling; default 1).
    """
    x = np.asarray(x, dtype=np.float64)
    q = float(check_levels(q))
    w = check_weights(weights, len(x))
    n = len(x)
    if q >= 1 or n == 0:
        raise ValueError(f"a tail needs years and a level below 1, got n = {n}, q = {q}")
    order = np.argsort(-x, kind="stable")
    if w is None:
        k = min(tail_count(q, n), n)
        desc_rank = n - 1 - var_rank(q, n)
        lo, hi, _ = band_ranks(q, n)
        return Tail(
            level=q,
            n=n,
            index=order[:k],
            mass=np.full(k, (1.0 - q) * n / k),
            var_index=int(order[desc_rank]),
            window=order[n - 1 - hi : n - lo],
        )
    r = Ranked.of(x[order], w[order], n)
    total = float(r.mass(q))
    m_, rem_ = r.boundary(total)
    m, rem = int(m_), float(rem_)
    index, mass = order[:m], r.weight[:m]
    if rem > 0:
        index, mass = np.append(index, order[m]), np.append(mass, rem)
    keep = mass > 0
    half = r.band_half(min(m, n))
    up, down, _ = r.band_positions(total, half if math.isfinite(half) else 0.0)
    return Tail(
        level=q,
        n=n,
        index=index[keep],
        mass=mass[keep],
        var_index=int(order[min(m, n - 1)]),
        window=order[up : down + 1],
    )
