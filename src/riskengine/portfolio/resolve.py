"""Resolve a book under a scenario into per-buyer, per-exposure and per-policy parameters.

This is the one place where the model's inputs are resolved (docs/model.md §1): nulls filled from
the scenario, ratings turned into PDs, currencies converted into the reporting currency, LGDs
turned into beta shapes, the contagion PD and the factor model's loadings computed. The result,
:class:`Resolved`, is in the book's row order and holds plain NumPy arrays: what the kernels are
packed from, and what analytic models, pricing and limit decisions read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.special import ndtri

from ..book.model import Book
from ..errors import BookError, Problem
from ..kernels.rng import fmix64_np
from ..scenario.models import Scenario
from .keys import (
    SALT_BUYER,
    SALT_COUNTRY,
    SALT_FACTOR,
    SALT_GLOBAL,
    SALT_GROUP,
    SALT_REGION,
    SALT_SECTOR,
    float_bits,
    hash_strings,
    mix_keys,
)

__all__ = ["Resolved", "FactorModel", "resolve", "PD_CAP", "scenario_source"]

#: Contagion multiplies PDs in event years, capped below 1 at this value (never below the PD).
PD_CAP = 0.999999


def scenario_source(scenario: Scenario) -> str:
    """The name messages give a scenario: its file when it was read from one."""
    return scenario.source


@dataclass
class FactorModel:
    """The systematic factors and each buyer's loadings on them.

    Attributes
    ----------
    explicit : bool
        True for the explicit model (a ``factor_loadings`` table), else the structured one.
    names : list of str
        Factor names: ``global``, ``region:<name>``, ``country:<code>``, ``sector:<code>``
        (structured), or the loadings' factor names (explicit).
    keys : numpy.ndarray
        uint64 entity key of each factor's draw.
    chol : numpy.ndarray
        Cholesky factor of the factors' correlation (identity, 1 × 1, for the structured model:
        its factors are independent).
    loading_idx, loading_w : numpy.ndarray
        [n_b, m] factor index and loading of each buyer's m nonzero-capable loadings (structured:
        m = 4 — global, region, country, sector; weights √R² √w; explicit: the dense rows).
    sigma : numpy.ndarray
        Idiosyncratic weight √(1 − a'Σa) of each buyer.
    signature : numpy.ndarray
        uint64 key of each buyer's loadings (buyers with equal keys have equal loadings).
    """

    explicit: bool
    names: list[str]
    keys: np.ndarray
    chol: np.ndarray
    loading_idx: np.ndarray
    loading_w: np.ndarray
    sigma: np.ndarray
    signature: np.ndarray


@dataclass
class Resolved:
    """A book's parameters under a scenario, in book row order, amounts in the reporting currency.

    Buyers (``b_*``, length n_b), exposures (``e_*``, n_e), policies (``p_*``, n_p), countries
    sorted by code (``c_*``, n_c), regions and sectors sorted by name, and the factor model.
    """

    reporting_currency: str
    # labels
    buyer_ids: np.ndarray
    country_codes: np.ndarray
    region_names: np.ndarray
    sector_codes: np.ndarray
    policy_ids: np.ndarray
    group_ids: np.ndarray
    exposure_ids: np.ndarray
    # countries (sorted by code)
    c_region: np.ndarray
    c_grade: np.ndarray
    c_event_pd: np.ndarray
    c_political_lgd: np.ndarray
    c_key: np.ndarray
    region_key: np.ndarray
    sector_key: np.ndarray
    # buyers
    b_country: np.ndarray
    b_sector: np.ndarray
    b_group: np.ndarray
    b_pd: np.ndarray
    b_pd_contagion: np.ndarray
    b_lgd_mean: np.ndarray
    b_lgd_sd: np.ndarray
    b_lgd_alpha: np.ndarray
    b_lgd_beta: np.ndarray
    b_r2: np.ndarray
    b_rating: np.ndarray  # the book's rating (object; None where not given)
    b_key: np.ndarray
    group_key: np.ndarray
    factors: FactorModel
    # exposures
    e_buyer: np.ndarray
    e_policy: np.ndarray
    e_limit: np.ndarray
    e_utilization: np.ndarray
    e_term_days: np.ndarray
    e_turnover: np.ndarray
    e_fx: np.ndarray
    e_ead: np.ndarray
    e_commercial: np.ndarray
    e_political: np.ndarray
    # policies
    p_indemnity: np.ndarray
    p_deductible: np.ndarray
    p_nql: np.ndarray
    p_max_liability: np.ndarray
    p_premium: np.ndarray
    p_fx: np.ndarray

    @property
    def n_buyers(self) -> int:
        return len(self.buyer_ids)

    @property
    def b_region(self) -> np.ndarray:
        """Region code of each buyer."""
        return self.c_region[self.b_country]

    @property
    def book_premium(self) -> float:
        """Total premium (reporting currency)."""
        return float(self.p_premium.sum())


# ---------------------------------------------------------------------------------------------
def _codes(values: pl.Series, labels: np.ndarray) -> np.ndarray:
    """Integer codes of ``values`` in the sorted label array ``labels`` (every value is one of
    them): text through a Polars enum of the labels, without a Python string per value."""
    if values.dtype == pl.String:
        return values.cast(pl.Enum(labels.tolist())).to_physical().to_numpy().astype(np.int32)
    return np.searchsorted(labels, values.to_numpy()).astype(np.int32)


def _labels(values: pl.Series) -> np.ndarray:
    """``values`` as an object array of str (None where null), one Python string per distinct
    value rather than per row (for columns with few distinct values)."""
    distinct = values.drop_nulls().unique().sort().to_list()
    if not distinct:
        return np.full(len(values), None, dtype=object)
    codes = values.cast(pl.Enum(distinct)).to_physical().fill_null(len(distinct)).to_numpy()
    return np.asarray([*distinct, None], dtype=object)[codes]


#: Keys whose sorted hashes stay in the cache: searched in any order.
_CACHED_KEYS = 1 << 17


def _index_of(values: pl.Series, keys: pl.Series) -> np.ndarray:
    """Row of each of ``values`` in ``keys`` (unique, and holding every value), int32.

    By 64-bit hashes of the strings (:func:`~riskengine.portfolio.keys.hash_strings`), sorted
    and searched: exact when the keys' hashes are distinct (a value that is one of the keys can
    then only match its own row); otherwise, and for non-text keys, by a join of the two
    columns. A hash join of a million text keys holds far more memory than these few arrays.
    """
    if values.dtype == pl.String and keys.dtype == pl.String:
        kh = hash_strings(keys, SALT_BUYER)
        order = np.argsort(kh)
        sorted_kh = kh[order]
        if not np.any(sorted_kh[1:] == sorted_kh[:-1]):
            vh = hash_strings(values, SALT_BUYER)
            if len(keys) <= _CACHED_KEYS:
                pos = np.searchsorted(sorted_kh, vh)
            else:  # searched in sorted order, each search starting where the last ended: 4×
                q = np.argsort(vh)  # faster than random order over millions of keys
                pos = np.empty(len(vh), dtype=np.int64)
                pos[q] = np.searchsorted(sorted_kh, vh[q])
            return order[np.minimum(pos, len(order) - 1)].astype(np.int32)
    index = pl.DataFrame({"k": keys, "i": np.arange(len(keys), dtype=np.int32)})
    found = pl.DataFrame({"k": values}).join(index, on="k", how="left", maintain_order="left")
    return found["i"].to_numpy().astype(np.int32, copy=False)


def _sorted_unique(s: pl.Series) -> np.ndarray:
    return np.asarray(s.unique().sort().to_list(), dtype=object)


class _Problems(list):
    """Problems found while resolving, each naming the book's file."""

    def __init__(self, book: Book):
        super().__init__()
        self.book = book

    def add(self, table: str, column: str, rule: str, ids: pl.Series, mask: np.ndarray) -> None:
        bad = ids.filter(pl.Series(mask))
        examples = tuple(str(x) for x in bad.head(5).to_list())
        self.append(Problem(self.book.files.get(table, table), column, rule, len(bad), examples))

    def raise_if_any(self) -> None:
        if self:
            raise BookError(list(self), str(self.book.path) if self.book.path else "book")


def _fx(book: Book, scenario: Scenario, problems: _Problems):
    """A function giving the fx rate of a currency column (problems for missing rates)."""
    rates: dict[str, float] = {}
    if book.fx is not None:
        rates = dict(zip(book.fx["currency"].to_list(), book.fx["rate"].to_list(), strict=True))
    rates[scenario.reporting_currency] = 1.0
    table = pl.DataFrame(
        {"c": list(rates), "r": list(rates.values())}, schema={"c": pl.String, "r": pl.Float64}
    )

    def fx_of(cur: pl.Series, name: str, ids: pl.Series) -> np.ndarray:
        rate = pl.DataFrame({"c": cur}).join(table, on="c", how="left", maintain_order="left")["r"]
        missing = rate.is_null().to_numpy()
        if missing.any():
            rule = (
                f"needs an fx rate into {scenario.reporting_currency} (the reporting currency of "
                f"{scenario.source})"
            )
            problems.add(name, "currency", rule, ids, missing)
        return rate.fill_null(1.0).to_numpy()

    return fx_of


def _buyer_pd(book: Book, scenario: Scenario, problems: _Problems) -> np.ndarray:
    """Each buyer's PD: its ``pd``, else its rating's PD in the scenario's table."""
    buyers = book.buyers
    ratings = scenario.ratings
    pd_ser = buyers["pd"]
    need_rating = pd_ser.is_null().to_numpy()
    if need_rating.any():
        rat = buyers["rating"]
        known = rat.is_in(pl.Series(list(ratings), dtype=pl.String)).fill_null(False).to_numpy()
        unknown = need_rating & ~known
        if unknown.any():
            rule = (
                f"has no pd and its rating is not in the ratings table of {scenario.source} "
                f"({', '.join(ratings)})"
            )
            problems.add("buyers", "rating", rule, buyers["buyer_id"], unknown)
        pd_ser = pd_ser.fill_null(
            rat.replace_strict(ratings, default=None, return_dtype=pl.Float64)
        )
    return pd_ser.fill_null(0.5).to_numpy().astype(np.float64)


def beta_shapes(mu: np.ndarray, sd: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Beta shapes (α, β) of LGDs with means ``mu`` and sds ``sd`` (0, 0 where sd = 0), and the
    mask of invalid (mean, sd) pairs (sd² ≥ mean·(1 − mean))."""
    bad = (sd > 0) & ~(sd**2 < mu * (1 - mu))
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.where(sd > 0, mu * (1 - mu) / np.where(sd > 0, sd, 1) ** 2 - 1, 0.0)
    return np.where(sd > 0, mu * k, 0.0), np.where(sd > 0, (1 - mu) * k, 0.0), bad


def _explicit_factors(
    book: Book, scenario: Scenario, problems: _Problems, b_index: pl.DataFrame
) -> FactorModel:
    fl = book.factor_loadings
    assert fl is not None
    n_b = b_index.height
    corr_cfg = scenario.model.factor_correlation
    if corr_cfg is not None:
        names = list(corr_cfg.factors)
        corr = np.asarray(corr_cfg.matrix, dtype=float)
    else:
        names = sorted(set(fl["factor"].to_list()))
        corr = np.eye(len(names))
    unknown = ~fl["factor"].is_in(pl.Series(names, dtype=pl.String)).to_numpy()
    if unknown.any():
        rule = "names a factor missing from model.factor_correlation.factors"
        problems.add(
            "factor_loadings", "factor", rule, fl["buyer_id"] + "/" + fl["factor"], unknown
        )
    index = {f: i for i, f in enumerate(names)}
    n_f = len(names)
    flj = fl.join(b_index, on="buyer_id", how="inner")
    ff = np.array([index.get(f, 0) for f in flj["factor"].to_list()], dtype=np.int64)
    dense = np.zeros((n_b, n_f))
    np.add.at(dense, (flj["_b"].to_numpy(), ff), flj["loading"].to_numpy().astype(np.float64))
    sys_var = np.einsum("ij,jk,ik->i", dense, corr, dense)
    bad = sys_var >= 1 - 1e-12
    if bad.any():
        rule = "systematic variance a'Σa must be < 1 for each buyer"
        problems.add("factor_loadings", "loading", rule, book.buyers["buyer_id"], bad)
    cols = [float_bits(dense[:, j]) for j in range(n_f)]
    return FactorModel(
        explicit=True,
        names=names,
        keys=hash_strings(pl.Series(names, dtype=pl.String), SALT_FACTOR),
        chol=np.linalg.cholesky(corr),
        loading_idx=np.broadcast_to(np.arange(n_f, dtype=np.int64), (n_b, n_f)),
        loading_w=dense,
        sigma=np.sqrt(np.clip(1 - sys_var, 1e-12, None)),
        signature=mix_keys(*cols) if n_f else np.zeros(n_b, np.uint64),
    )


def structured_weights(scenario: Scenario) -> np.ndarray:
    """√ of the structured model's factor weights (global, region, country, sector): a buyer's
    loadings are √R² times these."""
    w = scenario.model.factor_weights
    return np.sqrt(np.asarray([w.global_, w.region, w.country, w.sector]))


def _structured_factors(
    scenario: Scenario, r2: np.ndarray, labels: dict[str, np.ndarray], codes: dict[str, np.ndarray]
) -> FactorModel:
    weights = structured_weights(scenario)
    regions, countries, sectors = labels["region"], labels["country"], labels["sector"]
    n_r, n_c, n_s = len(regions), len(countries), len(sectors)
    # factor index layout: [global | regions | countries | sectors]
    keys = np.concatenate(
        [
            fmix64_np(np.array([SALT_GLOBAL], dtype=np.uint64)),
            mix_keys(np.full(n_r, SALT_REGION, np.uint64), codes["region_key"]),
            mix_keys(np.full(n_c, SALT_COUNTRY, np.uint64), codes["country_key"]),
            mix_keys(np.full(n_s, SALT_SECTOR, np.uint64), codes["sector_key"]),
        ]
    )
    names = ["global"]
    names += [f"region:{r}" for r in regions]
    names += [f"country:{c}" for c in countries]
    names += [f"sector:{s}" for s in sectors]
    idx = np.stack(
        [
            np.zeros(len(r2), np.int64),
            1 + codes["b_region"],
            1 + n_r + codes["b_country"],
            1 + n_r + n_c + codes["b_sector"],
        ],
        axis=1,
    )
    return FactorModel(
        explicit=False,
        names=names,
        keys=keys,
        chol=np.eye(1),
        loading_idx=idx,
        loading_w=np.sqrt(r2)[:, None] * weights[None, :],
        sigma=np.sqrt(1 - r2),
        signature=float_bits(r2),
    )


def _countries(book: Book, scenario: Scenario, region_names: np.ndarray) -> dict[str, np.ndarray]:
    pol = scenario.political
    cs = book.countries.sort("country")
    grade = cs["risk_grade"].to_numpy(allow_copy=True)
    grade_pd = np.asarray(pol.grade_pd)
    no_grade = cs["risk_grade"].is_null().to_numpy()
    q_grade = np.where(no_grade, 0.0, grade_pd[np.nan_to_num(grade, nan=0).astype(int)])
    q = cs["political_pd"].fill_null(pl.Series(q_grade)).to_numpy().astype(np.float64)
    if not pol.enabled:
        q = np.zeros_like(q)
    return {
        "c_region": _codes(cs["region"], region_names),
        "c_grade": cs["risk_grade"].to_numpy(allow_copy=True),
        "c_event_pd": q,
        "c_political_lgd": cs["political_lgd"].fill_null(pol.lgd).to_numpy().astype(np.float64),
    }


def _exposures(book: Book, fx_of, problems: _Problems, scenario: Scenario) -> dict[str, np.ndarray]:
    ex, policies = book.exposures, book.policies
    e_policy = _index_of(ex["policy_id"], policies["policy_id"])
    currency = ex["currency"].fill_null(policies["currency"].gather(e_policy))
    e_fx = fx_of(currency, "exposures", ex["exposure_id"])
    p_fx = fx_of(policies["currency"], "policies", policies["policy_id"])
    problems.raise_if_any()
    util = ex["utilization"].fill_null(scenario.model.utilization).to_numpy().astype(np.float64)
    limit = ex["limit"].to_numpy().astype(np.float64)
    term = (
        ex["payment_term_days"].cast(pl.Float64).fill_null(default_term_days(scenario)).to_numpy()
    )
    turnover = insured_turnover(
        limit * util * e_fx, term, e_policy, policies["turnover"].to_numpy() * p_fx
    )

    def money(col: str) -> np.ndarray:
        return policies[col].to_numpy().astype(np.float64) * p_fx

    return {
        "exposure_ids": ex["exposure_id"].to_numpy().astype(object),
        "e_buyer": _index_of(ex["buyer_id"], book.buyers["buyer_id"]).astype(np.int64),
        "e_policy": e_policy,
        "e_limit": limit,
        "e_utilization": util,
        "e_term_days": term,
        "e_turnover": turnover,
        "e_fx": e_fx,
        "e_ead": limit * util * e_fx,
        "e_commercial": ex["commercial_cover"].to_numpy().astype(bool),
        "e_political": ex["political_cover"].to_numpy().astype(bool),
        "p_indemnity": policies["indemnity"].to_numpy().astype(np.float64),
        "p_deductible": money("deductible"),
        "p_nql": money("nql"),
        "p_max_liability": policies["max_liability"]
        .fill_null(math.inf)
        .to_numpy()
        .astype(np.float64)
        * p_fx,
        "p_premium": money("premium"),
        "p_fx": p_fx,
    }


#: An exposure's payment term when neither the book nor the scenario gives one (days).
DEFAULT_PAYMENT_TERM_DAYS = 60


def default_term_days(scenario: Scenario) -> float:
    """The scenario's default payment term (``pricing.payment_term_days``), else 60 days."""
    pricing = getattr(scenario, "pricing", None)
    return float(getattr(pricing, "payment_term_days", DEFAULT_PAYMENT_TERM_DAYS))


def insured_turnover(
    outstanding: np.ndarray, term_days: np.ndarray, policy: np.ndarray, policy_turnover: np.ndarray
) -> np.ndarray:
    """Each exposure's insured annual turnover (reporting currency): its expected outstanding
    (limit × utilisation) revolving once per payment term, outstanding × 365 / term; a policy's
    given turnover replaces the sum of its exposures' and is split in those proportions."""
    own = outstanding * 365.0 / term_days
    given = np.asarray(policy_turnover, dtype=np.float64)
    if not np.any(np.isfinite(given)):
        return own
    total = np.bincount(policy, weights=own, minlength=len(given))
    share = np.divide(own, total[policy], out=np.zeros_like(own), where=total[policy] > 0)
    return np.where(np.isfinite(given[policy]), given[policy] * share, own)


def resolve(book: Book, scenario: Scenario) -> Resolved:
    """Resolve ``book`` under ``scenario`` (docs/model.md §1).

    Raises
    ------
    BookError
        When the book breaks a rule that needs the scenario (a rating missing from the
        scenario's table, a currency without a rate, an explicit loading row with a systematic
        variance of 1 or more, a factor missing from the scenario's correlation matrix); every
        problem at once.
    """
    problems = _Problems(book)
    m, pol = scenario.model, scenario.political
    buyers = book.buyers
    fx_of = _fx(book, scenario, problems)

    country_codes = _sorted_unique(book.countries["country"])
    region_names = _sorted_unique(book.countries["region"])
    sector_codes = _sorted_unique(buyers["sector"])
    cty = _countries(book, scenario, region_names)
    b_country = _codes(buyers["country"], country_codes)
    b_sector = _codes(buyers["sector"], sector_codes)

    pd = _buyer_pd(book, scenario, problems)
    lgd_mu = buyers["lgd"].fill_null(m.lgd.mean).to_numpy().astype(np.float64)
    lgd_sd = buyers["lgd_sd"].fill_null(m.lgd.sd).to_numpy().astype(np.float64)
    alpha, beta, bad_beta = beta_shapes(lgd_mu, lgd_sd)
    if bad_beta.any():
        rule = "lgd_sd² < lgd·(1 − lgd) (after filling from the scenario)"
        problems.add("buyers", "lgd_sd", rule, buyers["buyer_id"], bad_beta)
    r2 = buyers["asset_correlation"].fill_null(m.asset_correlation).to_numpy().astype(np.float64)
    pd_cont = (
        np.maximum(pd, np.minimum(pd * pol.commercial_pd_multiplier, PD_CAP)) if pol.enabled else pd
    )

    keys = {
        "country_key": hash_strings(
            pl.Series(country_codes.tolist(), dtype=pl.String), SALT_COUNTRY
        ),
        "region_key": hash_strings(pl.Series(region_names.tolist(), dtype=pl.String), SALT_REGION),
        "sector_key": hash_strings(pl.Series(sector_codes.tolist(), dtype=pl.String), SALT_SECTOR),
    }
    if book.factor_loadings is not None and book.factor_loadings.height > 0:
        b_index = pl.DataFrame(
            {"buyer_id": buyers["buyer_id"], "_b": np.arange(buyers.height, dtype=np.int64)}
        )
        factors = _explicit_factors(book, scenario, problems, b_index)
    else:
        labels = {"region": region_names, "country": country_codes, "sector": sector_codes}
        codes = dict(
            keys, b_region=cty["c_region"][b_country], b_country=b_country, b_sector=b_sector
        )
        factors = _structured_factors(scenario, r2, labels, codes)
    problems.raise_if_any()

    gid = buyers["group_id"]
    has_group = gid.is_not_null().to_numpy()
    group_ids = _sorted_unique(gid.drop_nulls()) if has_group.any() else np.zeros(0, dtype=object)
    b_group = np.full(buyers.height, -1, dtype=np.int64)
    if len(group_ids):
        b_group[has_group] = np.searchsorted(group_ids, gid.drop_nulls().to_numpy().astype(object))
    group_key = (
        hash_strings(pl.Series(group_ids.tolist(), dtype=pl.String), SALT_GROUP)
        if len(group_ids)
        else np.zeros(0, np.uint64)
    )
    exp = _exposures(book, fx_of, problems, scenario)
    return Resolved(
        reporting_currency=scenario.reporting_currency,
        buyer_ids=buyers["buyer_id"].to_numpy().astype(object),
        country_codes=country_codes,
        region_names=region_names,
        sector_codes=sector_codes,
        policy_ids=book.policies["policy_id"].to_numpy().astype(object),
        group_ids=group_ids,
        c_key=keys["country_key"],
        region_key=keys["region_key"],
        sector_key=keys["sector_key"],
        b_country=b_country,
        b_sector=b_sector,
        b_group=b_group,
        b_pd=pd,
        b_pd_contagion=pd_cont,
        b_lgd_mean=lgd_mu,
        b_lgd_sd=lgd_sd,
        b_lgd_alpha=alpha,
        b_lgd_beta=beta,
        b_r2=r2,
        b_rating=_labels(buyers["rating"]),
        b_key=hash_strings(buyers["buyer_id"], SALT_BUYER),
        group_key=group_key,
        factors=factors,
        **cty,
        **exp,
    )


def event_thresholds(event_pd: np.ndarray) -> np.ndarray:
    """Φ⁻¹(q) of event probabilities (−inf where q = 0: never an event)."""
    with np.errstate(divide="ignore"):
        return np.where(event_pd > 0, ndtri(np.clip(event_pd, 1e-300, 1)), -np.inf)
