"""Stages 5 and 6 of a year: policy terms, then the pro-rata split of each policy's claim.

Policy terms: an exposure loss qualifies when it reaches the policy's non-qualifying loss (the
qualifying losses are summed by policy as the losses are drawn, ``losses.draw_losses``);
claim_p = min(indemnity × max(Σ qualifying − deductible, 0), maximum liability). Split: each
qualifying loss receives loss × claim_p / qualifying_p, keeping its cause; a buyer's claim is the
sum of its shares (slots in order of first claim), a country's political claim the sum of its
political shares. Segment rows (when asked) get the shares by country and sector and the claims
by policy. See docs/model.md §4.
"""

from __future__ import annotations

from numba import njit

__all__ = ["apply_terms", "split_claims", "max_occurrence"]


@njit(cache=True)
def apply_terms(P, S, seg_row, use_seg):
    """Fill ``S.ratio`` of the policies with a qualifying loss (``S.p_touch``: their qualifying
    losses were summed as the losses were drawn, ``losses.draw_losses``); return the year's
    gross claims."""
    qual, ratio, p_touch = S.qual, S.ratio, S.p_touch
    pol_ind, pol_ded, pol_maxl = P.pol_ind, P.pol_ded, P.pol_maxl
    gross = 0.0
    seg_policy = use_seg and P.seg_policy0 >= 0
    for i in range(S.n_pt):
        p = p_touch[i]
        qp = qual[p]
        claim = pol_ind[p] * max(qp - pol_ded[p], 0.0)
        if claim > pol_maxl[p]:
            claim = pol_maxl[p]
        ratio[p] = claim / qp
        gross += claim
        if seg_policy:
            seg_row[P.seg_policy0 + p] = claim
    return gross


@njit(cache=True)
def split_claims(P, S, seg_row, use_seg):
    """Split policy claims into buyer slots and country political claims.

    Fills ``S.b_slot``, ``S.b_touch``, ``S.b_comm``, ``S.b_pol``, ``S.n_bt`` and ``S.c_pol``;
    returns ``(commercial, political)`` gross claims.
    """
    ent_l, ent_cause, ent_p, ent_b, ratio = S.ent_l, S.ent_cause, S.ent_p, S.ent_b, S.ratio
    b_slot, b_touch, b_comm, b_pol, c_pol = S.b_slot, S.b_touch, S.b_comm, S.b_pol, S.c_pol
    buyer_rec = P.buyer_rec
    sector0 = P.seg_sector0
    commercial = 0.0
    political = 0.0
    n_bt = 0
    for i in range(S.n_ent):
        p = ent_p[i]
        if p < 0:  # below the policy's nql
            continue
        share = ent_l[i] * ratio[p]
        if share <= 0.0:
            continue
        b = ent_b[i]
        k = b_slot[b]
        if k < 0:
            k = n_bt
            b_slot[b] = k
            b_touch[k] = b
            n_bt += 1
        br = buyer_rec[b]
        c = br.country
        if ent_cause[i] == 0:
            b_comm[k] += share
            commercial += share
        else:
            b_pol[k] += share
            c_pol[c] += share
            political += share
        if use_seg:
            seg_row[c] += share
            seg_row[sector0 + br.sector] += share
    S.n_bt = n_bt
    return commercial, political


@njit(cache=True)
def max_occurrence(S):
    """The year's largest occurrence: a buyer's commercial claim or a country's political one."""
    b_comm, c_pol, ev_list = S.b_comm, S.c_pol, S.ev_list
    max_occ = 0.0
    for i in range(S.n_bt):
        if b_comm[i] > max_occ:
            max_occ = b_comm[i]
    for i in range(S.n_ev):
        if c_pol[ev_list[i]] > max_occ:
            max_occ = c_pol[ev_list[i]]
    return max_occ
