"""Drivers: the year the stages compose, and the loops that run it over simulation ids.

:func:`simulate_year` runs the stages in order for one simulation id — factors, events, defaults,
losses, terms, split, occurrences, programme — and writes its row of the output buffers.
:func:`simulate_chunk` runs a range of rows (each row's simulation id given by an array, so a
block of consecutive years and a list of tail years run the same code), resetting what each year
touched. :func:`simulate_one` runs one year and leaves its scratch filled for a replay to read;
:func:`record_years` runs a list of years and records, for each, its systematic draws and every
exposure's loss, claim and net claim (the tail store). All share :func:`simulate_year`, so a
replayed or recorded year equals its row in a run bit for bit; and since every draw is keyed by
the simulation id (``rng``), results do not depend on the block size or on how blocks are spread
over threads or Dask workers.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types

from .accumulate import accumulate_year
from .codes import (
    Y_COMMERCIAL,
    Y_GROSS,
    Y_GROUND_UP,
    Y_LOG_WEIGHT,
    Y_LOSS_AVOIDED,
    Y_MAX_OCC,
    Y_N_CAUGHT,
    Y_N_DEFAULTS,
    Y_N_EVENTS,
    Y_NET,
    Y_POLITICAL,
    Y_TURNOVER_LOST,
)
from .defaults import draw_defaults
from .events import draw_events
from .factors import draw_factors, finish_weight
from .losses import draw_losses
from .monitor import monitor_defaults, monitor_turnover, reset_monitoring
from .programme import apply_programme
from .structs import declare, to_struct
from .terms import apply_terms, max_occurrence, split_claims

__all__ = [
    "OUTPUTS",
    "Outputs",
    "RECORD",
    "Record",
    "simulate_year",
    "simulate_chunk",
    "simulate_one",
    "record_years",
    "reset",
    "outputs_struct",
    "record_struct",
]

_f8_2 = types.Array(types.float64, 2, "C")
_f8_3 = types.Array(types.float64, 3, "C")

#: What a run's years write: caller-allocated buffers, one row per simulation.
OUTPUTS = declare(
    "Outputs",
    [
        ("ylt", _f8_2, "[n, N_YLT] per-simulation results (codes.YLT_COLUMNS)"),
        ("ceded", _f8_2, "[n, n_t] ceded loss per treaty"),
        ("seg", _f8_2, "[n, n_seg] gross claims by segment ([1, 0] when not asked)"),
        ("use_seg", types.boolean, "whether to fill ``seg``"),
        ("occ_sim", types.Array(types.int64, 2, "C"), "[n_chunks, cap] occurrences' simulation"),
        ("occ_kind", types.Array(types.int8, 2, "C"), "their kind (codes.OCCURRENCE_KINDS)"),
        ("occ_id", types.Array(types.int32, 2, "C"), "their buyer or country code"),
        ("occ_val", _f8_2, "their gross claim"),
        ("grid", _f8_3, "[G, n_t, N_TREATY_PARAMS] treaty sweep: programme parameters"),
        ("grid_k", types.int64, "the swept treaty"),
        ("grid_out", _f8_3, "[n, G, 2] (swept treaty's ceded, net) per grid point"),
    ],
    "Caller-allocated buffers a run's years fill.",
)
Outputs = OUTPUTS.tuple_class
Outputs.__module__ = __name__

#: What recording a list of years writes (the tail store): per year its systematic draws, per
#: exposure loss entry its loss, claim and net claim.
RECORD = declare(
    "Record",
    [
        ("z", _f8_2, "[n_years, n_f] factor values"),
        ("chi2", types.Array(types.float64, 1, "C"), "[n_years] Student-t mixing variable W"),
        ("v", _f8_2, "[n_years, n_r] regional political factors"),
        ("ev", types.Array(types.uint8, 2, "C"), "[n_years, n_c] event flags"),
        ("ent_year", types.Array(types.int32, 1, "C"), "[cap] row of the year of each entry"),
        ("ent_exp", types.Array(types.int32, 1, "C"), "exposure code"),
        ("ent_cause", types.Array(types.uint8, 1, "C"), "0 commercial, 1 political"),
        ("ent_loss", types.Array(types.float64, 1, "C"), "loss before policy terms"),
        ("ent_claim", types.Array(types.float64, 1, "C"), "its share of the policy's claim"),
        ("ent_net", types.Array(types.float64, 1, "C"), "that claim net of the programme"),
    ],
    "Caller-allocated buffers recording years for the tail store.",
)
Record = RECORD.tuple_class
Record.__module__ = __name__

_OUTPUTS_TYPE = OUTPUTS.struct_type
_RECORD_TYPE = RECORD.struct_type


@njit(cache=True)
def outputs_struct(nt):
    """The structref of an :data:`Outputs` tuple (sharing its arrays)."""
    return to_struct(_OUTPUTS_TYPE, nt)


@njit(cache=True)
def record_struct(nt):
    """The structref of a :data:`Record` tuple (sharing its arrays)."""
    return to_struct(_RECORD_TYPE, nt)


@njit(cache=True)
def _collect_occurrences(P, S, B, s, ch, cnt):
    """Append the year's occurrences above ``P.occ_threshold`` to row ``ch`` of the buffers."""
    occ_sim, occ_kind, occ_id, occ_val = B.occ_sim, B.occ_kind, B.occ_id, B.occ_val
    b_comm, b_touch, c_pol, ev_list = S.b_comm, S.b_touch, S.c_pol, S.ev_list
    cap = occ_sim.shape[1]
    thr = P.occ_threshold
    for i in range(S.n_bt):
        if b_comm[i] > thr:
            if cnt < cap:
                occ_sim[ch, cnt] = s
                occ_kind[ch, cnt] = 0
                occ_id[ch, cnt] = b_touch[i]
                occ_val[ch, cnt] = b_comm[i]
            cnt += 1
    for i in range(S.n_ev):
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
def simulate_year(P, S, B, s, i, ch, cnt):
    """Simulate year ``s`` into row ``i`` of the outputs ``B``; the scratch ``S`` is left filled.

    Occurrences above ``P.occ_threshold`` are appended to row ``ch`` of the occurrence buffers
    from position ``cnt``; returns the new count (it may exceed the buffers' capacity: the caller
    then runs again with more room).
    """
    draw_factors(P, S, s)
    draw_events(P, S, s)
    finish_weight(P, S)
    draw_defaults(P, S, s)
    if P.monitoring:
        monitor_defaults(P, S, s)
    ground_up = draw_losses(P, S, s)
    use_seg = B.use_seg
    seg_row = B.seg[i] if use_seg else B.seg[0]
    gross = apply_terms(P, S, seg_row, use_seg)
    commercial, political = split_claims(P, S, seg_row, use_seg)
    max_occ = max_occurrence(S)
    if P.occ_threshold < math.inf:
        cnt = _collect_occurrences(P, S, B, s, ch, cnt)
    total_ceded = apply_programme(P, S, P.t_params, B.ceded[i])
    if P.accumulate:
        accumulate_year(P, S, math.exp(S.log_lr), seg_row, use_seg)
    grid = B.grid
    if grid.shape[0] > 0:
        grid_row = B.grid_out[i]
        t_ceded = S.t_ceded
        for g in range(grid.shape[0]):
            grid_row[g, 1] = gross - apply_programme(P, S, grid[g], t_ceded)
            grid_row[g, 0] = t_ceded[B.grid_k]
    row = B.ylt[i]
    row[Y_GROUND_UP] = ground_up
    row[Y_GROSS] = gross
    row[Y_COMMERCIAL] = commercial
    row[Y_POLITICAL] = political
    row[Y_N_DEFAULTS] = S.nd
    row[Y_N_EVENTS] = S.n_ev
    row[Y_MAX_OCC] = max_occ
    row[Y_NET] = gross - total_ceded
    row[Y_LOG_WEIGHT] = S.log_lr
    if P.monitoring:
        row[Y_LOSS_AVOIDED] = S.loss_avoided
        row[Y_TURNOVER_LOST] = monitor_turnover(P, S, s)
        row[Y_N_CAUGHT] = S.n_caught
    return cnt


@njit(cache=True)
def reset(P, S):
    """Zero the accumulators the last year touched (arrays written before use are left)."""
    if P.monitoring:
        reset_monitoring(S)
    ev, ev_list, c_pol = S.ev, S.ev_list, S.c_pol
    qual, p_touch = S.qual, S.p_touch
    b_slot, b_touch, b_comm, b_pol = S.b_slot, S.b_touch, S.b_comm, S.b_pol
    for i in range(S.n_ev):
        c = ev_list[i]
        ev[c] = 0
        c_pol[c] = 0.0
    for i in range(S.n_pt):
        qual[p_touch[i]] = 0.0
    for i in range(S.n_bt):
        b_slot[b_touch[i]] = -1
        b_comm[i] = 0.0
        b_pol[i] = 0.0


@njit(cache=True, nogil=True)
def simulate_chunk(P, S, B, sims, lo, hi, ch):
    """Simulate rows ``lo .. hi - 1`` of the outputs (row i is simulation ``sims[i]``).

    Releases the GIL: the engine runs the chunks of a block on a pool of Python threads, each
    chunk with its own scratch ``S`` (no ``parallel=True``, which tripled compile time).

    Parameters
    ----------
    P : KernelStruct
        The compiled portfolio (``kernels.portfolio``).
    S : KernelStruct
        This chunk's scratch (``kernels.scratch``), clean.
    B : KernelStruct
        The output buffers (:data:`OUTPUTS`), shared by the chunks of a block.
    sims : int64[n]
        Simulation id of each output row.
    lo, hi : int
        Rows this chunk fills.
    ch : int
        Row of the occurrence buffers this chunk appends to.

    Returns
    -------
    int
        Occurrences found (may exceed the buffers' capacity: the caller then runs again).
    """
    cnt = np.int64(0)
    for i in range(lo, hi):
        cnt = simulate_year(P, S, B, sims[i], i, ch, cnt)
        reset(P, S)
    return cnt


@njit(cache=True)
def simulate_one(P, S, B, s):
    """Simulate year ``s`` into row 0 of ``B`` and leave ``S`` filled; return its counts
    ``(nd, n_ev, n_ent, n_pt, n_bt, chi2)`` (the scratch's arrays hold the rest)."""
    simulate_year(P, S, B, s, 0, 0, np.int64(0))
    return S.nd, S.n_ev, S.n_ent, S.n_pt, S.n_bt, S.chi2


@njit(cache=True)
def _record_entries(P, S, R, y, n):
    """Append year row ``y``'s loss entries (loss, claim, net claim) to ``R`` from ``n``."""
    ent_e, ent_l, ent_cause, ratio = S.ent_e, S.ent_l, S.ent_cause, S.ratio
    ent_p, ent_b = S.ent_p, S.ent_b
    b_slot, b_comm, b_pol, net_c, net_p = S.b_slot, S.b_comm, S.b_pol, S.net_c, S.net_p
    cap = R.ent_exp.shape[0]
    has_treaties = P.t_kind.shape[0] > 0
    for i in range(S.n_ent):
        e = ent_e[i]
        loss = ent_l[i]
        claim = loss * ratio[ent_p[i]] if ent_p[i] >= 0 else 0.0  # −1: below the policy's nql
        net = claim
        if has_treaties and claim > 0.0:
            k = b_slot[ent_b[i]]
            if ent_cause[i] == 0:
                net = claim * (net_c[k] / b_comm[k]) if b_comm[k] > 0.0 else 0.0
            else:
                net = claim * (net_p[k] / b_pol[k]) if b_pol[k] > 0.0 else 0.0
        if n < cap:
            R.ent_year[n] = y
            R.ent_exp[n] = e
            R.ent_cause[n] = ent_cause[i]
            R.ent_loss[n] = loss
            R.ent_claim[n] = claim
            R.ent_net[n] = net
        n += 1
    return n


@njit(cache=True)
def record_years(P, S, B, R, sims):
    """Simulate years ``sims`` (row i of ``B`` is ``sims[i]``) and record each in ``R``.

    ``B`` must have no treaty sweep grid (the slots' net claims are then the programme's).
    Returns the number of loss entries (they may exceed ``R``'s capacity: the caller then runs
    again with more room).
    """
    n = np.int64(0)
    n_f = S.z.shape[0]
    n_r = S.v.shape[0]
    for y in range(sims.shape[0]):
        simulate_year(P, S, B, sims[y], y, 0, np.int64(0))
        for f in range(n_f):
            R.z[y, f] = S.z[f]
        R.chi2[y] = S.chi2
        for r in range(n_r):
            R.v[y, r] = S.v[r]
        for k in range(S.n_ev):
            R.ev[y, S.ev_list[k]] = 1
        n = _record_entries(P, S, R, y, n)
        reset(P, S)
    return n
