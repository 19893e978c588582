"""Stage 1 of a year: the systematic draws (factors Z and the Student-t mixing variable W).

Structured model: independent standard normal factors, one draw per factor keyed by its entity
key. Explicit model: independent ξ, then Z = L ξ with L the Cholesky factor of Σ_F. Student-t
copula: one W ~ χ²_ν per year (twice a Gamma(ν/2)); the conditional thresholds scale by √(W/ν).
See docs/model.md §2.

Importance sampling (``P.shifted``, docs/model.md §8): each year first picks one component k of
a mixture of mean shifts (a keyed uniform on its own stream), then draws the independent normals
as x = u + μ_k from the same keyed standard normals u; :func:`finish_weight` turns the year's
draws into its likelihood ratio 1 / Σ_j α_j exp(μ_j·x − ½|μ_j|²) (a single shift: exp(−μ·x +
½|μ|²)). W is never shifted. A stress's factor shift (``P.stressed``) moves Z by δ after the
draws: it changes the model, so it never enters the likelihood ratio.
"""

from __future__ import annotations

import math

from numba import njit

from .rng import draw_gamma, draw_normal, draw_state, draw_u64, sim_key, u01

__all__ = ["draw_factors", "finish_weight", "shift_draw"]


@njit(cache=True)
def _component(P, S, s):
    """The year's mixture component (by a keyed uniform against the cumulative probabilities)."""
    u = u01(draw_u64(draw_state(sim_key(S.key_is, s), 0), 0))
    cum = P.is_cum
    k = 0
    while k < cum.shape[0] - 1 and u >= cum[k]:
        k += 1
    return k


@njit(cache=True)
def shift_draw(P, S, k, col, x):
    """Shift draw ``x`` (column ``col`` of the shift table) by component ``k``'s mean and add it
    to every component's μ·x; returns the shifted draw."""
    mu = P.is_mu
    x += mu[k, col]
    dots = S.is_dot
    for j in range(mu.shape[0]):
        dots[j] += mu[j, col] * x
    return x


@njit(cache=True)
def draw_factors(P, S, s):
    """Fill ``S.z`` (and ``S.xi``), ``S.chi2`` and ``S.scale`` for year ``s``; start the year's
    importance-sampling weight."""
    z, xi = S.z, S.xi
    n_f = P.factor_key.shape[0]
    kf = sim_key(S.key_factor, s)
    indep = xi if P.explicit else z
    for f in range(n_f):
        indep[f] = draw_normal(draw_state(kf, P.factor_key[f]), 0)
    S.log_lr = 0.0
    if P.shifted:
        S.is_dot[:] = 0.0
        k = _component(P, S, s)
        S.is_comp = k
        for f in range(n_f):
            indep[f] = shift_draw(P, S, k, f, indep[f])
    if P.explicit:
        for f in range(n_f):
            acc = 0.0
            for g in range(f + 1):
                acc += P.factor_chol[f, g] * xi[g]
            z[f] = acc
    if P.stressed:
        for f in range(n_f):
            z[f] += P.stress_shift[f]
    scale = 1.0
    chi2 = 0.0
    if P.student_t:
        w, _ = draw_gamma(0.5 * P.dof, draw_state(sim_key(S.key_chi2, s), 0), 0)
        scale = math.sqrt(2.0 * w / P.dof)
        chi2 = 2.0 * w
    S.scale = scale
    S.chi2 = chi2


@njit(cache=True)
def finish_weight(P, S):
    """The year's log likelihood ratio −log Σ_j α_j exp(μ_j·x − ½|μ_j|²), once every shifted
    draw (factors, then political) is made."""
    if not P.shifted:
        return
    dots = S.is_dot
    top = -math.inf
    for j in range(dots.shape[0]):
        t = P.is_log_alpha[j] + dots[j] - P.is_half2[j]
        if t > top:
            top = t
    acc = 0.0
    for j in range(dots.shape[0]):
        acc += math.exp(P.is_log_alpha[j] + dots[j] - P.is_half2[j] - top)
    S.log_lr = -(top + math.log(acc))
