"""Pricing: technical premiums, rate cards, calibration and the OECD benchmark (docs/pricing.md).

Pure functions on NumPy arrays and Polars frames; the caller supplies each policy's and
exposure's EL and allocated capital (from a run's capital allocation), the book's limits, terms,
turnovers and premiums in the reporting currency, and the scenario's pricing parameters.
"""

from .calibrate import Calibration, calibrate, combined_ratio, return_on_capital
from .card import (
    CELL_KEYS,
    CREDIBILITY_K,
    RATINGS,
    RISK_GRADES,
    TERM_BANDS,
    RateCard,
    buyer_ratings,
    fit_rate_card,
    rate_cells,
    rating_from_pd,
    term_band,
)
from .fit import MonotoneFit, fit_monotone_multiplicative, monotone_projection
from .oecd import BUYER_CATEGORIES, MIN_HORIZON_YEARS, oecd_benchmark, oecd_mpr
from .premium import (
    DAYS_PER_YEAR,
    Loadings,
    allocated_capital,
    exposure_turnover,
    insured_turnover,
    price_exposures,
    price_policies,
    technical_premium,
)
from .realism import MARKET_RANGES, realism_check

__all__ = [
    "BUYER_CATEGORIES",
    "CELL_KEYS",
    "CREDIBILITY_K",
    "DAYS_PER_YEAR",
    "MARKET_RANGES",
    "MIN_HORIZON_YEARS",
    "RATINGS",
    "RISK_GRADES",
    "TERM_BANDS",
    "Calibration",
    "Loadings",
    "MonotoneFit",
    "RateCard",
    "allocated_capital",
    "buyer_ratings",
    "calibrate",
    "combined_ratio",
    "exposure_turnover",
    "fit_monotone_multiplicative",
    "fit_rate_card",
    "insured_turnover",
    "monotone_projection",
    "oecd_benchmark",
    "oecd_mpr",
    "price_exposures",
    "price_policies",
    "rate_cells",
    "rating_from_pd",
    "realism_check",
    "return_on_capital",
    "technical_premium",
    "term_band",
]
