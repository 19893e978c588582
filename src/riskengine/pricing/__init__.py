"""Pricing: technical premiums, rate cards, calibration and the OECD benchmark (docs/pricing.md).

The core is pure functions on NumPy arrays and Polars frames: the caller supplies each policy's
and exposure's EL and allocated capital, the book's limits, terms, turnovers and premiums in the
reporting currency, and the pricing parameters. :mod:`.job` chains them on a run's capital
allocation and a book (:func:`price_book`) and writes the files of ``riskengine price``
(:func:`write_pricing`).
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
    rating_order,
    term_band,
)
from .fit import MonotoneFit, fit_monotone_multiplicative, monotone_projection
from .job import (
    PricedBook,
    RunFacts,
    price_book,
    read_run,
    with_pricing_allocation,
    write_pricing,
)
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
from .realism import MARKET_RANGES, most_common_cell, realism_check

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
    "PricedBook",
    "RunFacts",
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
    "most_common_cell",
    "oecd_benchmark",
    "oecd_mpr",
    "price_book",
    "price_exposures",
    "price_policies",
    "rating_order",
    "read_run",
    "rate_cells",
    "rating_from_pd",
    "realism_check",
    "return_on_capital",
    "technical_premium",
    "term_band",
    "with_pricing_allocation",
    "write_pricing",
]
