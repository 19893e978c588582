"""Where a simulated year's time goes, stage by stage, and a before/after comparison of kernels.

A private timing script of the kernel work (issue 15), not part of ``make bench``. On the sample
book (``generate_book(100_000, seed=2026)``, ``scenarios/baseline.yaml`` without
``outputs.allocation``) it times

* **stages**: the year cut after each stage (factors and events; defaults; losses; policy terms
  and split; programme and the rest), one thread, CPU time of the thread, best of ``--reps``;
  the differences are each stage's cost, reported per year, per default and per cell;
* **total**: ``run_sims`` on 1 and 2 threads (wall clock), best of ``--reps``.

``--compare DIR`` runs the same measurements alternately in subprocesses importing riskengine
from ``DIR/src`` (an export of the kernels before, e.g. ``git archive BASE | tar -x -C DIR``) and
from this checkout, ``--rounds`` times, so that the shared machine's noise hits both alike.

Usage::

    python benchmarks/kernel_profile.py --years 3000 --reps 3
    python benchmarks/kernel_profile.py --compare /tmp/kernel_base --rounds 4 --years 3000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent


def _setup(n_buyers: int, years: int, pd_scale: float = 1.0) -> tuple[Any, Any]:
    import dataclasses

    import polars as pl

    from riskengine.book import generate_book
    from riskengine.portfolio.compile import compile_portfolio
    from riskengine.scenario import baseline_scenario_path, load_scenario

    book = generate_book(n_buyers, seed=2026)
    if pd_scale != 1.0:
        pd = (pl.col("pd") * pd_scale).clip(upper_bound=0.5)
        book = dataclasses.replace(book, buyers=book.buyers.with_columns(pd=pd))
    sc = load_scenario(baseline_scenario_path())
    sc = sc.with_simulation(sims=years)
    outputs = sc.outputs.model_copy(update={"report": False, "allocation": None})
    sc = sc.model_copy(update={"outputs": outputs})
    return compile_portfolio(book, sc), sc


def _stage_kernel() -> Any:
    """A jitted year cut after stage ``stop`` (1 draws, 2 defaults, 3 losses, 4 terms, 5 all),
    built from the stages of whichever riskengine is imported (not cached: the kernels may
    change under the same file)."""
    import math

    from numba import njit

    from riskengine.kernels import driver as d

    terms_one_pass = not hasattr(d, "split_claims")

    @njit
    def year(P, S, B, s, i, stop):
        d.draw_factors(P, S, s)
        d.draw_events(P, S, s)
        d.finish_weight(P, S)
        if stop < 2:
            return 0.0
        d.draw_defaults(P, S, s)
        if stop < 3:
            return float(S.nd)
        gu = d.draw_losses(P, S, s)
        if stop < 4:
            return gu
        seg_row = B.seg[i]
        if terms_one_pass:
            gross = d.apply_terms(P, S, seg_row, True)
        else:
            gross = d.apply_terms(P, S, seg_row, True)
            d.split_claims(P, S, seg_row, True)
        if stop < 5:
            return gross
        mo = d.max_occurrence(S)
        ceded = d.apply_programme(P, S, P.t_params, B.ceded[i])
        if P.accumulate:
            d.accumulate_year(P, S, math.exp(S.log_lr), seg_row, True)
        return gross + mo - ceded

    @njit(nogil=True)
    def run(P, S, B, sims, stop):
        acc = 0.0
        nd = 0
        nent = 0
        for i in range(sims.shape[0]):
            acc += year(P, S, B, sims[i], i, stop)
            nd += S.nd
            nent += S.n_ent
            d.reset(P, S)
            S.nd = 0
            S.n_ent = 0
            S.n_pt = 0
            S.n_bt = 0
        return acc, nd, nent

    return run


def measure(n_buyers: int, years: int, reps: int) -> dict[str, Any]:
    """Stage and total timings of this process's riskengine (best of ``reps``)."""
    import riskengine
    from riskengine.kernels import KERNEL_DIGEST
    from riskengine.kernels.driver import outputs_struct
    from riskengine.kernels.scratch import new_scratch
    from riskengine.run.inprocess import kernel_of, new_outputs, run_sims

    cp, _ = _setup(n_buyers, years)
    port = cp.kernel
    P = kernel_of(port)
    sims = np.arange(years, dtype=np.int64)
    run = _stage_kernel()
    out = new_outputs(port, years, segments=True)
    B = outputs_struct(out)
    run(P, new_scratch(port), B, sims[:20], 5)
    run_sims(port, sims[:50], n_threads=1)
    run_sims(port, sims[:50], n_threads=2)
    n_stages = 5
    best = [float("inf")] * (n_stages + 1)
    tot = {1: float("inf"), 2: float("inf")}
    nd = nent = 0
    for _ in range(reps):
        for stop in range(1, n_stages + 1):
            S = new_scratch(port)
            t0 = time.thread_time()
            _, nd_k, nent_k = run(P, S, B, sims, stop)
            best[stop] = min(best[stop], time.thread_time() - t0)
            if stop == n_stages:
                nd, nent = nd_k, nent_k
        for th in (1, 2):
            t0 = time.perf_counter()
            run_sims(port, sims, n_threads=th)
            tot[th] = min(tot[th], time.perf_counter() - t0)
    best[0] = 0.0
    per_year = [1e9 * (best[k] - best[k - 1]) / years for k in range(1, n_stages + 1)]
    names = ["draws", "defaults", "losses", "terms+split", "rest"]
    d_year = nd / years
    return {
        "riskengine": str(Path(riskengine.__file__).resolve().parent),
        "digest": KERNEL_DIGEST[:12],
        "years": years,
        "cells": int(port.cell_key.shape[0]),
        "defaults_per_year": d_year,
        "entries_per_year": nent / years,
        "stage_ns_per_year": dict(zip(names, per_year, strict=True)),
        "stage_ns_per_default": {n: v / d_year for n, v in zip(names, per_year, strict=True)},
        "year_us_stages": 1e6 * best[n_stages] / years,
        "year_us_1t": 1e6 * tot[1] / years,
        "year_us_2t": 1e6 * tot[2] / years,
        "buyer_years_per_s_1t": n_buyers * years / tot[1],
        "buyer_years_per_s_2t": n_buyers * years / tot[2],
    }


NAMES = ["draws", "defaults", "losses", "terms+split", "rest"]


def _stage_seconds(port: Any, years: int, reps: int) -> tuple[list[float], float]:
    """Best thread CPU seconds of the year cut after each stage, and the defaults a year."""
    from riskengine.kernels.driver import outputs_struct
    from riskengine.kernels.scratch import new_scratch
    from riskengine.run.inprocess import kernel_of, new_outputs

    P = kernel_of(port)
    sims = np.arange(years, dtype=np.int64)
    run = _stage_kernel()
    B = outputs_struct(new_outputs(port, years, segments=True))
    run(P, new_scratch(port), B, sims[:20], 5)
    best = [float("inf")] * 5
    nd = 0
    for _ in range(reps):
        for stop in range(1, 6):
            S = new_scratch(port)
            t0 = time.thread_time()
            _, nd, _ = run(P, S, B, sims, stop)
            best[stop - 1] = min(best[stop - 1], time.thread_time() - t0)
    return best, nd / years


def fit(n_buyers: int, years: int, reps: int, scales: list[float]) -> dict[str, Any]:
    """The cost model: per stage, ns a year = fixed + per default × defaults a year, fitted
    over books whose PDs are scaled by ``scales`` (the same cells; one thread)."""
    rows = []
    cells = 0
    for f in scales:
        cp, _ = _setup(n_buyers, years, f)
        cells = int(cp.kernel.cell_key.shape[0])
        best, d_year = _stage_seconds(cp.kernel, years, reps)
        cum = [0.0] + [1e9 * b / years for b in best]
        rows.append((d_year, [cum[k + 1] - cum[k] for k in range(5)], cum[5]))
    d = np.array([r[0] for r in rows])
    design = np.stack([np.ones_like(d), d], axis=1)
    out: dict[str, Any] = {"cells": cells, "scales": scales, "defaults_per_year": d.tolist()}
    for k, name in enumerate(NAMES + ["total"]):
        y = np.array([r[2] if name == "total" else r[1][k] for r in rows])
        (fixed, per_default), *_ = np.linalg.lstsq(design, y, rcond=None)
        out[name] = {
            "fixed_ns_per_cell": fixed / cells,
            "ns_per_default": per_default,
            "ns_per_year": y.tolist(),
        }
    return out


def _merge(a: dict[str, Any] | None, b: dict[str, Any]) -> dict[str, Any]:
    """The better of two measurements, figure by figure (best of all rounds)."""
    if a is None:
        return b
    out = dict(b)
    for k in ("year_us_stages", "year_us_1t", "year_us_2t"):
        out[k] = min(a[k], b[k])
    for k in ("buyer_years_per_s_1t", "buyer_years_per_s_2t"):
        out[k] = max(a[k], b[k])
    for k in ("stage_ns_per_year", "stage_ns_per_default"):
        out[k] = {s: min(a[k][s], b[k][s]) for s in b[k]}
    return out


def compare(base: Path, rounds: int, args: argparse.Namespace) -> dict[str, Any]:
    """Before (``base``/src) and after (this checkout), alternately in subprocesses."""
    here_src = HERE.parent / "src"
    res: dict[str, Any] = {"before": None, "after": None}
    for _ in range(rounds):
        for name, src in (("before", base / "src"), ("after", here_src)):
            env = dict(os.environ, PYTHONPATH=str(src))
            cmd = [sys.executable, __file__, "--years", str(args.years), "--reps", str(args.reps)]
            cmd += ["--buyers", str(args.buyers)] + (["--fit"] if args.fit else [])
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
            one = json.loads(proc.stdout.strip().splitlines()[-1])
            print(name, json.dumps(one), file=sys.stderr)
            if args.fit:
                res.setdefault(name + "_fits", []).append(one)
                continue
            res[name] = _merge(res[name], one)
    if args.fit:
        return res
    b, a = res["before"], res["after"]
    res["speedup_1t"] = b["year_us_1t"] / a["year_us_1t"]
    res["speedup_2t"] = b["year_us_2t"] / a["year_us_2t"]
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--buyers", type=int, default=100_000)
    ap.add_argument("--years", type=int, default=3000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--compare", type=Path, default=None)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--fit", action="store_true", help="fit the cost model over PD scales")
    args = ap.parse_args()
    if args.compare is not None:
        print(json.dumps(compare(args.compare, args.rounds, args), indent=1))
    elif args.fit:
        print(json.dumps(fit(args.buyers, args.years, args.reps, [0.05, 0.25, 0.5, 1.0, 1.5])))
    else:
        print(json.dumps(measure(args.buyers, args.years, args.reps)))


if __name__ == "__main__":
    main()
