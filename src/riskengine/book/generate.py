"""A realistic sample book: a European credit insurer's short-term trade credit portfolio.

Everything is drawn with one NumPy :class:`~numpy.random.Generator` seeded by ``seed``, with
vectorised operations only, so a book is a pure function of ``(n_buyers, seed)`` and a million
buyers take seconds. The figures are illustrative, chosen to look like a real book
(docs/data-format.md, "The sample book"):

* **countries** from the package table ``data/countries.csv`` (ISO codes, 10 regions,
  illustrative OECD-style risk grades 0..7, a European exporter's trade weights, currencies);
* **buyers**: country by trade weight; NACE section by a manufacturing/trade-heavy mix; rating
  mostly B and BB (the SMEs trade credit insures), worse in riskier countries and better for
  large buyers; ``pd`` exactly the rating's :data:`~riskengine.scenario.models.DEFAULT_RATINGS`
  value; ``lgd`` 0.6 in a grade-0 country, rising by 0.025 a grade (recoveries are poorer where
  insolvency law is weaker; its sd is the scenario's); ~5 % of buyers in groups of 2–6, mostly in
  one country;
* **limits**: a buyer's total limit is lognormal (median 70k EUR) with a Pareto tail on ~2 % of
  buyers, so the top 1 % of buyers hold about a third of the total limit; large buyers are
  insured under several policies (~1.3 exposures per buyer); payment terms of 30–180 days in
  standard steps, longer for manufacturing, construction and public buyers and in emerging
  regions (:func:`_payment_terms`);
* **policies**: one per policyholder, heavy-tailed in size (dozens of buyers for most, thousands
  for a few); currency mostly EUR; indemnity 90 % (some 85 %/95 %); aggregate first loss for
  half of them, a fraction of their expected loss; non-qualifying loss; insured ``turnover`` =
  Σ limit × utilisation × 365 / payment term × 0.8–1.25; premium priced on the policy's expected
  loss (about 2.6 × its expected loss rate on turnover, times a lognormal market factor) within
  the rate band of its limit-weighted country risk grade (:func:`premium_rate_band`); maximum
  liability 30–50 × premium.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path
from typing import Literal
from uuid import uuid4

import numpy as np
import polars as pl

from .. import __version__
from ..errors import OutputError
from ..scenario.models import DEFAULT_GRADE_PD, DEFAULT_RATINGS
from . import excel
from .model import Book
from .schema import TABLES

__all__ = [
    "BOOK_FORMATS",
    "MARKER",
    "WORKBOOK_NAME",
    "SAMPLE_FX_EUR",
    "generate_book",
    "premium_rate_band",
    "sample_countries",
    "write_book",
]

#: File that marks a folder as written by :func:`generate_book` (it may be overwritten).
MARKER = ".riskengine-sample-book.json"

#: Formats a book can be written in: a file per table, or one workbook with a sheet per table.
BOOK_FORMATS: tuple[str, ...] = ("parquet", "csv", "xlsx")
#: File name of a book written as a workbook.
WORKBOOK_NAME = "book.xlsx"

BookFormat = Literal["parquet", "csv", "xlsx"]

#: Illustrative exchange rates, EUR per unit, at plausible 2026 levels (not market data).
SAMPLE_FX_EUR: dict[str, float] = {
    "EUR": 1.0,
    "USD": 0.86,
    "GBP": 1.15,
    "CHF": 1.07,
    "JPY": 0.0058,
    "CNY": 0.12,
    "SEK": 0.091,
    "NOK": 0.085,
    "DKK": 0.134,
    "PLN": 0.235,
    "CZK": 0.041,
    "HUF": 0.0026,
    "RON": 0.197,
    "TRY": 0.021,
    "CAD": 0.62,
    "AUD": 0.56,
    "INR": 0.0098,
    "BRL": 0.16,
    "MXN": 0.047,
    "KRW": 0.0006,
    "SGD": 0.66,
    "HKD": 0.11,
    "ZAR": 0.049,
    "AED": 0.234,
}

#: Policy currencies and their shares.
_POLICY_CURRENCIES: dict[str, float] = {
    "EUR": 0.70,
    "USD": 0.09,
    "GBP": 0.06,
    "CHF": 0.04,
    "SEK": 0.03,
    "PLN": 0.03,
    "DKK": 0.015,
    "NOK": 0.01,
    "CZK": 0.01,
    "CNY": 0.01,
    "JPY": 0.005,
}

#: NACE sections A–U and their shares of insured buyers (manufacturing and trade dominate).
_SECTORS: dict[str, float] = {
    "A": 2.5,
    "B": 1.0,
    "C": 28.0,
    "D": 1.5,
    "E": 1.0,
    "F": 9.0,
    "G": 30.0,
    "H": 6.0,
    "I": 2.0,
    "J": 4.0,
    "K": 1.0,
    "L": 1.5,
    "M": 4.0,
    "N": 3.0,
    "O": 0.3,
    "P": 0.4,
    "Q": 2.0,
    "R": 0.8,
    "S": 1.5,
    "T": 0.1,
    "U": 0.05,
}

#: Rating mix of a median-size buyer in a grade-0 country. Trade credit insures mostly SMEs,
#: whose one-year default rates (insolvency and protracted default) are about B's; the insurer
#: cuts limits on buyers that fall to CCC, so few remain.
_RATING_MIX: dict[str, float] = {
    "AAA": 0.003,
    "AA": 0.01,
    "A": 0.035,
    "BBB": 0.12,
    "BB": 0.30,
    "B": 0.515,
    "CCC": 0.017,
}
_GRADE_SHIFT = 0.12  # latent shift toward worse ratings per country risk grade
_SIZE_SHIFT = 0.35  # latent shift toward better ratings per decade of buyer size

_MEDIAN_LIMIT = 70_000.0  # EUR, buyer's total limit, lognormal body
_SIGMA_LIMIT = 1.0
_TAIL_SHARE = 0.02  # buyers whose limit comes from the Pareto tail
_TAIL_MIN, _TAIL_ALPHA, _TAIL_CAP = 1_000_000.0, 1.3, 60_000_000.0
_GROUP_SHARE = 0.05

#: Mean LGD of a buyer in a grade-0 country and its rise per grade (recoveries after a claim are
#: poorer where insolvency law is weaker); its spread is the scenario's (``model.lgd.sd``).
_LGD_BASE, _LGD_PER_GRADE = 0.6, 0.025

#: Payment terms are agreed in these standard values (days).
_TERMS = np.array([30, 45, 60, 75, 90, 120, 150, 180])
_TERM_MEDIAN = 55.0  # days: a Western European buyer in a neutral sector
_TERM_SD_POLICY = 0.15  # log-sd of the exporter's own terms practice (one draw per policy)
_TERM_SD = 0.2  # log-sd of a buyer's terms around its policy's
#: Payment terms relative to :data:`_TERM_MEDIAN` by the buyer's region: shortest in the Nordics,
#: longest in emerging regions (Chinese firms' mean days sales outstanding is about 94 days).
_REGION_TERM: dict[str, float] = {
    "Northern Europe": 0.75,
    "Western Europe": 1.0,
    "North America": 0.9,
    "Eastern Europe": 1.15,
    "East Asia & Pacific": 1.6,
    "South Asia": 1.6,
    "Middle East & North Africa": 1.6,
    "Latin America & Caribbean": 1.6,
    "Sub-Saharan Africa": 1.75,
    "Central Asia & Caucasus": 1.6,
}
#: Payment terms relative to :data:`_TERM_MEDIAN` by the buyer's NACE section: longer for
#: manufacturing, construction and public buyers, shorter for trade, food and hospitality.
_SECTOR_TERM: dict[str, float] = {
    "A": 0.85,
    "B": 1.15,
    "C": 1.2,
    "D": 1.0,
    "E": 1.1,
    "F": 1.35,
    "G": 0.9,
    "H": 0.95,
    "I": 0.8,
    "J": 1.0,
    "K": 0.9,
    "L": 1.0,
    "M": 1.05,
    "N": 1.0,
    "O": 1.3,
    "P": 1.2,
    "Q": 1.3,
    "R": 0.9,
    "S": 0.9,
    "T": 0.8,
    "U": 1.0,
}
#: Range of a policy's declared turnover over Σ limit × utilisation × 365 / term (log-uniform).
_TURNOVER_NOISE = (0.8, 1.25)
#: The underwriter's premium: this multiple of the policy's expected loss rate on turnover (the
#: loss ratio it aims at is its inverse), times a lognormal factor of this log-sd (negotiation,
#: the market cycle, the broker), within :func:`premium_rate_band`.
_PRICE_LOADING, _PRICE_SD = 2.6, 0.35
_UNDERWRITING_POLITICAL_LGD = 0.8  # the loss the underwriter assumes in a political event


def premium_rate_band(grade: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Range of the sample book's premium rates for a policy's limit-weighted risk grade.

    Linear in the grade from 0.1–0.5 % of insured turnover (grade 0, developed markets) to
    0.3–1.2 % (grade 7, emerging markets): the ranges pricing teams quote (docs/pricing.md §6).

    Parameters
    ----------
    grade : array_like
        Limit-weighted mean country risk grade of the policy's buyers, 0..7.

    Returns
    -------
    lo, hi : numpy.ndarray
        Lowest and highest rate (fraction of insured turnover per year).
    """
    g = np.asarray(grade, dtype=float) / 7.0
    return 0.001 + 0.002 * g, 0.005 + 0.007 * g


def sample_countries() -> pl.DataFrame:
    """The package's country table (``riskengine/book/data/countries.csv``).

    Returns
    -------
    polars.DataFrame
        ``country``, ``name``, ``region``, ``risk_grade`` (illustrative), ``trade_weight``
        (illustrative, sums to 1), ``currency``; one row per country, sorted by code.
    """
    text = resources.files("riskengine.book").joinpath("data/countries.csv").read_bytes()
    schema = {
        "country": pl.String,
        "name": pl.String,
        "region": pl.String,
        "risk_grade": pl.Int64,
        "trade_weight": pl.Float64,
        "currency": pl.String,
    }
    return pl.read_csv(text, schema=schema, comment_prefix="#")


def _ids(prefix: str, n: int, width: int) -> pl.Series:
    """``prefix`` followed by 1..n zero-padded to ``width`` digits (more if n needs them)."""
    width = max(width, len(str(n)))
    numbers = pl.lit(pl.Series(np.arange(1, n + 1, dtype=np.int64))) + 10**width
    return pl.select(pl.format(prefix + "{}", numbers.cast(pl.String).str.slice(1))).to_series()


def _choice(rng: np.random.Generator, weights: dict[str, float], size: int) -> np.ndarray:
    p = np.array(list(weights.values()), dtype=float)
    return rng.choice(len(p), size=size, p=p / p.sum())


def _round(x: np.ndarray, step: float, minimum: float) -> np.ndarray:
    return np.maximum(np.round(x / step) * step, minimum)


def _buyer_sizes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Each buyer's total credit limit in EUR: lognormal body, capped Pareto tail."""
    size = rng.lognormal(math.log(_MEDIAN_LIMIT), _SIGMA_LIMIT, n)
    tail = rng.random(n) < _TAIL_SHARE
    u = rng.random(n)
    pareto = np.minimum(_TAIL_MIN * (1.0 - u) ** (-1.0 / _TAIL_ALPHA), _TAIL_CAP)
    return _round(np.where(tail, np.maximum(pareto, size), size), 5_000.0, 5_000.0)


def _groups(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    """Group number per buyer (-1: none); ~5 % of buyers in groups of 2–6, 90 % of members
    moved to their group's first member's country (``country`` is updated in place)."""
    n = len(country)
    group = np.full(n, -1, dtype=np.int64)
    target = int(_GROUP_SHARE * n)
    sizes = rng.integers(2, 7, size=target // 2 + 1)
    sizes = sizes[np.cumsum(sizes) <= target]
    if len(sizes) == 0:
        return group
    members = rng.choice(n, size=int(sizes.sum()), replace=False)
    of = np.repeat(np.arange(len(sizes)), sizes)
    lead = country[members[np.cumsum(sizes) - sizes]]
    same = rng.random(len(members)) < 0.9
    country[members] = np.where(same, lead[of], country[members])
    group[members] = of
    return group


def _ratings(rng: np.random.Generator, grade: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Rating index 0 (AAA) .. 6 (CCC) from a latent score shifted by country risk and size."""
    from statistics import NormalDist

    cum = np.cumsum(list(_RATING_MIX.values()))[:-1]
    cuts = np.array([NormalDist().inv_cdf(p) for p in cum])
    latent = (
        rng.standard_normal(len(grade))
        + _GRADE_SHIFT * grade
        - _SIZE_SHIFT * np.log10(size / _MEDIAN_LIMIT)
    )
    return np.searchsorted(cuts, latent)


def _buyers(
    rng: np.random.Generator, n: int, countries: pl.DataFrame
) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """The buyers table, each buyer's total limit (EUR) and country index."""
    weight = countries.get_column("trade_weight").to_numpy()
    country = rng.choice(len(weight), size=n, p=weight / weight.sum())
    group = _groups(rng, country)
    size = _buyer_sizes(rng, n)
    grade = countries.get_column("risk_grade").to_numpy()[country]
    rating = _ratings(rng, grade, size)
    sector = _choice(rng, _SECTORS, n)
    names = list(DEFAULT_RATINGS)
    group_ids = (
        _ids("G", int(group.max()) + 1, 6) if group.max() >= 0 else pl.Series([], dtype=pl.String)
    )
    df = pl.DataFrame(
        {
            "buyer_id": _ids("B", n, 7),
            "country": countries.get_column("country").gather(country),
            "sector": pl.Series(list(_SECTORS)).gather(sector),
            "rating": pl.Series(names).gather(rating),
            "pd": np.array([DEFAULT_RATINGS[r] for r in names])[rating],
            "lgd": np.round(_LGD_BASE + _LGD_PER_GRADE * grade, 4),
            "group_id": group_ids.gather(pl.Series(group).set(pl.Series(group < 0), None)),
        }
    )
    return df, size, country


def _policy_sizes(rng: np.random.Generator, n_exposures: int) -> np.ndarray:
    """Exposures per policy: lognormal (median 20), truncated to sum to ``n_exposures``."""
    out: list[np.ndarray] = []
    total = 0
    while total < n_exposures:
        draw = np.maximum(
            np.ceil(rng.lognormal(math.log(20.0), 1.5, n_exposures // 40 + 16)), 3
        ).astype(np.int64)
        out.append(draw)
        total += int(draw.sum())
    sizes = np.concatenate(out)
    cum = np.cumsum(sizes)
    k = int(np.searchsorted(cum, n_exposures)) + 1
    sizes = sizes[:k]
    sizes[-1] -= int(cum[k - 1]) - n_exposures
    return sizes[sizes > 0]


def _exposure_pairs(rng: np.random.Generator, size: np.ndarray) -> pl.DataFrame:
    """(buyer, policy, limit in EUR) with large buyers spread over several policies."""
    n = len(size)
    lam = np.minimum(0.25 * np.sqrt(size / _MEDIAN_LIMIT), 11.0)
    k = 1 + np.minimum(rng.poisson(lam), 11)
    buyer = np.repeat(np.arange(n), k)
    share = rng.gamma(2.0, size=len(buyer))
    share /= np.bincount(buyer, share)[buyer]
    policy_sizes = _policy_sizes(rng, len(buyer))
    policy = np.repeat(np.arange(len(policy_sizes)), policy_sizes)[rng.permutation(len(buyer))]
    # a buyer drawn twice into one policy has one limit there: merge them (sorted by buyer, policy)
    n_policies = len(policy_sizes)
    key, inverse = np.unique(buyer * n_policies + policy, return_inverse=True)
    limit = np.bincount(inverse, size[buyer] * share, minlength=len(key))
    return pl.DataFrame(
        {"buyer": key // n_policies, "policy": key % n_policies, "limit_eur": limit}
    )


def _fx_rate(codes: pl.Series) -> pl.Series:
    """EUR per unit of each currency code (:data:`SAMPLE_FX_EUR`)."""
    return codes.replace_strict(SAMPLE_FX_EUR, default=None, return_dtype=pl.Float64)


def _payment_terms(
    rng: np.random.Generator, policy: np.ndarray, region: pl.Series, sector: pl.Series
) -> np.ndarray:
    """Each exposure's payment term (days, one of :data:`_TERMS`).

    Lognormal around :data:`_TERM_MEDIAN` × the buyer's region and sector factors, with an
    exporter's effect shared by a policy's exposures, rounded in log to the nearest standard term
    (so 30–180 days).
    """
    factor = region.replace_strict(_REGION_TERM, return_dtype=pl.Float64).to_numpy()
    factor = factor * sector.replace_strict(_SECTOR_TERM, return_dtype=pl.Float64).to_numpy()
    exporter = rng.normal(0.0, _TERM_SD_POLICY, int(policy.max()) + 1)[policy]
    log_term = np.log(_TERM_MEDIAN * factor) + exporter + rng.normal(0.0, _TERM_SD, len(policy))
    bounds = 0.5 * (np.log(_TERMS[:-1]) + np.log(_TERMS[1:]))
    return _TERMS[np.searchsorted(bounds, log_term)]


def _exposures(
    rng: np.random.Generator,
    pairs: pl.DataFrame,
    policy_ccy: pl.Series,
    buyers: pl.DataFrame,
) -> tuple[pl.DataFrame, np.ndarray]:
    """The exposures table (limits in the exposure's currency, rounded to 1,000 units) and each
    exposure's EUR rate (of its own currency, else its policy's).

    ``buyers`` has, per buyer in book order, ``local`` (its country's currency), ``region`` and
    ``sector``.
    """
    m = pairs.height
    b = pairs.get_column("buyer")
    p = pairs.get_column("policy")
    buyer_local_ccy = buyers.get_column("local")
    local = buyer_local_ccy.gather(b)
    local = pl.select(
        pl.when(local.is_in(list(SAMPLE_FX_EUR))).then(local).otherwise(pl.lit("USD"))
    ).to_series()
    explicit = pl.Series(rng.random(m) < 0.12)
    currency = pl.select(pl.when(explicit).then(local).otherwise(None)).to_series()
    effective = pl.select(pl.coalesce(currency, policy_ccy.gather(p))).to_series()
    rate = _fx_rate(effective).to_numpy()
    limit = _round(pairs.get_column("limit_eur").to_numpy() / rate, 1_000.0, 1_000.0)
    cover = rng.random((2, m))
    df = pl.DataFrame(
        {
            "exposure_id": _ids("E", m, 8),
            "policy_id": _ids("P", int(p.max()) + 1, 6).gather(p),
            "buyer_id": _ids("B", int(b.max()) + 1, 7).gather(b),
            "limit": limit,
            "utilization": np.round(0.3 + 0.7 * rng.beta(2.5, 2.0, m), 3),
            "payment_term_days": _payment_terms(
                rng,
                p.to_numpy(),
                buyers.get_column("region").gather(b),
                buyers.get_column("sector").gather(b),
            ),
            "currency": currency,
            "commercial_cover": cover[0] >= 0.005,
            "political_cover": cover[1] >= 0.04,
        }
    )
    return df, rate


def _expected_loss(exposures: pl.DataFrame, rate: np.ndarray, risk: pl.DataFrame) -> np.ndarray:
    """Each exposure's expected annual loss before policy terms (EUR), as an underwriter reckons
    it: EAD × (pd × lgd under commercial cover + political pd × political LGD under political
    cover). ``risk`` has ``pd``, ``lgd`` and ``political_pd`` per exposure."""
    ead = (exposures.get_column("limit") * exposures.get_column("utilization")).to_numpy() * rate
    commercial = risk.get_column("pd").to_numpy() * risk.get_column("lgd").to_numpy()
    political = risk.get_column("political_pd").to_numpy() * _UNDERWRITING_POLITICAL_LGD
    return ead * (
        commercial * exposures.get_column("commercial_cover").to_numpy()
        + political * exposures.get_column("political_cover").to_numpy()
    )


def _policies(
    rng: np.random.Generator,
    exposures: pl.DataFrame,
    rate: np.ndarray,
    pairs: pl.DataFrame,
    policy_ccy: pl.Series,
    risk: pl.DataFrame,
) -> pl.DataFrame:
    """The policies table: terms, turnover, premium priced on the policy's expected loss.

    ``risk`` has, per exposure, its buyer's ``pd`` and ``lgd`` and its country's ``risk_grade``
    and ``political_pd``.
    """
    n = len(policy_ccy)
    p = pairs.get_column("policy").to_numpy()
    limit_eur = exposures.get_column("limit").to_numpy() * rate
    used = limit_eur * exposures.get_column("utilization").to_numpy()
    term = exposures.get_column("payment_term_days").to_numpy()
    total = np.bincount(p, limit_eur, minlength=n)
    g = np.bincount(p, limit_eur * risk.get_column("risk_grade").to_numpy(), minlength=n) / total
    to_ccy = 1.0 / _fx_rate(policy_ccy).to_numpy()
    indemnity = np.array([0.9, 0.85, 0.95])[rng.choice(3, size=n, p=[0.8, 0.1, 0.1])]
    noise = np.exp(rng.uniform(*np.log(_TURNOVER_NOISE), n))
    turnover_eur = np.bincount(p, used * 365.0 / term, minlength=n) * noise
    turnover = np.round(turnover_eur * to_ccy)
    el_eur = indemnity * np.bincount(p, _expected_loss(exposures, rate, risk), minlength=n)
    lo, hi = premium_rate_band(g)
    cycle = rng.lognormal(-0.5 * _PRICE_SD**2, _PRICE_SD, n)
    premium_rate = np.clip(_PRICE_LOADING * el_eur / turnover_eur * cycle, lo, hi)
    premium = np.round(premium_rate * turnover, 2)
    deductible = np.where(
        rng.random(n) < 0.5,
        0.0,
        _round(rng.uniform(0.1, 0.5, n) * el_eur * to_ccy, 1_000.0, 1_000.0),
    )
    nql_eur = np.array([1_000.0, 2_000.0, 2_500.0, 5_000.0])[rng.integers(0, 4, n)]
    nql = np.where(rng.random(n) < 0.4, 0.0, _round(nql_eur * to_ccy, 100.0, 100.0))
    return pl.DataFrame(
        {
            "policy_id": _ids("P", n, 6),
            "currency": policy_ccy,
            "policyholder": _ids("H", n, 6),
            "indemnity": indemnity,
            "deductible": deductible,
            "nql": nql,
            "max_liability": np.round(rng.uniform(30.0, 50.0, n) * premium, 0),
            "premium": premium,
            "turnover": turnover,
        }
    )


def _conformed(name: str, df: pl.DataFrame) -> pl.DataFrame:
    """``df`` with exactly the declared columns of table ``name``, in order, at their dtypes."""
    t = TABLES[name]
    return df.select(
        [
            (pl.col(c.name) if c.name in df.columns else pl.lit(c.default))
            .cast(c.dtype)
            .alias(c.name)
            for c in t.columns
        ]
    )


def generate_book(
    n_buyers: int,
    *,
    seed: int = 0,
    out: str | os.PathLike[str] | None = None,
    fmt: BookFormat = "parquet",
) -> Book:
    """Generate a realistic sample book (see the module docstring for what it looks like).

    Parameters
    ----------
    n_buyers : int
        Number of buyers (≥ 1); about 1.3 exposures per buyer and one policy per ~60 exposures.
    seed : int
        Seed of the NumPy generator: the same ``(n_buyers, seed)`` gives the same book.
    out : str or path-like, optional
        Folder to write the book to (one file per table); see :func:`write_book`.
    fmt : {"parquet", "csv", "xlsx"}
        File format when writing: one file per table, or one workbook :data:`WORKBOOK_NAME`
        with a sheet per table (at most 1,048,575 rows each: about 800,000 buyers).

    Returns
    -------
    Book
        Schema-conformed tables; amounts in each row's currency, fx in EUR per unit
        (the reporting currency is EUR).

    Raises
    ------
    ValueError
        If ``n_buyers`` < 1 or ``fmt`` is unknown.
    OutputError
        If ``out`` cannot be written (see :func:`write_book`).
    """
    if n_buyers < 1:
        raise ValueError(f"n_buyers must be at least 1 (got {n_buyers})")
    if fmt not in BOOK_FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(BOOK_FORMATS)} (got {fmt!r})")
    rng = np.random.default_rng(seed)
    countries = sample_countries().with_columns(
        pl.col("risk_grade")
        .replace_strict(dict(enumerate(DEFAULT_GRADE_PD)), return_dtype=pl.Float64)
        .alias("political_pd")
    )
    buyers, size, country = _buyers(rng, n_buyers, countries)
    pairs = _exposure_pairs(rng, size)
    n_policies = int(pairs.get_column("policy").max()) + 1
    policy_ccy = pl.Series(list(_POLICY_CURRENCIES)).gather(
        _choice(rng, _POLICY_CURRENCIES, n_policies)
    )
    of_buyer = pl.concat(
        [
            countries.select("region", "risk_grade", "political_pd", local="currency")[country],
            buyers.select("sector", "pd", "lgd"),
        ],
        how="horizontal",
    )
    exposures, rate = _exposures(rng, pairs, policy_ccy, of_buyer)
    risk = of_buyer.select("pd", "lgd", "risk_grade", "political_pd")[
        pairs.get_column("buyer").to_numpy()
    ]
    policies = _policies(rng, exposures, rate, pairs, policy_ccy, risk)
    used = countries.filter(
        pl.col("country").is_in(buyers.get_column("country").unique().implode())
    )
    country_table = used.select("country", "region", "risk_grade", "political_pd")
    ccys = pl.concat(
        [
            policies.get_column("currency"),
            exposures.get_column("currency").drop_nulls(),
            pl.Series(["EUR"]),
        ]
    )
    ccys = ccys.unique().sort()
    fx = pl.DataFrame({"currency": ccys, "rate": _fx_rate(ccys)})
    book = Book(
        buyers=_conformed("buyers", buyers),
        exposures=_conformed("exposures", exposures),
        policies=_conformed("policies", policies),
        countries=_conformed("countries", country_table),
        fx=_conformed("fx", fx),
    )
    if out is not None:
        marker = {
            "generator": "riskengine.book.generate_book",
            "n_buyers": n_buyers,
            "seed": seed,
            "format": fmt,
        }
        write_book(book, out, fmt=fmt, marker=marker)
    return book


def write_book(
    book: Book,
    out: str | os.PathLike[str],
    *,
    fmt: BookFormat = "parquet",
    marker: dict[str, object] | None = None,
) -> Path:
    """Write ``book`` into folder ``out`` atomically: a ``<table>.<fmt>`` file per table, or
    (``fmt="xlsx"``) one workbook :data:`WORKBOOK_NAME` with a sheet per table.

    The files are written into a temporary sibling folder that is then renamed into place, so
    ``out`` never holds a half-written book. ``out`` may be absent, empty, or a folder this
    function wrote before with a ``marker`` (it then is replaced, including any files added to
    it since); any other non-empty folder is refused.

    Parameters
    ----------
    book : Book
        The tables to write.
    out : str or path-like
        Destination folder (its parent is created if needed).
    fmt : {"parquet", "csv", "xlsx"}
        File format.
    marker : dict, optional
        Written as JSON to :data:`MARKER` (with the package version): marks the folder as a
        generated book that a later call may replace.

    Returns
    -------
    pathlib.Path
        The folder written, ``book.path`` and ``book.files`` are set accordingly.

    Raises
    ------
    OutputError
        If ``out`` is a file, a non-empty folder that is not a generated book, or not writable,
        or a table has more rows than an ``.xlsx`` sheet holds.
    """
    out = Path(out)
    _check_target(out)
    tables = book.tables()
    if fmt == "xlsx":
        too_long = {name: df.height for name, df in tables.items() if df.height > excel.MAX_ROWS}
        if too_long:
            rows = ", ".join(f"{name} has {n:,} rows" for name, n in too_long.items())
            raise OutputError(
                f"cannot write {out} as a workbook: {rows}, an .xlsx sheet holds at most "
                f"{excel.MAX_ROWS:,}; write parquet or csv",
                source=str(out),
            )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    except OSError as exc:
        raise OutputError(f"cannot write {out}: {exc.strerror or exc}", source=str(out)) from None
    try:
        if fmt == "xlsx":
            excel.write_workbook(tables, tmp / WORKBOOK_NAME)
            files = {name: excel.sheet_label(Path(WORKBOOK_NAME), name) for name in tables}
        else:
            files = {name: f"{name}.{fmt}" for name in tables}
            for name, df in tables.items():
                if fmt == "parquet":
                    df.write_parquet(tmp / files[name])
                else:
                    df.write_csv(tmp / files[name])
        if marker is not None:
            (tmp / MARKER).write_text(
                json.dumps({**marker, "version": __version__}, indent=2) + "\n"
            )
        _swap(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise OutputError(f"cannot write {out}: {exc.strerror or exc}", source=str(out)) from None
    book.path, book.files = out, files
    return out


def _check_target(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} exists and is not a folder", source=str(out))
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise OutputError(
            f"{out} is a non-empty folder that is not a generated sample book: "
            "refusing to overwrite it",
            source=str(out),
        )


def _swap(tmp: Path, out: Path) -> None:
    """Rename ``tmp`` to ``out``, replacing a previous generated book (or empty folder)."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.{uuid4().hex[:8]}.old")
        out.rename(old)
    try:
        tmp.rename(out)
    except OSError:
        if old is not None:
            old.rename(out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
