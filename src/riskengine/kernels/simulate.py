"""The simulation kernel: one policy year per simulation id, over a block of ids.

``simulate_chunk`` fills caller-allocated per-simulation outputs for a range of simulations;
``simulate_detail`` replays one simulation and returns everything that happened in it (defaults, LGDs, events, exposure losses, claims). Both run the same per-simulation
function, :func:`_one_sim`, so a replayed simulation equals its row in a run bit for bit, and since
every draw is keyed by the simulation id (``rng``), results do not depend on the block size or on
how blocks are spread over threads or Dask workers.

Per simulation (DESIGN.md §3; docs/model.md):

1. systematic factors Z (keyed normals; explicit model: Z = L ξ), Student-t mixing W;
2. political events per country (regional factor V_r and country draw η_c);
3. commercial defaults per cell: conditional PD p = Φ((s·t − aᵀZ)/σ) with s = √(W/ν) (1 for
   the Gaussian copula) and t the PD's (or, in an event year, the contagion PD's) threshold,
   then defaulting units found by geometric skips; heterogeneous buyer groups compare one shared
   ε with each member's conditional threshold;
4. one beta LGD per defaulted buyer; exposure losses with political precedence;
5. policy terms (nql, deductible, indemnity, maximum liability) and the pro-rata split of each
   policy's claim by exposure, buyer and cause;
6. occurrences (buyer commercial, country political), segments, reinsurance treaties in order.

Kernels import only numpy, numba and math (STYLE.md).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .rng import (
    STREAM_CHI2,
    STREAM_DEFAULT,
    STREAM_FACTOR,
    STREAM_GROUP,
    STREAM_LGD,
    STREAM_POL_COUNTRY,
    STREAM_POL_REGION,
    TWO_M53,
    beta_cheng_bb,
    draw_beta,
    draw_gamma,
    draw_normal,
    draw_state,
    draw_u64,
    sim_key,
    stream_key,
    u01_open0,
)
from .special import ndtri, norm_cdf

__all__ = ["YLT_COLUMNS", "N_YLT", "simulate_chunk", "simulate_detail", "new_scratch"]

#: Columns of the kernel's per-simulation output matrix, in order.
YLT_COLUMNS = (
    "ground_up",
    "gross",
    "commercial",
    "political",
    "n_defaults",
    "n_political_events",
    "max_occurrence",
    "net",
)
N_YLT = len(YLT_COLUMNS)

#: Treaty kinds as the kernel knows them (compile.TREATY_KINDS maps the scenario's types onto them).
KIND_QS = 0
KIND_XL_BUYER = 1
KIND_XL_GROUP = 2
KIND_XL_POLITICAL = 3
KIND_STOP_LOSS = 4


@njit(cache=True)
def new_scratch(P):
    """Per-thread working arrays (:func:`_reset` zeroes what a simulation touched)."""
    n_b = P.buyer_rec.shape[0]
    n_e = P.exp_rec.shape[0]
    n_p = P.pol_ind.shape[0]
    n_c = P.country_key.shape[0]
    n_r = P.region_key.shape[0]
    n_f = P.factor_key.shape[0]
    return (
        np.zeros(n_f),  # 0 z: factor values
        np.zeros(n_f),  # 1 xi: independent draws (explicit model)
        np.zeros(n_r),  # 2 v: regional political factors
        np.zeros(n_c, np.uint8),  # 3 ev: event flags
        np.zeros(n_c, np.int32),  # 4 ev_list
        np.zeros(n_b, np.int32),  # 5 dl_b: defaulted buyers
        np.zeros(n_b),  # 6 dl_lgd
        np.zeros(n_e, np.int32),  # 7 ent_e: exposure of each loss entry
        np.zeros(n_e),  # 8 ent_l: loss
        np.zeros(n_e, np.uint8),  # 9 ent_cause: 0 commercial, 1 political
        np.zeros(n_p),  # 10 qual: qualifying loss per policy
        np.zeros(n_p),  # 11 ratio: claim / qualifying loss
        np.zeros(n_p, np.int32),  # 12 p_touch
        np.zeros(n_b),  # 13 b_comm: commercial claim of the buyer in slot k (gross)
        np.zeros(n_b),  # 14 b_pol: political claim of the buyer in slot k
        np.zeros(n_b, np.int32),  # 15 b_touch: buyer in slot k (slots in order of first claim)
        np.zeros(n_c),  # 16 c_pol: country political claim
        np.zeros(P.n_occ_units),  # 17 occ_x
        np.zeros(P.n_occ_units),  # 18 occ_ceded
        np.zeros(P.n_occ_units, np.int32),  # 19 occ_touch
        np.full(max(n_b, 1), -1, np.int32),  # 20 b_slot: slot of a buyer with a claim, else -1
        np.zeros(n_b),  # 21 net_c: slot's commercial claim net of treaties so far (set before use)
        np.zeros(n_b),  # 22 net_p: slot's political claim net of treaties so far (set before use)
        np.zeros(P.t_kind.shape[0]),  # 23 ceded per treaty at one sweep grid point
        _phi_grid(),  # 24 Φ at the grid points PHI_C0 + k / PHI_SCALE (upper bounds between them)
        np.zeros(P.cell_key.shape[0]),  # 25 cell_c: each cell's conditional threshold this year
    )


#: Grid of Φ used to rule out defaults in a cell without evaluating Φ (see ``_one_sim``).
PHI_C0 = -38.5
PHI_SCALE = 32.0
PHI_N = 1505  # up to c = 8.5


@njit(cache=True)
def _phi_grid():
    tab = np.empty(PHI_N)
    for k in range(PHI_N):
        tab[k] = norm_cdf(PHI_C0 + k / PHI_SCALE)
    for k in range(1, PHI_N):  # monotone (erfc is not, by a hair, below 1e-308)
        tab[k] = max(tab[k], tab[k - 1])
    return tab


@njit(cache=True)
def _phi_bound(phi_hi, c):
    """An upper bound of Φ(c): Φ at the next grid point up (1 beyond the grid)."""
    t = (c - PHI_C0) * PHI_SCALE
    if t >= PHI_N - 2:
        return 1.0
    return phi_hi[int(t) + 1 if t > 0.0 else 0]


@njit(cache=True)
def _push_loss(ent_e, ent_l, ent_cause, n, e, loss, cause):
    """Append exposure ``e``'s loss to the year's loss entries; returns the new count."""
    ent_e[n] = e
    ent_l[n] = loss
    ent_cause[n] = cause
    return n + 1


@njit(cache=True)
def _one_sim(
    P, s, S, keys, out_row, ceded_row, seg_row, use_seg, occ, ch, cnt, grid, grid_k, grid_row
):
    """Simulate year ``s``; write the YLT row, the ceded row and (``use_seg``) the segment row.

    ``grid`` (float64[G, n_treaties, 4]) holds alternative treaty parameters (share, retention,
    limit, annual cap) for a sweep: for each grid point g the programme is re-applied to the same
    year's claims and ``grid_row[g]`` gets (ceded by treaty ``grid_k``, net). G may be 0.

    ``keys`` holds the stream keys of the run. The scratch arrays ``S`` are left filled (the
    caller reads them for replays, then calls :func:`_reset`). Occurrences above
    ``P.occ_threshold`` are appended to chunk ``ch`` of the ``occ`` buffers from position ``cnt``.
    Returns ``(n_defaults, n_events, n_entries, n_policies_touched, n_buyers_touched, cnt)``.
    """
    z, xi, v, ev, ev_list, dl_b, dl_lgd, ent_e, ent_l, ent_cause = (
        S[0],
        S[1],
        S[2],
        S[3],
        S[4],
        S[5],
        S[6],
        S[7],
        S[8],
        S[9],
    )
    qual, ratio, p_touch, b_comm, b_pol, b_touch, c_pol = (
        S[10],
        S[11],
        S[12],
        S[13],
        S[14],
        S[15],
        S[16],
    )
    occ_x, occ_ceded, occ_touch, b_slot, net_c, net_p = S[17], S[18], S[19], S[20], S[21], S[22]
    n_f = P.factor_key.shape[0]
    n_c = P.country_key.shape[0]

    # 1. systematic factors
    kf = sim_key(keys[0], s)
    if P.explicit:
        for f in range(n_f):
            xi[f] = draw_normal(draw_state(kf, P.factor_key[f]), 0)
        for f in range(n_f):
            acc = 0.0
            for g in range(f + 1):
                acc += P.factor_chol[f, g] * xi[g]
            z[f] = acc
    else:
        for f in range(n_f):
            z[f] = draw_normal(draw_state(kf, P.factor_key[f]), 0)
    scale = 1.0
    if P.student_t:
        w, _ = draw_gamma(0.5 * P.dof, draw_state(sim_key(keys[1], s), 0), 0)
        scale = math.sqrt(2.0 * w / P.dof)

    # 2. political events
    n_ev = 0
    if P.pol_enabled:
        kr = sim_key(keys[2], s)
        for r in range(P.region_key.shape[0]):
            v[r] = draw_normal(draw_state(kr, P.region_key[r]), 0)
        kc = sim_key(keys[3], s)
        for c in range(n_c):
            thr = P.country_polthr[c]
            if thr == -math.inf:
                continue
            eta = draw_normal(draw_state(kc, P.country_key[c]), 0)
            if P.pol_a * v[P.country_region[c]] + P.pol_b * eta < thr:
                ev[c] = 1
                ev_list[n_ev] = c
                n_ev += 1

    # 3. commercial defaults: cells by geometric skips
    #    (P's arrays are bound to locals so that LLVM loads their data pointers once)
    nd = 0
    kd = sim_key(keys[4], s)
    n_cells = P.cell_key.shape[0]
    cell_unit_ptr, cell_key, unit_member_ptr, unit_members = (
        P.cell_unit_ptr,
        P.cell_key,
        P.unit_member_ptr,
        P.unit_members,
    )
    fac_ptr, fac_idx, fac_w = P.cell_fac_ptr, P.cell_fac_idx, P.cell_fac_w
    thr0, thr1, inv_sig, cell_country = P.cell_thr0, P.cell_thr1, P.cell_inv_sigma, P.cell_country
    phi_hi = S[24]
    cell_c = S[25]
    for cell in range(n_cells):
        m = 0.0
        for k in range(fac_ptr[cell], fac_ptr[cell + 1]):
            m += fac_w[k] * z[fac_idx[k]]
        thr = thr1[cell] if ev[cell_country[cell]] else thr0[cell]
        c = (scale * thr - m) * inv_sig[cell]
        cell_c[cell] = c
        u0 = cell_unit_ptr[cell]
        n_units = cell_unit_ptr[cell + 1] - u0
        if n_units == 0:
            continue
        st = draw_state(kd, cell_key[cell])
        x0 = u01_open0(draw_u64(st, 0))
        # Exact shortcut: with Φ(c) ≤ phi_hi[k] (the next grid point up), n·phi_hi < 1 − U0
        # implies U0 < 1 − n·p ≤ (1 − p)^n, i.e. the first geometric gap already passes the cell:
        # no default, decided without Φ, log1p or log.
        if n_units * _phi_bound(phi_hi, c) * (1.0 + 1e-9) < 1.0 - x0:
            continue
        p = norm_cdf(c)
        if p <= 0.0:
            continue
        if p >= 1.0:
            for u in range(u0, u0 + n_units):
                for k in range(unit_member_ptr[u], unit_member_ptr[u + 1]):
                    dl_b[nd] = unit_members[k]
                    nd += 1
            continue
        inv_l1p = 1.0 / math.log1p(-p)
        pos = -1
        j = 0
        x = x0
        while True:
            gap = math.log(x) * inv_l1p
            j += 1
            if gap >= n_units - 1 - pos:
                break
            pos += 1 + int(gap)
            u = u0 + pos
            for k in range(unit_member_ptr[u], unit_member_ptr[u + 1]):
                dl_b[nd] = unit_members[k]
                nd += 1
            x = u01_open0(draw_u64(st, j))
    # heterogeneous groups: one shared epsilon per group, compared with each member's cell
    # threshold c; when U is above the tabulated bound of Φ(max c) no member can default, so
    # the normal quantile is only computed for groups that may have a default.
    n_hg = P.hg_key.shape[0]
    if n_hg > 0:
        kg = sim_key(keys[5], s)
        hg_ptr, hg_members, buyer_cell = P.hg_ptr, P.hg_members, P.buyer_cell
        for g in range(n_hg):
            cmax = -math.inf
            for k in range(hg_ptr[g], hg_ptr[g + 1]):
                cm = cell_c[buyer_cell[hg_members[k]]]
                if cm > cmax:
                    cmax = cm
            u = u01_open0(draw_u64(draw_state(kg, P.hg_key[g]), 0)) - 0.5 * TWO_M53
            if u > _phi_bound(phi_hi, cmax) * (1.0 + 1e-9):
                continue
            eps = ndtri(u)
            for k in range(hg_ptr[g], hg_ptr[g + 1]):
                b = hg_members[k]
                if eps < cell_c[buyer_cell[b]]:
                    dl_b[nd] = b
                    nd += 1

    # 4. LGD and exposure losses
    kl = sim_key(keys[6], s)
    n_ent = 0
    ground_up = 0.0
    lgd_table, buyer_rec, exp_rec = P.lgd_table, P.buyer_rec, P.exp_rec
    for k in range(nd):
        b = dl_b[k]
        br = buyer_rec[b]
        row = lgd_table[br.lgd_class]
        method = row[3]
        if method == 1.0:
            lgd = beta_cheng_bb(
                row[4], row[5], row[6], row[7], row[1] > row[2], draw_state(kl, br.key)
            )
        elif method == 2.0:
            lgd = draw_beta(row[1], row[2], draw_state(kl, br.key))
        else:
            lgd = row[0]
        dl_lgd[k] = lgd
        cty_ev = ev[br.country]
        for e in range(br.exp_start, br.exp_end):
            er = exp_rec[e]
            if er.comm and not (cty_ev and er.pol):
                loss = er.ead * lgd
                if loss > 0.0:
                    n_ent = _push_loss(ent_e, ent_l, ent_cause, n_ent, e, loss, 0)
                    ground_up += loss
    for i in range(n_ev):
        c = ev_list[i]
        plgd = P.country_plgd[c]
        for k in range(P.cpe_ptr[c], P.cpe_ptr[c + 1]):
            e = P.cpe_exp[k]
            loss = exp_rec[e].ead * plgd
            if loss > 0.0:
                n_ent = _push_loss(ent_e, ent_l, ent_cause, n_ent, e, loss, 1)
                ground_up += loss

    # 5. policy terms
    pol_nql = P.pol_nql
    n_pt = 0
    for i in range(n_ent):
        p = exp_rec[ent_e[i]].policy
        if ent_l[i] >= pol_nql[p]:
            if qual[p] == 0.0:
                p_touch[n_pt] = p
                n_pt += 1
            qual[p] += ent_l[i]
    gross = 0.0
    for i in range(n_pt):
        p = p_touch[i]
        qp = qual[p]
        claim = P.pol_ind[p] * max(qp - P.pol_ded[p], 0.0)
        if claim > P.pol_maxl[p]:
            claim = P.pol_maxl[p]
        ratio[p] = claim / qp
        gross += claim
        if use_seg and P.seg_policy:
            seg_row[n_c + P.n_sectors + p] = claim

    # pro-rata split into buyer and country claims
    commercial = 0.0
    political = 0.0
    n_bt = np.int64(0)
    for i in range(n_ent):
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
            seg_row[n_c + br.sector] += share

    max_occ = 0.0
    for i in range(n_bt):
        if b_comm[i] > max_occ:
            max_occ = b_comm[i]
    for i in range(n_ev):
        if c_pol[ev_list[i]] > max_occ:
            max_occ = c_pol[ev_list[i]]

    # occurrences above the threshold (gross), for re-pricing layers without re-simulating
    if P.occ_threshold < math.inf:
        cnt = _collect_occurrences(P, s, b_comm, b_touch, n_bt, c_pol, ev_list, n_ev, occ, ch, cnt)

    # 6. reinsurance on the year's claims, treaty by treaty, each on what is net of those before
    work = (b_comm, b_pol, b_touch, n_bt, net_c, net_p, occ_x, occ_ceded, occ_touch)
    total_ceded = _programme(P, P.t_params, work, ceded_row)
    g_ceded = S[23]
    for g in range(grid.shape[0]):
        grid_row[g, 1] = gross - _programme(P, grid[g], work, g_ceded)
        grid_row[g, 0] = g_ceded[grid_k]

    out_row[0] = ground_up
    out_row[1] = gross
    out_row[2] = commercial
    out_row[3] = political
    out_row[4] = nd
    out_row[5] = n_ev
    out_row[6] = max_occ
    out_row[7] = gross - total_ceded
    return nd, n_ev, n_ent, n_pt, n_bt, cnt


@njit(cache=True)
def _reset(S, n_ev, n_pt, n_bt):
    """Zero the accumulators the year touched (arrays written before use are left as they are)."""
    ev, ev_list = S[3], S[4]
    qual, p_touch, b_comm, b_pol, b_touch, c_pol, b_slot = (
        S[10],
        S[12],
        S[13],
        S[14],
        S[15],
        S[16],
        S[20],
    )
    for i in range(n_ev):
        c = ev_list[i]
        ev[c] = 0
        c_pol[c] = 0.0
    for i in range(n_pt):
        qual[p_touch[i]] = 0.0
    for i in range(n_bt):
        b_slot[b_touch[i]] = -1
        b_comm[i] = 0.0
        b_pol[i] = 0.0


@njit(cache=True)
def _programme(P, tp, work, ceded_row):
    """Apply the programme with parameters ``tp`` to the year's gross buyer claims in ``work``
    (copied into its net arrays first); fill ``ceded_row`` and return the total ceded."""
    b_comm, b_pol, b_touch, n_bt, net_c, net_p, occ_x, occ_ceded, occ_touch = work
    if n_bt == 0 or ceded_row.shape[0] == 0:
        ceded_row[:] = 0.0
        return 0.0
    for i in range(n_bt):
        net_c[i] = b_comm[i]
        net_p[i] = b_pol[i]
    return _apply_treaties(
        P, tp, net_c, net_p, b_touch, n_bt, occ_x, occ_ceded, occ_touch, ceded_row
    )


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
def _apply_treaties(P, tp, net_c, net_p, b_touch, n_bt, occ_x, occ_ceded, occ_touch, ceded_row):
    """Apply the programme in order to buyer-level net claims (modified in place).

    ``net_c[i]``/``net_p[i]`` are the claims of buyer ``b_touch[i]`` (slot order).

    ``tp[t]`` holds treaty t's (share, retention, limit, annual cap); kinds and scopes come
    from ``P``.

    Quota share: each in-scope claim cedes share × net. Per-risk XL: occurrences are the in-scope
    commercial net claims summed by buyer (or group); each cedes min(max(x − retention, 0), limit),
    the year at most limit × (1 + reinstatements) (pro rata over occurrences when capped), and
    what an occurrence cedes is taken from its buyers pro rata. Political event XL: the same on
    political net claims summed by country. Stop loss: on the in-scope net total of the year.
    Returns the total ceded.
    """
    total = 0.0
    n_t = P.t_kind.shape[0]
    for t in range(n_t):
        kind = P.t_kind[t]
        scope = P.t_scope[t]
        ceded = 0.0
        if kind == KIND_QS:
            sh = tp[t, 0]
            for i in range(n_bt):
                b = b_touch[i]
                if scope[b]:
                    cc = sh * net_c[i]
                    cp = sh * net_p[i]
                    net_c[i] -= cc
                    net_p[i] -= cp
                    ceded += cc + cp
        elif kind == KIND_STOP_LOSS:
            x = 0.0
            for i in range(n_bt):
                b = b_touch[i]
                if scope[b]:
                    x += net_c[i] + net_p[i]
            ceded = min(max(x - tp[t, 1], 0.0), tp[t, 2])
            if ceded > 0.0:
                f = ceded / x
                for i in range(n_bt):
                    b = b_touch[i]
                    if scope[b]:
                        net_c[i] -= f * net_c[i]
                        net_p[i] -= f * net_p[i]
        else:
            net = net_p if kind == KIND_XL_POLITICAL else net_c
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
            ret = tp[t, 1]
            lim = tp[t, 2]
            for i in range(n_u):
                u = occ_touch[i]
                c = min(max(occ_x[u] - ret, 0.0), lim)
                occ_ceded[u] = c
                ceded += c
            f = 1.0
            if ceded > tp[t, 3]:
                f = tp[t, 3] / ceded
                ceded = tp[t, 3]
            for i in range(n_bt):
                b = b_touch[i]
                if not scope[b] or net[i] <= 0.0:
                    continue
                u = _occurrence_unit(P, kind, b)
                if occ_ceded[u] > 0.0:
                    net[i] -= occ_ceded[u] * f * (net[i] / occ_x[u])
            # reset occurrence accumulators (net[i]/occ_x[u] used above needs occ_x intact until here)
            for i in range(n_u):
                u = occ_touch[i]
                occ_x[u] = 0.0
                occ_ceded[u] = 0.0
        ceded_row[t] = ceded
        total += ceded
    return total


@njit(cache=True)
def _stream_keys(seed):
    keys = np.empty(7, dtype=np.uint64)
    keys[0] = stream_key(seed, STREAM_FACTOR)
    keys[1] = stream_key(seed, STREAM_CHI2)
    keys[2] = stream_key(seed, STREAM_POL_REGION)
    keys[3] = stream_key(seed, STREAM_POL_COUNTRY)
    keys[4] = stream_key(seed, STREAM_DEFAULT)
    keys[5] = stream_key(seed, STREAM_GROUP)
    keys[6] = stream_key(seed, STREAM_LGD)
    return keys


@njit(cache=True, nogil=True)
def simulate_chunk(
    P,
    sim0,
    lo,
    hi,
    ylt,
    ceded,
    seg,
    use_seg,
    occ_sim,
    occ_kind,
    occ_id,
    occ_val,
    ch,
    grid,
    grid_k,
    grid_out,
):
    """Simulate rows ``lo .. hi - 1`` of a block (years ``sim0 + lo`` …) into caller-allocated arrays.

    Releases the GIL: the engine runs the chunks of a block on a pool of Python threads, each
    chunk with its own scratch arrays (no ``parallel=True``, which tripled compile time).

    Parameters
    ----------
    P : PortfolioType
        The compiled portfolio (structref).
    sim0 : int
        Simulation id of row 0 of the output arrays.
    lo, hi : int
        Rows of the output arrays this chunk fills.
    ylt : float64[n, N_YLT]
        Per-simulation results (columns ``YLT_COLUMNS``; amounts in the reporting currency).
    ceded : float64[n, n_treaties]
        Ceded loss per treaty.
    seg : float64[n, n_seg] (or [1, 0] when ``use_seg`` is false)
        Gross claims by country, then sector, then policy (when asked).
    occ_sim, occ_kind, occ_id, occ_val : [n_chunks, cap]
        Gross occurrences above ``P.occ_threshold`` (kind 0: buyer commercial, 1: country
        political); this chunk writes row ``ch``.
    grid : float64[G, n_treaties, 4], grid_k : int, grid_out : float64[n, G, 2]
        Treaty sweep (see :func:`_one_sim`); G = 0 for none.

    Returns
    -------
    int
        Occurrences found (may exceed the buffers' capacity: the caller then re-runs with more).
    """
    keys = _stream_keys(P.seed)
    S = new_scratch(P)
    occ = (occ_sim, occ_kind, occ_id, occ_val)
    cnt = np.int64(0)
    for i in range(lo, hi):
        seg_row = seg[i] if use_seg else seg[0]
        grid_row = grid_out[i] if grid.shape[0] > 0 else grid_out[0]
        _, n_ev, _, n_pt, n_bt, cnt = _one_sim(
            P,
            sim0 + i,
            S,
            keys,
            ylt[i],
            ceded[i],
            seg_row,
            use_seg,
            occ,
            ch,
            cnt,
            grid,
            grid_k,
            grid_row,
        )
        _reset(S, n_ev, n_pt, n_bt)
    return cnt


@njit(cache=True)
def _collect_occurrences(P, s, b_comm, b_touch, n_bt, c_pol, ev_list, n_ev, occ, ch, cnt):
    occ_sim, occ_kind, occ_id, occ_val = occ
    cap = occ_sim.shape[1]
    thr = P.occ_threshold
    for i in range(n_bt):
        if b_comm[i] > thr:
            if cnt < cap:
                occ_sim[ch, cnt] = s
                occ_kind[ch, cnt] = 0
                occ_id[ch, cnt] = b_touch[i]
                occ_val[ch, cnt] = b_comm[i]
            cnt += 1
    for i in range(n_ev):
        c = ev_list[i]
        if c_pol[c] > thr:
            if cnt < cap:
                occ_sim[ch, cnt] = s
                occ_kind[ch, cnt] = 1
                occ_id[ch, cnt] = c
                occ_val[ch, cnt] = c_pol[c]
            cnt += 1
    return cnt


@njit(cache=True)
def simulate_detail(P, s):
    """Replay simulation ``s`` alone and return what happened in it.

    Returns
    -------
    tuple
        ``(ylt_row, ceded_row, seg_row, defaults, lgd, events, ent_exposure, ent_loss,
        ent_cause, policies, policy_claims, buyers, buyer_commercial, buyer_political)`` where ``defaults``/``lgd`` are the defaulted
        buyers' codes and LGDs in draw order, ``events`` the countries with a political event,
        ``ent_*`` the exposure losses (kernel exposure order, cause 0 commercial / 1 political)
        ``policies``/``policy_claims`` the claimed policies and their claims, and
        ``buyers``/``buyer_*`` the buyers with a claim and their gross claims by cause.
    """
    keys = _stream_keys(P.seed)
    S = new_scratch(P)
    row = np.zeros(N_YLT)
    ced = np.zeros(P.t_kind.shape[0])
    seg = np.zeros(P.n_seg)
    occ = (
        np.zeros((1, 0), np.int64),
        np.zeros((1, 0), np.int8),
        np.zeros((1, 0), np.int32),
        np.zeros((1, 0)),
    )
    use_seg = P.n_seg >= 0  # a run-time bool, so that _one_sim is compiled once for all callers
    grid = np.zeros((0, P.t_kind.shape[0], 4))
    grid_row = np.zeros((0, 2))
    nd, n_ev, n_ent, n_pt, n_bt, _ = _one_sim(
        P,
        np.int64(s),
        S,
        keys,
        row,
        ced,
        seg,
        use_seg,
        occ,
        np.int64(0),
        np.int64(0),
        grid,
        np.int64(0),
        grid_row,
    )
    qual, ratio, p_touch = S[10], S[11], S[12]
    pols = p_touch[:n_pt].copy()
    claims = np.empty(n_pt)
    for i in range(n_pt):
        claims[i] = ratio[pols[i]] * qual[pols[i]]
    buyers = S[15][:n_bt].copy()
    b_comm = S[13][:n_bt].copy()
    b_pol = S[14][:n_bt].copy()
    return (
        row,
        ced,
        seg,
        S[5][:nd].copy(),
        S[6][:nd].copy(),
        S[4][:n_ev].copy(),
        S[7][:n_ent].copy(),
        S[8][:n_ent].copy(),
        S[9][:n_ent].copy(),
        pols,
        claims,
        buyers,
        b_comm,
        b_pol,
    )
