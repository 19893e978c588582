"""riskengine: a Monte Carlo portfolio risk engine for trade and export credit insurers."""

from __future__ import annotations

import logging

__version__ = "0.1.0"

logging.getLogger("riskengine").addHandler(logging.NullHandler())

__all__ = ["__version__"]
