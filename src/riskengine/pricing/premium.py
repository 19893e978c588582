"""Technical premiums per policy and per exposure, and insured turnover (docs/pricing.md §1–2).

* Insured turnover of an exposure: limit × utilization × 365 / payment_term_days (a limit
  revolves once per payment term); a policy's given ``turnover`` replaces the sum of its
  exposures' and is split over them in those proportions.
* Allocated capital of a policy: its contribution to TVaR_q (or VaR_q) minus its EL.
* Technical premium = (EL + cost_of_capital × capital) / (1 − expense_ratio − commission);
  technical and actual rates on turnover; adequacy = actual premium / technical premium.
* Within a policy, EL is split over its exposures in proportion to their EL and capital in
  proportion to their capital (contribution − EL), so the exposures' technical premiums add up to
  the policy's.

Standard errors are Monte Carlo standard errors of the simulated EL and contributions, carried
through these linear formulas (the loadings are constants); ``rho`` is the correlation between
the two estimates, 0 unless the caller knows better.

Amounts are in one currency (the reporting currency: the caller converts limits, turnovers and
premiums before calling); rates are fractions per year (0.004, not 0.4 %).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from ..book.schema import MAX_TERM_DAYS
from ._checks import (
    as_float,
    check_parameter,
    raise_book,
    raise_scenario,
    row_problem,
    same_length,
)

__all__ = [
    "DAYS_PER_YEAR",
    "Loadings",
    "allocated_capital",
    "exposure_turnover",
    "insured_turnover",
    "price_exposures",
    "price_policies",
    "technical_premium",
]

#: Days in the year of turnover: a limit on terms of T days revolves 365 / T times a year.
DAYS_PER_YEAR = 365.0


@dataclass(frozen=True)
class Loadings:
    """What a premium must pay for besides the expected loss.

    Parameters
    ----------
    cost_of_capital : float
        Required return on allocated capital per year (fraction, ≥ 0; 0.10 = 10 %).
    expense_ratio : float
        Expenses as a share of premium (fraction, ≥ 0).
    commission : float
        Brokers' commission as a share of premium (fraction, ≥ 0); expense_ratio + commission
        must stay below 1.

    Raises
    ------
    ScenarioError
        Naming the ``pricing.*`` key of each value out of range.
    """

    cost_of_capital: float = 0.10
    expense_ratio: float = 0.20
    commission: float = 0.05

    def __post_init__(self) -> None:
        coc, e, c = self.cost_of_capital, self.expense_ratio, self.commission
        raise_scenario(
            [
                check_parameter("pricing.cost_of_capital", coc, coc >= 0.0, "must be ≥ 0"),
                check_parameter("pricing.expense_ratio", e, e >= 0.0, "must be ≥ 0"),
                check_parameter("pricing.commission", c, c >= 0.0, "must be ≥ 0"),
                check_parameter(
                    "pricing.commission",
                    e + c,
                    e + c < 1.0,
                    "expense_ratio + commission must be below 1 (the share of premium left "
                    "for losses and capital)",
                ),
            ]
        )

    @property
    def retained(self) -> float:
        """Share of premium left for losses and the return on capital: 1 − expense − commission."""
        return 1.0 - self.expense_ratio - self.commission


def insured_turnover(
    limit: np.ndarray,
    utilization: np.ndarray,
    payment_term_days: np.ndarray,
    policy: np.ndarray | None = None,
    policy_turnover: np.ndarray | None = None,
    ids: np.ndarray | list[str] | None = None,
) -> np.ndarray:
    """Insured annual turnover of each exposure (currency per year).

    t_e = limit_e × utilization_e × 365 / payment_term_days_e. Where the exposure's policy has a
    given turnover T_p (finite and > 0 in ``policy_turnover``), t_e is rescaled to T_p × t_e / Σ t,
    the sum over the policy's exposures; if that sum is 0 (every utilization 0), T_p is split in
    proportion to limit × 365 / term instead. A given turnover of 0 counts as not given (the
    book's schema accepts 0; a policy's insured sales cannot be nothing while it insures limits
    that revolve), so such a policy's turnover is the sum.

    Parameters
    ----------
    limit, utilization, payment_term_days : ndarray
        Per exposure: credit limit (currency, > 0), expected share of the limit used (0..1) and
        payment term (days, 1..720). Fill missing values before calling.
    policy : ndarray of int, optional
        Per exposure, the index of its policy in ``policy_turnover``.
    policy_turnover : ndarray of float, optional
        Per policy, its given insured turnover (currency per year, ≥ 0) or NaN where none is
        given; 0 is read as NaN.
    ids : sequence of str, optional
        Exposure ids, quoted by error messages.

    Raises
    ------
    BookError
        For a limit, utilization, term or given turnover out of range (every rule at once).
    """
    lim = as_float(limit, "limit")
    util = as_float(utilization, "utilization")
    term = as_float(payment_term_days, "payment_term_days")
    same_length(limit=lim, utilization=util, payment_term_days=term)
    with np.errstate(invalid="ignore"):
        problems = [
            row_problem("exposures", "limit", "0 < limit", ~(lim > 0) | ~np.isfinite(lim), ids),
            row_problem(
                "exposures", "utilization", "0 ≤ utilization ≤ 1", ~(util >= 0) | ~(util <= 1), ids
            ),
            row_problem(
                "exposures",
                "payment_term_days",
                f"1 ≤ payment_term_days ≤ {MAX_TERM_DAYS}",
                ~(term >= 1) | ~(term <= MAX_TERM_DAYS),
                ids,
            ),
        ]
    raise_book(problems)
    t = lim * util * DAYS_PER_YEAR / term
    if policy is None or policy_turnover is None:
        return t
    p = np.asarray(policy, dtype=np.int64)
    given = as_float(policy_turnover, "policy_turnover")
    same_length(policy=p, limit=lim)
    with np.errstate(invalid="ignore"):
        bad = (given < 0) | np.isinf(given)
    raise_book([row_problem("policies", "turnover", "0 ≤ turnover", bad, None)])
    given = np.where(given > 0, given, np.nan)  # 0: not given
    sums = np.bincount(p, weights=t, minlength=len(given))
    alt = lim * DAYS_PER_YEAR / term
    alt_sums = np.bincount(p, weights=alt, minlength=len(given))
    has = np.isfinite(given)[p]
    use_alt = has & (sums[p] == 0.0)
    out = t.copy()
    scale = np.divide(given, sums, out=np.zeros_like(given), where=sums > 0)
    out[has] = t[has] * scale[p[has]]
    out[use_alt] = given[p[use_alt]] * alt[use_alt] / alt_sums[p[use_alt]]
    return out


def exposure_turnover(
    exposures: pl.DataFrame,
    policies: pl.DataFrame | None = None,
    *,
    default_utilization: float,
    default_payment_term_days: float = 60.0,
) -> pl.DataFrame:
    """``exposures`` with ``utilization`` and ``payment_term_days`` filled and ``turnover`` added.

    Parameters
    ----------
    exposures : polars.DataFrame
        ``exposure_id``, ``policy_id``, ``limit`` (reporting currency), optionally
        ``utilization`` and ``payment_term_days`` (nulls take the defaults).
    policies : polars.DataFrame, optional
        ``policy_id`` and optionally ``turnover`` (reporting currency per year; null or 0: none
        given). Every exposure's policy must be listed.
    default_utilization : float
        The scenario's ``model.utilization``.
    default_payment_term_days : float
        The scenario's ``pricing.payment_term_days`` (days).

    Returns
    -------
    polars.DataFrame
        The exposures, in their order, with ``turnover`` (currency per year).
    """
    ex = exposures.with_columns(
        _filled(exposures, "utilization", default_utilization),
        _filled(exposures, "payment_term_days", default_payment_term_days),
    )
    ids = ex.get_column("exposure_id").cast(pl.String).to_numpy()
    args = [ex.get_column(c).cast(pl.Float64).to_numpy() for c in _TURNOVER_COLUMNS]
    policy = given = None
    if policies is not None and "turnover" in policies.columns:
        codes = policies.select(
            pl.col("policy_id"), pl.int_range(pl.len(), dtype=pl.Int64).alias("_code")
        )
        joined = ex.select("policy_id").join(
            codes, on="policy_id", how="left", maintain_order="left"
        )
        missing = joined.get_column("_code").is_null().to_numpy()
        raise_book([row_problem("exposures", "policy_id", "listed in policies", missing, ids)])
        policy = joined.get_column("_code").to_numpy()
        given = policies.get_column("turnover").cast(pl.Float64).fill_null(np.nan).to_numpy()
    t = insured_turnover(*args, policy=policy, policy_turnover=given, ids=ids)
    return ex.with_columns(pl.Series("turnover", t, dtype=pl.Float64))


_TURNOVER_COLUMNS = ("limit", "utilization", "payment_term_days")


def _filled(frame: pl.DataFrame, column: str, default: float) -> pl.Expr:
    """``column`` cast to float with nulls replaced by ``default`` (a constant if absent)."""
    if column in frame.columns:
        return pl.col(column).cast(pl.Float64).fill_null(float(default))
    return pl.lit(float(default), dtype=pl.Float64).alias(column)


def allocated_capital(
    contribution: np.ndarray,
    el: np.ndarray,
    contribution_se: np.ndarray | None = None,
    el_se: np.ndarray | None = None,
    rho: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Allocated capital = contribution − EL, and its standard error.

    Parameters
    ----------
    contribution : ndarray
        Contribution to TVaR_q or VaR_q (currency).
    el : ndarray
        Expected loss (currency).
    contribution_se, el_se : ndarray, optional
        Their Monte Carlo standard errors (NaN in the result when either is missing).
    rho : float
        Correlation between the two estimates (−1..1; 0: independent). Estimates from the same
        simulated years are usually positively correlated, which makes 0 conservative here.

    Returns
    -------
    (capital, capital_se) : tuple of ndarray
        se = √(se_c² + se_el² − 2 ρ se_c se_el).
    """
    c = as_float(contribution, "contribution")
    e = as_float(el, "el")
    same_length(contribution=c, el=e)
    sc = _se(contribution_se, len(c))
    se_ = _se(el_se, len(c))
    var = sc**2 + se_**2 - 2.0 * rho * sc * se_
    return c - e, np.sqrt(np.maximum(var, 0.0))


def technical_premium(
    el: np.ndarray,
    capital: np.ndarray,
    loadings: Loadings,
    el_se: np.ndarray | None = None,
    capital_se: np.ndarray | None = None,
    rho: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Technical premium (EL + coc × capital) / (1 − expense − commission), with its standard error.

    Parameters
    ----------
    el, capital : ndarray
        Expected loss and allocated capital (currency).
    loadings : Loadings
        Cost of capital, expense ratio and commission.
    el_se, capital_se : ndarray, optional
        Their standard errors (NaN in the result when either is missing).
    rho : float
        Correlation between the EL and capital estimates (0: independent).

    Returns
    -------
    (premium, premium_se) : tuple of ndarray
        Currency per year; se = √(se_el² + coc² se_cap² + 2 ρ coc se_el se_cap) / (1 − e − c).
    """
    e = as_float(el, "el")
    k = as_float(capital, "capital")
    same_length(el=e, capital=k)
    coc = loadings.cost_of_capital
    s_e = _se(el_se, len(e))
    s_k = _se(capital_se, len(e))
    var = s_e**2 + (coc * s_k) ** 2 + 2.0 * rho * coc * s_e * s_k
    return (e + coc * k) / loadings.retained, np.sqrt(np.maximum(var, 0.0)) / loadings.retained


def _se(values: np.ndarray | None, n: int) -> np.ndarray:
    """Standard errors as float64 (NaN when not given)."""
    if values is None:
        return np.full(n, np.nan)
    s = as_float(values, "se")
    if len(s) != n:
        raise ValueError(f"standard errors: expected {n} values, got {len(s)}")
    return s


#: Columns :func:`price_policies` reads.
POLICY_COLUMNS = ("policy_id", "turnover", "premium", "el", "el_se", "capital", "capital_se")


def price_policies(policies: pl.DataFrame, loadings: Loadings, rho: float = 0.0) -> pl.DataFrame:
    """Technical premium, rates on turnover and adequacy per policy (the ``pricing.parquet`` rows).

    Parameters
    ----------
    policies : polars.DataFrame
        ``policy_id``, ``turnover`` (currency per year, ≥ 0), ``premium`` (actual, currency per
        year, ≥ 0 or null), ``el``, ``el_se``, ``capital``, ``capital_se`` (currency).
    loadings : Loadings
    rho : float
        Correlation between the EL and capital estimates (see :func:`technical_premium`).

    Returns
    -------
    polars.DataFrame
        The input columns plus ``technical_premium``, ``technical_premium_se`` (currency),
        ``technical_rate`` = technical_premium / turnover, ``actual_rate`` = premium / turnover
        (fractions per year; null where turnover is 0) and ``adequacy`` = premium /
        technical_premium (null where the technical premium is 0 or the premium null).

    Raises
    ------
    BookError
        For a negative or non-finite turnover, premium or EL (every rule at once).
    """
    _require(policies, POLICY_COLUMNS, "policies")
    ids = policies.get_column("policy_id").cast(pl.String).to_numpy()
    turnover = policies.get_column("turnover").cast(pl.Float64).to_numpy()
    premium = policies.get_column("premium").cast(pl.Float64).fill_null(np.nan).to_numpy()
    el = policies.get_column("el").cast(pl.Float64).to_numpy()
    with np.errstate(invalid="ignore"):
        raise_book(
            [
                row_problem(
                    "policies",
                    "turnover",
                    "0 ≤ turnover",
                    ~(turnover >= 0) | np.isinf(turnover),
                    ids,
                ),
                row_problem(
                    "policies", "premium", "0 ≤ premium", (premium < 0) | np.isinf(premium), ids
                ),
                row_problem("pricing", "el", "0 ≤ el", ~(el >= 0) | np.isinf(el), ids),
            ]
        )
    tp, tp_se = technical_premium(
        el,
        policies.get_column("capital").cast(pl.Float64).to_numpy(),
        loadings,
        policies.get_column("el_se").cast(pl.Float64).fill_null(np.nan).to_numpy(),
        policies.get_column("capital_se").cast(pl.Float64).fill_null(np.nan).to_numpy(),
        rho,
    )
    return policies.with_columns(
        pl.Series("technical_premium", tp),
        pl.Series("technical_premium_se", tp_se),
        pl.Series("technical_rate", _ratio(tp, turnover)),
        pl.Series("actual_rate", _ratio(premium, turnover)),
        pl.Series("adequacy", _ratio(premium, tp)),
    ).with_columns(pl.col("technical_rate", "actual_rate", "adequacy").fill_nan(None))


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, NaN where den is 0 or either is NaN."""
    out = np.full(len(num), np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _require(frame: pl.DataFrame, columns: tuple[str, ...], table: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{table}: missing columns {missing} (needs {list(columns)})")


#: Columns :func:`price_exposures` reads from the exposures.
EXPOSURE_COLUMNS = ("exposure_id", "policy_id", "turnover", "exposure_el", "exposure_capital")


def price_exposures(
    exposures: pl.DataFrame, policies: pl.DataFrame, loadings: Loadings
) -> pl.DataFrame:
    """Split each policy's EL and capital over its exposures; their technical premiums and rates.

    A policy's EL is split in proportion to its exposures' ``exposure_el``, its capital in
    proportion to their ``exposure_capital`` (contribution − EL at the exposure level); where
    those weights sum to 0 within a policy, in proportion to turnover instead (and equally if
    that sums to 0 too). Standard errors split with the same shares. The exposures' EL, capital
    and technical premiums add up to their policy's.

    Parameters
    ----------
    exposures : polars.DataFrame
        ``exposure_id``, ``policy_id``, ``turnover`` (currency per year), ``exposure_el`` and
        ``exposure_capital`` (currency; e.g. the exposure rows of the capital allocation).
    policies : polars.DataFrame
        ``policy_id``, ``el``, ``el_se``, ``capital``, ``capital_se`` (currency).
    loadings : Loadings

    Returns
    -------
    polars.DataFrame
        The exposures, in their order, with ``el``, ``el_se``, ``capital``, ``capital_se``,
        ``technical_premium``, ``technical_premium_se`` (currency) and ``technical_rate``
        (fraction of turnover per year; null where turnover is 0).
    """
    _require(exposures, EXPOSURE_COLUMNS, "exposures")
    _require(policies, ("policy_id", "el", "el_se", "capital", "capital_se"), "policies")
    joined = exposures.join(
        policies.select("policy_id", "el", "el_se", "capital", "capital_se"),
        on="policy_id",
        how="left",
        maintain_order="left",
    )
    ids = joined.get_column("exposure_id").cast(pl.String).to_numpy()
    missing = joined.get_column("el").is_null().to_numpy()
    raise_book([row_problem("exposures", "policy_id", "has a priced policy", missing, ids)])
    el_share = _shares("exposure_el")
    cap_share = _shares("exposure_capital")
    split = joined.with_columns(
        (pl.col("el") * el_share).alias("el"),
        (pl.col("el_se") * el_share.abs()).alias("el_se"),
        (pl.col("capital") * cap_share).alias("capital"),
        (pl.col("capital_se") * cap_share.abs()).alias("capital_se"),
    )
    tp, tp_se = technical_premium(
        split.get_column("el").to_numpy(),
        split.get_column("capital").to_numpy(),
        loadings,
        split.get_column("el_se").fill_null(np.nan).to_numpy(),
        split.get_column("capital_se").fill_null(np.nan).to_numpy(),
    )
    turnover = split.get_column("turnover").cast(pl.Float64).to_numpy()
    return split.with_columns(
        pl.Series("technical_premium", tp),
        pl.Series("technical_premium_se", tp_se),
        pl.Series("technical_rate", _ratio(tp, turnover)).fill_nan(None),
    )


def _shares(weight: str) -> pl.Expr:
    """Each exposure's share of its policy by ``weight``; by turnover (then equal) where Σ = 0."""
    w = pl.col(weight).cast(pl.Float64)
    t = pl.col("turnover").cast(pl.Float64)
    w_sum = w.sum().over("policy_id")
    t_sum = t.sum().over("policy_id")
    n = pl.len().over("policy_id").cast(pl.Float64)
    return pl.when(w_sum != 0).then(w / w_sum).when(t_sum != 0).then(t / t_sum).otherwise(1.0 / n)
