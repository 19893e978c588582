"""The in-process executor: a block's chunks on a pool of threads, the kernel releasing the GIL.

:func:`run_block` simulates one block of consecutive simulation ids and returns a compact
:class:`~riskengine.run.blocks.BlockResult`; :func:`run_sims` runs an arbitrary list of ids
(the same kernel: a tail replay is bit-identical to the run's rows). Both split their rows into
chunks, one per thread slot, each with its own scratch.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numba
import numpy as np

from ..kernels.codes import N_TREATY_PARAMS, N_YLT
from ..kernels.driver import Outputs, outputs_struct, simulate_chunk
from ..kernels.portfolio import KernelPortfolio, to_kernel
from ..kernels.scratch import scratch_arrays, scratch_struct
from .blocks import Accumulated, Block, BlockResult

__all__ = ["run_block", "run_sims", "default_threads", "kernel_of", "new_outputs", "in_process"]

# the structref of the last portfolio, reused while blocks of the same run arrive
_LAST_KERNEL: tuple[KernelPortfolio, Any] | None = None


def kernel_of(port: KernelPortfolio) -> Any:
    """The kernels' structref of ``port`` (converted once per portfolio)."""
    global _LAST_KERNEL
    if _LAST_KERNEL is None or _LAST_KERNEL[0] is not port:
        _LAST_KERNEL = (port, to_kernel(port))
    return _LAST_KERNEL[1]


def default_threads() -> int:
    """Threads the in-process executor uses: ``RISKENGINE_THREADS``, else ``NUMBA_NUM_THREADS``
    (by default the number of CPUs)."""
    env = os.environ.get("RISKENGINE_THREADS")
    return max(1, int(env)) if env else int(numba.config.NUMBA_NUM_THREADS)


_POOLS: dict[int, Any] = {}


def _pool(threads: int) -> Any:
    from concurrent.futures import ThreadPoolExecutor

    pool = _POOLS.get(threads)
    if pool is None:
        pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="riskengine")
        _POOLS[threads] = pool
    return pool


def _segment_budget_rows(n_seg: int, budget_bytes: int = 256 * 2**20) -> int:
    return max(1, budget_bytes // max(1, 8 * n_seg))


def new_outputs(
    port: KernelPortfolio,
    n: int,
    *,
    segments: bool,
    n_chunks: int = 1,
    cap: int = 0,
    grid: np.ndarray | None = None,
    grid_k: int = 0,
) -> Any:
    """Zeroed output buffers (:data:`~riskengine.kernels.driver.Outputs`) for ``n`` rows."""
    n_t = port.t_kind.shape[0]
    if grid is None:
        grid = np.zeros((0, n_t, N_TREATY_PARAMS))
    g = grid.shape[0]
    return Outputs(
        ylt=np.zeros((n, N_YLT)),
        ceded=np.zeros((n, n_t)),
        seg=np.zeros((n, port.n_seg)) if segments else np.zeros((1, 0)),
        use_seg=segments,
        occ_sim=np.zeros((n_chunks, cap), np.int64),
        occ_kind=np.zeros((n_chunks, cap), np.int8),
        occ_id=np.zeros((n_chunks, cap), np.int32),
        occ_val=np.zeros((n_chunks, cap)),
        grid=np.ascontiguousarray(grid, dtype=np.float64),
        grid_k=int(grid_k),
        grid_out=np.zeros((n, g, 2)) if g else np.zeros((1, 0, 2)),
    )


def _run_chunks(
    P: Any, port: KernelPortfolio, out: Any, sims: np.ndarray, threads: int
) -> tuple[list[int], Accumulated]:
    """Run the rows of ``out`` in chunks on ``threads`` threads; return the occurrences found
    per chunk and the chunks' claim accumulators, summed exactly."""
    n = len(sims)
    n_chunks = out.occ_sim.shape[0]
    bounds = [((c * n) // n_chunks, ((c + 1) * n) // n_chunks) for c in range(n_chunks)]
    B = outputs_struct(out)

    def chunk(c: int) -> tuple[int, Any]:
        a, b = bounds[c]
        view = scratch_arrays(port)
        count = int(simulate_chunk(P, scratch_struct(view), B, sims, a, b, c))
        return count, view

    if threads == 1 or n_chunks == 1:
        done = [chunk(c) for c in range(n_chunks)]
    else:
        done = list(_pool(threads).map(chunk, range(n_chunks)))
    acc = Accumulated.empty(port)
    for _, view in done:
        acc = acc.add(Accumulated(view.acc_e, view.acc_b, view.acc_g))
    return [c for c, _ in done], acc


def run_sims(
    port: KernelPortfolio,
    sims: np.ndarray,
    *,
    segments: bool = True,
    n_threads: int | None = None,
    grid: np.ndarray | None = None,
    grid_k: int = 0,
) -> tuple[Any, list[int], Accumulated]:
    """Simulate the years ``sims`` (int64 ids, any order) into fresh output buffers.

    Returns ``(outputs, occurrences per chunk, claim accumulators)``; row i of the outputs is
    year ``sims[i]``. Occurrence buffers too small for a chunk are enlarged and the rows run
    again (deterministically, so with the same result).
    """
    P = kernel_of(port)
    threads = max(1, int(n_threads or default_threads()))
    sims = np.ascontiguousarray(sims, dtype=np.int64)
    n = len(sims)
    n_chunks = int(max(1, min(n, 2 * threads)))
    cap = 1024 if port.occ_threshold < np.inf else 0
    while True:
        out = new_outputs(
            port, n, segments=segments, n_chunks=n_chunks, cap=cap, grid=grid, grid_k=grid_k
        )
        count, acc = _run_chunks(P, port, out, sims, threads)
        if max(count, default=0) <= cap:
            return out, count, acc
        cap = max(count) * 2  # not enough room: run again (deterministic)


def run_block(
    port: KernelPortfolio,
    start: int,
    size: int,
    *,
    segments: bool = True,
    n_threads: int | None = None,
    grid: np.ndarray | None = None,
    grid_k: int = 0,
) -> BlockResult:
    """Simulate one block ``[start, start + size)`` in this process.

    Parameters
    ----------
    port : KernelPortfolio
        The compiled portfolio's kernel arrays.
    start, size : int
        First simulation id and number of simulations.
    segments : bool
        Whether to return segment claims (by country, sector and, when compiled in, policy).
    n_threads : int, optional
        Threads to use (default: :func:`default_threads`).
    grid : ndarray, float64[G, n_treaties, N_TREATY_PARAMS], optional
        Treaty parameter sets to re-apply the programme with, for a sweep of treaty ``grid_k``.

    Returns
    -------
    BlockResult
    """
    parts: list[tuple[Any, list[int]]] = []
    seg_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    acc = Accumulated.empty(port)
    # the dense segment matrix of a sub-block is bounded in memory; sub-blocks cover the block
    sub = _segment_budget_rows(port.n_seg) if segments else size
    for lo in range(0, size, sub):
        n = min(sub, size - lo)
        sims = np.arange(start + lo, start + lo + n, dtype=np.int64)
        out, count, sub_acc = run_sims(
            port, sims, segments=segments, n_threads=n_threads, grid=grid, grid_k=grid_k
        )
        parts.append((out, count))
        acc = acc.add(sub_acc)
        if segments:
            r, c = np.nonzero(out.seg)
            seg_parts.append(((r + start + lo).astype(np.int64), c.astype(np.int32), out.seg[r, c]))
    return _block_result(port, start, parts, seg_parts, grid is not None and len(grid) > 0, acc)


def _cat(parts: list, i: int, dtype: Any) -> np.ndarray:
    return np.concatenate([p[i] for p in parts]) if parts else np.zeros(0, dtype)


def _block_result(
    port: KernelPortfolio,
    start: int,
    parts: list,
    seg_parts: list,
    has_grid: bool,
    acc: Accumulated,
) -> BlockResult:
    occ_parts: list[tuple[np.ndarray, ...]] = []
    if port.occ_threshold < np.inf:
        for out, count in parts:
            for ch in range(out.occ_sim.shape[0]):
                k = count[ch]
                occ_parts.append(
                    (
                        out.occ_sim[ch, :k],
                        out.occ_kind[ch, :k],
                        out.occ_id[ch, :k],
                        out.occ_val[ch, :k],
                    )
                )
    occ = [_cat(occ_parts, i, t) for i, t in enumerate((np.int64, np.int8, np.int32, np.float64))]
    order = np.lexsort((occ[2], occ[1], occ[0]))  # simulation order; within a year by kind, id
    n_t = port.t_kind.shape[0]
    ylt = np.concatenate([p[0].ylt for p in parts]) if parts else np.zeros((0, N_YLT))
    ceded = np.concatenate([p[0].ceded for p in parts]) if parts else np.zeros((0, n_t))
    if has_grid:
        grid = np.concatenate([p[0].grid_out for p in parts])
    else:
        grid = np.zeros((ylt.shape[0], 0, 2))
    return BlockResult(
        start=start,
        ylt=ylt,
        ceded=ceded,
        seg_sim=_cat(seg_parts, 0, np.int64),
        seg_col=_cat(seg_parts, 1, np.int32),
        seg_val=_cat(seg_parts, 2, np.float64),
        occ_sim=occ[0][order],
        occ_kind=occ[1][order],
        occ_id=occ[2][order],
        occ_val=occ[3][order],
        grid=grid,
        acc_e=acc.exposures,
        acc_b=acc.buyers,
        acc_g=acc.groups,
    )


def in_process(
    port: KernelPortfolio,
    blocks: list[Block],
    segments: bool,
    grid: np.ndarray | None = None,
    grid_k: int = 0,
) -> Iterator[tuple[Block, BlockResult]]:
    """The in-process executor: blocks one after the other, each over all threads."""
    for b in blocks:
        yield b, run_block(port, b.start, b.size, segments=segments, grid=grid, grid_k=grid_k)
