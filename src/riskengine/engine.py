"""Blocks, executors and combining (DESIGN.md §5).

A run is a list of blocks of simulation ids. :func:`run_block` simulates one block with the
kernels (its chunks on a pool of threads, the kernel releasing the GIL) and returns a compact :class:`BlockResult`; an executor produces
block results in any order; :func:`simulate` combines them in simulation order into
:class:`~riskengine.results.Results`. Because every random draw is keyed by the simulation id,
the result is bit-identical for any block size, executor or worker count.

The in-process executor runs blocks one after the other, each spread over all threads. The
Dask executor (:mod:`riskengine.distributed`, imported only when asked for) runs blocks as tasks.
Runs given an output folder checkpoint every finished block there, so that an interrupted run can
be resumed (:mod:`riskengine.checkpoint`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numba
import numpy as np

from .book.model import Book
from .compile import CompiledPortfolio, compile_portfolio
from .kernels.portfolio import KernelPortfolio, to_kernel
from .kernels.simulate import N_YLT, simulate_chunk, simulate_detail
from .scenario.models import Scenario, load_scenario

if TYPE_CHECKING:
    from .results import Results

__all__ = [
    "BlockResult",
    "Block",
    "plan_blocks",
    "run_block",
    "simulate",
    "replay",
    "ProgressCallback",
]

log = logging.getLogger("riskengine")

#: ``progress(done_sims, total_sims)`` — called after each finished block.
ProgressCallback = Callable[[int, int], None]


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
    ylt : ndarray, float64[n, 8]
        Kernel YLT columns (:data:`riskengine.kernels.simulate.YLT_COLUMNS`).
    ceded : ndarray, float64[n, n_treaties]
    seg_sim, seg_col, seg_val : ndarray
        Non-zero segment claims as (simulation id, segment column, gross claim).
    occ_sim, occ_kind, occ_id, occ_val : ndarray
        Gross occurrences above the scenario's threshold (kind 0 buyer, 1 country).
    grid : ndarray, float64[n, G, 2]
        For a treaty sweep: per simulation and grid point, the swept treaty's ceded loss and the
        net loss (G = 0 otherwise).
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
    grid: np.ndarray  # float64[n, G, 2]: treaty sweep (ceded by the swept treaty, net); G may be 0


def plan_blocks(sims: int, block_size: int) -> list[Block]:
    """Split ``sims`` simulations into consecutive blocks of at most ``block_size``."""
    return [
        Block(i, s, min(block_size, sims - s)) for i, s in enumerate(range(0, sims, block_size))
    ]


# the structref of the last portfolio, reused while blocks of the same run arrive
_LAST_KERNEL: tuple[KernelPortfolio, Any] | None = None


def _kernel_of(port: KernelPortfolio) -> Any:
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
        pool = _POOLS[threads] = ThreadPoolExecutor(
            max_workers=threads, thread_name_prefix="riskengine"
        )
    return pool


def _segment_budget_rows(n_seg: int, budget_bytes: int = 256 * 2**20) -> int:
    return max(1, budget_bytes // max(1, 8 * n_seg))


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
    grid : ndarray, float64[G, n_treaties, 4], optional
        Treaty parameter sets (share, retention, limit, annual cap) to re-apply the programme
        with, for a sweep of treaty ``grid_k``.

    Returns
    -------
    BlockResult
    """
    P = _kernel_of(port)
    n_t = port.t_kind.shape[0]
    threads = max(1, int(n_threads or default_threads()))
    ylt = np.zeros((size, N_YLT))
    ceded = np.zeros((size, n_t))
    if grid is None:
        grid = np.zeros((0, n_t, 4))
    grid = np.ascontiguousarray(grid, dtype=np.float64)
    grid_out = np.zeros((size, grid.shape[0], 2))
    seg_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    occ_parts: list[tuple[np.ndarray, ...]] = []
    # the dense segment matrix of a sub-block is bounded in memory; sub-blocks cover the block
    sub = _segment_budget_rows(port.n_seg) if segments else size
    cap = 1024 if port.occ_threshold < np.inf else 0
    for lo in range(0, size, sub):
        n = min(sub, size - lo)
        seg = np.zeros((n, port.n_seg)) if segments else np.zeros((1, 0))
        n_chunks = int(min(n, 2 * threads))
        bounds = [((c * n) // n_chunks, ((c + 1) * n) // n_chunks) for c in range(n_chunks)]
        g_out = grid_out[lo : lo + n] if grid.shape[0] else np.zeros((1, 0, 2))
        while True:
            occ = (
                np.zeros((n_chunks, cap), np.int64),
                np.zeros((n_chunks, cap), np.int8),
                np.zeros((n_chunks, cap), np.int32),
                np.zeros((n_chunks, cap)),
            )
            y, c_ = ylt[lo : lo + n], ceded[lo : lo + n]

            def chunk(
                c: int, y=y, c_=c_, seg=seg, occ=occ, g_out=g_out, bounds=bounds, s0=start + lo
            ) -> int:
                a, b = bounds[c]
                return int(
                    simulate_chunk(P, s0, a, b, y, c_, seg, segments, *occ, c, grid, grid_k, g_out)
                )

            if threads == 1 or n_chunks == 1:
                count = [chunk(c) for c in range(n_chunks)]
            else:
                count = list(_pool(threads).map(chunk, range(n_chunks)))
            if max(count, default=0) <= cap:
                break
            cap = max(count) * 2  # not enough room: run again (deterministic)
            if segments:
                seg[:] = 0.0
        if segments:
            r, c = np.nonzero(seg)
            seg_parts.append(((r + start + lo).astype(np.int64), c.astype(np.int32), seg[r, c]))
        if port.occ_threshold < np.inf:
            for ch in range(n_chunks):
                occ_parts.append(tuple(a[ch, : count[ch]] for a in occ))

    def cat(parts: list, i: int, dtype: Any) -> np.ndarray:
        return np.concatenate([p[i] for p in parts]) if parts else np.zeros(0, dtype)

    occ_sim, occ_kind, occ_id, occ_val = (
        cat(occ_parts, i, t) for i, t in enumerate((np.int64, np.int8, np.int32, np.float64))
    )
    order = np.lexsort(
        (occ_id, occ_kind, occ_sim)
    )  # chunks in simulation order; within a year by kind, id
    return BlockResult(
        start=start,
        ylt=ylt,
        ceded=ceded,
        seg_sim=cat(seg_parts, 0, np.int64),
        seg_col=cat(seg_parts, 1, np.int32),
        seg_val=cat(seg_parts, 2, np.float64),
        occ_sim=occ_sim[order],
        occ_kind=occ_kind[order],
        occ_id=occ_id[order],
        occ_val=occ_val[order],
        grid=grid_out,
    )


def _in_process(
    port: KernelPortfolio,
    blocks: list[Block],
    segments: bool,
    grid: np.ndarray | None = None,
    grid_k: int = 0,
) -> Iterator[tuple[Block, BlockResult]]:
    for b in blocks:
        yield b, run_block(port, b.start, b.size, segments=segments, grid=grid, grid_k=grid_k)


def _resolve(
    book: Book | str | os.PathLike, scenario: Scenario | str | os.PathLike
) -> tuple[Book, Scenario]:
    from .book import load_book

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if not isinstance(book, Book):
        book = load_book(Path(book), reporting_currency=scenario.reporting_currency)
    return book, scenario


def simulate(
    book: Book | str | os.PathLike,
    scenario: Scenario | str | os.PathLike,
    client: Any = None,
    progress: ProgressCallback | None = None,
    *,
    sims: int | None = None,
    seed: int | None = None,
    block_size: int | None = None,
    scheduler: str | None = None,
    checkpoint: str | os.PathLike | None = None,
    resume: bool = False,
    grid: np.ndarray | None = None,
    grid_k: int = 0,
    compiled: CompiledPortfolio | None = None,
) -> Results:
    """Simulate a book under a scenario.

    Parameters
    ----------
    book : Book or path
        A loaded book, or a book folder.
    scenario : Scenario or path
        A scenario, or a YAML scenario file.
    client : distributed.Client, optional
        Run blocks as tasks on this Dask client (see :mod:`riskengine.distributed`).
    progress : callable, optional
        ``progress(done_sims, total_sims)`` after each block.
    sims, seed, block_size : int, optional
        Override the scenario's simulation settings.
    scheduler : str, optional
        ``"local"`` (start a LocalCluster) or a scheduler address; ignored when ``client`` is given.
    checkpoint : path, optional
        Folder where finished blocks are saved as they complete (resumable runs).
    resume : bool
        Reuse the blocks already saved in ``checkpoint`` by an interrupted run of the same inputs.
    grid, grid_k : optional
        Treaty sweep: alternative (share, retention, limit, cap) rows for every treaty, float64
        [G, n_treaties, 4], re-applied to every simulated year; ``Results.grid`` then holds, per
        year and grid point, treaty ``grid_k``'s ceded loss and the net loss.
    compiled : CompiledPortfolio, optional
        ``compile_portfolio(book, scenario)`` already done by the caller (reused when its seed is
        the run's).

    Returns
    -------
    Results
    """
    from datetime import UTC, datetime

    from .results import Results

    t0 = time.perf_counter()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    book, scenario = _resolve(book, scenario)
    scenario = scenario.with_simulation(sims=sims, seed=seed, block_size=block_size)
    if compiled is not None and int(compiled.kernel.seed) == scenario.simulation.seed:
        cp = compiled
    else:
        cp = compile_portfolio(book, scenario)
    t_compile = time.perf_counter() - t0
    sim = scenario.simulation
    blocks = plan_blocks(sim.sims, sim.block_size)
    segments = bool(scenario.outputs.segments) or scenario.outputs.report
    meta: dict[str, Any] = {
        "book_hash": book.content_hash(),
        "scenario_hash": scenario.content_hash(),
        "book_path": str(book.path) if book.path else None,
    }
    store = None
    if checkpoint is not None:
        from .checkpoint import CheckpointStore

        store = CheckpointStore(
            Path(checkpoint), fingerprint=_fingerprint(meta, scenario), n_blocks=len(blocks)
        )
        store.open(resume=resume)
    results: list[BlockResult | None] = [None] * len(blocks)
    todo = blocks
    done_sims = 0
    if store is not None and resume:
        for b in blocks:
            r = store.load(b.index)
            if r is not None:
                results[b.index] = r
                done_sims += b.size
        todo = [b for b in blocks if results[b.index] is None]
        if done_sims:
            log.info("resuming: %d of %d blocks already done", len(blocks) - len(todo), len(blocks))
    if progress:
        progress(done_sims, sim.sims)

    executor_name = "in-process"
    workers = default_threads()
    t_sim0 = time.perf_counter()
    if todo:
        if client is not None or scheduler is not None or os.environ.get("DASK_SCHEDULER_ADDRESS"):
            from .distributed import run_blocks_dask

            stream, executor_name, workers = run_blocks_dask(
                cp.kernel,
                todo,
                segments,
                client=client,
                scheduler=scheduler,
                grid=grid,
                grid_k=grid_k,
            )
        else:
            stream = _in_process(cp.kernel, todo, segments, grid, grid_k)
        try:
            for b, r in stream:
                results[b.index] = r
                if store is not None:
                    store.save(b.index, r)
                done_sims += b.size
                if progress:
                    progress(done_sims, sim.sims)
        finally:  # stopping early (an error, Ctrl-C) cancels the executor's outstanding work
            stream.close()
    t_sim = time.perf_counter() - t_sim0
    meta.update(
        {
            "executor": executor_name,
            "workers": workers,
            "wall_time_s": time.perf_counter() - t0,
            "compile_time_s": t_compile,
            "simulate_time_s": t_sim,
            "blocks": len(blocks),
            "started_at": started_at,
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    res = Results.from_blocks(cp, scenario, [r for r in results if r is not None], meta)
    if store is not None:
        res._checkpoint = store
    return res


def _fingerprint(meta: dict[str, Any], scenario: Scenario) -> str:
    import hashlib

    from . import __version__
    from .kernels import KERNEL_DIGEST

    s = scenario.simulation
    text = f"{meta['book_hash']}|{meta['scenario_hash']}|{s.sims}|{s.seed}|{s.block_size}|{__version__}|{KERNEL_DIGEST}"
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Replay:
    """One simulated year, replayed on its own (see :func:`replay`)."""

    sim_id: int
    row: dict[str, float]
    ceded: dict[str, float]
    defaults: Any  # polars.DataFrame: buyer_id, country, sector, lgd
    events: Any  # polars.DataFrame: country, region
    losses: Any  # polars.DataFrame: exposure_id, buyer_id, policy_id, cause, loss
    claims: Any  # polars.DataFrame: policy_id, claim
    buyer_claims: Any  # polars.DataFrame: buyer_id, commercial, political


def replay(cp: CompiledPortfolio, sim_id: int) -> Replay:
    """Replay simulation ``sim_id`` alone: its defaults, events, exposure losses and claims.

    The replayed year is bit-identical to that simulation's row in any run of the same inputs.
    """
    import polars as pl

    from .kernels.simulate import YLT_COLUMNS

    k = cp.kernel
    (row, ced, _seg, dl, lgd, ev, ent_e, ent_l, ent_c, pols, claims, buyers, b_comm, b_pol) = (
        simulate_detail(_kernel_of(k), int(sim_id))
    )
    exp_buyer = k.exp_rec["buyer"][ent_e]
    return Replay(
        sim_id=int(sim_id),
        row={c: float(v) for c, v in zip(YLT_COLUMNS, row, strict=True)},
        ceded={n: float(v) for n, v in zip(cp.treaty_names, ced, strict=True)},
        defaults=pl.DataFrame(
            {
                "buyer_id": cp.buyer_ids[dl].astype(str),
                "country": cp.country_codes[k.buyer_rec["country"][dl]].astype(str),
                "sector": cp.sector_codes[k.buyer_rec["sector"][dl]].astype(str),
                "lgd": lgd,
            },
            schema={
                "buyer_id": pl.String,
                "country": pl.String,
                "sector": pl.String,
                "lgd": pl.Float64,
            },
        ),
        events=pl.DataFrame(
            {
                "country": cp.country_codes[ev].astype(str),
                "region": cp.region_names[k.country_region[ev]].astype(str),
            },
            schema={"country": pl.String, "region": pl.String},
        ),
        losses=pl.DataFrame(
            {
                "exposure_id": cp.exposure_ids[ent_e].astype(str),
                "buyer_id": cp.buyer_ids[exp_buyer].astype(str),
                "policy_id": cp.policy_ids[k.exp_rec["policy"][ent_e]].astype(str),
                "cause": np.where(ent_c == 1, "political", "commercial"),
                "loss": ent_l,
            },
            schema={
                "exposure_id": pl.String,
                "buyer_id": pl.String,
                "policy_id": pl.String,
                "cause": pl.String,
                "loss": pl.Float64,
            },
        ),
        claims=pl.DataFrame(
            {"policy_id": cp.policy_ids[pols].astype(str), "claim": claims},
            schema={"policy_id": pl.String, "claim": pl.Float64},
        ).sort("policy_id"),
        buyer_claims=pl.DataFrame(
            {
                "buyer_id": cp.buyer_ids[buyers].astype(str),
                "commercial": b_comm,
                "political": b_pol,
            },
            schema={"buyer_id": pl.String, "commercial": pl.Float64, "political": pl.Float64},
        ).sort("buyer_id"),
    )
