"""Start-up and memory at scale, and the cost of writing a run's outputs.

:func:`bench_startup` generates sample books of 1, 3 and 10 million buyers (``--scale full``)
and, for each, in a fresh process: imports riskengine, loads and validates the book
(``load_book``), compiles it under the demo's scenario (``compile_portfolio``), then simulates a
few hundred years with the demo's outputs; it records the wall and CPU time of each step and
the resident memory (RSS) after each, sampled every few milliseconds for the peaks. A size
whose expected peak does not fit in the memory available is skipped, and says so.

:func:`bench_outputs` simulates the sample book for 100,000 years with the demo's outputs and
times writing them (the data files, then the report) against the simulation.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["SCALES", "run_python", "bench_startup", "bench_outputs"]

SCALES: dict[str, dict[str, Any]] = {
    "tiny": {"startup": [2_000, 6_000], "startup_sims": 50, "outputs": (2_000, 500)},
    "full": {
        "startup": [1_000_000, 3_000_000, 10_000_000],
        "startup_sims": 200,
        "outputs": (100_000, 100_000),
    },
}

#: Generous RSS per buyer (bytes) to decide whether a size fits before the first is measured.
_FIRST_GUESS_BYTES_PER_BUYER = 2_500


def run_python(code: str, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``code`` in a fresh Python process; return the JSON object of its last output line."""
    out = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"benchmark subprocess failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


_GENERATE = """
import json, sys, time
from riskengine.book import generate_book
t0 = time.perf_counter()
generate_book(int(sys.argv[1]), seed=2026, out=sys.argv[2])
print(json.dumps({"seconds": time.perf_counter() - t0}))
"""

_STARTUP = """
import json, resource, sys, threading, time
import psutil
n, folder, sims = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
proc = psutil.Process()
peak = [proc.memory_info().rss]
def sample():
    while True:
        peak[0] = max(peak[0], proc.memory_info().rss)
        time.sleep(0.003)
threading.Thread(target=sample, daemon=True).start()
out = {"buyers": n}
def step(name, fn):
    peak[0] = proc.memory_info().rss
    w, c = time.perf_counter(), time.process_time()
    value = fn()
    out[name] = {"wall_s": time.perf_counter() - w, "cpu_s": time.process_time() - c,
                 "rss": proc.memory_info().rss, "peak_rss": max(peak[0], proc.memory_info().rss)}
    return value
def imports():
    global load_book, compile_portfolio, simulate, load_scenario, baseline_scenario_path
    from riskengine.book import load_book
    from riskengine.portfolio.compile import compile_portfolio
    from riskengine.run.simulate import simulate
    from riskengine.scenario import baseline_scenario_path, load_scenario
    import riskengine.kernels.rng, riskengine.run.inprocess
step("import", imports)
sc = load_scenario(baseline_scenario_path()).with_simulation(sims=max(sims, 1))
sc = sc.model_copy(update={"outputs": sc.outputs.model_copy(update={"report": False})})
book = step("load", lambda: load_book(folder))
cp = step("compile", lambda: compile_portfolio(book, sc))
out["book_bytes"] = sum(getattr(book, t).estimated_size() for t in
                        ("buyers", "exposures", "policies", "countries"))
out["kernel_bytes"] = cp.nbytes()
if sims:
    step("simulate", lambda: simulate(book, sc, compiled=cp, block_size=sims))
out["max_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps(out))
"""


def _available() -> int:
    import psutil

    return int(psutil.virtual_memory().available)


def bench_startup(scale: str = "full") -> dict[str, Any]:
    """Load + validate + compile (and a short run) of books of growing size, each in a fresh
    process: times, RSS and peak RSS after each step, growth of the peaks per buyer."""
    sizes, sims = SCALES[scale]["startup"], SCALES[scale]["startup_sims"]
    rows: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    # bytes per buyer of the peaks (with a run, compiling only): guesses until measured
    per_run = per_compile = _FIRST_GUESS_BYTES_PER_BUYER
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            # with a margin: other jobs share the machine
            need_run, need_compile = 1.3 * per_run * n, 1.3 * per_compile * n
            if need_compile > _available():
                skipped.append(
                    {"buyers": n, "needed_bytes": need_compile, "available": _available()}
                )
                continue
            run_sims = sims if need_run <= _available() else 0
            folder = str(Path(tmp) / f"book{n}")
            gen = run_python(_GENERATE, str(n), folder)
            row = run_python(_STARTUP, str(n), folder, str(run_sims))
            row["generate_s"] = gen["seconds"]
            row["sims"] = run_sims
            rows.append(row)
            per_compile = row["compile"]["peak_rss"] / n
            if run_sims:
                per_run = row["max_rss"] / n
            for f in Path(folder).iterdir():
                f.unlink()
    growth = []
    for a, b in zip(rows, rows[1:], strict=False):
        dn = b["buyers"] - a["buyers"]
        growth.append(
            {
                "from": a["buyers"],
                "to": b["buyers"],
                "compile_peak_bytes_per_buyer": (
                    b["compile"]["peak_rss"] - a["compile"]["peak_rss"]
                )
                / dn,
                "run_peak_bytes_per_buyer": (b["max_rss"] - a["max_rss"]) / dn
                if a["sims"] and b["sims"]
                else None,
                "load_compile_s_per_million": 1e6
                * (
                    b["load"]["wall_s"]
                    + b["compile"]["wall_s"]
                    - a["load"]["wall_s"]
                    - a["compile"]["wall_s"]
                )
                / dn,
            }
        )
    return {"sims": sims, "sizes": rows, "growth": growth, "skipped": skipped}


def bench_outputs(scale: str = "full") -> dict[str, Any]:
    """Writing a long run's outputs against its simulation time: the sample book, the demo's
    scenario (segments, allocation and its tail store), 100,000 years (``--scale full``)."""
    from suite import demo_scenario

    import riskengine
    from riskengine.book import generate_book
    from riskengine.report import render_report

    nb, sims = SCALES[scale]["outputs"]
    book = generate_book(nb, seed=2026)
    sc = demo_scenario(sims)
    t0 = time.perf_counter()
    res = riskengine.simulate(book, sc)
    total = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        written = riskengine.write_outputs(res, tmp, report=False)
        t_write = time.perf_counter() - t0
        sizes = {name: os.path.getsize(path) for name, path in written.items()}
    t0 = time.perf_counter()
    render_report(res)
    t_report = time.perf_counter() - t0
    sim_s = res.meta["simulate_time_s"]
    return {
        "buyers": nb,
        "sims": sims,
        "simulate_s": sim_s,
        "simulate_with_allocation_s": total,
        "write_s": t_write,
        "report_s": t_report,
        "write_share": t_write / sim_s,
        "write_and_report_share": (t_write + t_report) / sim_s,
        "bytes": sizes,
    }
