"""Combine block results (any order) in simulation order into
:class:`~riskengine.results.Results`."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..kernels.accumulate import Accumulated
from ..portfolio.compile import CompiledPortfolio
from ..results.model import Results
from ..results.ylt import empty_kernel_ylt, ylt_frame
from ..scenario.models import Scenario
from .blocks import BlockResult

__all__ = ["combine"]


def combine(
    cp: CompiledPortfolio, scenario: Scenario, blocks: list[BlockResult], meta: dict[str, Any]
) -> Results:
    """The results of a run from its blocks."""
    blocks = sorted(blocks, key=lambda b: b.start)
    ylt = np.concatenate([b.ylt for b in blocks]) if blocks else empty_kernel_ylt()
    n_t = len(cp.treaty_names)
    ceded = np.concatenate([b.ceded for b in blocks]) if blocks else np.zeros((0, n_t))
    start = blocks[0].start if blocks else 0
    sim_id = np.arange(start, start + ylt.shape[0], dtype=np.int64)

    def cat(name: str, dtype: Any) -> np.ndarray:
        return np.concatenate([getattr(b, name) for b in blocks]) if blocks else np.zeros(0, dtype)

    occ = None
    if scenario.outputs.occurrence_threshold is not None:
        occ = tuple(
            cat(f"occ_{k}", t)
            for k, t in (
                ("sim", np.int64),
                ("kind", np.int8),
                ("id", np.int32),
                ("val", np.float64),
            )
        )
    has_grid = bool(blocks) and blocks[0].grid.shape[1] > 0
    acc = Accumulated.empty(cp.kernel)
    for b in blocks:
        acc = acc.add(Accumulated(b.acc_e, b.acc_b, b.acc_g))
    return Results(
        ylt=ylt_frame(sim_id, ylt, ceded, cp.treaty_names, bool(cp.kernel.monitoring)),
        compiled=cp,
        scenario=scenario,
        meta=meta,
        seg_sim=cat("seg_sim", np.int64),
        seg_col=cat("seg_col", np.int32),
        seg_val=cat("seg_val", np.float64),
        occurrences_raw=occ,
        grid=np.concatenate([b.grid for b in blocks]) if has_grid else None,
        accumulated=acc if cp.kernel.accumulate else None,
    )
