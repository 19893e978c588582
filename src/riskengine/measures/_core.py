"""Ranks and weighted masses: the one definition of which years make VaR_q and TVaR_q.

Unweighted samples keep the rank conventions of docs/model.md §7 (``var_rank``, ``tail_count``,
``band_ranks``). Weighted samples and discrete distributions go through :class:`Ranked`: losses
sorted worst first with their weights (likelihood ratios, or probabilities with divisor 1),
on which VaR, TVaR, their standard errors and the tail are searches over cumulative mass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Slack, in years, on the VaR rank ⌈q·n⌉ and the tail count ⌈(1 − q)·n⌉: (1 − 0.995)·1000
#: evaluates to 5.000000000000004, which must not add a sixth year to the tail.
RANK_SLACK = 1e-9

#: Relative slack on cumulative weighted mass, the same role for weighted years (and for
#: probabilities that sum to q only up to rounding, e.g. CDF(x) = 0.99 computed as 0.98999…).
MASS_SLACK = 1e-9


def check_levels(q: float | np.ndarray) -> np.ndarray:
    """``q`` as a float64 array, or ValueError unless every level lies in [0, 1]."""
    qa = np.asarray(q, dtype=np.float64)
    if not np.all((qa >= 0.0) & (qa <= 1.0)):  # NaN fails too
        bad = qa[~((qa >= 0.0) & (qa <= 1.0))].ravel()[:3].tolist()
        raise ValueError(f"levels must lie in [0, 1] (e.g. 0.995 for 99.5 %), got {bad}")
    return qa


def check_weights(weights: np.ndarray | None, n: int) -> np.ndarray | None:
    """Weights as float64, or None when absent or all exactly 1 (then the unweighted path runs).

    Raises
    ------
    ValueError
        Unless there are ``n`` finite weights ≥ 0.
    """
    if weights is None:
        return None
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"weights: expected {n} values (one per year), got shape {w.shape}")
    ok = np.isfinite(w) & (w >= 0.0)
    if not np.all(ok):
        rows = np.flatnonzero(~ok)
        raise ValueError(
            f"weights must be finite and ≥ 0 (likelihood ratios); {len(rows)} are not, "
            f"e.g. row {int(rows[0])}: {w[rows[0]]!r}"
        )
    if np.all(w == 1.0):
        return None
    return w


def level_key(q: float) -> str:
    """A level as the key of result dicts: 0.995 → ``"99.5"``."""
    return f"{100 * q:g}"


def var_rank(q: float | np.ndarray, n: int) -> int | np.ndarray:
    """0-based index of VaR_q in an ascending sort of ``n`` values: ⌈q·n⌉ − 1 (vectorised).

    Parameters
    ----------
    q : float or array of float
        Levels in [0, 1].
    n : int
        Number of years (≥ 1).
    """
    r = np.clip(
        np.ceil(np.asarray(q, dtype=np.float64) * n - RANK_SLACK).astype(np.int64) - 1, 0, n - 1
    )
    return int(r) if np.ndim(q) == 0 else r


def tail_count(q: float | np.ndarray, n: int) -> int | np.ndarray:
    """k = ⌈(1 − q)·n⌉ (at least 1): the years whose mean is TVaR_q when unweighted (vectorised)."""
    k = np.maximum(
        1, np.ceil((1.0 - np.asarray(q, dtype=np.float64)) * n - RANK_SLACK).astype(np.int64)
    )
    return int(k) if np.ndim(q) == 0 else k


def band_ranks(q: float, n: int) -> tuple[int, int, bool]:
    """0-based ranks of the order statistics j± = q·n ± √(n q (1 − q)) that bound VaR_q.

    Returns ``(lo, hi, inside)``: the ranks clamped to the sample, and whether the band lies
    inside it (else the order-statistic standard error of VaR_q cannot be estimated).
    """
    half = math.sqrt(n * q * (1 - q))
    lo = math.floor(q * n - half) - 1
    hi = math.ceil(q * n + half) - 1
    inside = (
        math.floor(q * n - half + RANK_SLACK) >= 1 and math.ceil(q * n + half - RANK_SLACK) <= n
    )
    return min(n - 1, max(0, lo)), min(n - 1, max(0, hi)), inside


@dataclass(frozen=True)
class Ranked:
    """Losses worst first with their weights, and their cumulative mass.

    Attributes
    ----------
    loss : ndarray of float64
        Losses in descending order.
    weight : ndarray of float64
        Their weights (≥ 0): likelihood ratios of simulated years, or probabilities.
    n : float
        The divisor that turns mass into probability: the number of years of a sample, 1 for a
        distribution. The tail at level q holds mass (1 − q)·n.
    cum : ndarray of float64
        ``cum[m]`` = total weight of the m worst losses (``cum[0] = 0``): the weighted exceedance
        of ``loss[m]`` by position, times n.
    cwl : ndarray of float64
        ``cwl[m]`` = Σ weight × loss over the m worst.
    """

    loss: np.ndarray
    weight: np.ndarray
    n: float
    cum: np.ndarray
    cwl: np.ndarray

    @classmethod
    def of(cls, loss_desc: np.ndarray, weight_desc: np.ndarray, n: float) -> Ranked:
        """From losses already sorted worst first and their weights."""
        with np.errstate(all="ignore"):
            zero = np.zeros(1)
            cum = np.concatenate([zero, np.cumsum(weight_desc)])
            cwl = np.concatenate([zero, np.cumsum(weight_desc * loss_desc)])
        return cls(loss_desc, weight_desc, float(n), cum, cwl)

    @property
    def size(self) -> int:
        return len(self.loss)

    def mass(self, q: np.ndarray) -> np.ndarray:
        """Tail mass (1 − q)·n of levels q."""
        return (1.0 - np.asarray(q, dtype=np.float64)) * self.n

    def boundary(self, mass: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Worst years up to ``mass``: ``(m, rem)``.

        The ``m`` worst carry all their weight; ``loss[m]`` (when ``m < size``) enters with
        ``rem`` < ``weight[m]`` (0 when the mass is reached exactly). ``loss[min(m, size − 1)]``
        is the smallest loss whose weighted exceedance is ≤ ``mass``: VaR.
        """
        mass = np.asarray(mass, dtype=np.float64)
        tol = MASS_SLACK * np.maximum(1.0, np.abs(mass))
        m = np.searchsorted(self.cum, mass + tol, side="right") - 1
        rem = np.where(m < self.size, mass - self.cum[m], 0.0)
        rem = np.where(rem > tol, rem, 0.0)
        return m, rem

    def var(self, mass: np.ndarray) -> np.ndarray:
        """VaR: the smallest loss whose weighted exceedance is ≤ ``mass`` (vectorised)."""
        m, _ = self.boundary(mass)
        return self.loss[np.minimum(m, self.size - 1)]

    def tvar(self, mass: np.ndarray) -> np.ndarray:
        """TVaR: the weighted mean of the worst years up to ``mass`` (boundary year fractional).

        Divided by ``mass`` even when the weights in total fall short of it (then every year is
        in the tail), so that TVaR at q = 0 is EL = Σ w L / n. At mass 0 (q = 1): VaR.
        """
        mass = np.asarray(mass, dtype=np.float64)
        m, rem = self.boundary(mass)
        edge = self.loss[np.minimum(m, self.size - 1)]
        with np.errstate(all="ignore"):
            total = self.cwl[m] + np.where(rem > 0, rem * edge, 0.0)
            return np.where(mass > 0, total / np.where(mass > 0, mass, 1.0), edge)

    def tail_years(self, mass: float) -> int:
        """Years that carry positive mass in the tail of ``mass``."""
        m, rem = self.boundary(mass)
        return int(np.count_nonzero(self.weight[: int(m)] > 0)) + int(rem > 0)

    def var_se(self, q: float) -> tuple[float, float]:
        """VaR_q and its standard error, half the width of its band (NaN off the sample).

        The band: the losses whose weighted exceedance is (1 − q) ± s/√n with s = sd(w·1{L >
        VaR_q}) over the years, rounded outwards (see :meth:`band_positions`). With w = 1,
        s² ≈ q(1 − q) and the band is the order statistics j± = q·n ± √(n q (1 − q)). NaN also
        when no year ranks above VaR_q's (s = 0 then says nothing about the band's width).
        """
        mass = float(self.mass(q))
        m, _ = self.boundary(mass)
        v = float(self.loss[min(int(m), self.size - 1)])
        half = self.band_half(int(m))
        if not (0 < half < math.inf):
            return v, math.nan
        hi, lo, inside = self.band_positions(mass, half)
        if not inside:
            return v, math.nan
        with np.errstate(all="ignore"):
            return v, float(self.loss[hi] - self.loss[lo]) / 2

    def band_half(self, m: int) -> float:
        """s·√n, the half width of VaR's band in mass (NaN below 2 years).

        s = sd(w·1{L > VaR}) over the years, where the years above VaR are the ``m`` ranked
        before VaR's year (among equal losses the order of the sort decides, as for the tail).
        """
        if self.size < 2:
            return math.nan
        y = np.zeros(self.size)
        y[:m] = self.weight[:m]
        with np.errstate(all="ignore"):
            return float(np.std(y, ddof=1)) * math.sqrt(self.n)

    def band_positions(self, mass: float, half: float) -> tuple[int, int, bool]:
        """Positions (worst first) of the losses whose weighted exceedance is mass ± half.

        Returns ``(upper, lower, inside)``: ``upper`` is the smallest loss whose exceedance is
        ≤ mass − half, ``lower`` the largest whose exceedance is ≥ mass + half (both rounded
        outwards, clamped to the sample); ``inside`` says whether both exist in the sample.
        With unit weights and half = √(n q (1 − q)) they are the ranks of :func:`band_ranks`.
        """
        tol = MASS_SLACK * max(1.0, abs(mass))
        lo = int(np.searchsorted(self.cum[: self.size], mass + half - tol, side="left"))
        hi, _ = self.boundary(max(mass - half, 0.0))
        inside = bool(lo < self.size and mass - half >= -tol)
        return min(int(hi), self.size - 1), min(lo, self.size - 1), inside

    def tvar_se(self, q: float) -> tuple[float, float]:
        """TVaR_q and its standard error sd(w·(L − VaR_q)⁺) / ((1 − q)·√n).

        With w = 1 and k = (1 − q)·n tail years this is √((Var(tail) + q (TVaR − VaR)²) /
        (n (1 − q))), up to n/(n − 1) and k/(k − 1). NaN from fewer than 2 tail years.
        """
        mass = float(self.mass(q))
        t = float(self.tvar(mass))
        if mass <= 0 or self.tail_years(mass) < 2 or self.size < 2:
            return t, math.nan
        v = float(self.var(mass))
        with np.errstate(all="ignore"):
            y = self.weight * np.maximum(self.loss - v, 0.0)
            return t, float(np.std(y, ddof=1)) / ((1 - q) * math.sqrt(self.n))
