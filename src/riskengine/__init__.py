"""riskengine: a Monte Carlo portfolio risk engine for trade and export credit insurers."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

logging.getLogger("riskengine").addHandler(logging.NullHandler())

__all__ = [
    "__version__",
    "load_book",
    "load_scenario",
    "simulate",
    "write_outputs",
    "replay",
    "compile_portfolio",
    "Results",
    "Scenario",
    "Book",
]

if TYPE_CHECKING:
    from .book import Book, load_book
    from .jobs import simulate, write_outputs
    from .portfolio import compile_portfolio
    from .results import Results
    from .run.replay import replay
    from .scenario import Scenario, load_scenario

_LAZY = {
    "load_book": ("book", "load_book"),
    "Book": ("book", "Book"),
    "load_scenario": ("scenario", "load_scenario"),
    "Scenario": ("scenario", "Scenario"),
    "simulate": ("jobs", "simulate"),
    "write_outputs": ("jobs", "write_outputs"),
    "replay": ("run.replay", "replay"),
    "compile_portfolio": ("portfolio.compile", "compile_portfolio"),
    "Results": ("results", "Results"),
}


def __getattr__(name: str) -> Any:
    # The public API is imported on first use, so that ``import riskengine.kernels`` (e.g. on
    # a Dask worker) does not pull in polars, pydantic and friends.
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(f".{module}", __name__), attr)
    raise AttributeError(f"module 'riskengine' has no attribute {name!r}")
