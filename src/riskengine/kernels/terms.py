"""Stages 5 and 6 of a year: policy terms, then the pro-rata split of each policy's claim.

Policy terms: an exposure loss qualifies when it reaches the policy's non-qualifying loss;
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
    """Fill ``S.qual``, ``S.ratio``, ``S.p_touch``, ``S.n_pt``; return the year's gross claims."""
    ent_e, ent_l, qual, ratio, p_touch = S.ent_e, S.ent_l, S.qual, S.ratio, S.p_touch
    exp_rec, pol_nql = P.exp_rec, P.pol_nql
    n_pt = 0
    for i in range(S.n_ent):
        p = exp_rec[ent_e[i]].policy
        if ent_l[i] >= pol_nql[p]:
            if qual[p] == 0.0:
                p_touch[n_pt] = p
                n_pt += 1
            qual[p] += ent_l[i]
    gross = 0.0
    seg_policy = use_seg and P.seg_policy0 >= 0
    for i in range(n_pt):
        p = p_touch[i]
        qp = qual[p]
        claim = P.pol_ind[p] * max(qp - P.pol_ded[p], 0.0)
        if claim > P.pol_maxl[p]:
            claim = P.pol_maxl[p]
        ratio[p] = claim / qp
        gross += claim
        if seg_policy:
            seg_row[P.seg_policy0 + p] = claim
    S.n_pt = n_pt
    return gross


@njit(cache=True)
def split_claims(P, S, seg_row, use_seg):
    """Split policy claims into buyer slots and country political claims.

    Fills ``S.b_slot``, ``S.b_touch``, ``S.b_comm``, ``S.b_pol``, ``S.n_bt`` and ``S.c_pol``;
    returns ``(commercial, political)`` gross claims.
    """
    ent_e, ent_l, ent_cause, ratio = S.ent_e, S.ent_l, S.ent_cause, S.ratio
    b_slot, b_touch, b_comm, b_pol, c_pol = S.b_slot, S.b_touch, S.b_comm, S.b_pol, S.c_pol
    exp_rec, buyer_rec, pol_nql = P.exp_rec, P.buyer_rec, P.pol_nql
    sector0 = P.seg_sector0
    commercial = 0.0
    political = 0.0
    n_bt = 0
    for i in range(S.n_ent):
        er = exp_rec[ent_e[i]]
        p = er.policy
        if ent_l[i] < pol_nql[p]:
            continue
        share = ent_l[i] * ratio[p]
        if share <= 0.0:
            continue
        b = er.buyer
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
