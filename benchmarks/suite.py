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
    "bench_monitoring",
    "bench_allocation",
    "bench_importance",
    "glasserman_li_book",
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
        "monitoring": (2_000, 200, 1),
        "allocation": (1_000, 400),
        # books (name → buyers), years per run, seeds, and whether to try the knobs
        "importance": {"sample": 500, "gl": 1_000, "sims": 1_000, "seeds": 3, "knobs": False},
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
        "monitoring": (100_000, 4_000, 5),
        "allocation": (100_000, 20_000),
        "importance": {"sample": 100_000, "gl": 1_000, "sims": 5_000, "seeds": 20, "knobs": True},
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


def _with_monitoring(sc: Any, **changes: Any) -> Any:
    cfg = sc.monitoring.model_copy(update={"enabled": True, **changes})
    return sc.model_copy(update={"monitoring": cfg})


def bench_monitoring(scale: str = "full") -> dict[str, Any]:
    """Dynamic limit management on against off on the sample book, side by side.

    The same book and years with the scenario's default monitoring parameters (monthly reviews,
    noise 0.5, 30 days' notice, 64 buyers a year sampled for the turnover lost), the simulation
    step timed on one thread (CPU time of the thread: the machine is shared), runs interleaved,
    best of ``reps`` each. The parts: with ``reviews_per_year: 1`` (no review is simulated: what
    remains is each default's year-end latent value given default, the flags and the turnover
    sample's draws) and with ``turnover_sample: 0``.
    """
    from riskengine.run.inprocess import run_sims

    nb, sims, reps = SCALES[scale]["monitoring"]
    book, sc = _book_and_scenario(nb, sims)
    variants = {
        "off": sc,
        "on": _with_monitoring(sc),
        "on, no reviews": _with_monitoring(sc, reviews_per_year=1),
        "on, no turnover sample": _with_monitoring(sc, turnover_sample=0),
    }
    ports = {k: compile_portfolio(book, v).kernel for k, v in variants.items()}
    ids = np.arange(sims, dtype=np.int64)
    for port in ports.values():  # compile the kernels, warm the caches
        run_sims(port, ids[: min(sims, 50)], segments=True, n_threads=1)
    best = dict.fromkeys(ports, float("inf"))
    for _ in range(reps):
        for name, port in ports.items():
            t0 = time.thread_time()
            run_sims(port, ids, segments=True, n_threads=1)
            best[name] = min(best[name], time.thread_time() - t0)
    on = simulate(book, variants["on"], sims=sims)
    defaults = float(on.ylt["n_defaults"].mean())
    caught = float(on.ylt["n_caught"].sum() / max(on.ylt["n_defaults"].sum(), 1))
    off_s = best["off"]
    return {
        "buyers": nb,
        "sims": sims,
        "seconds": best,
        "ratio": best["on"] / off_s,
        "ms_per_year": {k: 1e3 * v / sims for k, v in best.items()},
        "mean_defaults": defaults,
        "caught_share": caught,
        "ns_per_default": {
            "reviews": 1e9 * (best["on"] - best["on, no reviews"]) / (sims * defaults),
            "rest": 1e9 * (best["on, no reviews"] - off_s) / (sims * defaults),
        },
    }


# ---------------------------------------------------------------------------------------------
# Capital allocation and importance sampling
# ---------------------------------------------------------------------------------------------
def _with_outputs(sc: Any, **changes: Any) -> Any:
    return sc.model_copy(update={"outputs": sc.outputs.model_copy(update=changes)})


def _timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def _timed_cpu(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float, float]:
    """``fn``'s result, wall seconds and CPU seconds of this process (every thread)."""
    c0 = time.process_time()
    out, dt = _timed(fn, *args, **kwargs)
    return out, dt, time.process_time() - c0


def bench_allocation(scale: str = "full") -> dict[str, Any]:
    """Capital allocation at 99.5 % (gross, every dimension) against the same run without it.

    ``extra`` is the whole job's extra wall time (``riskengine.simulate``: the kernels'
    accumulators, the segment claims, then the tail replay, expected losses and contributions),
    ``extra_cpu`` the same in CPU time of the process (steadier on a shared machine); ``steps``
    profiles the allocation of the last run step by step, and ``buyers_s`` is the time to
    compute and write the contributions of every buyer (allocation.parquet of the buyer
    dimension). Best of two runs each, interleaved, at the full scale (this machine is shared
    and noisy).
    """
    import tempfile

    from riskengine.allocation import contributions, expected_losses
    from riskengine.files import write_parquet
    from riskengine.jobs import simulate as simulate_job
    from riskengine.run.replay import record
    from riskengine.scenario.models import AllocationConfig
    from riskengine.tail import build_store, select_years

    nb, sims = SCALES[scale]["allocation"]
    book, sc = _book_and_scenario(nb, sims)
    sc = _with_outputs(sc, allocation=None)  # the demo's scenario allocates: the plain run not
    cfg = AllocationConfig(perspective=["gross"], levels=[99.5])
    sc_alloc = _with_outputs(sc, allocation=cfg)
    block = min(sims, 5_000)
    simulate_job(book, sc, sims=min(sims, 50))  # compile / warm caches
    simulate_job(book, sc_alloc, sims=min(sims, 400))
    reps = 2 if scale == "full" else 1
    t_plain = t_alloc = c_plain = c_alloc = float("inf")
    for _ in range(reps):
        plain, dt, cpu = _timed_cpu(simulate_job, book, sc, sims=sims, block_size=block)
        t_plain, c_plain = min(t_plain, dt), min(c_plain, cpu)
        res, dt, cpu = _timed_cpu(simulate_job, book, sc_alloc, sims=sims, block_size=block)
        t_alloc, c_alloc = min(t_alloc, dt), min(c_alloc, cpu)
    persp, levels, dims = list(cfg.perspective), list(cfg.levels), list(cfg.dimensions)
    el, t_el = _timed(expected_losses, res, persp, dims)
    tails = select_years(res.ylt, persp, levels)
    rows = np.unique(np.concatenate([np.r_[t.index, t.window] for t in tails.values()]))
    _, t_replay = _timed(record, res.compiled, res.ylt["sim_id"].to_numpy()[rows])
    store, t_store = _timed(build_store, res, persp, levels, el)
    args = (res.ylt, store.claims, store.years, store.exposures, el, persp, levels)
    table, t_contrib = _timed(contributions, *args, dims)
    buyers, t_buyer_contrib = _timed(contributions, *args, ["buyer"])
    with tempfile.TemporaryDirectory() as d:
        _, t_write = _timed(write_parquet, Path(d) / "allocation.parquet", table)
        _, t_write_buyers = _timed(write_parquet, Path(d) / "buyers.parquet", buyers)
        _, t_write_store = _timed(store.write, d)
    return {
        "buyers": nb,
        "sims": sims,
        "level": levels[0],
        "run_s": t_plain,
        "run_with_allocation_s": t_alloc,
        "extra": t_alloc / t_plain - 1,
        "run_cpu_s": c_plain,
        "run_with_allocation_cpu_s": c_alloc,
        "extra_cpu": c_alloc / c_plain - 1,
        "kernel_s": plain.meta["simulate_time_s"],
        "kernel_with_allocation_s": res.meta["simulate_time_s"],
        "tail_years": store.years.height,
        "tail_claims": store.claims.height,
        "rows": table.height,
        "steps": {
            "expected losses": t_el,
            "tail replay (record)": t_replay,
            "tail store (replay + frames)": t_store,
            "contributions (every dimension)": t_contrib,
            "write allocation.parquet": t_write,
            "write tail/": t_write_store,
        },
        "buyer_rows": buyers.height,
        "buyers_s": t_buyer_contrib + t_write_buyers,
        "buyers_contributions_s": t_buyer_contrib,
        "buyers_write_s": t_write_buyers,
    }


def glasserman_li_book(n: int = 1_000, factors: int = 10, seed: int = 2005) -> Any:
    """The 10-factor portfolio of Glasserman & Li (2005, "Importance sampling for portfolio
    credit risk", §5): obligor k = 1..n with PD 0.01 (1 + sin(16πk/n)), exposure ⌈5k/n⌉² and
    LGD 1, loadings uniform in (0, 1/√factors) on independent factors (explicit model). One
    country without political risk, one policy without terms, utilisation 1."""
    import polars as pl

    from riskengine.book import from_frames

    k = np.arange(1, n + 1)
    ids = [f"GL{i:05d}" for i in k]
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.0, 1.0 / np.sqrt(factors), size=(n, factors))
    names = [f"F{j + 1:02d}" for j in range(factors)]
    return from_frames(
        buyers=pl.DataFrame(
            {
                "buyer_id": ids,
                "country": ["DE"] * n,
                "sector": ["C"] * n,
                "pd": 0.01 * (1 + np.sin(16 * np.pi * k / n)),
                "lgd": np.ones(n),
                "lgd_sd": np.zeros(n),
            }
        ),
        exposures=pl.DataFrame(
            {
                "exposure_id": [f"E{b}" for b in ids],
                "policy_id": ["P1"] * n,
                "buyer_id": ids,
                "limit": np.ceil(5 * k / n) ** 2,
                "utilization": np.ones(n),
            }
        ),
        policies=pl.DataFrame({"policy_id": ["P1"], "currency": ["EUR"], "indemnity": [1.0]}),
        countries=pl.DataFrame({"country": ["DE"], "region": ["EU"], "political_pd": [0.0]}),
        factor_loadings=pl.DataFrame(
            {
                "buyer_id": np.repeat(ids, factors),
                "factor": np.tile(names, n),
                "loading": a.ravel(),
            }
        ),
    )


def _mean_finite(x: np.ndarray) -> float:
    """Mean of the finite values (NaN when none: a standard error that could not be estimated)."""
    x = x[np.isfinite(x)]
    return float(x.mean()) if len(x) else float("nan")


def _replicate(book: Any, sc: Any, sims: int, seeds: int, q: float) -> dict[str, Any]:
    """VaR_q and TVaR_q of ``seeds`` runs of ``sims`` years (seeds 1..): their spread across
    runs, the runs' own standard errors, and the time per run."""
    from riskengine.measures import measures

    key = f"{100 * q:g}"
    out: dict[str, list[float]] = {k: [] for k in ("var", "tvar", "var_se", "tvar_se", "s")}
    info = None
    for s in range(1, seeds + 1):
        res, dt = _timed(simulate, book, sc, sims=sims, seed=s, block_size=min(sims, 10_000))
        m = measures(res.ylt["gross"].to_numpy(), (q,), res.weights)
        out["var"].append(m["VaR"][key]["value"])
        out["tvar"].append(m["TVaR"][key]["value"])
        out["var_se"].append(m["VaR"][key]["se"])
        out["tvar_se"].append(m["TVaR"][key]["se"])
        out["s"].append(dt)
        info = res.meta.get("importance_sampling")
    return {
        "var": float(np.mean(out["var"])),
        "tvar": float(np.mean(out["tvar"])),
        "var_variance": float(np.var(out["var"], ddof=1)),
        "tvar_variance": float(np.var(out["tvar"], ddof=1)),
        "var_se2": _mean_finite(np.square(out["var_se"])),
        "tvar_se2": _mean_finite(np.square(out["tvar_se"])),
        "seconds_per_run": float(np.mean(out["s"])),
        "importance_sampling": info,
    }


def _variance_ratio(plain: dict[str, Any], shifted: dict[str, Any]) -> dict[str, float]:
    """How many times fewer years importance sampling needs for the same variance (from the
    replications' spread, and from the runs' own standard errors), and per second of work."""
    time_ratio = shifted["seconds_per_run"] / plain["seconds_per_run"]
    out = {}
    for m in ("var", "tvar"):
        r = plain[f"{m}_variance"] / shifted[f"{m}_variance"]
        out[m] = r
        out[f"{m}_from_se"] = plain[f"{m}_se2"] / shifted[f"{m}_se2"]
        out[f"{m}_per_second"] = r / time_ratio
    return out


def _importance_case(
    book: Any, sc: Any, sims: int, seeds: int, variants: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """Plain Monte Carlo and each importance-sampling variant, side by side, at 99.9 %."""
    q = 0.999
    simulate(book, sc, sims=min(sims, 50))  # compile / warm caches
    plain = _replicate(book, sc, sims, seeds, q)
    out: dict[str, Any] = {"plain": plain, "variants": {}}
    for name, isc in variants.items():
        shifted_sc = sc.model_copy(
            update={"simulation": sc.simulation.model_copy(update={"importance_sampling": isc})}
        )
        shifted = _replicate(book, shifted_sc, sims, seeds, q)
        out["variants"][name] = {**shifted, "ratio": _variance_ratio(plain, shifted)}
    return out


def bench_importance(scale: str = "full") -> dict[str, Any]:
    """Variance reduction of importance sampling at 99.9 %, side by side with plain Monte Carlo
    in the same run: the variance of the VaR and TVaR estimators at equal years, estimated from
    replications (seeds 1..R each), on the sample book and on the Glasserman–Li portfolio. The
    ratio plain / IS is how many times fewer years importance sampling needs for the same
    standard error. At the full scale the knobs are tried too (defensive share, components,
    the level the shift aims at)."""
    from riskengine.scenario.models import ImportanceSampling

    cfg = SCALES[scale]["importance"]
    sims, seeds = cfg["sims"], cfg["seeds"]
    base = ImportanceSampling(shift="auto", level=99.9)

    def variant(**kw: Any) -> Any:
        return base.model_copy(update=kw)

    book, sc = _book_and_scenario(cfg["sample"], sims)
    sc = _with_outputs(sc, segments=[])
    sample_variants = {"auto": base}
    if cfg["knobs"]:
        sample_variants |= {
            "defensive 0.3": variant(defensive=0.3),
            "1 component (downturn only)": variant(components=1),
            "level 99.99": variant(level=99.99),
        }
    out: dict[str, Any] = {"sims": sims, "seeds": seeds}
    out["sample"] = {
        "buyers": cfg["sample"],
        **_importance_case(book, sc, sims, seeds, sample_variants),
    }
    gl = glasserman_li_book(cfg["gl"])
    gl_sc = load_scenario(baseline_scenario_path())
    gl_sc = gl_sc.model_copy(
        update={"political": gl_sc.political.model_copy(update={"enabled": False})}
    )
    gl_sc = _with_outputs(gl_sc, segments=[], report=False)
    gl_variants = {"auto": base}
    if cfg["knobs"]:
        gl_variants |= {
            "defensive 0.05": variant(defensive=0.05),
            "defensive 0.3": variant(defensive=0.3),
            "level 99.99": variant(level=99.99),
        }
    out["glasserman_li"] = {
        "buyers": cfg["gl"],
        **_importance_case(gl, gl_sc, sims, seeds, gl_variants),
    }
    return out
