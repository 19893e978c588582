"""Stage 3 of a year: commercial defaults, cell by cell.

Conditionally on the year's systematic draws every buyer of a cell defaults with the same
probability p = Φ((s·t − aᵀZ)/σ) (s = √(W/ν), 1 for the Gaussian copula; t the threshold of the
cell's PD, or of its contagion PD when its country has an event). Within a cell the defaulting
units are found by skipping from one to the next with geometric gaps ⌊log U / log(1 − p)⌋: the
same law as one uniform per unit, at a cost proportional to cells + defaults. A heterogeneous
group (members in different cells) draws one ε a year, compared with each member's conditional
threshold. See docs/model.md §2, "How defaults are drawn".
"""

from __future__ import annotations

import math

from numba import njit

from .rng import TWO_M53, draw_state, draw_u64, sim_key, u01_open0
from .scratch import PHI_C0, PHI_N, PHI_SCALE
from .special import ndtri, norm_cdf

__all__ = ["draw_defaults"]


@njit(cache=True)
def _phi_bound(phi_hi, c):
    """An upper bound of Φ(c) without a branch: Φ at the next grid point up (1 beyond the grid;
    below it phi_hi[1], looser than needed but still a bound)."""
    t = min(max((c - PHI_C0) * PHI_SCALE, 0.0), PHI_N - 2.0)
    return phi_hi[int(t) + 1]


@njit(cache=True)
def _candidates(P, S, s):
    """Every cell's conditional threshold this year (``S.cell_c``), and the cells whose first
    uniform the tabulated bound of Φ cannot rule out (``S.cell_cand``, in cell order); returns
    their number.

    Three passes over the cells, each a simple loop LLVM unrolls or vectorises: the thresholds
    (``P.cell_fac_k`` loadings a cell, padded with zeros), the first uniforms, and the bound
    test, which appends every cell to the candidate list and keeps it by counting a 0 or a 1
    (most cells are ruled out, at random, so a branch per cell would often be mispredicted).
    """
    z, ev, cell_c, u0, phi_hi, cand = S.z, S.ev, S.cell_c, S.cell_u0, S.phi_hi, S.cell_cand
    scale = S.scale
    kd = sim_key(S.key_default, s)
    # P's arrays are bound to locals so that LLVM loads their data pointers once
    cell_unit_ptr, cell_key = P.cell_unit_ptr, P.cell_key
    fac_idx, fac_w, n_fac = P.cell_fac_idx, P.cell_fac_w, P.cell_fac_k
    thr0, thr1, inv_sig, cell_country = P.cell_thr0, P.cell_thr1, P.cell_inv_sigma, P.cell_country
    n_cells = cell_key.shape[0]
    for cell in range(n_cells):
        m = 0.0
        row = cell * n_fac
        for k in range(n_fac):
            m += fac_w[row + k] * z[fac_idx[row + k]]
        thr = thr1[cell] if ev[cell_country[cell]] else thr0[cell]
        cell_c[cell] = (scale * thr - m) * inv_sig[cell]
    for cell in range(n_cells):
        u0[cell] = u01_open0(draw_u64(draw_state(kd, cell_key[cell]), 0))
    n = 0
    for cell in range(n_cells):
        # Exact shortcut: with Φ(c) ≤ the bound, n·bound < 1 − U0 implies U0 < 1 − n·p ≤
        # (1 − p)^n, i.e. the first geometric gap already passes the cell: no default, decided
        # without Φ, log1p or log.
        n_units = float(cell_unit_ptr[cell + 1] - cell_unit_ptr[cell])
        cand[n] = cell
        n += n_units * _phi_bound(phi_hi, cell_c[cell]) * (1.0 + 1e-9) >= 1.0 - u0[cell]
    return n


@njit(cache=True)
def _cells(P, S, s):
    """Defaults of the cells' units; returns the number of defaulted buyers."""
    dl_b, cell_c, cand = S.dl_b, S.cell_c, S.cell_cand
    nd = 0
    kd = sim_key(S.key_default, s)
    cell_unit_ptr, cell_key, unit_member_ptr = P.cell_unit_ptr, P.cell_key, P.unit_member_ptr
    for i in range(_candidates(P, S, s)):
        cell = cand[i]
        u0 = cell_unit_ptr[cell]
        n_units = cell_unit_ptr[cell + 1] - u0
        if n_units == 0:
            continue
        p = norm_cdf(cell_c[cell])
        if p <= 0.0:
            continue
        # buyers are numbered in visit order: the cell's units hold buyers b0, b0 + 1, … in
        # order, and when each unit is one buyer (flat) unit u0 + pos is buyer b0 + pos
        b0 = unit_member_ptr[u0]
        flat = unit_member_ptr[u0 + n_units] - b0 == n_units
        if p >= 1.0:
            for b in range(b0, unit_member_ptr[u0 + n_units]):
                dl_b[nd] = b
                nd += 1
            continue
        st = draw_state(kd, cell_key[cell])
        inv_l1p = 1.0 / math.log1p(-p)
        pos = -1
        j = 0
        x = S.cell_u0[cell]
        while True:
            gap = math.log(x) * inv_l1p
            j += 1
            if gap >= n_units - 1 - pos:
                break
            pos += 1 + int(gap)
            if flat:
                dl_b[nd] = b0 + pos
                nd += 1
            else:
                for b in range(unit_member_ptr[u0 + pos], unit_member_ptr[u0 + pos + 1]):
                    dl_b[nd] = b
                    nd += 1
            x = u01_open0(draw_u64(st, j))
    return nd


@njit(cache=True)
def _groups(P, S, s, nd):
    """Defaults of heterogeneous groups' members (after the cells'); returns the new count.

    When U is above the tabulated bound of Φ(max c) no member can default, so the normal
    quantile is only computed for groups that may have a default. As for the cells, the
    uniforms come first in a loop of their own and the candidates are kept without a branch.
    """
    hg_key = P.hg_key
    n_hg = hg_key.shape[0]
    if n_hg == 0:
        return nd
    dl_b, cell_c, phi_hi, u_g, cand = S.dl_b, S.cell_c, S.phi_hi, S.hg_u, S.hg_cand
    kg = sim_key(S.key_group, s)
    hg_ptr, hg_members, buyer_cell = P.hg_ptr, P.hg_members, P.buyer_cell
    for g in range(n_hg):
        u_g[g] = u01_open0(draw_u64(draw_state(kg, hg_key[g]), 0)) - 0.5 * TWO_M53
    n = 0
    for g in range(n_hg):
        cmax = -math.inf
        for k in range(hg_ptr[g], hg_ptr[g + 1]):
            cmax = max(cmax, cell_c[buyer_cell[hg_members[k]]])
        cand[n] = g
        n += u_g[g] <= _phi_bound(phi_hi, cmax) * (1.0 + 1e-9)
    for i in range(n):
        g = cand[i]
        eps = ndtri(u_g[g])
        for k in range(hg_ptr[g], hg_ptr[g + 1]):
            b = hg_members[k]
            if eps < cell_c[buyer_cell[b]]:
                dl_b[nd] = b
                nd += 1
    return nd


@njit(cache=True)
def draw_defaults(P, S, s):
    """Fill ``S.dl_b``, ``S.cell_c`` and ``S.nd`` (defaulted buyers, in draw order)."""
    S.nd = _groups(P, S, s, _cells(P, S, s))
