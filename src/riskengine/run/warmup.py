"""Compile every Numba kernel once so that later runs load them from the cache.

``riskengine warmup`` (and ``make test``) call :func:`warmup`. Kernels are compiled with
``cache=True``, so the machine code lands next to the sources in ``__pycache__`` and later
processes load it in well under a second. The warm-up simulates a tiny generated book through
every code path: structured and explicit factor models, Gaussian and Student-t copulas, groups,
political events, policy terms, every treaty kind, occurrences, segments, a treaty sweep, a
replay and the credit-limit decisions' tail merge.
"""

from __future__ import annotations

import time

import numpy as np
import polars as pl

__all__ = ["warmup"]


def warmup() -> dict[str, float]:
    """Compile (or load from the cache) every kernel; return seconds spent per step."""
    from ..book import from_frames, generate_book
    from ..portfolio.compile import compile_portfolio
    from ..scenario import parse_scenario
    from .inprocess import run_block
    from .replay import record, replay

    timings: dict[str, float] = {}
    t = time.perf_counter()
    book = generate_book(300, seed=1)
    timings["sample book"] = time.perf_counter() - t

    treaties = [
        {"name": "qs", "type": "quota_share", "share": 0.3},
        {"name": "xl", "type": "per_risk_xl", "retention": 1e4, "limit": 1e5, "reinstatements": 1},
        {"name": "xg", "type": "per_risk_xl", "per": "group", "retention": 1e4, "limit": 1e5},
        {"name": "px", "type": "political_event_xl", "retention": 1e4, "limit": 1e6},
        {"name": "sl", "type": "stop_loss", "attachment_lr": 0.8, "limit_lr": 0.5},
    ]
    sc = parse_scenario(
        {
            "treaties": treaties,
            "outputs": {"segments": ["country", "sector", "policy"], "occurrence_threshold": 0.0},
        }
    )
    t = time.perf_counter()
    cp = compile_portfolio(book, sc)
    timings["compile portfolio (hashing)"] = time.perf_counter() - t
    t = time.perf_counter()
    grid = np.repeat(cp.kernel.t_params[None], 2, axis=0)
    run_block(cp.kernel, 0, 8, segments=True, grid=grid, grid_k=1)
    timings["simulation kernel"] = time.perf_counter() - t
    t = time.perf_counter()
    replay(cp, 3)
    record(cp, np.arange(3, dtype=np.int64))
    timings["replay and record kernels"] = time.perf_counter() - t

    # explicit factor model with a Student-t copula (same kernels, other branches)
    ids = book.buyers["buyer_id"].head(50)
    fl = pl.DataFrame({"buyer_id": ids, "factor": ["f1"] * 50, "loading": [0.4] * 50})
    b2 = from_frames(
        book.buyers.head(50),
        book.exposures.filter(pl.col("buyer_id").is_in(ids.implode())),
        book.policies,
        book.countries,
        book.fx,
        fl,
    )
    sc2 = parse_scenario({"model": {"copula": "student_t", "dof": 5}})
    t = time.perf_counter()
    run_block(compile_portfolio(b2, sc2).kernel, 0, 4)
    timings["Student-t / explicit factors"] = time.perf_counter() - t

    # the credit-limit decisions' tail merge (riskengine decide)
    from ..kernels.tailmerge import tail_after_change

    t = time.perf_counter()
    i8, f8 = np.int64, np.float64
    tail_after_change(
        np.array([3.0, 2.0, 1.0]),
        np.ones(3),
        np.arange(3, dtype=i8),
        np.array([0, 1], i8),
        np.array([2], i8),
        np.array([5.0]),
        1.0,
        np.empty(1, f8),
        np.empty(1, f8),
    )
    timings["decisions' tail merge"] = time.perf_counter() - t
    return timings
