"""A thread's working memory for simulating years, declared once.

:data:`SCRATCH` names every array and running scalar a year uses; :func:`new_scratch` allocates
one record for a portfolio (one per thread: chunks never share scratch). A year leaves the
accumulators it touched filled (a replay reads them); :func:`riskengine.kernels.driver.reset`
zeroes just those, so the cost of a year stays proportional to its defaults, not to the book.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, types

from .rng import (
    STREAM_CHI2,
    STREAM_DEFAULT,
    STREAM_FACTOR,
    STREAM_GROUP,
    STREAM_IS,
    STREAM_LGD,
    STREAM_MONITOR,
    STREAM_MONITOR_COST,
    STREAM_POL_COUNTRY,
    STREAM_POL_REGION,
    stream_key,
)
from .special import norm_cdf
from .structs import declare, to_struct

__all__ = [
    "SCRATCH",
    "Scratch",
    "new_scratch",
    "scratch_arrays",
    "scratch_struct",
    "PHI_C0",
    "PHI_SCALE",
    "PHI_N",
    "phi_grid",
]

_f8 = types.Array(types.float64, 1, "C")
_i4 = types.Array(types.int32, 1, "C")
_u1 = types.Array(types.uint8, 1, "C")
_i8_2 = types.Array(types.int64, 2, "C")

#: (name, type, meaning); arrays are sized by the portfolio (see :func:`new_scratch`).
SCRATCH = declare(
    "Scratch",
    [
        # stream keys of the run (from the seed)
        ("key_factor", types.uint64, "stream of the systematic factors"),
        ("key_chi2", types.uint64, "stream of the Student-t mixing variable"),
        ("key_pol_region", types.uint64, "stream of the regional political factors"),
        ("key_pol_country", types.uint64, "stream of the countries' political draws"),
        ("key_default", types.uint64, "stream of the cells' default skips"),
        ("key_group", types.uint64, "stream of heterogeneous groups' ε"),
        ("key_lgd", types.uint64, "stream of the LGDs"),
        ("key_is", types.uint64, "stream of the importance-sampling mixture component"),
        ("key_monitor", types.uint64, "stream of defaulted buyers' review paths"),
        ("key_monitor_cost", types.uint64, "stream of the buyers sampled for the turnover lost"),
        # systematic draws of the year
        ("z", _f8, "[n_f] factor values"),
        ("xi", _f8, "[n_f] independent draws behind them (explicit model)"),
        ("chi2", types.float64, "the Student-t mixing variable W ~ χ²_ν (0: Gaussian)"),
        ("scale", types.float64, "√(W/ν) (1 for the Gaussian copula)"),
        ("log_lr", types.float64, "the year's log likelihood ratio (importance sampling)"),
        ("is_comp", types.int64, "the year's importance-sampling mixture component"),
        ("is_dot", _f8, "[n_is] μ_k · x of every mixture component k over the year's draws"),
        ("v", _f8, "[n_r] regional political factors"),
        ("ev", _u1, "[n_c] event flags"),
        ("ev_list", _i4, "[n_c] countries with an event, in order"),
        ("n_ev", types.int64, "number of events"),
        # defaults and losses
        ("cell_c", _f8, "[n_cells] each cell's conditional threshold this year"),
        ("cell_u0", _f8, "[n_cells] each cell's first uniform of the year's default skips"),
        ("cell_cand", _i4, "[n_cells] cells the tabulated bound does not rule out this year"),
        ("hg_u", _f8, "[n_hg] each heterogeneous group's uniform of the year (its ε's)"),
        ("hg_cand", _i4, "[n_hg] groups the tabulated bound does not rule out this year"),
        ("phi_hi", _f8, "[PHI_N] Φ on a grid (upper bounds between points; read-only)"),
        ("dl_b", _i4, "[n_b] defaulted buyers, in draw order"),
        ("dl_lgd", _f8, "[n_b] their LGDs"),
        ("nd", types.int64, "number of defaults"),
        ("dl_cut", _f8, "[n_b] when each defaulted buyer's cut takes effect (inf: never)"),
        ("b_def", _u1, "[n_b] buyer defaulted this year (monitoring)"),
        ("n_caught", types.int64, "defaults whose cut took effect before year end"),
        ("loss_avoided", types.float64, "ground-up loss the cuts avoided this year"),
        ("ent_e", _i4, "[n_e] exposure of each loss entry"),
        ("ent_l", _f8, "[n_e] its loss"),
        ("ent_cause", _u1, "[n_e] its cause (0 commercial, 1 political)"),
        ("ent_p", _i4, "[n_e] its policy when the loss qualifies (≥ the policy's nql), else −1"),
        ("ent_b", _i4, "[n_e] its buyer"),
        ("n_ent", types.int64, "number of loss entries"),
        # policy terms
        ("qual", _f8, "[n_p] qualifying loss per policy (summed as losses are drawn)"),
        ("ratio", _f8, "[n_p] claim / qualifying loss"),
        ("p_touch", _i4, "[n_p] policies with a qualifying loss"),
        ("n_pt", types.int64, "number of such policies"),
        # buyer claims (slots in order of first claim)
        ("b_slot", _i4, "[n_b] slot of a buyer with a claim, else −1"),
        ("b_touch", _i4, "[n_b] buyer in slot k"),
        ("b_comm", _f8, "[n_b] commercial claim of slot k"),
        ("b_pol", _f8, "[n_b] political claim of slot k"),
        ("n_bt", types.int64, "number of buyers with a claim"),
        ("c_pol", _f8, "[n_c] political claim of each country"),
        # reinsurance
        ("net_c", _f8, "[n_b] slot's commercial claim net of the treaties so far"),
        ("net_p", _f8, "[n_b] slot's political claim net of the treaties so far"),
        ("occ_x", _f8, "[n_occ_units] an XL's occurrence totals"),
        ("occ_ceded", _f8, "[n_occ_units] what each occurrence cedes"),
        ("occ_touch", _i4, "[n_occ_units] occurrences of the current treaty"),
        ("t_ceded", _f8, "[n_t] ceded by treaty at one sweep grid point"),
        # exact claim accumulators (when the portfolio asks for them; codes.ACC_ROWS)
        ("acc_e", _i8_2, "[n_e_acc, 8] each exposure's Σ w·claim and Σ (w·claim)², gross and net"),
        ("acc_b", _i8_2, "[n_b_acc, 8] each buyer's Σ (w·claim)² (columns 4..7 used)"),
        ("acc_g", _i8_2, "[n_g_acc, 8] each buyer group's Σ (w·claim)² (columns 4..7 used)"),
    ],
    "A thread's working memory for one year at a time.",
)
Scratch: Any = SCRATCH.tuple_class
Scratch.__module__ = __name__
_SCRATCH_TYPE = SCRATCH.struct_type

#: Grid of Φ used to rule out defaults in a cell without evaluating Φ (see ``defaults``).
PHI_C0 = -38.5
PHI_SCALE = 32.0
PHI_N = 1505  # up to c = 8.5


@njit(cache=True)
def phi_grid():
    """Φ at the grid points PHI_C0 + k / PHI_SCALE, made monotone."""
    tab = np.empty(PHI_N)
    for k in range(PHI_N):
        tab[k] = norm_cdf(PHI_C0 + k / PHI_SCALE)
    for k in range(1, PHI_N):  # monotone (erfc is not, by a hair, below 1e-308)
        tab[k] = max(tab[k], tab[k - 1])
    return tab


_PHI: list[np.ndarray] = []


@njit(cache=True)
def scratch_struct(nt):
    """The structref of a :data:`Scratch` tuple (sharing its arrays)."""
    return to_struct(_SCRATCH_TYPE, nt)


def line_aligned_zeros(shape: tuple[int, ...], dtype: Any, line: int = 64) -> np.ndarray:
    """``np.zeros(shape, dtype)`` whose data starts on a cache-line boundary (``line`` bytes)."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    buf = np.zeros(nbytes + line, np.uint8)
    start = -buf.ctypes.data % line
    return buf[start : start + nbytes].view(dtype).reshape(shape)


def new_scratch(kp: Any) -> Any:
    """A fresh scratch record (structref) for portfolio ``kp`` (a ``KernelPortfolio``)."""
    return scratch_struct(scratch_arrays(kp))


def scratch_arrays(kp: Any) -> Any:
    """Fresh scratch arrays for portfolio ``kp``, as a :data:`Scratch` tuple."""
    if not _PHI:
        _PHI.append(phi_grid())
    n_b = kp.buyer_rec.shape[0]
    n_e = kp.exp_rec.shape[0]
    n_p = kp.pol_ind.shape[0]
    n_c = kp.country_key.shape[0]
    n_r = kp.region_key.shape[0]
    n_f = kp.factor_key.shape[0]
    n_u = kp.n_occ_units
    seed = np.uint64(kp.seed)
    sizes = {"n_f": n_f, "n_r": n_r, "n_c": n_c, "n_b": n_b, "n_e": n_e, "n_p": n_p}
    sizes.update({"n_cells": kp.cell_key.shape[0], "n_occ_units": n_u, "n_t": kp.t_kind.shape[0]})
    sizes["n_hg"] = kp.hg_key.shape[0]
    sizes["n_is"] = kp.is_mu.shape[0]
    on = bool(kp.accumulate)
    sizes.update(
        {
            "n_e_acc": n_e if on else 0,
            "n_b_acc": n_b if on else 0,
            "n_g_acc": kp.n_groups if on else 0,
        }
    )
    keys = {
        "key_factor": STREAM_FACTOR,
        "key_chi2": STREAM_CHI2,
        "key_pol_region": STREAM_POL_REGION,
        "key_pol_country": STREAM_POL_COUNTRY,
        "key_default": STREAM_DEFAULT,
        "key_group": STREAM_GROUP,
        "key_lgd": STREAM_LGD,
        "key_is": STREAM_IS,
        "key_monitor": STREAM_MONITOR,
        "key_monitor_cost": STREAM_MONITOR_COST,
    }
    values: dict[str, Any] = {}
    for name, typ, meaning in SCRATCH.fields:
        if name in keys:
            values[name] = np.uint64(stream_key(seed, keys[name]))
        elif name == "phi_hi":
            values[name] = _PHI[0]
        elif name == "b_slot":
            values[name] = np.full(max(n_b, 1), -1, np.int32)
        elif isinstance(typ, types.Array):
            # arrays' meanings start with their shape: [size] or [rows, size]
            dims = [d.strip() for d in meaning[1 : meaning.index("]")].split(",")]
            shape = tuple(int(d) if d.isdigit() else sizes[d] for d in dims)
            dtype = np.dtype(str(typ.dtype))
            # an accumulator row (an entity's 8 words) in one cache line
            values[name] = (
                line_aligned_zeros(shape, dtype)
                if name.startswith("acc_")
                else (np.zeros(shape, dtype=dtype))
            )
        elif name == "scale":
            values[name] = 1.0
        else:
            values[name] = 0.0 if isinstance(typ, types.Float) else 0
    return Scratch(**values)
