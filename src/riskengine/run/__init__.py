"""Running simulations: blocks (:mod:`.blocks`), the in-process executor (:mod:`.inprocess`), the
Dask executor (:mod:`.dask`, imported only when asked for), checkpoints (:mod:`.checkpoint`),
combining (:mod:`.combine`), :func:`simulate`, replays and tail recording (:mod:`.replay`) and
the kernel warm-up (:mod:`.warmup`). Imported lazily, so that a Dask worker unpickling a block
task imports only what the task needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["simulate", "replay", "record", "run_block", "plan_blocks", "warmup"]

if TYPE_CHECKING:
    from .blocks import plan_blocks
    from .inprocess import run_block
    from .replay import record, replay
    from .simulate import simulate
    from .warmup import warmup

_LAZY = {
    "simulate": "simulate",
    "replay": "replay",
    "record": "replay",
    "run_block": "inprocess",
    "plan_blocks": "blocks",
    "warmup": "warmup",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
