"""The benchmark suite: each benchmark is a function of a ``scale`` ("tiny" for the test suite's
smoke run, "full" for ``make bench``) returning a dict of measured figures.

Benchmarks are not tests: nothing here asserts a time. ``benchmarks/run.py`` runs them all and
writes ``benchmarks/RESULTS.md``; ``tests/test_benchmarks.py`` imports and runs each one at the
tiny scale so they never rot.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import numba
import numpy as np
from numba import njit, prange

from riskengine.book import generate_book
from riskengine.kernels.rng import draw_u64, u01
from riskengine.portfolio.compile import compile_portfolio
from riskengine.run.simulate import simulate
from riskengine.scenario import baseline_scenario_path, load_scenario

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from numpy_baseline import NumpyModel, numpy_simulate  # noqa: E402

__all__ = [
    "SCALES",
    "machine",
    "bench_rng_ceiling",
    "bench_throughput",
    "bench_numpy_ratio",
    "bench_dask_overhead",
    "bench_compile",
    "bench_memory",
    "bench_monitoring",
]

#: Sizes per scale: (buyers, sims) pairs and other knobs.
SCALES: dict[str, dict[str, Any]] = {
    "tiny": {
        "rng_n": 2_000_000,
        "buyers_grid": [(500, 200), (2_000, 200)],
        "sims_grid": [(1_000, 100), (1_000, 400)],
        "numpy": (1_000, 200, 50),
        "dask": (1_000, 400, 100),
        "memory": (2_000, 200),
        "monitoring": (2_000, 200, 1),
    },
    "full": {
        "rng_n": 2_000_000_000,
        "buyers_grid": [
            (10_000, 100_000),
            (100_000, 20_000),
            (300_000, 10_000),
            (1_000_000, 4_000),
        ],
        "sims_grid": [(100_000, 2_000), (100_000, 10_000), (100_000, 100_000)],
        "numpy": (100_000, 20_000, 4_000),
        "dask": (100_000, 40_000, 4_000),
        "memory": (1_000_000, 10_000),
        "monitoring": (100_000, 4_000, 5),
    },
}


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    flags = ""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("flags"):
                    fl = line.split(":", 1)[1].split()
                    flags = ", ".join(f for f in ("avx2", "fma", "avx512f") if f in fl)
                    break
    except OSError:
        pass
    import polars

    import riskengine

    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "simd": flags,
        "numba_threads": numba.get_num_threads(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "polars": polars.__version__,
        "riskengine": riskengine.__version__,
    }


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


def _book_and_scenario(n_buyers: int, sims: int, *, seed: int = 2026) -> tuple[Any, Any]:
    book = generate_book(n_buyers, seed=seed)
    sc = load_scenario(baseline_scenario_path())
    sc = sc.with_simulation(sims=sims)
    sc = sc.model_copy(update={"outputs": sc.outputs.model_copy(update={"report": False})})
    return book, sc


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


def bench_throughput(scale: str = "full") -> dict[str, Any]:
    """Engine throughput (buyer-simulations per second) against portfolio size and simulations."""
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

    The baseline runs on one core (NumPy's kernels are single-threaded), best of three runs at
    the full scale (this machine is shared and noisy).
    """
    nb, sims_engine, sims_numpy = SCALES[scale]["numpy"]
    book, sc = _book_and_scenario(nb, sims_engine)
    cp = compile_portfolio(book, sc)
    model = NumpyModel.from_compiled(cp)
    numpy_simulate(model, min(10, sims_numpy), seed=1)
    t_np = float("inf")
    for _ in range(3 if scale == "full" else 1):
        t0 = time.perf_counter()
        ref = numpy_simulate(model, sims_numpy, seed=2)
        t_np = min(t_np, time.perf_counter() - t0)
    eng = _engine_rate(book, sc, sims_engine)
    np_rate = nb * sims_numpy / t_np
    gu = ref["ground_up"]
    return {
        "buyers": nb,
        "numpy_sims": sims_numpy,
        "numpy_seconds": t_np,
        "numpy_buyer_sims_per_s": np_rate,
        "engine": eng,
        "ratio": eng["buyer_sims_per_s"] / np_rate,
        # the baseline is the same model: its mean ground-up loss matches the exact value
        "numpy_ground_up_mean": float(gu.mean()),
        "numpy_ground_up_se": float(gu.std(ddof=1) / np.sqrt(len(gu))),
        "exact_ground_up": cp.expected_ground_up,
    }


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


def bench_dask_overhead(scale: str = "full") -> dict[str, Any]:
    """A LocalCluster (2 workers × 1 thread) against the in-process executor on the same run."""
    from distributed import Client, LocalCluster

    nb, sims, block = SCALES[scale]["dask"]
    book, sc = _book_and_scenario(nb, sims)
    simulate(book, sc, sims=min(sims, 50))
    reps = 2 if scale == "full" else 1  # this machine is shared and noisy: best of two each
    t_local = t_dask = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        a = simulate(book, sc, sims=sims, block_size=block)
        t_local = min(t_local, time.perf_counter() - t0)
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
        simulate(
            book, sc, sims=min(sims, 2 * block), block_size=block, client=client
        )  # warm workers
        for _ in range(reps):
            t0 = time.perf_counter()
            b = simulate(book, sc, sims=sims, block_size=block, client=client)
            t_dask = min(t_dask, time.perf_counter() - t0)
    return {
        "buyers": nb,
        "sims": sims,
        "block_size": block,
        "in_process_s": t_local,
        "dask_s": t_dask,
        "overhead": t_dask / t_local - 1,
        "identical": bool(a.ylt.equals(b.ylt)),
    }


_COMPILE_SCRIPT = textwrap.dedent(
    """
    import json, time
    t0 = time.perf_counter()
    from riskengine.run.warmup import warmup
    timings = warmup()
    print(json.dumps({"total": time.perf_counter() - t0, "steps": timings}))
    """
)


def _run_py(code: str, env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_compile(scale: str = "full") -> dict[str, Any]:
    """Cold compilation (empty Numba cache) and warm start (cache filled), in fresh processes."""
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        cold = _run_py(_COMPILE_SCRIPT, env)
        warm = _run_py(_COMPILE_SCRIPT, env)
    return {
        "cold_s": cold["total"],
        "warm_s": warm["total"],
        "cold_steps": cold["steps"],
        "warm_steps": warm["steps"],
    }


_MEMORY_SCRIPT = textwrap.dedent(
    """
    import json, resource, sys, time
    from riskengine.book import generate_book
    from riskengine.run.simulate import simulate
    from riskengine.scenario import baseline_scenario_path, load_scenario
    nb, sims = int(sys.argv[1]), int(sys.argv[2])
    book = generate_book(nb, seed=2026)
    sc = load_scenario(baseline_scenario_path())
    sc = sc.model_copy(update={"outputs": sc.outputs.model_copy(update={"report": False})})
    t0 = time.perf_counter()
    res = simulate(book, sc, sims=sims, block_size=min(sims, 10000))
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"buyers": nb, "sims": sims, "seconds": dt, "simulate_s": res.meta["simulate_time_s"],
                      "peak_rss_bytes": rss, "kernel_bytes": res.compiled.nbytes()}))
    """
)


def bench_memory(scale: str = "full") -> dict[str, Any]:
    """Peak resident memory of a whole run (generate, compile, simulate) in a fresh process."""
    nb, sims = SCALES[scale]["memory"]
    out = subprocess.run(
        [sys.executable, "-c", _MEMORY_SCRIPT, str(nb), str(sims)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])
