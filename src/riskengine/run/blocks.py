"""A run's unit of work: a block of consecutive simulation ids, and what it produced."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from ..kernels.accumulate import Accumulated

__all__ = ["Accumulated", "Block", "BlockResult", "plan_blocks", "BLOCK_ARRAYS"]


@dataclass(frozen=True)
class Block:
    """Simulations ``[start, start + size)``, the ``index``-th block of a run."""

    index: int
    start: int
    size: int


@dataclass
class BlockResult:
    """What one block of simulations produced (everything in simulation order).

    Attributes
    ----------
    start : int
        First simulation id.
    ylt : ndarray, float64[n, N_YLT]
        Kernel YLT columns (``kernels.codes.YLT_COLUMNS``).
    ceded : ndarray, float64[n, n_treaties]
    seg_sim, seg_col, seg_val : ndarray
        Non-zero segment claims as (simulation id, segment column, gross claim).
    occ_sim, occ_kind, occ_id, occ_val : ndarray
        Gross occurrences above the scenario's threshold (``kernels.codes.OCCURRENCE_KINDS``).
    grid : ndarray, float64[n, G, 2]
        For a treaty sweep: per simulation and grid point, the swept treaty's ceded loss and the
        net loss (G = 0 otherwise).
    acc_e, acc_b, acc_g : ndarray, int64[·, 8]
        Exact claim accumulators of exposures, buyers and groups (``kernels.accumulate``; zero
        columns when the run does not allocate capital).
    """

    start: int
    ylt: np.ndarray
    ceded: np.ndarray
    seg_sim: np.ndarray
    seg_col: np.ndarray
    seg_val: np.ndarray
    occ_sim: np.ndarray
    occ_kind: np.ndarray
    occ_id: np.ndarray
    occ_val: np.ndarray
    grid: np.ndarray
    acc_e: np.ndarray
    acc_b: np.ndarray
    acc_g: np.ndarray


#: The array fields of a :class:`BlockResult` (what a checkpoint stores besides ``start``).
BLOCK_ARRAYS = tuple(f.name for f in fields(BlockResult) if f.name != "start")


def plan_blocks(sims: int, block_size: int) -> list[Block]:
    """Split ``sims`` simulations into consecutive blocks of at most ``block_size``."""
    return [
        Block(i, s, min(block_size, sims - s)) for i, s in enumerate(range(0, sims, block_size))
    ]
