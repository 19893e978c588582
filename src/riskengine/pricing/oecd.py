"""The OECD Arrangement's minimum premium rate (MPR), an external benchmark for country rates.

Source: *Arrangement on Officially Supported Export Credits*, OECD, TAD/PG(2023)7 (the version in
force from 15 July 2023), Annex VI "Calculation of the minimum premium rates for country risk
category 1–7 transactions", also reproduced as Annex II of Regulation (EU) No 1233/2011
(consolidated text of 31 December 2023, CELEX 02011R1233-20231231). For an obligor in country
risk category i = 1 … 7 and buyer risk category n::

    MPR = {[(a_i × HOR + b_i) × max(PCC, PCP) / 0.95] × (1 − LCF)
           + [c_in × PCC / 0.95 × HOR × (1 − CEF)]} × QPF_i × PCF_i × BTSF × (1 − min(TERM, 0.15))

in per cent of the principal, charged once for the whole horizon of risk HOR (years); PCC, PCP
are the percentages of commercial and political cover (fractions), CEF a credit-enhancement
factor, LCF a local-currency factor, QPF_i the quality-of-product factor, PCF_i the
percentage-of-cover factor (1 up to 95 % cover, 1 + ((max(PCC, PCP) − 0.95) / 0.05) × the
category's coefficient above), BTSF 0.9 for a buyer better than its sovereign (SOV+), else 1,
and TERM a reduction for repayment terms far beyond those of short-term credit insurance, taken
as 0 here. The coefficients below are Annex VI's.

Use in riskengine (docs/pricing.md §5): a sovereign-like buyer (SOV/CC0, c_in = 0), 95 % cover
(PCF = 1), a standard product (QPF = 1) and HOR = the payment term in years. Then
MPR = a_i × HOR + b_i per cent of each receivable; a receivable of each unit of turnover is
covered once, so it compares with a rate on turnover. The Arrangement covers credits of two
years and more: below that this is an **extrapolation** (the constant b_i dominates), and
flagged so. Countries in category 0 and the high-income countries are priced against market
benchmarks, not this formula: their MPR is NaN.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from .premium import DAYS_PER_YEAR

__all__ = [
    "BUYER_CATEGORIES",
    "MIN_HORIZON_YEARS",
    "oecd_benchmark",
    "oecd_mpr",
]

#: Country risk coefficient a_i (per cent of principal per year of horizon), categories 1 … 7.
A_I = np.array([0.090, 0.200, 0.350, 0.550, 0.740, 0.900, 1.100])

#: Constant b_i (per cent of principal), categories 1 … 7.
B_I = np.array([0.350, 0.350, 0.350, 0.350, 0.750, 1.200, 1.800])

#: Buyer risk categories, best first.
BUYER_CATEGORIES = ("SOV+", "SOV/CC0", "CC1", "CC2", "CC3", "CC4", "CC5")

_NA = np.nan
#: Buyer risk coefficient c_in (per cent per year), rows BUYER_CATEGORIES, columns categories
#: 1 … 7; NaN where the Arrangement has no such buyer category in that country category.
C_IN = np.array(
    [
        [0.000, 0.000, 0.000, 0.000, 0.000, 0.000, 0.000],
        [0.000, 0.000, 0.000, 0.000, 0.000, 0.000, 0.000],
        [0.110, 0.120, 0.110, 0.100, 0.100, 0.100, 0.125],
        [0.200, 0.212, 0.223, 0.234, 0.246, 0.258, 0.271],
        [0.270, 0.320, 0.320, 0.350, 0.380, 0.480, _NA],
        [0.405, 0.459, 0.495, 0.540, 0.621, _NA, _NA],
        [0.630, 0.675, 0.720, 0.810, _NA, _NA, _NA],
    ]
)

#: Quality-of-product factor QPF_i by product, categories 1 … 7.
QPF = {
    "below_standard": np.array([0.9965, 0.9935, 0.9850, 0.9825, 0.9825, 0.9800, 0.9800]),
    "standard": np.ones(7),
    "above_standard": np.array([1.0035, 1.0065, 1.0150, 1.0175, 1.0175, 1.0200, 1.0200]),
}

#: Percentage-of-cover coefficient of PCF_i, categories 1 … 7 (applies above 95 % cover).
PCF_COEFFICIENT = np.array([0.00000, 0.00337, 0.00489, 0.01639, 0.03657, 0.05878, 0.08598])

#: Better-than-sovereign factor for SOV+ buyers.
BTSF_SOV_PLUS = 0.9

#: The shortest horizon the Arrangement covers (years); shorter ones are extrapolations.
MIN_HORIZON_YEARS = 2.0


def oecd_mpr(
    risk_grade: np.ndarray,
    horizon_years: np.ndarray,
    *,
    buyer: str = "SOV/CC0",
    pcc: float = 0.95,
    pcp: float = 0.95,
    product_quality: str = "standard",
    cef: float = 0.0,
    lcf: float = 0.0,
) -> np.ndarray:
    """The Arrangement's minimum premium rate, as a fraction of the covered principal.

    Parameters
    ----------
    risk_grade : ndarray of int
        OECD country risk category (1 … 7; 0 and anything else give NaN).
    horizon_years : ndarray
        Horizon of risk HOR (years, ≥ 0).
    buyer : str
        Buyer risk category, one of ``BUYER_CATEGORIES`` (default: sovereign-like).
    pcc, pcp : float
        Percentage of commercial and political cover (fractions, 0 < · ≤ 1).
    product_quality : str
        ``below_standard``, ``standard`` or ``above_standard``.
    cef, lcf : float
        Credit-enhancement and local-currency factors (fractions, default 0).

    Returns
    -------
    ndarray
        The MPR (fraction of principal, once for the horizon; 0.0365 = 3.65 %), broadcast over
        the inputs; NaN for categories outside 1 … 7 or a buyer category the country category
        does not have.
    """
    if buyer not in BUYER_CATEGORIES:
        raise ValueError(f"buyer must be one of {BUYER_CATEGORIES}, got {buyer!r}")
    if product_quality not in QPF:
        raise ValueError(f"product_quality must be one of {sorted(QPF)}, got {product_quality!r}")
    if not (0 < pcc <= 1 and 0 < pcp <= 1 and 0 <= cef < 1 and 0 <= lcf < 1):
        raise ValueError("cover must be in (0, 1] and cef, lcf in [0, 1)")
    grade = np.asarray(risk_grade)
    hor = np.asarray(horizon_years, dtype=np.float64)
    if np.any(hor < 0):
        raise ValueError("the horizon of risk must be ≥ 0 years")
    valid = (grade >= 1) & (grade <= 7)
    i = np.where(valid, grade, 1).astype(np.int64) - 1
    n = BUYER_CATEGORIES.index(buyer)
    pc = max(pcc, pcp)
    pcf = 1.0 + max(pc - 0.95, 0.0) / 0.05 * PCF_COEFFICIENT[i]
    btsf = BTSF_SOV_PLUS if buyer == "SOV+" else 1.0
    country = (A_I[i] * hor + B_I[i]) * pc / 0.95 * (1.0 - lcf)
    commercial = C_IN[n, i] * pcc / 0.95 * hor * (1.0 - cef)
    per_cent = (country + commercial) * QPF[product_quality][i] * pcf * btsf
    return np.where(valid, per_cent / 100.0, np.nan)


def oecd_benchmark(risk_grade: np.ndarray, payment_term_days: np.ndarray) -> pl.DataFrame:
    """The benchmark column for country rates: the MPR at the payment term, labelled.

    A sovereign-like buyer, 95 % cover, a standard product, HOR = payment term / 365.

    Parameters
    ----------
    risk_grade : ndarray of int
        OECD country risk category of each row (0 … 7).
    payment_term_days : ndarray
        The horizon (days), e.g. the scenario's ``pricing.payment_term_days`` or the most
        common term of the country's exposures.

    Returns
    -------
    polars.DataFrame
        ``oecd_horizon_years``, ``oecd_mpr`` (fraction of each receivable; null for category 0)
        and ``oecd_extrapolated`` (true where the horizon is under the Arrangement's two-year
        minimum, i.e. the formula is used outside its range).
    """
    g = np.atleast_1d(np.asarray(risk_grade))
    hor = np.broadcast_to(
        np.asarray(payment_term_days, dtype=np.float64) / DAYS_PER_YEAR, g.shape
    ).copy()
    return pl.DataFrame(
        {
            "oecd_horizon_years": hor,
            "oecd_mpr": oecd_mpr(g, hor),
            "oecd_extrapolated": hor < MIN_HORIZON_YEARS,
        }
    ).with_columns(pl.col("oecd_mpr").fill_nan(None))
