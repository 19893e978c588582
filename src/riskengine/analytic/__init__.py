"""Analytic loss distributions: CreditRisk+ (docs/analytic.md)."""

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

__all__ = [
    "LEVELS",
    "Banding",
    "Contributions",
    "CreditRiskPlus",
    "SectorModel",
    "band_exposures",
    "chernoff_size",
    "credit_risk_plus",
    "loss_distribution",
    "panjer_distribution",
    "sector_model",
]
