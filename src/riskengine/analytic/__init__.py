"""Analytic loss distributions: CreditRisk+ (docs/analytic.md).

:mod:`.crplus` is the numerical core (obligor arrays in, distribution and contributions out);
:mod:`.inputs` builds its inputs from a book resolved under a scenario, :mod:`.analyze` runs it
as ``riskengine analytic`` does and :mod:`.outputs` writes and reads ``analytic.json`` and
``analytic_distribution.parquet``.
"""

from .analyze import AnalyticRun, analyze
from .crplus import (
    LEVELS,
    Banding,
    Contributions,
    CreditRiskPlus,
    SectorModel,
    band_exposures,
    chernoff_size,
    credit_risk_plus,
    loss_distribution,
    panjer_distribution,
    sector_model,
)
from .inputs import AnalyticInputs, analytic_inputs, matched_pd_volatility
from .outputs import AnalyticOutputs, read_analytic, write_analytic

__all__ = [
    "LEVELS",
    "AnalyticInputs",
    "AnalyticOutputs",
    "AnalyticRun",
    "Banding",
    "Contributions",
    "CreditRiskPlus",
    "SectorModel",
    "analytic_inputs",
    "analyze",
    "band_exposures",
    "chernoff_size",
    "credit_risk_plus",
    "loss_distribution",
    "matched_pd_volatility",
    "panjer_distribution",
    "read_analytic",
    "sector_model",
    "write_analytic",
]
