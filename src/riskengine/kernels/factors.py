"""Stage 1 of a year: the systematic draws (factors Z and the Student-t mixing variable W).

Structured model: independent standard normal factors, one draw per factor keyed by its entity
key. Explicit model: independent ξ, then Z = L ξ with L the Cholesky factor of Σ_F. Student-t
copula: one W ~ χ²_ν per year (twice a Gamma(ν/2)); the conditional thresholds scale by √(W/ν).
See docs/model.md §2.

Importance sampling (``P.shifted``) draws the independent normals (the structured factors, the
explicit model's ξ) with means μ: x = u + μ for the same keyed standard normal u, and adds
−μx + μ²/2 to the year's log likelihood ratio (W is never shifted). A stress's factor shift
(``P.stressed``) moves Z by δ after the draws: it changes the model, so it never enters the
likelihood ratio.
"""

from __future__ import annotations

import math

from numba import njit

from .rng import draw_gamma, draw_normal, draw_state, sim_key

__all__ = ["draw_factors"]


@njit(cache=True)
def draw_factors(P, S, s):
    """Fill ``S.z`` (and ``S.xi``), ``S.chi2`` and ``S.scale`` for year ``s``."""
    z, xi = S.z, S.xi
    n_f = P.factor_key.shape[0]
    kf = sim_key(S.key_factor, s)
    indep = xi if P.explicit else z
    log_lr = 0.0
    for f in range(n_f):
        indep[f] = draw_normal(draw_state(kf, P.factor_key[f]), 0)
    if P.shifted:
        mu = P.is_shift
        for f in range(n_f):
            indep[f] += mu[f]
            log_lr += mu[f] * (0.5 * mu[f] - indep[f])
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
    S.log_lr = log_lr
