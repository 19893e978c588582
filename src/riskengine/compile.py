"""Compile a Book and a Scenario into contiguous NumPy arrays with integer codes.

This is the only place where the model's inputs are resolved: nulls filled from the scenario,
currencies converted, PDs turned into thresholds, buyers grouped into *cells* (buyers whose
conditional default probability is the same in every simulation) and *units* (what defaults as
one: a buyer, or a buyer group whose members share a cell). The kernels then never see a string,
a Polars frame or a Python object.

Cells and units (see docs/model.md, "How defaults are drawn")
----------------------------------------------------------------
Buyers with the same PD, contagion PD, idiosyncratic weight and factor loadings (structured
model: the same country, sector, PD and R²) share their conditional PD p(Z, W) in every
simulation. Within such a cell, defaults are iid Bernoulli(p) per unit, drawn by skipping from one
defaulter to the next with geometric gaps (exact; cost ∝ cells + defaults). A buyer group whose
members all fall in one cell is one unit (its members share ε, so they default together). A group
whose members span cells draws one ε per simulation, compared with each member's conditional
threshold.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.special import ndtri, stdtrit

from .book.model import Book
from .errors import BookError, Problem, ScenarioError
from .kernels.portfolio import BUYER_RECORD, EXPOSURE_RECORD, KernelPortfolio
from .kernels.rng import cheng_constants, fmix64_np, hash_strings
from .kernels.simulate import (
    KIND_QS,
    KIND_STOP_LOSS,
    KIND_XL_BUYER,
    KIND_XL_GROUP,
    KIND_XL_POLITICAL,
)
from .scenario.models import PerRiskXL, PoliticalEventXL, QuotaShare, Scenario, StopLoss, Treaty

__all__ = [
    "CompiledPortfolio",
    "KernelPortfolio",
    "compile_portfolio",
    "treaty_kind",
    "treaty_params",
    "PD_CAP",
    "TREATY_KINDS",
]

log = logging.getLogger("riskengine")

#: Contagion multiplies PDs in event years, capped below 1 at this value (never below the PD).
PD_CAP = 0.999999

#: Treaty kinds as the kernels know them.
TREATY_KINDS = {
    "quota_share": KIND_QS,
    "per_risk_xl_buyer": KIND_XL_BUYER,
    "per_risk_xl_group": KIND_XL_GROUP,
    "political_event_xl": KIND_XL_POLITICAL,
    "stop_loss": KIND_STOP_LOSS,
}

# Salts of entity keys (part of the random-number contract: never change).
SALT_BUYER = 0x62
SALT_GROUP = 0x67
SALT_COUNTRY = 0x63
SALT_REGION = 0x72
SALT_SECTOR = 0x73
SALT_FACTOR = 0x66
SALT_GLOBAL = 0x47


@dataclass
class CompiledPortfolio:
    """A compiled book and scenario: the kernel arrays plus the labels of every code.

    Attributes
    ----------
    kernel : KernelPortfolio
        What the kernels read.
    buyer_ids, country_codes, region_names, sector_codes, policy_ids, group_ids : numpy.ndarray
        Labels (object arrays of str) of the integer codes.
    treaty_names : list of str
        In programme order; the YLT's ``ceded_<name>`` columns.
    exposure_ids : numpy.ndarray
        Labels of exposures in kernel (buyer-sorted) order.
    book_premium : float
        Total premium in the reporting currency.
    reporting_currency : str
    """

    kernel: KernelPortfolio
    buyer_ids: np.ndarray
    country_codes: np.ndarray
    region_names: np.ndarray
    sector_codes: np.ndarray
    policy_ids: np.ndarray
    group_ids: np.ndarray
    exposure_ids: np.ndarray
    treaty_names: list[str]
    book_premium: float
    reporting_currency: str
    n_cells: int
    n_units: int
    expected_ground_up: float

    @property
    def n_buyers(self) -> int:
        return len(self.buyer_ids)

    @property
    def n_exposures(self) -> int:
        return len(self.exposure_ids)

    def nbytes(self) -> int:
        """Memory held by the kernel arrays (bytes)."""
        return int(sum(v.nbytes for v in self.kernel if isinstance(v, np.ndarray)))


# ---------------------------------------------------------------------------------------------
def _codes(values: pl.Series, labels: np.ndarray) -> np.ndarray:
    """Integer codes of ``values`` in the sorted label array ``labels``."""
    idx = np.searchsorted(
        labels, values.to_numpy().astype(object) if values.dtype == pl.String else values.to_numpy()
    )
    return idx.astype(np.int32)


def _sorted_unique(s: pl.Series) -> np.ndarray:
    return np.asarray(s.unique().sort().to_list(), dtype=object)


def _file(book: Book, table: str) -> str:
    return book.files.get(table, table)


def _examples(ids: pl.Series, mask: np.ndarray, k: int = 5) -> tuple[int, tuple[str, ...]]:
    bad = ids.filter(pl.Series(mask))
    return len(bad), tuple(str(x) for x in bad.head(k).to_list())


def _mix(*parts: np.ndarray) -> np.ndarray:
    """Combine uint64 key arrays into one key (order-sensitive)."""
    h = np.full(np.broadcast(*parts).shape, np.uint64(0x243F6A8885A308D3), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for p in parts:
            h = fmix64_np(h ^ np.asarray(p, dtype=np.uint64)) + np.uint64(0x9E3779B97F4A7C15)
    return fmix64_np(h)


def _float_bits(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(x, dtype=np.float64)).view(np.uint64)


def _thresholds(p: np.ndarray, student_t: bool, dof: float) -> np.ndarray:
    return stdtrit(dof, p) if student_t else ndtri(p)


def treaty_kind(t: Treaty) -> int:
    """The kernel's code of a treaty's kind (:data:`TREATY_KINDS`)."""
    if isinstance(t, QuotaShare):
        return TREATY_KINDS["quota_share"]
    if isinstance(t, PerRiskXL):
        return TREATY_KINDS["per_risk_xl_group" if t.per == "group" else "per_risk_xl_buyer"]
    if isinstance(t, PoliticalEventXL):
        return TREATY_KINDS["political_event_xl"]
    return TREATY_KINDS["stop_loss"]


def treaty_params(t: Treaty, book_premium: float) -> tuple[float, float, float, float]:
    """(share, retention, limit, annual cap) of a treaty in the reporting currency.

    Quota share: (share, 0, inf, inf). Excess of loss: (0, retention, limit, limit × (1 +
    reinstatements), inf when unlimited). Stop loss: (0, attachment, limit, inf), loss ratios
    converted with the book's premium.
    """
    if isinstance(t, QuotaShare):
        return (t.share, 0.0, math.inf, math.inf)
    if isinstance(t, PerRiskXL | PoliticalEventXL):
        cap = math.inf if t.reinstatements is None else t.limit * (1 + t.reinstatements)
        return (0.0, t.retention, t.limit, cap)
    assert isinstance(t, StopLoss)
    if t.attachment is not None:
        return (0.0, t.attachment, t.limit, math.inf)
    return (0.0, t.attachment_lr * book_premium, t.limit_lr * book_premium, math.inf)


# ---------------------------------------------------------------------------------------------
def compile_portfolio(book: Book, scenario: Scenario) -> CompiledPortfolio:
    """Resolve a book under a scenario into kernel arrays.

    Parameters
    ----------
    book : Book
        A validated book.
    scenario : Scenario
        The scenario; its ``reporting_currency``, model, political, ratings, treaties and
        outputs settings are applied.

    Returns
    -------
    CompiledPortfolio

    Raises
    ------
    BookError
        When the book breaks a rule that needs the scenario (a rating missing from the
        scenario's table, a currency without a rate, an explicit loading row with a systematic
        variance of 1 or more, a factor missing from the scenario's correlation matrix).
    ScenarioError
        When a treaty's scope names countries, regions or sectors the book does not have.
    """
    problems: list[Problem] = []
    m = scenario.model
    pol = scenario.political
    student_t = m.copula == "student_t"
    dof = float(m.dof)

    buyers = book.buyers
    exposures = book.exposures
    policies = book.policies
    countries = book.countries

    # -- fx ------------------------------------------------------------------------------------
    rates: dict[str, float] = {}
    if book.fx is not None:
        rates = dict(zip(book.fx["currency"].to_list(), book.fx["rate"].to_list(), strict=True))
    rates[scenario.reporting_currency] = 1.0

    fx_table = pl.DataFrame(
        {"c": list(rates), "r": list(rates.values())}, schema={"c": pl.String, "r": pl.Float64}
    )

    def fx_of(cur: pl.Series, table: str, ids: pl.Series) -> np.ndarray:
        rate = pl.DataFrame({"c": cur}).join(fx_table, on="c", how="left", maintain_order="left")[
            "r"
        ]
        missing = rate.is_null().to_numpy()
        if missing.any():
            n, ex = _examples(ids, missing)
            problems.append(
                Problem(
                    _file(book, table),
                    "currency",
                    f"needs an fx rate into {scenario.reporting_currency}",
                    n,
                    ex,
                )
            )
        return rate.fill_null(1.0).to_numpy()

    # -- labels ----------------------------------------------------------------------------------
    buyer_ids = buyers["buyer_id"].to_numpy().astype(object)
    country_codes = _sorted_unique(countries["country"])
    region_names = _sorted_unique(countries["region"])
    sector_codes = _sorted_unique(buyers["sector"])
    policy_ids = policies["policy_id"].to_numpy().astype(object)
    n_b, n_c, n_r, n_s, n_p = (
        len(buyer_ids),
        len(country_codes),
        len(region_names),
        len(sector_codes),
        len(policy_ids),
    )

    # countries
    countries_sorted = countries.sort("country")
    country_region = _codes(countries_sorted["region"], region_names)
    grade = countries_sorted["risk_grade"].to_numpy(allow_copy=True)
    grade_pd = np.asarray(pol.grade_pd)
    q_from_grade = np.where(
        countries_sorted["risk_grade"].is_null().to_numpy(),
        0.0,
        grade_pd[np.nan_to_num(grade, nan=0).astype(int)],
    )
    q = (
        countries_sorted["political_pd"]
        .fill_null(pl.Series(q_from_grade))
        .to_numpy()
        .astype(np.float64)
    )
    if not pol.enabled:
        q = np.zeros_like(q)
    with np.errstate(divide="ignore"):
        country_polthr = np.where(q > 0, ndtri(np.clip(q, 1e-300, 1)), -np.inf)
    country_plgd = (
        countries_sorted["political_lgd"].fill_null(pol.lgd).to_numpy().astype(np.float64)
    )

    # buyers
    b_country = _codes(buyers["country"], country_codes)
    b_sector = _codes(buyers["sector"], sector_codes)
    ratings = scenario.ratings
    pd_ser = buyers["pd"]
    need_rating = pd_ser.is_null().to_numpy()
    if need_rating.any():
        rat = buyers["rating"]
        unknown = (
            need_rating
            & ~rat.is_in(pl.Series(list(ratings), dtype=pl.String)).fill_null(False).to_numpy()
        )
        if unknown.any():
            n, ex = _examples(buyers["buyer_id"], unknown)
            problems.append(
                Problem(
                    _file(book, "buyers"),
                    "rating",
                    f"has no pd and its rating is not in the scenario's ratings table ({', '.join(ratings)})",
                    n,
                    ex,
                )
            )
        rpd = rat.replace_strict(ratings, default=None, return_dtype=pl.Float64)
        pd_ser = pd_ser.fill_null(rpd)
    pdv = pd_ser.fill_null(0.5).to_numpy().astype(np.float64)
    lgd_mu = buyers["lgd"].fill_null(m.lgd.mean).to_numpy().astype(np.float64)
    lgd_sd = buyers["lgd_sd"].fill_null(m.lgd.sd).to_numpy().astype(np.float64)
    bad_beta = (lgd_sd > 0) & ~(lgd_sd**2 < lgd_mu * (1 - lgd_mu))
    if bad_beta.any():
        n, ex = _examples(buyers["buyer_id"], bad_beta)
        problems.append(
            Problem(
                _file(book, "buyers"),
                "lgd_sd",
                "lgd_sd² < lgd·(1 − lgd) (after filling from the scenario)",
                n,
                ex,
            )
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        kbeta = np.where(
            lgd_sd > 0, lgd_mu * (1 - lgd_mu) / np.where(lgd_sd > 0, lgd_sd, 1) ** 2 - 1, 0.0
        )
    lgd_a = np.where(lgd_sd > 0, lgd_mu * kbeta, 0.0)
    lgd_b = np.where(lgd_sd > 0, (1 - lgd_mu) * kbeta, 0.0)
    r2 = buyers["asset_correlation"].fill_null(m.asset_correlation).to_numpy().astype(np.float64)

    pd_cont = (
        np.maximum(pdv, np.minimum(pdv * pol.commercial_pd_multiplier, PD_CAP))
        if pol.enabled
        else pdv
    )
    thr0 = _thresholds(pdv, student_t, dof)
    thr1 = _thresholds(pd_cont, student_t, dof)

    buyer_key = hash_strings(buyers["buyer_id"], SALT_BUYER)
    country_key = hash_strings(pl.Series(country_codes.tolist(), dtype=pl.String), SALT_COUNTRY)
    region_key = hash_strings(pl.Series(region_names.tolist(), dtype=pl.String), SALT_REGION)
    sector_key = hash_strings(pl.Series(sector_codes.tolist(), dtype=pl.String), SALT_SECTOR)

    # -- factor model: per-buyer loading rows as (cell signature, sparse row) -----------------------
    explicit = book.factor_loadings is not None and book.factor_loadings.height > 0
    if explicit:
        fl = book.factor_loadings
        if m.factor_correlation is not None:
            factor_names = list(m.factor_correlation.factors)
            corr = np.asarray(m.factor_correlation.matrix, dtype=float)
        else:
            factor_names = sorted(set(fl["factor"].to_list()))
            corr = np.eye(len(factor_names))
        unknown_f = ~fl["factor"].is_in(pl.Series(factor_names, dtype=pl.String)).to_numpy()
        if unknown_f.any():
            n, ex = _examples(fl["buyer_id"] + "/" + fl["factor"], unknown_f)
            problems.append(
                Problem(
                    _file(book, "factor_loadings"),
                    "factor",
                    "names a factor missing from model.factor_correlation.factors",
                    n,
                    ex,
                )
            )
        fidx_map = {f: i for i, f in enumerate(factor_names)}
        n_f = len(factor_names)
        bidx = pl.DataFrame({"buyer_id": buyers["buyer_id"], "_b": np.arange(n_b, dtype=np.int64)})
        flj = fl.join(bidx, on="buyer_id", how="inner")
        fb = flj["_b"].to_numpy()
        ff = np.array([fidx_map.get(f, 0) for f in flj["factor"].to_list()], dtype=np.int64)
        fw = flj["loading"].to_numpy().astype(np.float64)
        dense = np.zeros((n_b, n_f))
        np.add.at(dense, (fb, ff), fw)
        sys_var = np.einsum("ij,jk,ik->i", dense, corr, dense)
        bad = sys_var >= 1 - 1e-12
        if bad.any():
            n, ex = _examples(buyers["buyer_id"], bad)
            problems.append(
                Problem(
                    _file(book, "factor_loadings"),
                    "loading",
                    "systematic variance a'Σa must be < 1 for each buyer",
                    n,
                    ex,
                )
            )
        sigma = np.sqrt(np.clip(1 - sys_var, 1e-12, None))
        factor_key = hash_strings(pl.Series(factor_names, dtype=pl.String), SALT_FACTOR)
        chol = np.linalg.cholesky(corr)
        load_sig = (
            _mix(*[_float_bits(dense[:, j]) for j in range(n_f)])
            if n_f
            else np.zeros(n_b, np.uint64)
        )
    else:
        w = m.factor_weights
        weights = [w.global_, w.region, w.country, w.sector]
        # factor index layout: [global | regions | countries | sectors]
        n_f = 1 + n_r + n_c + n_s
        factor_key = np.concatenate(
            [
                fmix64_np(np.array([SALT_GLOBAL], dtype=np.uint64)),
                _mix(np.full(n_r, SALT_REGION, np.uint64), region_key),
                _mix(np.full(n_c, SALT_COUNTRY, np.uint64), country_key),
                _mix(np.full(n_s, SALT_SECTOR, np.uint64), sector_key),
            ]
        )
        chol = np.eye(1)
        sigma = np.sqrt(1 - r2)
        load_sig = _float_bits(r2)
        dense = None

    if problems:
        raise BookError(problems, str(book.path) if book.path else "book")

    # -- cells -------------------------------------------------------------------------------------
    cell_key_b = _mix(
        country_key[b_country],
        sector_key[b_sector] if not explicit else np.zeros(n_b, np.uint64),
        _float_bits(pdv),
        _float_bits(pd_cont),
        load_sig,
        np.full(n_b, 2 if explicit else 1, np.uint64),
    )
    # order cells by key for stable numbering
    uniq_keys, buyer_cell = np.unique(cell_key_b, return_inverse=True)
    buyer_cell = buyer_cell.astype(np.int32)
    n_cells = len(uniq_keys)
    first = np.full(n_cells, -1, dtype=np.int64)
    order = np.arange(n_b)
    first[buyer_cell[::-1]] = order[::-1]  # first buyer of each cell (any representative)
    rep = first
    cell_thr0 = thr0[rep]
    cell_thr1 = thr1[rep]
    cell_inv_sigma = 1.0 / sigma[rep]
    cell_country = b_country[rep].astype(np.int32)
    if explicit:
        rows = [np.nonzero(dense[b])[0] for b in rep]
        cell_fac_ptr = np.zeros(n_cells + 1, dtype=np.int64)
        cell_fac_ptr[1:] = np.cumsum([len(r) for r in rows])
        cell_fac_idx = np.concatenate(rows).astype(np.int32) if rows else np.zeros(0, np.int32)
        cell_fac_w = (
            np.concatenate([dense[b, r] for b, r in zip(rep, rows, strict=True)])
            if rows
            else np.zeros(0)
        )
        # Z = L xi: the kernel draws xi and multiplies by chol; loadings apply to Z.
    else:
        b_region = country_region[b_country]
        cols_idx = np.stack(
            [np.zeros(n_b, np.int64), 1 + b_region, 1 + n_r + b_country, 1 + n_r + n_c + b_sector],
            axis=1,
        )[rep]
        sqrt_r2 = np.sqrt(r2[rep])[:, None]
        cols_w = sqrt_r2 * np.sqrt(np.asarray(weights))[None, :]
        keep = cols_w > 0
        cell_fac_ptr = np.zeros(n_cells + 1, dtype=np.int64)
        cell_fac_ptr[1:] = np.cumsum(keep.sum(axis=1))
        cell_fac_idx = cols_idx[keep].astype(np.int32)
        cell_fac_w = cols_w[keep].astype(np.float64)

    # -- units and heterogeneous groups ----------------------------------------------------------
    gid = buyers["group_id"]
    has_group = gid.is_not_null().to_numpy()
    group_ids = _sorted_unique(gid.drop_nulls()) if has_group.any() else np.zeros(0, dtype=object)
    n_groups = len(group_ids)
    b_group = np.full(n_b, -1, dtype=np.int64)
    if n_groups:
        b_group[has_group] = np.searchsorted(
            group_ids, gid.filter(gid.is_not_null()).to_numpy().astype(object)
        )
        group_key = hash_strings(pl.Series(group_ids.tolist(), dtype=pl.String), SALT_GROUP)
        # a group is homogeneous when all its members share one cell
        gb = b_group[has_group]
        gc = buyer_cell[has_group]
        cmin = np.full(n_groups, np.iinfo(np.int64).max)
        cmax = np.full(n_groups, -1)
        np.minimum.at(cmin, gb, gc)
        np.maximum.at(cmax, gb, gc)
        homo = cmin == cmax
    else:
        group_key = np.zeros(0, np.uint64)
        homo = np.zeros(0, bool)
    # unit of each buyer: singles are units; homogeneous groups are units; het-group members are not
    in_het = has_group & ~homo[np.clip(b_group, 0, None)] if n_groups else np.zeros(n_b, bool)
    in_homo = has_group & ~in_het
    unit_key_b = np.where(
        in_homo, group_key[np.clip(b_group, 0, None)] if n_groups else 0, buyer_key
    )
    unit_tag = np.where(in_homo, b_group, -1 - np.arange(n_b))  # identifies the unit
    members = np.nonzero(~in_het)[0]
    # sort members by (cell, unit key, unit tag, buyer key) -> contiguous units in key order
    sort_idx = np.lexsort(
        (buyer_key[members], unit_tag[members], unit_key_b[members], buyer_cell[members])
    )
    members = members[sort_idx]
    mt = unit_tag[members]
    new_unit = np.ones(len(members), dtype=bool)
    new_unit[1:] = mt[1:] != mt[:-1]
    unit_start = np.nonzero(new_unit)[0]
    n_units = len(unit_start)
    unit_member_ptr = np.append(unit_start, len(members)).astype(np.int64)
    unit_cell = buyer_cell[members[unit_start]]
    cell_unit_ptr = np.zeros(n_cells + 1, dtype=np.int64)
    np.add.at(cell_unit_ptr, unit_cell + 1, 1)
    cell_unit_ptr = np.cumsum(cell_unit_ptr)

    het_groups = np.nonzero(~homo)[0] if n_groups else np.zeros(0, np.int64)
    if len(het_groups):
        hm = np.nonzero(in_het)[0]
        hm = hm[np.lexsort((buyer_key[hm], b_group[hm]))]
        hgm = b_group[hm]
        starts = np.nonzero(np.r_[True, hgm[1:] != hgm[:-1]])[0]
        hg_ptr = np.append(starts, len(hm)).astype(np.int64)
        hg_key = group_key[hgm[starts]]
        hg_members = hm.astype(np.int32)
    else:
        hg_ptr = np.zeros(1, np.int64)
        hg_key = np.zeros(0, np.uint64)
        hg_members = np.zeros(0, np.int32)
    buyer_occ_group = np.where(has_group, b_group, n_groups + np.arange(n_b)).astype(np.int32)

    # -- renumber buyers in the order the kernel visits them (cell by cell, unit by unit, then
    #    heterogeneous groups), so that a year's defaults touch buyer and exposure arrays in
    #    increasing order: far fewer cache misses on large books.
    perm = np.concatenate([members, hg_members.astype(np.int64)]).astype(np.int64)
    inv = np.empty(n_b, dtype=np.int64)
    inv[perm] = np.arange(n_b)
    members = inv[members]
    hg_members = inv[hg_members].astype(np.int32)
    buyer_ids = buyer_ids[perm]
    b_country, b_sector, buyer_cell = b_country[perm], b_sector[perm], buyer_cell[perm]
    pdv, pd_cont, lgd_mu, lgd_a, lgd_b = (
        pdv[perm],
        pd_cont[perm],
        lgd_mu[perm],
        lgd_a[perm],
        lgd_b[perm],
    )
    buyer_key, buyer_occ_group = buyer_key[perm], buyer_occ_group[perm]

    # LGD classes: distinct (mean, alpha, beta) with the sampler's set-up constants
    lgd_keys = np.stack([lgd_mu, lgd_a, lgd_b], axis=1) if n_b else np.zeros((0, 3))
    uniq_lgd, lgd_class = np.unique(lgd_keys, axis=0, return_inverse=True)
    lgd_table = np.zeros((len(uniq_lgd), 8))
    for i, (mu_i, a_i, b_i) in enumerate(uniq_lgd):
        lgd_table[i, :3] = (mu_i, a_i, b_i)
        if a_i > 1 and b_i > 1:
            lgd_table[i, 3] = 1.0
            lgd_table[i, 4:] = cheng_constants(a_i, b_i)
        elif a_i > 0:
            lgd_table[i, 3] = 2.0
    lgd_class = lgd_class.reshape(-1).astype(np.int32)

    # -- exposures ---------------------------------------------------------------------------------
    pol_cur = policies.select("policy_id", pl.col("currency").alias("_pcur"))
    ex = exposures.join(pol_cur, on="policy_id", how="left", maintain_order="left")
    exp_cur = ex["currency"].fill_null(ex["_pcur"])
    exp_fx = fx_of(exp_cur, "exposures", ex["exposure_id"])
    pol_fx = fx_of(policies["currency"], "policies", policies["policy_id"])
    if problems:
        raise BookError(problems, str(book.path) if book.path else "book")
    util = ex["utilization"].fill_null(m.utilization).to_numpy().astype(np.float64)
    ead = ex["limit"].to_numpy().astype(np.float64) * util * exp_fx
    bidx_map = pl.DataFrame({"buyer_id": buyers["buyer_id"], "_b": inv.astype(np.int32)})
    pidx_map = pl.DataFrame(
        {"policy_id": policies["policy_id"], "_p": np.arange(n_p, dtype=np.int32)}
    )
    ex = ex.with_columns(pl.Series("_ead", ead)).join(
        bidx_map, on="buyer_id", how="left", maintain_order="left"
    )
    ex = ex.join(pidx_map, on="policy_id", how="left", maintain_order="left")
    e_buyer = ex["_b"].to_numpy().astype(np.int64)
    e_order = np.argsort(e_buyer, kind="stable")
    exp_buyer = e_buyer[e_order].astype(np.int32)
    exp_ead = ex["_ead"].to_numpy()[e_order].astype(np.float64)
    exp_policy = ex["_p"].to_numpy()[e_order].astype(np.int32)
    exp_comm = ex["commercial_cover"].fill_null(True).to_numpy()[e_order].astype(np.uint8)
    exp_pol = ex["political_cover"].fill_null(True).to_numpy()[e_order].astype(np.uint8)
    exposure_ids = ex["exposure_id"].to_numpy().astype(object)[e_order]
    buyer_exp_ptr = np.zeros(n_b + 1, dtype=np.int64)
    np.add.at(buyer_exp_ptr, exp_buyer.astype(np.int64) + 1, 1)
    buyer_exp_ptr = np.cumsum(buyer_exp_ptr)
    e_country = b_country[exp_buyer]
    pe = np.nonzero(exp_pol.astype(bool))[0]
    pe = pe[np.argsort(e_country[pe], kind="stable")]
    cpe_ptr = np.zeros(n_c + 1, dtype=np.int64)
    np.add.at(cpe_ptr, e_country[pe].astype(np.int64) + 1, 1)
    cpe_ptr = np.cumsum(cpe_ptr)
    cpe_exp = pe.astype(np.int32)

    # packed records: what a default and a loss read, contiguous
    buyer_rec = np.zeros(n_b, dtype=BUYER_RECORD)
    buyer_rec["key"] = buyer_key
    buyer_rec["exp_start"] = buyer_exp_ptr[:-1]
    buyer_rec["exp_end"] = buyer_exp_ptr[1:]
    buyer_rec["country"] = b_country
    buyer_rec["sector"] = b_sector
    buyer_rec["lgd_class"] = lgd_class
    exp_rec = np.zeros(len(exp_ead), dtype=EXPOSURE_RECORD)
    exp_rec["ead"] = exp_ead
    exp_rec["policy"] = exp_policy
    exp_rec["buyer"] = exp_buyer
    exp_rec["comm"] = exp_comm
    exp_rec["pol"] = exp_pol

    # -- policies -----------------------------------------------------------------------------------
    pol_ind = policies["indemnity"].fill_null(0.9).to_numpy().astype(np.float64)
    pol_ded = policies["deductible"].fill_null(0.0).to_numpy().astype(np.float64) * pol_fx
    pol_nql = policies["nql"].fill_null(0.0).to_numpy().astype(np.float64) * pol_fx
    pol_maxl = policies["max_liability"].fill_null(np.inf).to_numpy().astype(np.float64) * pol_fx
    premium = policies["premium"].fill_null(0.0).to_numpy().astype(np.float64) * pol_fx
    book_premium = float(premium.sum())

    # -- treaties -----------------------------------------------------------------------------------
    kinds, share, ret, lim, cap = [], [], [], [], []
    scopes = []
    b_region_names = region_names[country_region[b_country]] if n_b else np.zeros(0, dtype=object)
    sproblems: list[Problem] = []
    for i, t in enumerate(scenario.treaties):
        if isinstance(t, StopLoss) and t.attachment_lr is not None and book_premium <= 0:
            sproblems.append(
                Problem(
                    "scenario",
                    f"treaties.{i}",
                    "a stop loss in loss ratios needs a book with premium (total is 0)",
                    label="key",
                )
            )
        mask = np.ones(n_b, dtype=bool)
        if t.scope is not None:
            for key, labels, have in (
                (
                    "countries",
                    country_codes[b_country] if n_b else np.zeros(0, dtype=object),
                    set(country_codes),
                ),
                ("regions", b_region_names, set(region_names)),
                (
                    "sectors",
                    sector_codes[b_sector] if n_b else np.zeros(0, dtype=object),
                    set(sector_codes),
                ),
            ):
                want = getattr(t.scope, key)
                if want is None:
                    continue
                unknown = sorted(set(want) - have)
                if unknown:
                    sproblems.append(
                        Problem(
                            "scenario",
                            f"treaties.{i}.scope.{key}",
                            f"not in the book: {', '.join(unknown)}",
                            label="key",
                        )
                    )
                mask &= np.isin(labels, np.asarray(want, dtype=object))
        scopes.append(mask.astype(np.uint8))
        kinds.append(treaty_kind(t))
        row = treaty_params(t, book_premium)
        share.append(row[0])
        ret.append(row[1])
        lim.append(row[2])
        cap.append(row[3])
    if sproblems:
        raise ScenarioError(sproblems, "scenario")
    n_t = len(kinds)
    t_scope = np.stack(scopes).astype(np.uint8) if n_t else np.zeros((0, n_b), np.uint8)

    seg_policy = "policy" in scenario.outputs.segments
    n_seg = n_c + n_s + (n_p if seg_policy else 0)
    occ_thr = scenario.outputs.occurrence_threshold
    occ_threshold = math.inf if occ_thr is None else float(occ_thr)

    kp = KernelPortfolio(
        seed=np.uint64(scenario.simulation.seed),
        student_t=student_t,
        dof=dof,
        explicit=explicit,
        factor_key=np.ascontiguousarray(factor_key, dtype=np.uint64),
        factor_chol=np.ascontiguousarray(chol, dtype=np.float64),
        pol_enabled=bool(pol.enabled),
        pol_a=math.sqrt(pol.correlation),
        pol_b=math.sqrt(1 - pol.correlation),
        region_key=region_key,
        country_key=country_key,
        country_region=country_region.astype(np.int32),
        country_polthr=country_polthr.astype(np.float64),
        country_plgd=country_plgd,
        cell_key=uniq_keys.astype(np.uint64),
        cell_thr0=np.ascontiguousarray(cell_thr0, dtype=np.float64),
        cell_thr1=np.ascontiguousarray(cell_thr1, dtype=np.float64),
        cell_inv_sigma=np.ascontiguousarray(cell_inv_sigma, dtype=np.float64),
        cell_country=cell_country,
        cell_fac_ptr=cell_fac_ptr,
        cell_fac_idx=np.ascontiguousarray(cell_fac_idx, dtype=np.int32),
        cell_fac_w=np.ascontiguousarray(cell_fac_w, dtype=np.float64),
        cell_unit_ptr=cell_unit_ptr.astype(np.int64),
        unit_member_ptr=unit_member_ptr,
        unit_members=members.astype(np.int32),
        hg_key=np.ascontiguousarray(hg_key, dtype=np.uint64),
        hg_ptr=hg_ptr,
        hg_members=hg_members,
        buyer_cell=buyer_cell,
        lgd_table=lgd_table,
        buyer_occ_group=buyer_occ_group,
        buyer_rec=buyer_rec,
        exp_rec=exp_rec,
        cpe_ptr=cpe_ptr,
        cpe_exp=cpe_exp,
        pol_ind=pol_ind,
        pol_ded=pol_ded,
        pol_nql=pol_nql,
        pol_maxl=pol_maxl,
        t_kind=np.asarray(kinds, dtype=np.int32),
        t_params=np.ascontiguousarray(
            np.stack([share, ret, lim, cap], axis=1).reshape(n_t, 4), dtype=np.float64
        ),
        t_scope=np.ascontiguousarray(t_scope),
        n_occ_units=int(max(n_b + n_groups, n_c, 1)),
        n_sectors=int(n_s),
        n_seg=int(n_seg),
        seg_policy=bool(seg_policy),
        occ_threshold=occ_threshold,
    )
    # exact expected ground-up loss (DESIGN §3), a check the summary reports
    qc = q[b_country][exp_buyer]
    pdb = pdv[exp_buyer]
    pdcb = pd_cont[exp_buyer]
    mu = lgd_mu[exp_buyer]
    plgd_e = country_plgd[b_country][exp_buyer]
    polc = exp_pol.astype(bool)
    comc = exp_comm.astype(bool)
    p_comm_loss = np.where(polc, (1 - qc) * pdb, (1 - qc) * pdb + qc * pdcb) * comc
    egu = float(np.sum(exp_ead * (p_comm_loss * mu + np.where(polc, qc * plgd_e, 0.0))))

    return CompiledPortfolio(
        kernel=kp,
        buyer_ids=buyer_ids,
        country_codes=country_codes,
        region_names=region_names,
        sector_codes=sector_codes,
        policy_ids=policy_ids,
        group_ids=group_ids,
        exposure_ids=exposure_ids,
        treaty_names=[t.name for t in scenario.treaties],
        book_premium=book_premium,
        reporting_currency=scenario.reporting_currency,
        n_cells=int(n_cells),
        n_units=int(n_units),
        expected_ground_up=egu,
    )
