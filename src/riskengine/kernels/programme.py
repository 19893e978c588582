"""Stage 7 of a year: the reinsurance programme, treaty by treaty, each on what is net of those
before it.

Quota share: each in-scope claim cedes share × net. Per-risk XL: occurrences are the in-scope
commercial net claims summed by buyer (or group); each cedes min(max(x − retention, 0), limit);
the year's sum S is reduced by the annual aggregate deductible D and capped by the annual cap C
(limit × (1 + reinstatements), at most the aggregate limit): min(max(S − D, 0), C), shared pro
rata over the occurrences; what an occurrence cedes is taken from its buyers pro rata. Political
event XL: the same on political net claims summed by country. Stop loss: on the in-scope net
total of the year. See docs/reinsurance.md.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .codes import (
    KIND_QS,
    KIND_STOP_LOSS,
    KIND_XL_GROUP,
    KIND_XL_POLITICAL,
    TP_AAD,
    TP_CAP,
    TP_LIMIT,
    TP_RETENTION,
    TP_SHARE,
)

__all__ = ["apply_programme"]


@njit(cache=True)
def _occurrence_unit(P, kind, b):
    """The occurrence buyer ``b``'s claims belong to under an XL of ``kind``: its country
    (political event XL), its group (per-group XL) or itself (per-buyer XL)."""
    if kind == KIND_XL_POLITICAL:
        return np.int64(P.buyer_rec[b].country)
    if kind == KIND_XL_GROUP:
        return np.int64(P.buyer_occ_group[b])
    return np.int64(b)


@njit(cache=True)
def _quota_share(S, scope, share):
    net_c, net_p, b_touch = S.net_c, S.net_p, S.b_touch
    ceded = 0.0
    for i in range(S.n_bt):
        if scope[b_touch[i]]:
            cc = share * net_c[i]
            cp = share * net_p[i]
            net_c[i] -= cc
            net_p[i] -= cp
            ceded += cc + cp
    return ceded


@njit(cache=True)
def _stop_loss(S, scope, attachment, limit):
    net_c, net_p, b_touch = S.net_c, S.net_p, S.b_touch
    x = 0.0
    for i in range(S.n_bt):
        if scope[b_touch[i]]:
            x += net_c[i] + net_p[i]
    ceded = min(max(x - attachment, 0.0), limit)
    if ceded > 0.0:
        f = ceded / x
        for i in range(S.n_bt):
            if scope[b_touch[i]]:
                net_c[i] -= f * net_c[i]
                net_p[i] -= f * net_p[i]
    return ceded


@njit(cache=True)
def _excess_of_loss(P, S, kind, scope, row):
    net = S.net_p if kind == KIND_XL_POLITICAL else S.net_c
    b_touch, occ_x, occ_ceded, occ_touch = S.b_touch, S.occ_x, S.occ_ceded, S.occ_touch
    n_bt = S.n_bt
    n_u = 0
    for i in range(n_bt):
        b = b_touch[i]
        if not scope[b] or net[i] <= 0.0:
            continue
        u = _occurrence_unit(P, kind, b)
        if occ_x[u] == 0.0:
            occ_touch[n_u] = u
            n_u += 1
        occ_x[u] += net[i]
    ret = row[TP_RETENTION]
    lim = row[TP_LIMIT]
    ceded = 0.0
    for i in range(n_u):
        u = occ_touch[i]
        c = min(max(occ_x[u] - ret, 0.0), lim)
        occ_ceded[u] = c
        ceded += c
    f = 1.0
    aad = row[TP_AAD]
    if aad > 0.0 or ceded > row[TP_CAP]:
        paid = min(max(ceded - aad, 0.0), row[TP_CAP])
        f = paid / ceded if ceded > 0.0 else 0.0
        ceded = paid
    for i in range(n_bt):
        b = b_touch[i]
        if not scope[b] or net[i] <= 0.0:
            continue
        u = _occurrence_unit(P, kind, b)
        if occ_ceded[u] > 0.0:
            net[i] -= occ_ceded[u] * f * (net[i] / occ_x[u])
    # reset the occurrence accumulators (net[i] / occ_x[u] above needs occ_x intact until here)
    for i in range(n_u):
        u = occ_touch[i]
        occ_x[u] = 0.0
        occ_ceded[u] = 0.0
    return ceded


@njit(cache=True)
def apply_programme(P, S, tp, ceded_row):
    """Apply the programme with parameters ``tp`` ([n_t, N_TREATY_PARAMS]) to the year's gross
    buyer claims (copied into ``S.net_c``/``S.net_p`` first); fill ``ceded_row`` and return the
    total ceded."""
    n_bt = S.n_bt
    if n_bt == 0 or ceded_row.shape[0] == 0:
        ceded_row[:] = 0.0
        return 0.0
    net_c, net_p, b_comm, b_pol = S.net_c, S.net_p, S.b_comm, S.b_pol
    for i in range(n_bt):
        net_c[i] = b_comm[i]
        net_p[i] = b_pol[i]
    total = 0.0
    for t in range(P.t_kind.shape[0]):
        kind = P.t_kind[t]
        scope = P.t_scope[t]
        if kind == KIND_QS:
            ceded = _quota_share(S, scope, tp[t, TP_SHARE])
        elif kind == KIND_STOP_LOSS:
            ceded = _stop_loss(S, scope, tp[t, TP_RETENTION], tp[t, TP_LIMIT])
        else:
            ceded = _excess_of_loss(P, S, kind, scope, tp[t])
        ceded_row[t] = ceded
        total += ceded
    return total
