"""Stage 4 of a year: LGDs and exposure losses.

One LGD per defaulted buyer (beta by Cheng's BB or two gammas, or fixed at its mean), keyed by
the buyer. Political precedence: an exposure with political cover in a country with an event
loses EAD × political LGD (cause political), whether or not its buyer defaults; otherwise a
defaulted buyer's exposure with commercial cover loses EAD × LGD (cause commercial). See
docs/model.md §4.
"""

from __future__ import annotations

import math

from numba import njit

from .monitor import ead_factor
from .portfolio import LGD_CHENG, LGD_GAMMAS
from .rng import beta_cheng_bb, draw_beta, draw_state, sim_key

__all__ = ["draw_losses", "lgd_of"]


@njit(cache=True)
def lgd_of(cls, state):
    """An LGD of class ``cls`` (a ``LGD_CLASS`` record) from the draws of ``state``."""
    if cls.method == LGD_CHENG:
        return beta_cheng_bb(
            cls.ch_a, cls.ch_b, cls.ch_beta, cls.ch_gamma, cls.alpha > cls.beta, state
        )
    if cls.method == LGD_GAMMAS:
        return draw_beta(cls.alpha, cls.beta, state)
    return cls.mean


@njit(cache=True)
def _push(ent_e, ent_l, ent_cause, n, e, loss, cause):
    """Append exposure ``e``'s loss to the year's loss entries; returns the new count."""
    ent_e[n] = e
    ent_l[n] = loss
    ent_cause[n] = cause
    return n + 1


@njit(cache=True)
def draw_losses(P, S, s):
    """Fill ``S.dl_lgd`` and the loss entries (``S.ent_*``, ``S.n_ent``); return ground-up."""
    dl_b, dl_lgd, ev = S.dl_b, S.dl_lgd, S.ev
    ent_e, ent_l, ent_cause = S.ent_e, S.ent_l, S.ent_cause
    kl = sim_key(S.key_lgd, s)
    n_ent = 0
    ground_up = 0.0
    lgd_class, buyer_rec, exp_rec = P.lgd_class, P.buyer_rec, P.exp_rec
    monitoring = P.monitoring
    avoided = 0.0
    for k in range(S.nd):
        b = dl_b[k]
        br = buyer_rec[b]
        lgd = lgd_of(lgd_class[br.lgd_class], draw_state(kl, br.key))
        dl_lgd[k] = lgd
        cty_ev = ev[br.country]
        tau = S.dl_cut[k] if monitoring else math.inf
        for e in range(br.exp_start, br.exp_end):
            er = exp_rec[e]
            if er.comm and not (cty_ev and er.pol):
                loss = er.ead * lgd
                if tau < 1.0:  # a cut took effect before the default: less was outstanding
                    kept = loss * ead_factor(P, tau, er.term)
                    avoided += loss - kept
                    loss = kept
                if loss > 0.0:
                    n_ent = _push(ent_e, ent_l, ent_cause, n_ent, e, loss, 0)
                    ground_up += loss
    ev_list = S.ev_list
    for i in range(S.n_ev):
        c = ev_list[i]
        plgd = P.country_plgd[c]
        for k in range(P.cpe_ptr[c], P.cpe_ptr[c + 1]):
            e = P.cpe_exp[k]
            loss = exp_rec[e].ead * plgd
            if loss > 0.0:
                n_ent = _push(ent_e, ent_l, ent_cause, n_ent, e, loss, 1)
                ground_up += loss
    S.n_ent = n_ent
    S.loss_avoided = avoided
    return ground_up
