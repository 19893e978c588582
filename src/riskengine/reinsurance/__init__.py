"""Reinsurance: treaty metrics and layer sizing (the treaties themselves run in the kernels)."""

from .metrics import reinstatement_premium, treaty_metrics

__all__ = ["reinstatement_premium", "treaty_metrics"]
