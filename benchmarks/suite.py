"""The benchmark suite: each benchmark is a function of a ``scale`` ("tiny" for the test suite's
smoke run, "full" for ``make bench``) returning a dict of measured figures.

Benchmarks are not tests: nothing here asserts a time. ``benchmarks/run.py`` runs them all and
writes ``benchmarks/RESULTS.md``; ``tests/test_benchmarks.py`` imports and runs each one at the
tiny scale so they never rot.

The machine these run on is shared (2 vCPUs, several jobs at once), so comparisons are made side
by side in one process, runs interleaved, and per-core costs are measured as the CPU time of the
thread that did the work (``time.thread_time``), which other jobs disturb far less than wall
time. Whole-machine figures (all threads) are wall time, best or median of several runs.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba
import numpy as np
from numba import njit, prange

from riskengine.book import generate_book
from riskengine.kernels.codes import Y_N_DEFAULTS
from riskengine.kernels.rng import draw_u64, u01
from riskengine.portfolio.compile import compile_portfolio
from riskengine.run.inprocess import default_threads, run_sims
from riskengine.run.simulate import simulate
from riskengine.scenario import baseline_scenario_path, load_scenario
from riskengine.scenario.models import Stress

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import floor  # noqa: E402
from numpy_baseline import STAGES, NumpyModel, numpy_simulate  # noqa: E402

__all__ = [
    "SCALES",
    "machine",
    "demo_scenario",
    "bench_rng_ceiling",
    "bench_throughput",
    "bench_numpy_ratio",
    "bench_floor",
    "bench_cost_model",
    "fit_cost",
    "bench_dask_overhead",
    "bench_compile",
    "bench_decisions",
    "bench_limits",
]

#: Sizes per scale: (buyers, sims) pairs and other knobs.
SCALES: dict[str, dict[str, Any]] = {
    "tiny": {
        "rng_n": 2_000_000,
        "buyers_grid": [(500, 200), (2_000, 200)],
        "sims_grid": [(1_000, 100), (1_000, 400)],
        "numpy": (2_000, 400, 2_000, 1),  # buyers, engine years, NumPy years, rounds
        "floor": (2_000, 200, 1),  # buyers, years, rounds
        "cost_books": [1_000, 3_000],
        "cost_pd": [0.5, 1.0, 2.0],
        "cost_buyer_years": 400_000,
        "dask": (1_000, 400, 100, 1),  # buyers, years, block size, runs
        "decisions": (2_000, 1_000),
        "limits": (2_000, 1_000),
    },
    "full": {
        "rng_n": 2_000_000_000,
        "buyers_grid": [
            (10_000, 100_000),
            (100_000, 20_000),
            (300_000, 10_000),
            (1_000_000, 4_000),
        ],
        "sims_grid": [(100_000, 2_000), (100_000, 20_000)],
        "numpy": (100_000, 5_000, 1_000, 3),
        "floor": (100_000, 5_000, 3),
        "cost_books": [10_000, 30_000, 100_000, 300_000],
        "cost_pd": [0.25, 0.5, 1.0, 2.0],
        "cost_buyer_years": 200_000_000,
        "dask": (100_000, 40_000, 4_000, 3),
        "decisions": (100_000, 20_000),
        "limits": (100_000, 20_000),
    },
}


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu, flags = platform.processor() or "", []
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    cpu = value.strip()
                elif key.strip() == "flags":
                    flags = value.split()
                    break
    except OSError:
        pass
    import polars

    import riskengine

    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "simd": ", ".join(f for f in ("avx2", "fma", "avx512f") if f in flags),
        "numba_threads": numba.get_num_threads(),
        "engine_threads": default_threads(),
        "load_average": list(os.getloadavg()),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "polars": polars.__version__,
        "riskengine": riskengine.__version__,
    }


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def demo_scenario(sims: int, **outputs: Any) -> Any:
    """``scenarios/baseline.yaml`` (what ``make demo`` runs: segments by country and sector,
    capital allocation with its claim accumulators and tail store) with ``sims`` years and no
    report; ``outputs`` overrides its ``outputs`` keys (e.g. ``allocation=None``)."""
    sc = load_scenario(baseline_scenario_path()).with_simulation(sims=sims)
    changes = {"report": False, **outputs}
    return sc.model_copy(update={"outputs": sc.outputs.model_copy(update=changes)})


def _book_and_scenario(n_buyers: int, sims: int, *, seed: int = 2026) -> tuple[Any, Any]:
    return generate_book(n_buyers, seed=seed), demo_scenario(sims)


def _with_pd_multiplier(sc: Any, k: float) -> Any:
    return sc if k == 1.0 else sc.model_copy(update={"stress": [Stress(pd_multiplier=k)]})


def _engine_rate(book: Any, sc: Any, sims: int, block: int | None = None) -> dict[str, Any]:
    block = block or max(1, min(sims, 10_000))
    res = simulate(book, sc, sims=sims, block_size=block)
    dt = res.meta["simulate_time_s"]
    nb = res.compiled.n_buyers
    return {
        "buyers": nb,
        "sims": sims,
        "seconds": dt,
        "buyer_sims_per_s": nb * sims / dt,
        "cells": res.compiled.n_cells,
        "mean_defaults": float(res.ylt["n_defaults"].mean()),
        "el_gross": float(res.ylt["gross"].mean()),
    }


def _thread_cpu(fn: Callable[[], Any]) -> tuple[float, Any]:
    """CPU seconds of this thread while ``fn`` runs (the work must run on this thread)."""
    t0 = time.thread_time()
    out = fn()
    return time.thread_time() - t0, out


def _wall_and_cpu(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall seconds and process CPU seconds (all threads) while ``fn`` runs."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w0, time.process_time() - c0, out


# ---------------------------------------------------------------------------------------------
@njit(cache=True, parallel=True)
def _uniform_sum(n, seed, chunks):
    part = np.zeros(chunks)
    for c in prange(chunks):
        lo = (c * n) // chunks
        hi = ((c + 1) * n) // chunks
        acc = 0.0
        st = np.uint64(seed) + np.uint64(c)
        for i in range(lo, hi):
            acc += u01(draw_u64(st, i))
        part[c] = acc
    return part.sum()


def bench_rng_ceiling(scale: str = "full") -> dict[str, Any]:
    """Counter-based uniforms per second on all cores (the ceiling of one-uniform-per-buyer)."""
    n = SCALES[scale]["rng_n"]
    chunks = 4 * numba.get_num_threads()
    _uniform_sum(1000, 1, chunks)
    t0 = time.perf_counter()
    total = _uniform_sum(n, 7, chunks)
    dt = time.perf_counter() - t0
    return {"uniforms": n, "seconds": dt, "uniforms_per_s": n / dt, "mean": total / n}


def bench_throughput(scale: str = "full") -> dict[str, Any]:
    """Engine throughput (buyer-years per second, all threads, wall time) of the full model with
    the demo's outputs, against portfolio size and simulations."""
    sizes = []
    for nb, sims in SCALES[scale]["buyers_grid"]:
        book, sc = _book_and_scenario(nb, sims)
        simulate(book, sc, sims=min(sims, 50))  # compile / warm caches
        sizes.append(_engine_rate(book, sc, sims))
    by_sims = []
    for nb, sims in SCALES[scale]["sims_grid"]:
        book, sc = _book_and_scenario(nb, sims)
        by_sims.append(_engine_rate(book, sc, sims))
    return {"by_buyers": sizes, "by_sims": by_sims}


def bench_numpy_ratio(scale: str = "full") -> dict[str, Any]:
    """The engine against the plain NumPy implementation of the same model, side by side.

    Same book, same outputs (segments by country and sector; no capital allocation, which the
    baseline does not compute). Per core: the CPU time of one thread — the baseline's (NumPy is
    single-threaded) against the engine on one thread. Whole machine: the engine on all its
    threads (wall) against the baseline on its one core. Rounds interleaved, best of each; the
    baseline's profile (thread CPU time by stage) is that of its best round.
    """
    nb, sims_engine, sims_numpy, rounds = SCALES[scale]["numpy"]
    book = generate_book(nb, seed=2026)
    cp = compile_portfolio(book, demo_scenario(sims_engine, allocation=None))
    port = cp.kernel
    model = NumpyModel.from_compiled(cp)
    ids = np.arange(sims_engine, dtype=np.int64)
    numpy_simulate(model, min(20, sims_numpy), seed=1)
    run_sims(port, ids[:50], n_threads=1)
    t_np = t_one = t_all = float("inf")
    profile: dict[str, float] = {}
    for _ in range(rounds):
        timings: dict[str, float] = {}
        dt, ref = _thread_cpu(lambda t=timings: numpy_simulate(model, sims_numpy, 2, None, t))
        if dt < t_np:
            t_np, profile = dt, timings
        t_one = min(t_one, _thread_cpu(lambda: run_sims(port, ids, n_threads=1))[0])
        t_all = min(t_all, _wall_and_cpu(lambda: run_sims(port, ids))[0])
    gu = ref["ground_up"]
    np_by = nb * sims_numpy
    eng_by = nb * sims_engine
    return {
        "buyers": nb,
        "numpy_sims": sims_numpy,
        "engine_sims": sims_engine,
        "numpy_seconds": t_np,
        "numpy_buyer_years_per_s": np_by / t_np,
        "numpy_ns_per_buyer_year": 1e9 * t_np / np_by,
        "numpy_profile_ns_per_buyer_year": {k: 1e9 * profile.get(k, 0.0) / np_by for k in STAGES},
        "numpy_defaults_per_year": float(ref["n_defaults"].mean()),
        "engine_one_thread_seconds": t_one,
        "engine_one_thread_buyer_years_per_s": eng_by / t_one,
        "engine_all_threads_seconds": t_all,
        "engine_all_threads_buyer_years_per_s": eng_by / t_all,
        "threads": default_threads(),
        "ratio_per_core": (t_np / np_by) / (t_one / eng_by),
        "ratio_machine": (t_np / np_by) / (t_all / eng_by),
        # the baseline is the same model: its mean ground-up loss matches the exact value
        "numpy_ground_up_mean": float(gu.mean()),
        "numpy_ground_up_se": float(gu.std(ddof=1) / np.sqrt(len(gu))),
        "exact_ground_up": cp.expected_ground_up,
    }


#: The last cut of the stage profile: the demo's capital allocation outputs on top of the whole
#: year (policy segments and every exposure's, buyer's and group's claim accumulators).
ALLOCATION_STAGE = "+ allocation's segments and claim accumulators"


def bench_floor(scale: str = "full") -> dict[str, Any]:
    """The full model with the demo's outputs against the floor (``floor.py``), side by side on
    the same threads, and the engine's year cut after each stage on one thread.

    Whole machine: wall and process CPU time on the engine's threads, rounds interleaved, best
    of each. Per stage: thread CPU time on one thread, best of the rounds; the differences
    between cuts are the stages' costs (``floor.STAGE_CUTS``, on the demo's scenario without
    capital allocation), then the whole year without and with allocation (the demo's outputs),
    and the run around the kernel (blocks, combining; then the tail store and allocation), best
    of the rounds too.
    """
    import riskengine

    nb, sims, rounds = SCALES[scale]["floor"]
    book = generate_book(nb, seed=2026)
    sc = demo_scenario(sims)
    cp = compile_portfolio(book, sc)
    port = cp.kernel
    plain = compile_portfolio(book, demo_scenario(sims, allocation=None)).kernel
    ids = np.arange(sims, dtype=np.int64)
    floor.run_floor(port, ids[:20])
    run_sims(port, ids[:20])
    floor.run_stages(plain, ids[:20], 4)
    floor.run_engine(plain, ids[:20])
    floor.run_engine(port, ids[:20])
    best: dict[str, float] = {}

    def keep(name: str, value: float) -> None:
        best[name] = min(best.get(name, float("inf")), value)

    for _ in range(rounds):
        w, c, nd_floor = _wall_and_cpu(lambda: floor.run_floor(port, ids))
        keep("floor wall", w)
        keep("floor cpu", c)
        w, c, out = _wall_and_cpu(lambda: run_sims(port, ids))
        keep("engine wall", w)
        keep("engine cpu", c)
        keep("floor", _thread_cpu(lambda: floor.run_floor(port, ids, n_threads=1))[0])
        for name, cut in floor.STAGE_CUTS.items():
            keep(name, floor.run_stages(plain, ids, cut))
        keep("whole year", floor.run_engine(plain, ids))
        keep(ALLOCATION_STAGE, floor.run_engine(port, ids))
        keep("simulate", _wall_and_cpu(lambda: simulate(book, sc, compiled=cp))[0])
        keep("jobs", _wall_and_cpu(lambda: riskengine.simulate(book, sc, compiled=cp))[0])
    identical = bool(np.array_equal(nd_floor, out[0].ylt[:, Y_N_DEFAULTS]))
    defaults = float(nd_floor.mean())
    stages = ["floor", *floor.STAGE_CUTS, "whole year", ALLOCATION_STAGE]
    ms = {k: 1e3 * best[k] / sims for k in stages}
    return {
        "buyers": nb,
        "sims": sims,
        "cells": int(port.cell_key.shape[0]),
        "threads": default_threads(),
        "defaults_per_year": defaults,
        "identical_defaults": identical,
        "floor_wall_s": best["floor wall"],
        "engine_wall_s": best["engine wall"],
        "floor_cpu_s": best["floor cpu"],
        "engine_cpu_s": best["engine cpu"],
        "ratio_wall": best["engine wall"] / best["floor wall"],
        "ratio_cpu": best["engine cpu"] / best["floor cpu"],
        "stage_ms_per_year": ms,
        "stage_ns_per_default": {k: 1e6 * v / max(defaults, 1e-9) for k, v in ms.items()},
        "run_ms_per_year": {
            "the kernel's years (`run_sims`)": 1e3 * best["engine wall"] / sims,
            "+ blocks, segments and combining (`run.simulate`)": 1e3 * best["simulate"] / sims,
            "+ tail store and allocation (`riskengine.simulate`)": 1e3 * best["jobs"] / sims,
        },
    }


def bench_cost_model(scale: str = "full") -> dict[str, Any]:
    """Fit time per year = a·cells + b·defaults + c, on one thread, over books of several sizes
    and PD scalings: for the engine with the demo's outputs, without capital allocation, and
    for the floor.

    Each point: a sample book of n buyers with every PD multiplied by k (a stress
    ``pd_multiplier``, which keeps the cells), about ``cost_buyer_years`` buyer-years, thread
    CPU time, best of two. The fit minimises relative errors (small books count as much as
    large ones). Per book size, the slope over the PD scalings is the cost of a default at that
    size (it grows with the book's working set: cache misses).
    """
    cfg = SCALES[scale]
    points = []
    for nb in cfg["cost_books"]:
        book = generate_book(nb, seed=2026)
        sims = int(max(50, min(20_000, cfg["cost_buyer_years"] // nb)))
        ids = np.arange(sims, dtype=np.int64)
        for k in cfg["cost_pd"]:
            ports = {
                name: compile_portfolio(book, _with_pd_multiplier(sc, k)).kernel
                for name, sc in (
                    ("engine", demo_scenario(sims)),
                    ("no_allocation", demo_scenario(sims, allocation=None)),
                )
            }
            point = {"buyers": nb, "pd_multiplier": k, "sims": sims}
            point["cells"] = int(ports["engine"].cell_key.shape[0])
            for name, port in ports.items():
                floor.run_engine(port, ids[:10])
                t = min(floor.run_engine(port, ids) for _ in range(2))
                point[f"{name}_us_per_year"] = 1e6 * t / sims
            fl, nd = np.inf, None
            for _ in range(2):
                p = ports["engine"]
                dt, nd = _thread_cpu(lambda p=p, i=ids: floor.run_floor(p, i, n_threads=1))
                fl = min(fl, dt)
            point["floor_us_per_year"] = 1e6 * fl / sims
            point["defaults_per_year"] = float(nd.mean())
            points.append(point)
    slopes = []
    for nb in cfg["cost_books"]:
        pts = [p for p in points if p["buyers"] == nb]
        d = np.array([p["defaults_per_year"] for p in pts])
        row = {"buyers": nb, "cells": pts[0]["cells"]}
        for name in FITTED:
            y = np.array([p[f"{name}_us_per_year"] for p in pts])
            row[f"{name}_ns_per_default"] = 1e3 * float(np.polyfit(d, y, 1)[0])
        slopes.append(row)
    fits = {k: fit_cost(points, f"{k}_us_per_year") for k in FITTED}
    return {"points": points, "fit": fits, "slopes": slopes}


#: What the cost model is fitted for (``{name}_us_per_year`` in each point).
FITTED = ("engine", "no_allocation", "floor")


def fit_cost(points: list[dict[str, Any]], key: str) -> dict[str, float]:
    """Least-squares fit of ``point[key]`` (µs per year) = a·cells + b·defaults + c, in
    relative terms (each point's equation divided by its value).

    Returns a and b in ns (per cell, per default), c in µs, R² (of the relative fit: 1 −
    Σ relative residual² / Σ (y/ȳ − 1)²) and the largest relative residual.
    """
    x = np.array([[p["cells"], p["defaults_per_year"], 1.0] for p in points])
    y = np.array([p[key] for p in points])
    coef, *_ = np.linalg.lstsq(x / y[:, None], np.ones_like(y), rcond=None)
    rel = x @ coef / y - 1.0
    spread = float(np.sum((y / y.mean() - 1.0) ** 2))
    return {
        "ns_per_cell": 1e3 * float(coef[0]),
        "ns_per_default": 1e3 * float(coef[1]),
        "us_per_year": float(coef[2]),
        "r2": 1.0 - float(np.sum(rel**2)) / spread if spread > 0 else 1.0,
        "max_rel_residual": float(np.max(np.abs(rel))),
    }


def bench_dask_overhead(scale: str = "full") -> dict[str, Any]:
    """A LocalCluster (2 workers × 1 thread) against the in-process executor on the same run:
    the median of ``runs`` runs each, interleaved, results compared bit for bit."""
    from distributed import Client, LocalCluster

    from riskengine.run.blocks import plan_blocks
    from riskengine.run.dask import run_blocks_dask

    nb, sims, block, runs = SCALES[scale]["dask"]
    book, sc = _book_and_scenario(nb, sims)
    simulate(book, sc, sims=min(sims, 50))
    t_local: list[float] = []
    t_dask: list[float] = []
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        simulate(book, sc, sims=min(sims, 2 * block), block_size=block, client=client)  # warm
        for _ in range(runs):
            t0 = time.perf_counter()
            a = simulate(book, sc, sims=sims, block_size=block)
            t_local.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            b = simulate(book, sc, sims=sims, block_size=block, client=client)
            t_dask.append(time.perf_counter() - t0)
        stream, _, _ = run_blocks_dask(
            b.compiled.kernel, plan_blocks(block, block), True, client=client
        )
        shared = stream.sharing
        list(stream)
    med_local, med_dask = float(np.median(t_local)), float(np.median(t_dask))
    return {
        "buyers": nb,
        "sims": sims,
        "block_size": block,
        "in_process_s": t_local,
        "dask_s": t_dask,
        "in_process_median_s": med_local,
        "dask_median_s": med_dask,
        "overhead": med_dask / med_local - 1,
        "identical": bool(a.ylt.equals(b.ylt)),
        "portfolio_sharing": shared,
    }


_COMPILE_SCRIPT = """
import json, time
t0 = time.perf_counter()
from riskengine.run.warmup import warmup
timings = warmup()
# the one kernel warmup() leaves out: the credit-limit decisions' tail merge
import numpy as np
from riskengine.kernels.tailmerge import tail_after_change
t = time.perf_counter()
i8, f8 = np.int64, np.float64
tail_after_change(np.array([3.0, 2.0, 1.0]), np.ones(3), np.arange(3, dtype=i8),
                  np.array([0, 1], i8), np.array([2], i8), np.array([5.0]), 1.0,
                  np.empty(1, f8), np.empty(1, f8))
timings["decisions' tail merge"] = time.perf_counter() - t
print(json.dumps({"total": time.perf_counter() - t0, "steps": timings}))
"""


def bench_compile(scale: str = "full") -> dict[str, Any]:
    """Cold compilation (empty Numba cache) and warm start (cache filled), in fresh processes:
    the time to import riskengine and compile or load every kernel (``riskengine warmup``, and
    the decisions' tail merge, which it does not cover)."""
    import tempfile

    from scale import run_python

    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        cold = run_python(_COMPILE_SCRIPT, env=env)
        warm = run_python(_COMPILE_SCRIPT, env=env)
    return {
        "cold_s": cold["total"],
        "warm_s": warm["total"],
        "cold_steps": cold["steps"],
        "warm_steps": warm["steps"],
    }


def bench_decisions(scale: str = "full") -> dict[str, Any]:
    """Credit-limit decisions (``benchmarks/bench_decisions.py``)."""
    import bench_decisions

    buyers, sims = SCALES[scale]["decisions"]
    return bench_decisions.measure(buyers, sims)


def bench_limits(scale: str = "full") -> dict[str, Any]:
    """Portfolio-wide limits by country (``benchmarks/limits_lp.py``)."""
    import limits_lp

    buyers, sims = SCALES[scale]["limits"]
    return limits_lp.measure(buyers, sims)
