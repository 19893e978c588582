"""Book + scenario → resolved per-buyer parameters → cells → packed kernel arrays.

Three steps with three names (:mod:`.resolve`, :mod:`.cells`, :mod:`.pack`), composed by
:func:`compile_portfolio`; :mod:`.layout` declares the segment matrix, :mod:`.treaties` the
treaties' kernel parameters, :mod:`.expected` the exact expected loss, :mod:`.keys` the
random-number contract's entity keys. Imported lazily: ``import riskengine.portfolio.layout``
does not import Numba.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["CompiledPortfolio", "compile_portfolio", "Resolved", "SegmentLayout"]

if TYPE_CHECKING:
    from .compile import CompiledPortfolio, compile_portfolio
    from .layout import SegmentLayout
    from .resolve import Resolved

_LAZY = {
    "CompiledPortfolio": "compile",
    "compile_portfolio": "compile",
    "Resolved": "resolve",
    "SegmentLayout": "layout",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
