"""The compiled portfolio as the kernels see it.

``FIELDS`` declares, once, every array and scalar the kernels read, with its Numba type and
meaning. From it come :class:`KernelPortfolio` (a picklable NamedTuple of NumPy arrays: what
compile produces and what Dask scatters to workers) and :data:`PortfolioType` (a Numba structref:
what jitted code receives). Kernels take the structref, which is passed by reference — passing
the ~60 arrays by value through every jitted call multiplied compile time several-fold.

Index conventions: buyers, countries, regions, sectors and policies are 0-based codes whose labels
live in :class:`riskengine.compile.CompiledPortfolio`. Exposures are stored sorted by buyer.
Amounts are in the reporting currency.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import from_dtype, njit, types
from numba.experimental import structref

__all__ = [
    "FIELDS",
    "BUYER_RECORD",
    "EXPOSURE_RECORD",
    "KernelPortfolio",
    "PortfolioType",
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
#: One record per exposure with what a loss reads.
EXPOSURE_RECORD = np.dtype(
    [
        ("ead", "<f8"),
        ("policy", "<i4"),
        ("buyer", "<i4"),
        ("comm", "u1"),
        ("pol", "u1"),
        ("pad", "u1", (6,)),
    ]
)

#: (name, Numba type, meaning) of every field, in order.
FIELDS = [
    ("seed", types.uint64, ""),
    ("student_t", types.boolean, ""),
    ("dof", types.float64, ""),
    ("explicit", types.boolean, ""),
    ("factor_key", types.Array(types.uint64, 1, "C"), "uint64[n_f]"),
    (
        "factor_chol",
        types.Array(types.float64, 2, "C"),
        "float64[n_f, n_f] (explicit model; identity otherwise)",
    ),
    ("pol_enabled", types.boolean, ""),
    ("pol_a", types.float64, "sqrt(rho_p)"),
    ("pol_b", types.float64, "sqrt(1 - rho_p)"),
    ("region_key", types.Array(types.uint64, 1, "C"), "uint64[n_r]"),
    ("country_key", types.Array(types.uint64, 1, "C"), "uint64[n_c]"),
    ("country_region", types.Array(types.int32, 1, "C"), "int32[n_c]"),
    (
        "country_polthr",
        types.Array(types.float64, 1, "C"),
        "float64[n_c], Phi^-1(q_c) (-inf: never)",
    ),
    ("country_plgd", types.Array(types.float64, 1, "C"), "float64[n_c]"),
    ("cell_key", types.Array(types.uint64, 1, "C"), "uint64[n_cells]"),
    ("cell_thr0", types.Array(types.float64, 1, "C"), "float64: threshold of the PD"),
    ("cell_thr1", types.Array(types.float64, 1, "C"), "float64: threshold of the contagion PD"),
    ("cell_inv_sigma", types.Array(types.float64, 1, "C"), "float64: 1 / sqrt(1 - a'Σa)"),
    ("cell_country", types.Array(types.int32, 1, "C"), "int32"),
    ("cell_fac_ptr", types.Array(types.int64, 1, "C"), "int64[n_cells + 1]"),
    ("cell_fac_idx", types.Array(types.int32, 1, "C"), "int32"),
    ("cell_fac_w", types.Array(types.float64, 1, "C"), "float64"),
    ("cell_unit_ptr", types.Array(types.int64, 1, "C"), "int64[n_cells + 1]"),
    ("unit_member_ptr", types.Array(types.int64, 1, "C"), "int64[n_units + 1]"),
    ("unit_members", types.Array(types.int32, 1, "C"), "int32 buyer codes"),
    ("hg_key", types.Array(types.uint64, 1, "C"), "uint64[n_hg]"),
    ("hg_ptr", types.Array(types.int64, 1, "C"), "int64[n_hg + 1]"),
    ("hg_members", types.Array(types.int32, 1, "C"), "int32 buyer codes"),
    ("buyer_cell", types.Array(types.int32, 1, "C"), "int32"),
    (
        "lgd_table",
        types.Array(types.float64, 2, "C"),
        "[n_lgd, 8]: mean, alpha, beta, method (0 fixed, 1 Cheng BB, 2 gammas), Cheng's a, b, beta, gamma",
    ),
    (
        "buyer_occ_group",
        types.Array(types.int32, 1, "C"),
        "int32: occurrence unit for per-group XL (group code, or n_groups + buyer)",
    ),
    (
        "buyer_rec",
        types.Array(from_dtype(BUYER_RECORD), 1, "C"),
        "BUYER_RECORD[n_b]: the buyer arrays a default reads, packed",
    ),
    (
        "exp_rec",
        types.Array(from_dtype(EXPOSURE_RECORD), 1, "C"),
        "EXPOSURE_RECORD[n_e]: the exposure arrays a loss reads, packed",
    ),
    (
        "cpe_ptr",
        types.Array(types.int64, 1, "C"),
        "int64[n_c + 1]: politically covered exposures by country",
    ),
    ("cpe_exp", types.Array(types.int32, 1, "C"), "int32"),
    ("pol_ind", types.Array(types.float64, 1, "C"), ""),
    ("pol_ded", types.Array(types.float64, 1, "C"), ""),
    ("pol_nql", types.Array(types.float64, 1, "C"), ""),
    ("pol_maxl", types.Array(types.float64, 1, "C"), "inf: no cap"),
    ("t_kind", types.Array(types.int32, 1, "C"), "int32[n_t]"),
    (
        "t_params",
        types.Array(types.float64, 2, "C"),
        "[n_t, 4]: share, retention, limit, annual cap (limit·(1 + reinstatements); inf: unlimited)",
    ),
    ("t_scope", types.Array(types.uint8, 2, "C"), "uint8[n_t, n_b]"),
    ("n_occ_units", types.int64, "size of occurrence accumulators: max(n_b + n_groups, n_c)"),
    ("n_sectors", types.int64, ""),
    ("n_seg", types.int64, "columns of the segment matrix: n_c + n_s (+ n_p if policy segments)"),
    ("seg_policy", types.boolean, ""),
    ("occ_threshold", types.float64, "inf: no occurrence output"),
]


@structref.register
class PortfolioType(types.StructRef):
    """Numba type of the kernel portfolio (a structref: passed by reference)."""

    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


class _PortfolioProxy(structref.StructRefProxy):
    pass


structref.define_proxy(_PortfolioProxy, PortfolioType, [f[0] for f in FIELDS])

PORTFOLIO_TYPE = PortfolioType([(name, typ) for name, typ, _ in FIELDS])

KernelPortfolio = NamedTuple(  # noqa: UP014 - built from FIELDS
    "KernelPortfolio",
    [
        ("seed", np.uint64),
        ("student_t", bool),
        ("dof", float),
        ("explicit", bool),
        ("factor_key", np.ndarray),
        ("factor_chol", np.ndarray),
        ("pol_enabled", bool),
        ("pol_a", float),
        ("pol_b", float),
        ("region_key", np.ndarray),
        ("country_key", np.ndarray),
        ("country_region", np.ndarray),
        ("country_polthr", np.ndarray),
        ("country_plgd", np.ndarray),
        ("cell_key", np.ndarray),
        ("cell_thr0", np.ndarray),
        ("cell_thr1", np.ndarray),
        ("cell_inv_sigma", np.ndarray),
        ("cell_country", np.ndarray),
        ("cell_fac_ptr", np.ndarray),
        ("cell_fac_idx", np.ndarray),
        ("cell_fac_w", np.ndarray),
        ("cell_unit_ptr", np.ndarray),
        ("unit_member_ptr", np.ndarray),
        ("unit_members", np.ndarray),
        ("hg_key", np.ndarray),
        ("hg_ptr", np.ndarray),
        ("hg_members", np.ndarray),
        ("buyer_cell", np.ndarray),
        ("lgd_table", np.ndarray),
        ("buyer_occ_group", np.ndarray),
        ("buyer_rec", np.ndarray),
        ("exp_rec", np.ndarray),
        ("cpe_ptr", np.ndarray),
        ("cpe_exp", np.ndarray),
        ("pol_ind", np.ndarray),
        ("pol_ded", np.ndarray),
        ("pol_nql", np.ndarray),
        ("pol_maxl", np.ndarray),
        ("t_kind", np.ndarray),
        ("t_params", np.ndarray),
        ("t_scope", np.ndarray),
        ("n_occ_units", int),
        ("n_sectors", int),
        ("n_seg", int),
        ("seg_policy", bool),
        ("occ_threshold", float),
    ],
)
KernelPortfolio.__doc__ = "Every array and scalar the kernels read (see ``FIELDS``); picklable."
KernelPortfolio.__module__ = __name__


@njit(cache=True)
def _to_struct(nt):
    st = structref.new(PORTFOLIO_TYPE)
    st.seed = nt.seed
    st.student_t = nt.student_t
    st.dof = nt.dof
    st.explicit = nt.explicit
    st.factor_key = nt.factor_key
    st.factor_chol = nt.factor_chol
    st.pol_enabled = nt.pol_enabled
    st.pol_a = nt.pol_a
    st.pol_b = nt.pol_b
    st.region_key = nt.region_key
    st.country_key = nt.country_key
    st.country_region = nt.country_region
    st.country_polthr = nt.country_polthr
    st.country_plgd = nt.country_plgd
    st.cell_key = nt.cell_key
    st.cell_thr0 = nt.cell_thr0
    st.cell_thr1 = nt.cell_thr1
    st.cell_inv_sigma = nt.cell_inv_sigma
    st.cell_country = nt.cell_country
    st.cell_fac_ptr = nt.cell_fac_ptr
    st.cell_fac_idx = nt.cell_fac_idx
    st.cell_fac_w = nt.cell_fac_w
    st.cell_unit_ptr = nt.cell_unit_ptr
    st.unit_member_ptr = nt.unit_member_ptr
    st.unit_members = nt.unit_members
    st.hg_key = nt.hg_key
    st.hg_ptr = nt.hg_ptr
    st.hg_members = nt.hg_members
    st.buyer_cell = nt.buyer_cell
    st.lgd_table = nt.lgd_table
    st.buyer_occ_group = nt.buyer_occ_group
    st.buyer_rec = nt.buyer_rec
    st.exp_rec = nt.exp_rec
    st.cpe_ptr = nt.cpe_ptr
    st.cpe_exp = nt.cpe_exp
    st.pol_ind = nt.pol_ind
    st.pol_ded = nt.pol_ded
    st.pol_nql = nt.pol_nql
    st.pol_maxl = nt.pol_maxl
    st.t_kind = nt.t_kind
    st.t_params = nt.t_params
    st.t_scope = nt.t_scope
    st.n_occ_units = nt.n_occ_units
    st.n_sectors = nt.n_sectors
    st.n_seg = nt.n_seg
    st.seg_policy = nt.seg_policy
    st.occ_threshold = nt.occ_threshold
    return st


def to_kernel(nt: KernelPortfolio):
    """The structref the kernels take, sharing ``nt``'s arrays (no copies)."""
    return _to_struct(nt)
