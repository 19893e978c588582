"""The exact expected ground-up loss of a resolved book (docs/model.md §7, self-check).

For exposure e of buyer i in country c with event probability q_c, PD p_i, contagion PD p'_i,
mean LGD μ_i and political LGD λ_c:

E[L_e] = EAD_e · [political cover: q_c·λ_c + (1 − q_c)·p_i·μ_i; else ((1 − q_c)·p_i + q_c·p'_i)·μ_i]

(the commercial part only with commercial cover). Political precedence makes the political cover
replace the commercial loss in event years.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .resolve import Resolved

__all__ = ["expected_ground_up", "loss_rate"]


def loss_rate(q: Any, pd: Any, pd_c: Any, mu: Any, plgd: Any, pol: Any, comm: Any) -> np.ndarray:
    """E[ground-up loss] per unit of EAD (the formula above; arrays broadcast)."""
    p_comm_loss = np.where(pol, (1 - q) * pd, (1 - q) * pd + q * pd_c) * comm
    return p_comm_loss * mu + np.where(pol, q * plgd, 0.0)


def expected_ground_up(r: Resolved) -> np.ndarray:
    """E[ground-up loss] of every exposure (book order, reporting currency)."""
    b = r.e_buyer
    c = r.b_country[b]
    return r.e_ead * loss_rate(
        r.c_event_pd[c],
        r.b_pd[b],
        r.b_pd_contagion[b],
        r.b_lgd_mean[b],
        r.c_political_lgd[c],
        r.e_political,
        r.e_commercial,
    )
