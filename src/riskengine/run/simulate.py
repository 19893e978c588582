"""Run a scenario's simulated years: plan blocks, execute them, checkpoint, combine.

A run is a list of blocks of simulation ids. An executor — in-process threads
(:mod:`.inprocess`) or Dask tasks (:mod:`.dask`, imported only when asked for) — produces block
results in any order; :func:`simulate` combines them in simulation order into
:class:`~riskengine.results.Results`. Because every random draw is keyed by the simulation id,
the result is bit-identical for any block size, executor or worker count. Runs given an output
folder checkpoint every finished block there, so that an interrupted run can be resumed
(:mod:`.checkpoint`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..book.model import Book
from ..portfolio.compile import CompiledPortfolio, compile_portfolio
from ..results.model import Results
from ..scenario.models import Scenario, load_scenario
from .blocks import Block, BlockResult, plan_blocks
from .checkpoint import CheckpointStore
from .combine import combine
from .importance import apply_importance_sampling
from .inprocess import default_threads, in_process

__all__ = ["simulate", "resolve_inputs", "fingerprint", "ProgressCallback"]

log = logging.getLogger("riskengine")

#: ``progress(done_sims, total_sims)`` — called after each finished block.
ProgressCallback = Callable[[int, int], None]


def resolve_inputs(
    book: Book | str | os.PathLike, scenario: Scenario | str | os.PathLike
) -> tuple[Book, Scenario]:
    """Load the book and the scenario when given as paths."""
    from ..book import load_book

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    if not isinstance(book, Book):
        book = load_book(Path(book), reporting_currency=scenario.reporting_currency)
    return book, scenario


def fingerprint(
    meta: dict[str, Any], scenario: Scenario, grid: np.ndarray | None
) -> dict[str, str]:
    """What a resumed run must share with the interrupted one, by component.

    A checkpoint's manifest stores it; a resume compares it component by component, so that a
    refusal can name what differs (book, scenario, sims, seed, block size, sweep grid, version).
    """
    from ..kernels import KERNEL_DIGEST

    s = scenario.simulation
    model = json.dumps(
        scenario.model_dump(mode="json", by_alias=True, exclude={"simulation"}), sort_keys=True
    )
    grid_hash = "none"
    if grid is not None and len(grid):
        g = np.ascontiguousarray(grid, dtype=np.float64)
        grid_hash = hashlib.sha256(str(g.shape).encode() + g.tobytes()).hexdigest()
    return {
        "book": str(meta["book_hash"]),
        "scenario": hashlib.sha256(model.encode()).hexdigest(),
        "sims": str(s.sims),
        "seed": str(s.seed),
        "block size": str(s.block_size),
        "sweep grid": grid_hash,
        "riskengine version": f"{__version__} (kernels {KERNEL_DIGEST[:16]})",
    }


def _executor(
    cp: CompiledPortfolio,
    todo: list[Block],
    segments: bool,
    client: Any,
    scheduler: str | None,
    grid: np.ndarray | None,
    grid_k: int,
) -> tuple[Any, str, int]:
    if client is not None or scheduler is not None or os.environ.get("DASK_SCHEDULER_ADDRESS"):
        from .dask import run_blocks_dask

        return run_blocks_dask(
            cp.kernel, todo, segments, client=client, scheduler=scheduler, grid=grid, grid_k=grid_k
        )
    return in_process(cp.kernel, todo, segments, grid, grid_k), "in-process", default_threads()


def _run_blocks(
    stream: Any,
    results: list[BlockResult | None],
    store: CheckpointStore | None,
    progress: ProgressCallback | None,
    done: int,
    total: int,
) -> None:
    try:
        for b, r in stream:
            results[b.index] = r
            if store is not None:
                store.save(b.index, r)
            done += b.size
            if progress:
                progress(done, total)
    finally:  # stopping early (an error, Ctrl-C) cancels the executor's outstanding work
        stream.close()


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
    overwrite: bool = False,
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
        Run blocks as tasks on this Dask client (see :mod:`riskengine.run.dask`).
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
    overwrite : bool
        Discard the blocks an interrupted run saved in ``checkpoint`` and start afresh (without
        ``resume`` or ``overwrite``, finding saved blocks is an error: saved work is never
        discarded silently).
    grid, grid_k : optional
        Treaty sweep: alternative parameter rows for every treaty, float64
        [G, n_treaties, N_TREATY_PARAMS], re-applied to every simulated year; ``Results.grid``
        then holds, per year and grid point, treaty ``grid_k``'s ceded loss and the net loss.
    compiled : CompiledPortfolio, optional
        ``compile_portfolio(book, scenario)`` already done by the caller (reused when its seed is
        the run's).

    Returns
    -------
    Results
    """
    t0 = time.perf_counter()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    book, scenario = resolve_inputs(book, scenario)
    scenario = scenario.with_simulation(sims=sims, seed=seed, block_size=block_size)
    if compiled is not None and int(compiled.kernel.seed) == scenario.simulation.seed:
        cp = compiled
    else:
        cp = compile_portfolio(book, scenario)
    importance = None
    if not cp.kernel.shifted:
        cp, importance = apply_importance_sampling(cp, scenario)
    t_compile = time.perf_counter() - t0
    sim = scenario.simulation
    blocks = plan_blocks(sim.sims, sim.block_size)
    # allocation reads the yearly segment claims (standard errors of segment ELs)
    out = scenario.outputs
    segments = bool(out.segments) or out.report or out.allocation is not None
    meta: dict[str, Any] = {
        "book_hash": book.content_hash(),
        "scenario_hash": scenario.content_hash(),
        "book_path": str(book.path) if book.path else None,
        "importance_sampling": importance,
    }
    results: list[BlockResult | None] = [None] * len(blocks)
    store = None
    done = 0
    if checkpoint is not None:
        store = CheckpointStore(Path(checkpoint), fingerprint(meta, scenario, grid), len(blocks))
        for index, r in store.open(resume=resume, overwrite=overwrite).items():
            results[index] = r
            done += blocks[index].size
    todo = [b for b in blocks if results[b.index] is None]
    if done:
        log.info("resuming: %d of %d blocks already done", len(blocks) - len(todo), len(blocks))
    if progress:
        progress(done, sim.sims)
    executor, workers = "in-process", default_threads()
    t_sim0 = time.perf_counter()
    if todo:
        stream, executor, workers = _executor(cp, todo, segments, client, scheduler, grid, grid_k)
        _run_blocks(stream, results, store, progress, done, sim.sims)
    meta.update(
        {
            "executor": executor,
            "workers": workers,
            "wall_time_s": time.perf_counter() - t0,
            "compile_time_s": t_compile,
            "simulate_time_s": time.perf_counter() - t_sim0,
            "blocks": len(blocks),
            "started_at": started_at,
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    )
    return combine(cp, scenario, [r for r in results if r is not None], meta)
