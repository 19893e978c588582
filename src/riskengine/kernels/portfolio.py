"""The compiled portfolio as the kernels see it, declared once.

:data:`PORTFOLIO` lists every array and scalar the kernels read, with its Numba type and meaning;
:class:`KernelPortfolio` (a picklable NamedTuple of NumPy arrays: what compile produces and Dask
scatters) and the structref type the kernels take are both built from it
(:mod:`riskengine.kernels.structs`), and :func:`to_kernel` converts one into the other without
copying an array.

Index conventions: buyers, countries, regions, sectors and policies are 0-based codes whose labels
live in :class:`riskengine.portfolio.CompiledPortfolio`. Exposures are stored sorted by buyer,
and buyers are numbered in the order the kernel visits them. Amounts are in the reporting
currency.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import from_dtype, njit, types

from .structs import declare, to_struct

__all__ = [
    "PORTFOLIO",
    "KernelPortfolio",
    "BUYER_RECORD",
    "EXPOSURE_RECORD",
    "LGD_CLASS",
    "LGD_FIXED",
    "LGD_CHENG",
    "LGD_GAMMAS",
    "LGD_TABLE",
    "LGD_TAB_BUCKETS",
    "LGD_TAB_COEFS",
    "to_kernel",
]

#: One record per buyer with what a default reads, in one cache line per two buyers.
BUYER_RECORD = np.dtype(
    [
        ("key", "<u8"),
        ("exp_start", "<i4"),
        ("exp_end", "<i4"),
        ("country", "<i4"),
        ("sector", "<i4"),
        ("lgd_class", "<i4"),
        ("pad", "<i4"),
    ]
)
#: One record per exposure with what a loss reads (``term``: the payment term in years).
EXPOSURE_RECORD = np.dtype(
    [
        ("ead", "<f8"),
        ("policy", "<i4"),
        ("buyer", "<i4"),
        ("comm", "u1"),
        ("pol", "u1"),
        ("pad", "u1", (2,)),
        ("term", "<f4"),
    ]
)
#: How an LGD class is drawn: fixed at its mean, Cheng's BB (both shapes > 1), two gammas, or
#: its tabulated quantile function (``losses.lgd_tabulated``; the exact samplers remain for
#: classes whose table is not built).
LGD_FIXED, LGD_CHENG, LGD_GAMMAS, LGD_TABLE = 0, 1, 2, 3
#: The tabulated quantile function of a beta law: its two tails (u < ½ and 1 − u < ½) are cut
#: into LGD_TAB_BUCKETS dyadic buckets each ([2^(j − 55), 2^(j − 54)), j = 1 … 53: every
#: 53-bit uniform falls in one), a bucket into 2^k equal intervals, and an interval holds the
#: LGD_TAB_COEFS coefficients of a polynomial in x ∈ [−1, 1) (one 64-byte row).
LGD_TAB_BUCKETS = 53
LGD_TAB_COEFS = 8
#: One record per distinct (mean, alpha, beta) of beta LGDs, with the sampler's set-up constants.
LGD_CLASS = np.dtype(
    [
        ("mean", "<f8"),
        ("alpha", "<f8"),
        ("beta", "<f8"),
        ("method", "<i8"),
        ("ch_a", "<f8"),
        ("ch_b", "<f8"),
        ("ch_beta", "<f8"),
        ("ch_gamma", "<f8"),
        ("tab_row0", "<i8"),
        ("tab_k", "<i8"),
        ("tab_scale", "<f8"),
    ]
)

_f8 = types.Array(types.float64, 1, "C")
_i4 = types.Array(types.int32, 1, "C")
_i8 = types.Array(types.int64, 1, "C")
_u8 = types.Array(types.uint64, 1, "C")

PORTFOLIO = declare(
    "KernelPortfolio",
    [
        ("seed", types.uint64, "the run's seed"),
        ("student_t", types.boolean, "Student-t copula (else Gaussian)"),
        ("dof", types.float64, "degrees of freedom of the Student-t copula"),
        ("explicit", types.boolean, "explicit factor model (factor_loadings table)"),
        ("factor_key", _u8, "uint64[n_f]: entity key of each systematic factor's draw"),
        ("factor_chol", types.Array(types.float64, 2, "C"), "[n_f, n_f] Cholesky factor of Σ_F"),
        ("pol_enabled", types.boolean, "political events simulated"),
        ("pol_a", types.float64, "√ρ_p"),
        ("pol_b", types.float64, "√(1 − ρ_p)"),
        ("region_key", _u8, "uint64[n_r]"),
        ("country_key", _u8, "uint64[n_c]"),
        ("country_region", _i4, "int32[n_c]"),
        ("country_polthr", _f8, "float64[n_c]: Φ⁻¹(q_c) (−inf: never an event)"),
        ("country_plgd", _f8, "float64[n_c]: political LGD"),
        ("cell_key", _u8, "uint64[n_cells]: key of the cell's default draws"),
        ("cell_thr0", _f8, "threshold of the cell's PD"),
        ("cell_thr1", _f8, "threshold of the cell's contagion PD"),
        ("cell_inv_sigma", _f8, "1 / idiosyncratic weight"),
        ("cell_country", _i4, "country code of the cell"),
        (
            "cell_fac_ptr",
            _i8,
            "int64[n_cells + 1]: CSR rows of the cell's loadings, cell_fac_k each (padded with "
            "zero loadings of factor 0)",
        ),
        ("cell_fac_idx", _i4, "factor index of each loading"),
        ("cell_fac_w", _f8, "loading"),
        ("cell_fac_k", types.int64, "loadings a cell (the CSR rows' common length)"),
        ("cell_unit_ptr", _i8, "int64[n_cells + 1]: units of each cell"),
        ("unit_member_ptr", _i8, "int64[n_units + 1]: buyers of each unit"),
        (
            "unit_members",
            _i4,
            "buyer codes: k at position k (buyers are numbered in visit order), so the kernels "
            "read a unit's buyers from unit_member_ptr alone",
        ),
        ("hg_key", _u8, "uint64[n_hg]: key of each heterogeneous group's ε"),
        ("hg_ptr", _i8, "int64[n_hg + 1]"),
        ("hg_members", _i4, "buyer codes"),
        ("buyer_cell", _i4, "int32[n_b]"),
        ("lgd_class", types.Array(from_dtype(LGD_CLASS), 1, "C"), "LGD_CLASS[n_lgd]"),
        (
            "lgd_tab",
            types.Array(types.float64, 2, "C"),
            "[rows, LGD_TAB_COEFS]: the tabulated LGD quantile functions' polynomials (rows of "
            "class c from its tab_row0: (tail · LGD_TAB_BUCKETS + bucket − 1) · 2^tab_k "
            "+ interval)",
        ),
        ("buyer_occ_group", _i4, "occurrence of a per-group XL: group code, or n_groups + buyer"),
        ("buyer_rec", types.Array(from_dtype(BUYER_RECORD), 1, "C"), "BUYER_RECORD[n_b]"),
        ("exp_rec", types.Array(from_dtype(EXPOSURE_RECORD), 1, "C"), "EXPOSURE_RECORD[n_e]"),
        ("cpe_ptr", _i8, "int64[n_c + 1]: politically covered exposures by country"),
        ("cpe_exp", _i4, "exposure codes"),
        ("pol_ind", _f8, "float64[n_p]: indemnity"),
        ("pol_ded", _f8, "aggregate first loss"),
        ("pol_nql", _f8, "non-qualifying loss"),
        ("pol_maxl", _f8, "maximum liability (inf: no cap)"),
        ("t_kind", _i4, "int32[n_t]: codes.TREATY_KINDS"),
        ("t_params", types.Array(types.float64, 2, "C"), "[n_t, codes.N_TREATY_PARAMS]"),
        ("t_scope", types.Array(types.uint8, 2, "C"), "uint8[n_t, n_b]: buyer in scope"),
        ("n_occ_units", types.int64, "size of occurrence accumulators: max(n_b + n_groups, n_c)"),
        ("seg_sector0", types.int64, "segment column of sector 0 (countries come first)"),
        ("seg_policy0", types.int64, "segment column of policy 0 (−1: no policy segments)"),
        ("seg_net0", types.int64, "segment column where the net block starts (−1: none)"),
        ("n_seg", types.int64, "columns of the segment matrix"),
        ("occ_threshold", types.float64, "occurrences above it are recorded (inf: none)"),
        ("shifted", types.boolean, "importance sampling: draws from a mixture of mean shifts"),
        (
            "is_mu",
            types.Array(types.float64, 2, "C"),
            "[K, n_f + n_r + n_c]: each component's means of the independent factor draws (ξ, or "
            "Z), the regional political draws V and the countries' draws η",
        ),
        ("is_cum", _f8, "float64[K]: cumulative probabilities of the components"),
        ("is_log_alpha", _f8, "float64[K]: log probability of each component"),
        ("is_half2", _f8, "float64[K]: ½|μ_k|² of each component"),
        ("stressed", types.boolean, "a stress shifts the factors by stress_shift"),
        ("stress_shift", _f8, "float64[n_f]: δ added to the factors Z (a stress, not sampling)"),
        ("accumulate", types.boolean, "accumulate each exposure's and buyer's claims (EL)"),
        ("acc_net", types.boolean, "accumulate the net claims too (the net perspective)"),
        ("n_groups", types.int64, "buyer groups (occurrence units below n_groups are groups)"),
        ("monitoring", types.boolean, "dynamic limit management (reviews and cuts)"),
        ("mon_reviews", types.int64, "reviews a year, after the first day (R − 1)"),
        (
            "mon_table",
            types.Array(types.float64, 2, "C"),
            "[reviews, 7]: per review t_k, the forward bridge's mean weight Δt/(1 − t_{k−1}), "
            "its sd √(Δt (1 − t_k)/(1 − t_{k−1})), √(1 − t_k), the backward bridge's (from "
            "t_{k+1}, 1 after the last review) weight (t_{k+1} − t_k)/t_{k+1} and sd "
            "√((t_{k+1} − t_k) t_k/t_{k+1}), and 1 when its cut takes effect within the year "
            "(t_k + notice < 1; a prefix of the reviews), else 0",
        ),
        ("mon_noise", types.float64, "sd of the review signal's error (latent units)"),
        ("mon_cut_to", types.float64, "a cut reduces the limit to this share"),
        ("mon_notice", types.float64, "notice before a cut takes effect (years)"),
        ("mon_z", _f8, "float64[n_cells]: Φ⁻¹ of each cell's trigger PD"),
        ("mon_sample", types.int64, "buyers sampled a year for the turnover lost"),
        ("mon_cum_turnover", _f8, "float64[n_b or 0]: cumulative insured turnover by buyer"),
        ("mon_turnover", types.float64, "the book's insured turnover"),
        (
            "mon_guide",
            _i8,
            "int64[G + 1] (G a power of 2, 0 off): the buyer a turnover of (j/G) × the book's "
            "falls in, so that sampling searches only between two neighbours (a guide table)",
        ),
    ],
    "Every array and scalar the kernels read; picklable.",
)
KernelPortfolio: Any = PORTFOLIO.tuple_class
KernelPortfolio.__module__ = __name__
_PORTFOLIO_TYPE = PORTFOLIO.struct_type


@njit(cache=True)
def _to_struct(nt):
    return to_struct(_PORTFOLIO_TYPE, nt)


def to_kernel(nt: KernelPortfolio) -> Any:
    """The structref the kernels take, sharing ``nt``'s arrays (no copies)."""
    return _to_struct(nt)
