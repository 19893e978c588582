"""Pack a resolved book and its cells into the kernels' arrays (:class:`KernelPortfolio`).

Buyers are in kernel (visit) order; exposures sorted by buyer; what a default and a loss read is
packed into one record per buyer and per exposure (``kernels.portfolio``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from ..kernels.portfolio import (
    BUYER_RECORD,
    EXPOSURE_RECORD,
    LGD_CHENG,
    LGD_CLASS,
    LGD_FIXED,
    LGD_GAMMAS,
    LGD_TAB_BUCKETS,
    LGD_TAB_COEFS,
    LGD_TABLE,
    KernelPortfolio,
)
from ..kernels.rng import cheng_constants
from ..scenario.models import Scenario
from .cells import Cells
from .layout import SegmentLayout
from .resolve import Resolved, event_thresholds

__all__ = [
    "ExposureOrder",
    "Shifts",
    "order_exposures",
    "lgd_classes",
    "quantile_table",
    "LGD_TAB_TOL",
    "LGD_TAB_MAX_CLASSES",
    "pack",
    "shift_fields",
]


@dataclass
class ExposureOrder:
    """Exposures in kernel order (sorted by kernel buyer code): ``order[k]`` is the book row of
    kernel exposure k; ``buyer`` its kernel buyer code; ``buyer_ptr`` the CSR rows by buyer."""

    order: np.ndarray
    buyer: np.ndarray
    buyer_ptr: np.ndarray


def order_exposures(r: Resolved, cells: Cells) -> ExposureOrder:
    e_buyer = cells.inv[r.e_buyer]
    order = np.argsort(e_buyer, kind="stable")
    buyer = e_buyer[order].astype(np.int32)
    ptr = np.zeros(r.n_buyers + 1, dtype=np.int64)
    np.add.at(ptr, buyer.astype(np.int64) + 1, 1)
    return ExposureOrder(order=order, buyer=buyer, buyer_ptr=np.cumsum(ptr))


#: A tabulated LGD quantile function is accepted when, at 17 points of every interval (both
#: ends included), the polynomial's value y of the tabulated tail (the quantile below u = ½, one
#: minus it above) is within LGD_TAB_TOL × y of SciPy's ``betaincinv`` and the beta CDF at it
#: within LGD_TAB_CDF_TOL × t of the tail probability t: so the LGD is off by at most 1e-12
#: (absolute), and relatively less in either tail.
LGD_TAB_TOL = 1e-12
LGD_TAB_CDF_TOL = 1e-9
#: At most 2^LGD_TAB_MAX_K intervals a bucket (a law that needs more keeps its exact sampler).
LGD_TAB_MAX_K = 6
#: Books with more distinct beta LGD laws than this keep the exact samplers (a table costs about
#: 40 KB and a few milliseconds to build).
LGD_TAB_MAX_CLASSES = 64

_NODES = np.cos(np.pi * (np.arange(LGD_TAB_COEFS) + 0.5) / LGD_TAB_COEFS)  # Chebyshev
_FROM_NODES = np.linalg.inv(np.vander(_NODES, LGD_TAB_COEFS, increasing=True))
_CHECK = np.linspace(-1.0, 1.0, 17)


def _estrin(c: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The rows' polynomials at ``x``, in the kernel's order of operations
    (``kernels.losses.lgd_tabulated``)."""
    c = c[..., None, :]
    x2 = x * x
    lo = c[..., 0] + c[..., 1] * x + x2 * (c[..., 2] + c[..., 3] * x)
    hi = (c[..., 4] + c[..., 5] * x) + x2 * (c[..., 6] + c[..., 7] * x)
    return lo + x2 * x2 * hi


def _tail_rows(a: float, b: float, k: int) -> np.ndarray | None:
    """The polynomials of the quantile function of Beta(a, b) at t ∈ [2^-54, ½) (buckets ×
    2^k intervals, rows in the kernel's order), or None when they miss the tolerance."""
    from scipy.special import betainc, betaincinv

    m = 1 << k
    j = np.arange(1, LGD_TAB_BUCKETS + 1)[:, None, None]
    i = np.arange(m)[None, :, None]

    def t_at(x: np.ndarray) -> np.ndarray:
        return np.ldexp(1.0 + (i + (x + 1.0) / 2.0) / m, j - 55)

    with np.errstate(all="ignore"):
        coef = betaincinv(a, b, t_at(_NODES)) @ _FROM_NODES.T
        t = t_at(_CHECK)
        y = betaincinv(a, b, t)
        got = _estrin(coef, _CHECK)
        ok = np.all(np.abs(got - y) <= LGD_TAB_TOL * y) and np.all(
            np.abs(betainc(a, b, got) - t) <= LGD_TAB_CDF_TOL * t
        )
    return coef.reshape(-1, LGD_TAB_COEFS) if ok else None


@functools.lru_cache(maxsize=256)
def quantile_table(a: float, b: float) -> tuple[np.ndarray, int] | None:
    """The tabulated quantile function of Beta(``a``, ``b``): rows for u < ½ (the quantile at
    t = u) then u ≥ ½ (one minus it, the quantile of Beta(b, a) at t = 1 − u), and the log2 of
    the intervals per bucket; None when no table of at most 2^LGD_TAB_MAX_K intervals a bucket
    meets the tolerance (see ``LGD_TAB_TOL``). About 10–40 ms a law; kept for the process (a
    stress, a sweep or a re-simulation compiles the same laws again). Read-only."""
    for k in range(LGD_TAB_MAX_K + 1):
        lower = _tail_rows(a, b, k)
        upper = _tail_rows(b, a, k) if lower is not None else None
        if upper is not None:
            assert lower is not None
            rows = np.concatenate([lower, upper])
            rows.flags.writeable = False
            return rows, k
    return None


def _few_unique(x: np.ndarray) -> np.ndarray:
    """``np.unique(x)`` for an array of few distinct values: a hash pass (Polars), then a sort
    of the distinct values only (4× faster than sorting ten million)."""
    return np.unique(pl.Series(x).unique().to_numpy())


def _unique_rows(*cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(np.stack(cols, axis=1), axis=0, return_inverse=True)`` for a few float columns
    with few distinct values, without sorting rows: each column's dense rank, then one integer
    key per row (lexicographic in the columns, as the rows' order)."""
    n = len(cols[0])
    uniq = [_few_unique(c) for c in cols]
    if not n or math.prod(len(u) for u in uniq) >= 2**62:  # keys would overflow: sort rows
        keys = np.stack(cols, axis=1) if n else np.zeros((0, len(cols)))
        rows, inv = np.unique(keys, axis=0, return_inverse=True)
        return rows, inv.reshape(-1)
    key = np.zeros(n, dtype=np.int64)
    for c, u in zip(cols, uniq, strict=True):
        key *= len(u)
        key += np.searchsorted(u, c)
    ukey = _few_unique(key)
    inv = np.searchsorted(ukey, key)
    rows = np.empty((len(ukey), len(cols)))
    for j in range(len(cols) - 1, -1, -1):
        rows[:, j] = uniq[j][ukey % len(uniq[j])]
        ukey //= len(uniq[j])
    return rows, inv.reshape(-1)


def lgd_classes(
    mean: np.ndarray, alpha: np.ndarray, beta: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (mean, alpha, beta) LGD laws with their sampler set-up, each buyer's class and
    the tables of the tabulated classes (``kernels.portfolio.LGD_CLASS``, ``lgd_tab``).

    Classes are numbered in lexicographic order of (mean, alpha, beta).
    """
    uniq, cls = _unique_rows(mean, alpha, beta)
    table = np.zeros(len(uniq), dtype=LGD_CLASS)
    tabulate = int(np.sum(uniq[:, 1] > 0)) <= LGD_TAB_MAX_CLASSES
    rows = [np.zeros((0, LGD_TAB_COEFS))]
    n_rows = 0
    for i, (mu_i, a_i, b_i) in enumerate(uniq):
        rec = table[i]
        rec["mean"], rec["alpha"], rec["beta"] = mu_i, a_i, b_i
        if a_i > 1 and b_i > 1:
            rec["method"] = LGD_CHENG
            rec["ch_a"], rec["ch_b"], rec["ch_beta"], rec["ch_gamma"] = cheng_constants(a_i, b_i)
        else:
            rec["method"] = LGD_GAMMAS if a_i > 0 else LGD_FIXED
        fit = quantile_table(float(a_i), float(b_i)) if tabulate and a_i > 0 else None
        if fit is not None:
            rec["method"], rec["tab_row0"], rec["tab_k"] = LGD_TABLE, n_rows, fit[1]
            rec["tab_scale"] = 2.0 ** -(51 - fit[1])
            rows.append(fit[0])
            n_rows += len(fit[0])
    tab = np.ascontiguousarray(np.concatenate(rows), dtype=np.float64)
    return table, cls.reshape(-1).astype(np.int32), tab


def _records(
    r: Resolved, cells: Cells, eo: ExposureOrder
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    perm = cells.perm
    lgd_table, lgd_class, lgd_tab = lgd_classes(
        r.b_lgd_mean[perm], r.b_lgd_alpha[perm], r.b_lgd_beta[perm]
    )
    buyer_rec = np.zeros(r.n_buyers, dtype=BUYER_RECORD)
    buyer_rec["key"] = r.b_key[perm]
    buyer_rec["exp_start"] = eo.buyer_ptr[:-1]
    buyer_rec["exp_end"] = eo.buyer_ptr[1:]
    buyer_rec["country"] = r.b_country[perm]
    buyer_rec["sector"] = r.b_sector[perm]
    buyer_rec["lgd_class"] = lgd_class
    o = eo.order
    exp_rec = np.zeros(len(o), dtype=EXPOSURE_RECORD)
    exp_rec["ead"] = r.e_ead[o]
    exp_rec["policy"] = r.e_policy[o]
    exp_rec["buyer"] = eo.buyer
    exp_rec["comm"] = r.e_commercial[o]
    exp_rec["pol"] = r.e_political[o]
    exp_rec["term"] = r.e_term_days[o] / 365.0
    return buyer_rec, exp_rec, lgd_table, lgd_tab


def _padded_loadings(cells: Cells) -> dict[str, Any]:
    """The cells' loadings as CSR rows of one common length (zero loadings of factor 0 added),
    so that the kernels loop over them with a fixed count."""
    ptr = cells.cell_fac_ptr
    n_cells = len(ptr) - 1
    counts = np.diff(ptr)
    k = int(counts.max()) if n_cells else 0
    idx = np.zeros((n_cells, k), dtype=np.int32)
    w = np.zeros((n_cells, k), dtype=np.float64)
    pos = np.arange(len(cells.cell_fac_idx)) - np.repeat(ptr[:-1], counts)
    row = np.repeat(np.arange(n_cells), counts)
    idx[row, pos] = cells.cell_fac_idx
    w[row, pos] = cells.cell_fac_w
    return {
        "cell_fac_ptr": np.arange(n_cells + 1, dtype=np.int64) * k,
        "cell_fac_idx": idx.reshape(-1),
        "cell_fac_w": w.reshape(-1),
        "cell_fac_k": k,
    }


def _political_exposures(r: Resolved, eo: ExposureOrder) -> tuple[np.ndarray, np.ndarray]:
    """Politically covered exposures (kernel codes) grouped by country, as CSR."""
    e_country = r.b_country[r.e_buyer[eo.order]]
    pe = np.nonzero(r.e_political[eo.order])[0]
    pe = pe[np.argsort(e_country[pe], kind="stable")]
    ptr = np.zeros(len(r.country_codes) + 1, dtype=np.int64)
    np.add.at(ptr, e_country[pe].astype(np.int64) + 1, 1)
    return np.cumsum(ptr), pe.astype(np.int32)


@dataclass
class Shifts:
    """Mean shifts of the draws: importance sampling's mixture, and a stress's factor shift.

    ``components`` [K, n_f + n_r + n_c]: each mixture component's means of the independent
    factor draws, the regional political draws V and the countries' draws η (columns in that
    order); ``probabilities`` [K]: how often each component is drawn (sum 1). A component of zeros
    draws as plain Monte Carlo (a defensive share). ``stress`` [n_f]: δ added to the factors Z
    (part of the model, never of the likelihood ratio). None: no shift.
    """

    components: np.ndarray | None = None
    probabilities: np.ndarray | None = None
    stress: np.ndarray | None = None


def shift_fields(n_f: int, n_r: int, n_c: int, shifts: Shifts | None) -> dict[str, Any]:
    """The kernel portfolio's shift fields (``shifted``, ``is_*``, ``stressed``,
    ``stress_shift``) for ``shifts`` (None: no shift)."""
    shifts = shifts or Shifts()
    n = n_f + n_r + n_c
    if shifts.components is None or not np.any(shifts.components != 0):
        mu, prob = np.zeros((1, n)), np.ones(1)
    else:
        mu = np.ascontiguousarray(np.atleast_2d(shifts.components), dtype=np.float64)
        prob = np.ones(len(mu)) if shifts.probabilities is None else shifts.probabilities
        prob = np.asarray(prob, dtype=np.float64) / float(np.sum(prob))
    if mu.shape[1] != n:
        raise ValueError(f"shift components need {n} columns, got {mu.shape[1]}")
    stress = (
        np.zeros(n_f)
        if shifts.stress is None
        else np.ascontiguousarray(shifts.stress, dtype=np.float64)
    )
    with np.errstate(divide="ignore"):
        log_alpha = np.log(prob)
    return {
        "shifted": bool(np.any(mu != 0)),
        "is_mu": mu,
        "is_cum": np.cumsum(prob),
        "is_log_alpha": log_alpha,
        "is_half2": 0.5 * np.sum(mu * mu, axis=1),
        "stressed": bool(np.any(stress != 0)),
        "stress_shift": stress,
    }


def monitoring_fields(r: Resolved, cells: Cells, scenario: Scenario) -> dict[str, Any]:
    """The kernel portfolio's dynamic-limit-management fields (``monitoring``, ``mon_*``)."""
    from scipy.special import ndtri

    cfg = scenario.monitoring
    on = bool(cfg.enabled)
    # the reviews t_k = k / R, k = 1 … R − 1; their cut takes effect before year end or not
    reviews = cfg.reviews_per_year
    notice = cfg.notice_days / 365.0
    t = np.arange(1, reviews) / reviews
    t_prev = np.r_[0.0, t[:-1]]
    dt = t - t_prev
    # backwards: from the next review (year end after the last) towards X(0) = 0
    t_next = np.append(t[1:], 1.0)[: len(t)]
    dn = t_next - t
    table = np.stack(
        [
            t,
            dt / (1 - t_prev),
            np.sqrt(dt * (1 - t) / (1 - t_prev)),
            np.sqrt(1 - t),
            dn / t_next,
            np.sqrt(dn * t / t_next),
            (t + notice < 1.0).astype(np.float64),
        ],
        axis=1,
    )
    trigger = np.maximum(cfg.trigger_pd, np.minimum(cfg.trigger_multiple * cells.cell_pd, 0.999999))
    turnover = (
        np.bincount(cells.inv[r.e_buyer], weights=r.e_turnover, minlength=r.n_buyers)
        if on
        else np.zeros(0)
    )
    cum, total = np.cumsum(turnover), float(turnover.sum())
    # the guide table: the buyer a turnover of (j/G) × total falls in, j = 0 … G, with the
    # kernel's float operations (u ≥ j/G implies u × total ≥ (j/G) × total; j/G is exact)
    size = min(4096, 1 << int(np.ceil(np.log2(len(cum))))) if len(cum) else 0
    guide = np.searchsorted(cum, np.arange(size + 1) / size * total, side="right") if size else []
    return {
        "monitoring": on,
        "mon_reviews": len(t),
        "mon_table": np.ascontiguousarray(table.reshape(-1, 7)),
        "mon_noise": float(cfg.signal_noise),
        "mon_cut_to": float(cfg.cut_to),
        "mon_notice": float(cfg.notice_days) / 365.0,
        "mon_z": np.ascontiguousarray(ndtri(trigger), dtype=np.float64),
        "mon_sample": int(cfg.turnover_sample),
        "mon_cum_turnover": cum,
        "mon_turnover": total,
        "mon_guide": np.ascontiguousarray(guide, dtype=np.int64),
    }


def pack(
    r: Resolved,
    cells: Cells,
    eo: ExposureOrder,
    scenario: Scenario,
    treaties: tuple[np.ndarray, np.ndarray, np.ndarray],
    layout: SegmentLayout,
    shifts: Shifts | None = None,
    accumulate: bool = False,
    acc_net: bool = False,
) -> KernelPortfolio:
    """The kernel portfolio. ``treaties`` is (kinds int32[n_t], params [n_t, K], scope
    uint8[n_t, n_b] in kernel buyer order)."""
    m, pol = scenario.model, scenario.political
    buyer_rec, exp_rec, lgd_table, lgd_tab = _records(r, cells, eo)
    cpe_ptr, cpe_exp = _political_exposures(r, eo)
    t_kind, t_params, t_scope = treaties
    occ = scenario.outputs.occurrence_threshold
    # the kernels take unit u's buyers to be unit_member_ptr[u] … unit_member_ptr[u + 1] − 1
    if not np.array_equal(cells.unit_members, np.arange(len(cells.unit_members))):
        raise AssertionError("cells: units' members are not numbered in visit order")
    return KernelPortfolio(
        seed=np.uint64(scenario.simulation.seed),
        student_t=m.copula == "student_t",
        dof=float(m.dof),
        explicit=r.factors.explicit,
        factor_key=np.ascontiguousarray(r.factors.keys, dtype=np.uint64),
        factor_chol=np.ascontiguousarray(r.factors.chol, dtype=np.float64),
        pol_enabled=bool(pol.enabled),
        pol_a=math.sqrt(pol.correlation),
        pol_b=math.sqrt(1 - pol.correlation),
        region_key=r.region_key,
        country_key=r.c_key,
        country_region=r.c_region.astype(np.int32),
        country_polthr=event_thresholds(r.c_event_pd).astype(np.float64),
        country_plgd=r.c_political_lgd,
        cell_key=cells.cell_key,
        cell_thr0=cells.cell_thr0,
        cell_thr1=cells.cell_thr1,
        cell_inv_sigma=cells.cell_inv_sigma,
        cell_country=cells.cell_country,
        **_padded_loadings(cells),
        cell_unit_ptr=cells.cell_unit_ptr.astype(np.int64),
        unit_member_ptr=cells.unit_member_ptr,
        unit_members=cells.unit_members,
        hg_key=cells.hg_key,
        hg_ptr=cells.hg_ptr,
        hg_members=cells.hg_members,
        buyer_cell=cells.buyer_cell,
        lgd_class=lgd_table,
        lgd_tab=lgd_tab,
        buyer_occ_group=cells.buyer_occ_group,
        buyer_rec=buyer_rec,
        exp_rec=exp_rec,
        cpe_ptr=cpe_ptr,
        cpe_exp=cpe_exp,
        pol_ind=r.p_indemnity,
        pol_ded=r.p_deductible,
        pol_nql=r.p_nql,
        pol_maxl=r.p_max_liability,
        t_kind=t_kind,
        t_params=t_params,
        t_scope=t_scope,
        n_occ_units=int(max(r.n_buyers + len(r.group_ids), len(r.country_codes), 1)),
        seg_sector0=layout.sector0,
        seg_policy0=layout.policy0,
        seg_net0=layout.net0,
        n_seg=layout.width,
        occ_threshold=math.inf if occ is None else float(occ),
        **shift_fields(len(r.factors.keys), len(r.region_names), len(r.country_codes), shifts),
        accumulate=bool(accumulate),
        acc_net=bool(accumulate and acc_net),
        n_groups=len(r.group_ids),
        **monitoring_fields(r, cells, scenario),
    )
