"""Reinsurance for treaty buyers: layer sizing on one set of simulated years (:mod:`.sweep`) and
its plot. The treaties themselves run in the kernels (``kernels.programme``); their parameters
are resolved in ``portfolio.treaties`` and their metrics computed in ``results.treaties``."""

from ..results.treaties import reinstatement_premium, treaty_metrics

__all__ = ["reinstatement_premium", "treaty_metrics"]
