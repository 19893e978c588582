"""The numerical core of the rate card: a monotone multiplicative fit and a monotone projection.

:func:`fit_monotone_multiplicative` fits rate_c = base × Π_f r_f[level_f(c)] to cell rates y_c
with weights w_c (turnover), every factor's relativities non-decreasing in its level order. It
minimises the Poisson quasi-likelihood objective with a log link,

    F(θ) = Σ_c w_c (μ_c − y_c log μ_c) + (λ/2) Σ_j δ_j²,   log μ = X θ,

over θ = (log base, δ) with δ ≥ 0, where X holds, for each factor f and level j ≥ 1, the column
1{level_f(c) ≥ j}: log r_f[j] = δ_f1 + … + δ_fj, so non-negative increments are exactly monotone
relativities (r_f[0] = 1: the first level of each factor is the base). F is convex (the Hessian
Xᵀ diag(w μ) X + λ I is positive definite) and the constraints are a box, so the minimum is
unique; Newton's method is iteratively reweighted least squares, each step a bounded linear
least-squares problem (``scipy.optimize.lsq_linear``, method "bvls") with step halving, i.e. a
projected Newton method.

Why this and not least squares on log rates: a cell may have no loss at all in the simulated
years (rate 0, log undefined), and the score equation of the unconstrained log base gives
Σ w μ = Σ w y at the optimum, so the fitted card charges the book exactly its total technical
premium (no retransformation bias as exp(mean log) would have). The tiny ridge λ (1e-9 of the
total premium) only decides relativities the data leave undetermined: a level without data
between two levels with data gets the geometric interpolation of its neighbours, one outside
the observed ones the relativity of the nearest observed level.

:func:`monotone_projection` is the weighted least-squares projection of a grid of values onto
the grids non-decreasing along every axis (Dykstra's alternating projections of one-dimensional
isotonic regressions, then a cumulative maximum along each axis to remove rounding-level
violations).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import isotonic_regression, lsq_linear

__all__ = ["MonotoneFit", "fit_monotone_multiplicative", "monotone_projection"]

#: Ridge λ on the increments, relative to the total weighted rate Σ w y.
RIDGE = 1e-9


@dataclass(frozen=True)
class MonotoneFit:
    """A fitted monotone multiplicative model.

    Attributes
    ----------
    base : float
        The rate at the first level of every factor (same unit as the cell rates).
    relativities : tuple of ndarray
        Per factor, the relativity of each level (the first is 1; non-decreasing).
    iterations : int
        Newton (IRLS) steps taken.
    converged : bool
        Whether the step fell below the tolerance within the iteration limit.
    """

    base: float
    relativities: tuple[np.ndarray, ...]
    iterations: int
    converged: bool

    def predict(self, codes: Sequence[np.ndarray]) -> np.ndarray:
        """Model rate of cells given their level codes per factor."""
        out = np.full(len(codes[0]), self.base)
        for rel, c in zip(self.relativities, codes, strict=True):
            out = out * rel[c]
        return out


def _design(codes: Sequence[np.ndarray], n_levels: Sequence[int]) -> np.ndarray:
    """Intercept and, per factor, the step columns 1{level ≥ j}, j = 1 … n − 1."""
    cols = [np.ones(len(codes[0]))]
    for c, n in zip(codes, n_levels, strict=True):
        cols += [(c >= j).astype(np.float64) for j in range(1, n)]
    return np.column_stack(cols)


def fit_monotone_multiplicative(
    codes: Sequence[np.ndarray],
    n_levels: Sequence[int],
    rate: np.ndarray,
    weight: np.ndarray,
    *,
    max_iter: int = 200,
    tol: float = 1e-12,
) -> MonotoneFit:
    """Fit rate = base × Π_f r_f[level] with non-decreasing relativities (see module docstring).

    Parameters
    ----------
    codes : sequence of ndarray of int
        Per factor, each cell's level (0 … n_levels[f] − 1, in the order relativities must rise).
    n_levels : sequence of int
        Number of levels of each factor.
    rate : ndarray
        Observed rate of each cell (≥ 0; ignored where the weight is 0).
    weight : ndarray
        Weight of each cell (≥ 0; turnover).
    max_iter : int
        Most Newton steps.
    tol : float
        Convergence: the largest change of a log-relativity in a step.

    Returns
    -------
    MonotoneFit
    """
    codes = [np.asarray(c, dtype=np.int64) for c in codes]
    w = np.asarray(weight, dtype=np.float64)
    y = np.where(w > 0, np.asarray(rate, dtype=np.float64), 0.0)
    if np.any(w < 0) or not np.all(np.isfinite(w)) or np.any(y < 0) or not np.all(np.isfinite(y)):
        raise ValueError("cell weights and rates must be finite and ≥ 0")
    total = float(np.sum(w * y))
    flat = tuple(np.ones(n) for n in n_levels)
    if total <= 0.0:
        return MonotoneFit(0.0, flat, 0, True)
    keep = w > 0
    x_full = _design(codes, n_levels)
    x = x_full[keep]
    scale = total / float(np.sum(w))  # work with rates of order 1
    yk, wk = y[keep] / scale, w[keep] / float(np.sum(w))
    p = x.shape[1]
    lam = RIDGE * float(np.sum(wk * yk))
    ridge_rows = np.sqrt(lam) * np.eye(p)[1:]
    lower = np.r_[-np.inf, np.zeros(p - 1)]
    upper = np.full(p, np.inf)

    def objective(theta: np.ndarray) -> float:
        eta = x @ theta
        return float(np.sum(wk * (np.exp(eta) - yk * eta)) + 0.5 * lam * np.sum(theta[1:] ** 2))

    theta = np.zeros(p)
    f = objective(theta)
    converged = False
    it = 0
    while it < max_iter and not converged:
        it += 1
        eta = x @ theta
        mu = np.exp(eta)
        sw = np.sqrt(wk * mu)
        z = eta + (yk - mu) / mu
        a = np.vstack([sw[:, None] * x, ridge_rows])
        b = np.r_[sw * z, np.zeros(p - 1)]
        new = lsq_linear(a, b, bounds=(lower, upper), method="bvls", tol=1e-14).x
        new[1:] = np.maximum(new[1:], 0.0)
        f_new = objective(new)
        for _ in range(60):  # step halving keeps the objective from rising (F is convex)
            if f_new <= f + 1e-15 * abs(f):
                break
            new = 0.5 * (theta + new)
            f_new = objective(new)
        converged = float(np.max(np.abs(new - theta))) < tol
        theta, f = new, f_new
    rels = []
    k = 1
    for n in n_levels:
        rels.append(np.exp(np.r_[0.0, np.cumsum(theta[k : k + n - 1])]))
        k += n - 1
    return MonotoneFit(float(np.exp(theta[0]) * scale), tuple(rels), it, converged)


def monotone_projection(
    values: np.ndarray,
    weights: np.ndarray,
    *,
    max_iter: int = 10_000,
    tol: float = 1e-12,
) -> np.ndarray:
    """Weighted least-squares projection of a grid onto grids non-decreasing along every axis.

    Parameters
    ----------
    values : ndarray
        The grid (any number of axes).
    weights : ndarray
        Positive weight of each value (same shape).
    max_iter : int
        Most sweeps of Dykstra's algorithm.
    tol : float
        Convergence, relative to the largest absolute value: the largest change in a sweep.

    Returns
    -------
    ndarray
        The projection, non-decreasing along every axis (exactly, after a final cumulative
        maximum along each axis, which moves values by at most about ``tol``).
    """
    y = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if y.shape != w.shape or np.any(~(w > 0)) or not np.all(np.isfinite(y)):
        raise ValueError("values must be finite and weights > 0, with one shape")
    x = y.copy()
    increments = [np.zeros_like(y) for _ in range(y.ndim)]
    size = max(float(np.max(np.abs(y))), np.finfo(float).tiny) if y.size else 1.0
    for _ in range(max_iter):
        before = x.copy()
        for axis in range(y.ndim):
            z = x + increments[axis]
            x = _isotonic_along(z, w, axis)
            increments[axis] = z - x
        if np.max(np.abs(x - before), initial=0.0) <= tol * size:
            break
    for axis in range(y.ndim):
        x = np.maximum.accumulate(x, axis=axis)
    return x


def _isotonic_along(values: np.ndarray, weights: np.ndarray, axis: int) -> np.ndarray:
    """Weighted isotonic regression of every line of ``values`` along ``axis``."""
    v = np.moveaxis(values, axis, -1)
    wv = np.moveaxis(weights, axis, -1)
    flat_v = v.reshape(-1, v.shape[-1])
    flat_w = wv.reshape(-1, v.shape[-1])
    out = np.empty_like(flat_v)
    for i in range(flat_v.shape[0]):
        out[i] = isotonic_regression(flat_v[i], weights=flat_w[i], increasing=True).x
    return np.moveaxis(out.reshape(v.shape), -1, axis)
