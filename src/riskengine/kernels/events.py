"""Stage 2 of a year: political events by country.

Y_c = √ρ_p · V_r(c) + √(1 − ρ_p) · η_c with one standard normal V per region; an event when
Y_c < Φ⁻¹(q_c). Countries that can never have an event (q_c = 0) draw nothing. See
docs/model.md §3. Importance sampling shifts V and η by the year's mixture component's means
(``factors.shift_draw``; columns n_f + r and n_f + n_r + c of ``P.is_mu``).
"""

from __future__ import annotations

import math

from numba import njit

from .factors import shift_draw
from .rng import draw_normal, draw_state, sim_key

__all__ = ["draw_events"]


@njit(cache=True)
def draw_events(P, S, s):
    """Fill ``S.v``, ``S.ev``, ``S.ev_list`` and ``S.n_ev`` for year ``s``."""
    n_ev = 0
    if P.pol_enabled:
        v, ev, ev_list = S.v, S.ev, S.ev_list
        shifted = P.shifted
        k = S.is_comp
        n_f = P.factor_key.shape[0]
        n_r = P.region_key.shape[0]
        kr = sim_key(S.key_pol_region, s)
        for r in range(n_r):
            v[r] = draw_normal(draw_state(kr, P.region_key[r]), 0)
            if shifted:
                v[r] = shift_draw(P, S, k, n_f + r, v[r])
        kc = sim_key(S.key_pol_country, s)
        for c in range(P.country_key.shape[0]):
            thr = P.country_polthr[c]
            if thr == -math.inf:
                continue
            eta = draw_normal(draw_state(kc, P.country_key[c]), 0)
            if shifted:
                eta = shift_draw(P, S, k, n_f + n_r + c, eta)
            if P.pol_a * v[P.country_region[c]] + P.pol_b * eta < thr:
                ev[c] = 1
                ev_list[n_ev] = c
                n_ev += 1
    S.n_ev = n_ev
