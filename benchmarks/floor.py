"""The floor of a year, and the engine's year cut after each stage: where the time goes.

**The floor** (:func:`run_floor`) is the least work any exact method needs for a year of the
book: the systematic draws (factors, the Student-t scale, political events, which set the
contagion thresholds), one conditional threshold per cell, and the geometric skips to the
defaulted units (and the heterogeneous groups' ε), counting the defaulted buyers — nothing after
the defaults: no LGD, no loss, no policy term, no sum. It draws the engine's keyed numbers
(docs/model.md §6) with the engine's skip rule, so its defaults are the engine's, year by year
(a test checks this), and it uses the same exact shortcut as the engine (a cell whose first
uniform is below 1 − n·Φ̄(c), Φ̄ a tabulated upper bound of Φ, has no default; Φ, log1p and log
only for the others). It runs on the same threads as the engine: chunks of years on a pool of
Python threads, the kernel releasing the GIL.

**The stages** (:func:`run_stages`): the engine's own stage functions
(``riskengine.kernels``), run on one thread up to a given stage and reset, so that the
difference between two cuts is the cost of the stage between them:

====  ==============================================================================
cut   what a year does
====  ==============================================================================
1     systematic draws and defaults (``draw_factors``, ``draw_events``, ``draw_defaults``)
2     \\+ LGDs and exposure losses (``draw_losses``)
3     \\+ policy terms (``apply_terms``)
4     \\+ the pro-rata split into buyers, causes and segments, the largest occurrence
====  ==============================================================================

The whole year (treaties, occurrences, claim accumulation) is the engine's
``simulate_chunk`` itself (:func:`run_engine`).

These kernels are compiled without ``cache=True``: they call the engine's kernels, and Numba's
cache would not notice when those change (``riskengine.kernels`` guards its own cache only).
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from numba import njit

from riskengine.kernels.defaults import draw_defaults
from riskengine.kernels.driver import outputs_struct, reset, simulate_chunk
from riskengine.kernels.events import draw_events
from riskengine.kernels.factors import draw_factors
from riskengine.kernels.losses import draw_losses
from riskengine.kernels.rng import TWO_M53, draw_state, draw_u64, sim_key, u01_open0
from riskengine.kernels.scratch import PHI_C0, PHI_N, PHI_SCALE, new_scratch
from riskengine.kernels.special import ndtri, norm_cdf
from riskengine.kernels.terms import apply_terms, max_occurrence, split_claims
from riskengine.run.inprocess import default_threads, kernel_of, new_outputs

__all__ = ["STAGE_CUTS", "run_floor", "run_stages", "run_engine"]

#: The cuts of :func:`run_stages`, by name.
STAGE_CUTS = {
    "draws and defaults": 1,
    "+ LGDs and losses": 2,
    "+ policy terms": 3,
    "+ split, segments, occurrence": 4,
}


@njit(nogil=True)
def _phi_bound(phi_hi, c):
    """Φ̄(c) ≥ Φ(c): Φ at the next point up of the engine's grid (1 beyond it)."""
    t = (c - PHI_C0) * PHI_SCALE
    return 1.0 if t >= PHI_N - 2 else phi_hi[int(t) + 1 if t > 0.0 else 0]


@njit(nogil=True)
def _floor_cells(P, S, s):
    """Defaulted buyers of the cells' units in year ``s`` (counted, not listed)."""
    z, ev, cell_c, phi_hi, scale = S.z, S.ev, S.cell_c, S.phi_hi, S.scale
    kd = sim_key(S.key_default, s)
    unit_ptr, member_ptr = P.cell_unit_ptr, P.unit_member_ptr
    fac_ptr, fac_idx, fac_w = P.cell_fac_ptr, P.cell_fac_idx, P.cell_fac_w
    thr0, thr1, inv_sig, country = P.cell_thr0, P.cell_thr1, P.cell_inv_sigma, P.cell_country
    nd = 0
    for cell in range(P.cell_key.shape[0]):
        m = 0.0
        for k in range(fac_ptr[cell], fac_ptr[cell + 1]):
            m += fac_w[k] * z[fac_idx[k]]
        c = (scale * (thr1[cell] if ev[country[cell]] else thr0[cell]) - m) * inv_sig[cell]
        cell_c[cell] = c  # the groups' members compare their ε with it
        u0 = unit_ptr[cell]
        n_units = unit_ptr[cell + 1] - u0
        if n_units == 0:
            continue
        st = draw_state(kd, P.cell_key[cell])
        x = u01_open0(draw_u64(st, 0))
        if n_units * _phi_bound(phi_hi, c) * (1.0 + 1e-9) < 1.0 - x:
            continue  # n·Φ̄(c) < 1 − U₀ implies U₀ < (1 − p)ⁿ: the first gap passes the cell
        p = norm_cdf(c)
        if p <= 0.0:
            continue
        if p >= 1.0:
            nd += member_ptr[u0 + n_units] - member_ptr[u0]
            continue
        inv_l1p = 1.0 / math.log1p(-p)
        pos = -1
        j = 0
        while True:
            gap = math.log(x) * inv_l1p
            j += 1
            if gap >= n_units - 1 - pos:
                break
            pos += 1 + int(gap)
            nd += member_ptr[u0 + pos + 1] - member_ptr[u0 + pos]
            x = u01_open0(draw_u64(st, j))
    return nd


@njit(nogil=True)
def _floor_groups(P, S, s):
    """Defaulted members of heterogeneous groups in year ``s`` (one ε per group)."""
    cell_c, phi_hi = S.cell_c, S.phi_hi
    kg = sim_key(S.key_group, s)
    hg_ptr, members, buyer_cell = P.hg_ptr, P.hg_members, P.buyer_cell
    nd = 0
    for g in range(P.hg_key.shape[0]):
        cmax = -math.inf
        for k in range(hg_ptr[g], hg_ptr[g + 1]):
            cmax = max(cmax, cell_c[buyer_cell[members[k]]])
        u = u01_open0(draw_u64(draw_state(kg, P.hg_key[g]), 0)) - 0.5 * TWO_M53
        if u > _phi_bound(phi_hi, cmax) * (1.0 + 1e-9):
            continue  # ε = Φ⁻¹(u) is above every member's threshold
        eps = ndtri(u)
        for k in range(hg_ptr[g], hg_ptr[g + 1]):
            if eps < cell_c[buyer_cell[members[k]]]:
                nd += 1
    return nd


@njit(nogil=True)
def _floor_chunk(P, S, sims, lo, hi, out):
    """Rows ``lo .. hi - 1`` of ``out``: the defaulted buyers of year ``sims[i]``."""
    ev, ev_list = S.ev, S.ev_list
    for i in range(lo, hi):
        s = sims[i]
        draw_factors(P, S, s)
        draw_events(P, S, s)
        out[i] = _floor_cells(P, S, s) + _floor_groups(P, S, s)
        for k in range(S.n_ev):
            ev[ev_list[k]] = 0


@njit(nogil=True)
def _stage_chunk(P, S, seg_row, sims, lo, hi, cut):
    """Rows ``lo .. hi - 1``: the engine's year up to stage ``cut`` (``STAGE_CUTS``), reset.
    Returns the defaulted buyers of all these years."""
    nd = 0
    use_seg = seg_row.shape[0] > 0
    for i in range(lo, hi):
        s = sims[i]
        draw_factors(P, S, s)
        draw_events(P, S, s)
        draw_defaults(P, S, s)
        nd += S.nd
        if cut >= 2:
            draw_losses(P, S, s)
        if cut >= 3:
            apply_terms(P, S, seg_row, use_seg)
        if cut >= 4:
            split_claims(P, S, seg_row, use_seg)
            max_occurrence(S)
        reset(P, S)
        if use_seg:
            seg_row[:] = 0.0
    return nd


def _chunks(n: int, threads: int) -> list[tuple[int, int]]:
    n_chunks = int(max(1, min(n, 2 * threads)))
    return [((c * n) // n_chunks, ((c + 1) * n) // n_chunks) for c in range(n_chunks)]


def run_floor(port: Any, sims: np.ndarray, n_threads: int | None = None) -> np.ndarray:
    """The floor of years ``sims`` on ``n_threads`` threads (default: the engine's).

    Parameters
    ----------
    port : KernelPortfolio
        A compiled portfolio's kernel arrays (``CompiledPortfolio.kernel``).
    sims : int64[n]
        Simulation ids.
    n_threads : int, optional
        Threads (chunks of years on a thread pool, as the engine runs a block).

    Returns
    -------
    numpy.ndarray
        float64[n]: the defaulted buyers of each year (the engine's ``n_defaults``).
    """
    P = kernel_of(port)
    sims = np.ascontiguousarray(sims, dtype=np.int64)
    out = np.zeros(len(sims))
    threads = max(1, int(n_threads or default_threads()))

    def chunk(bounds: tuple[int, int]) -> None:
        _floor_chunk(P, new_scratch(port), sims, bounds[0], bounds[1], out)

    bounds = _chunks(len(sims), threads)
    if threads == 1:
        for b in bounds:
            chunk(b)
    else:
        list(_pool(threads).map(chunk, bounds))
    return out


_POOLS: dict[int, ThreadPoolExecutor] = {}


def _pool(threads: int) -> ThreadPoolExecutor:
    """A pool of ``threads`` threads kept for later calls (as the engine keeps its own)."""
    if threads not in _POOLS:
        _POOLS[threads] = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="floor")
    return _POOLS[threads]


def run_stages(port: Any, sims: np.ndarray, cut: int, *, segments: bool = True) -> float:
    """Thread CPU seconds of the engine's years ``sims`` cut after stage ``cut``, on this thread.

    ``segments``: whether the split writes segment sums (as a run with segments does).
    """
    P = kernel_of(port)
    S = new_scratch(port)
    sims = np.ascontiguousarray(sims, dtype=np.int64)
    seg_row = np.zeros(port.n_seg if segments else 0)
    t0 = time.thread_time()
    _stage_chunk(P, S, seg_row, sims, 0, len(sims), cut)
    return time.thread_time() - t0


def run_engine(port: Any, sims: np.ndarray, *, segments: bool = True) -> float:
    """Thread CPU seconds of the engine's whole years ``sims`` (``simulate_chunk``: treaties,
    occurrences and claim accumulation as compiled into ``port``), on this thread."""
    P = kernel_of(port)
    S = new_scratch(port)
    sims = np.ascontiguousarray(sims, dtype=np.int64)
    cap = 1 << 16 if port.occ_threshold < np.inf else 0
    B = outputs_struct(new_outputs(port, len(sims), segments=segments, n_chunks=1, cap=cap))
    t0 = time.thread_time()
    simulate_chunk(P, S, B, sims, 0, len(sims), 0)
    return time.thread_time() - t0
