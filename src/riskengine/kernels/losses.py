"""Stage 4 of a year: LGDs and exposure losses.

One LGD per defaulted buyer, keyed by the buyer: beta by its class's tabulated quantile function
(one uniform, a polynomial; :func:`lgd_tabulated`), by Cheng's BB or two gammas where no table
was built, or fixed at its mean. Political precedence: an exposure with political cover in a
country with an event loses EAD × political LGD (cause political), whether or not its buyer
defaults; otherwise a defaulted buyer's exposure with commercial cover loses EAD × LGD (cause
commercial). Each loss is added to its policy's qualifying loss when it reaches the nql. See
docs/model.md §4.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import leading_zeros

from .monitor import ead_factor
from .portfolio import LGD_CHENG, LGD_GAMMAS, LGD_TAB_BUCKETS, LGD_TABLE
from .rng import beta_cheng_bb, draw_beta, draw_state, draw_u64, sim_key
from .structs import prefetch

__all__ = ["draw_losses", "lgd_of", "lgd_tabulated"]

_HALF = np.uint64(1 << 52)
_TOP = np.uint64((1 << 53) - 1)
_MASK52 = np.uint64((1 << 52) - 1)
#: How many defaults ahead the loss loop prefetches buyer records (exposures: half as far).
PF_AHEAD = 16


@njit(cache=True)
def lgd_tabulated(tab, cls, bits):
    """The LGD of class ``cls`` at the uniform of the 64 random ``bits``, from its table.

    The top 53 bits give u = (m + ½) 2⁻⁵³. The tail u < ½ reads the table of the quantile
    function at t = u; the tail u ≥ ½ the table of 1 − quantile at t = 1 − u (the quantile of
    the flipped law), so both tails keep full relative precision. t = n' 2⁻⁵⁴ with n' odd falls
    in the dyadic bucket j = bit length of n' (t ∈ [2^(j − 55), 2^(j − 54))); the bits below the
    leading one give the interval and x ∈ [−1, 1) within it, all exactly in integers; the row's
    polynomial is evaluated by Estrin's scheme (short dependency chains).
    """
    m = bits >> np.uint64(11)
    upper = m >= _HALF
    n1 = np.uint64(2) * ((_TOP - m) if upper else m) + np.uint64(1)  # odd, < 2^53
    j = 64 - np.int64(leading_zeros(n1))  # 1 … 53
    frac = (n1 << np.uint64(53 - j)) & _MASK52  # the bits below the leading one, 52 wide
    k = cls.tab_k
    sh = np.uint64(52 - k)
    i = np.int64(frac >> sh)
    x = float(frac & ((np.uint64(1) << sh) - np.uint64(1))) * cls.tab_scale - 1.0
    row = cls.tab_row0 + (((LGD_TAB_BUCKETS if upper else 0) + j - 1) << k) + i
    c = tab[row]
    x2 = x * x
    y = (c[0] + c[1] * x + x2 * (c[2] + c[3] * x)) + x2 * x2 * (
        (c[4] + c[5] * x) + x2 * (c[6] + c[7] * x)
    )
    y = min(max(y, 0.0), 1.0)
    return 1.0 - y if upper else y


@njit(cache=True)
def lgd_of(tab, cls, state):
    """An LGD of class ``cls`` (a ``LGD_CLASS`` record; ``tab`` the portfolio's ``lgd_tab``)
    from the draws of ``state``."""
    if cls.method == LGD_TABLE:
        return lgd_tabulated(tab, cls, draw_u64(state, 0))
    if cls.method == LGD_CHENG:
        return beta_cheng_bb(
            cls.ch_a, cls.ch_b, cls.ch_beta, cls.ch_gamma, cls.alpha > cls.beta, state
        )
    if cls.method == LGD_GAMMAS:
        return draw_beta(cls.alpha, cls.beta, state)
    return cls.mean


@njit(cache=True)
def _push(P, S, n, n_pt, e, er, loss, cause):
    """Append exposure ``e``'s loss (``er`` its record) to the year's loss entries, and when it
    qualifies (≥ its policy's nql) to its policy's qualifying loss; returns the new counts of
    entries and of policies with a qualifying loss."""
    p = er.policy
    if loss >= P.pol_nql[p]:
        qual = S.qual
        if qual[p] == 0.0:
            S.p_touch[n_pt] = p
            n_pt += 1
        qual[p] += loss
    else:
        p = -1
    S.ent_e[n] = e
    S.ent_l[n] = loss
    S.ent_cause[n] = cause
    S.ent_p[n] = p
    S.ent_b[n] = er.buyer
    return n + 1, n_pt


@njit(cache=True)
def draw_losses(P, S, s):
    """Fill ``S.dl_lgd``, the loss entries (``S.ent_*``, ``S.n_ent``) and the policies'
    qualifying losses (``S.qual``, ``S.p_touch``, ``S.n_pt``); return ground-up."""
    dl_b, dl_lgd, ev = S.dl_b, S.dl_lgd, S.ev
    kl = sim_key(S.key_lgd, s)
    n_ent = 0
    n_pt = 0
    ground_up = 0.0
    lgd_class, lgd_tab, buyer_rec, exp_rec = P.lgd_class, P.lgd_tab, P.buyer_rec, P.exp_rec
    monitoring = P.monitoring
    avoided = 0.0
    nd = S.nd
    for k in range(nd):
        # the buyer records PF_AHEAD defaults ahead, and their exposures half as far: the loads
        # of several defaults overlap instead of waiting one after the other
        if k + PF_AHEAD < nd:
            prefetch(buyer_rec, dl_b[k + PF_AHEAD])
        if k + PF_AHEAD // 2 < nd:
            prefetch(exp_rec, buyer_rec[dl_b[k + PF_AHEAD // 2]].exp_start)
        b = dl_b[k]
        br = buyer_rec[b]
        lgd = lgd_of(lgd_tab, lgd_class[br.lgd_class], draw_state(kl, br.key))
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
                    n_ent, n_pt = _push(P, S, n_ent, n_pt, e, er, loss, 0)
                    ground_up += loss
    ev_list = S.ev_list
    for i in range(S.n_ev):
        c = ev_list[i]
        plgd = P.country_plgd[c]
        for k in range(P.cpe_ptr[c], P.cpe_ptr[c + 1]):
            e = P.cpe_exp[k]
            er = exp_rec[e]
            loss = er.ead * plgd
            if loss > 0.0:
                n_ent, n_pt = _push(P, S, n_ent, n_pt, e, er, loss, 1)
                ground_up += loss
    S.n_ent = n_ent
    S.n_pt = n_pt
    S.loss_avoided = avoided
    return ground_up
