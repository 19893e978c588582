"""Measure credit-limit decisions on the sample book: load once, then one, many and 10,000.

The issue's targets: one decision ≤ 50 ms after the tail store is loaded; 10,000 requests
≤ 10 s; ``riskengine decide`` end to end on a 100,000-buyer book ≤ 5 s. The sample book
(``generate_book(100_000, seed=2026)``) is simulated under ``scenarios/baseline.yaml`` (which
allocates at 99.5 %: the tail store) for 20,000 years and written; then, timed:

* loading the run (:func:`~riskengine.limits.load_decisions`: tail store, YLT, allocation, book);
* one decision on a position the book holds and one on a new buyer (median of 20 each);
* 10,000 requests: 70 % raised limits of the book's positions (× 1.1 to 3), 30 % new buyers
  (log-normal limits, PDs around 1 %), at a premium rate of 0.25 % — the mix an underwriting
  desk sends, with its declines and counter-offers;
* ``riskengine decide`` with 100 requests, in a fresh process (start-up, imports, loading).

Usage: ``python benchmarks/bench_decisions.py [--buyers 100000] [--sims 20000]``. Prints a
Markdown table (docs/limits.md, "Speed", quotes it). Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

import riskengine
from riskengine.book import generate_book
from riskengine.jobs import write_outputs
from riskengine.limits import decide_loaded, load_decisions, marginal
from riskengine.limits.decide import decide_requests, request_buyer
from riskengine.scenario import baseline_scenario_path, load_scenario


def requests(book_dir: Path, n: int, seed: int = 1) -> pl.DataFrame:
    """``n`` requests on the book in ``book_dir``: 70 % raised limits, 30 % new buyers."""
    rng = np.random.default_rng(seed)
    ex = pl.read_parquet(book_dir / "exposures.parquet")
    bu = pl.read_parquet(book_dir / "buyers.parquet")
    pos = (
        ex.group_by("buyer_id", "policy_id")
        .agg(pl.col("limit").sum())
        .sort("buyer_id", "policy_id")
        .sample(n=min(int(0.7 * n), ex.height), seed=seed)
    )
    raised = pl.DataFrame(
        {
            "request_id": [f"R{i:06d}" for i in range(pos.height)],
            "policy_id": pos["policy_id"],
            "buyer_id": pos["buyer_id"],
            "requested_limit": np.round(
                pos["limit"].to_numpy() * rng.uniform(1.1, 3.0, pos.height)
            ),
        }
    )
    m = n - raised.height
    countries = bu["country"].unique().sort().to_list()
    sectors = bu["sector"].unique().sort().to_list()
    new = pl.DataFrame(
        {
            "request_id": [f"N{i:06d}" for i in range(m)],
            "policy_id": ex["policy_id"].sample(m, seed=seed + 1, with_replacement=True),
            "buyer_id": [f"NEW{i:06d}" for i in range(m)],
            "requested_limit": np.round(rng.lognormal(12, 1.2, m), -3) + 1000,
            "country": rng.choice(countries, m),
            "sector": rng.choice(sectors, m),
            "pd": np.round(rng.lognormal(np.log(0.01), 0.8, m).clip(1e-4, 0.3), 5),
        }
    )
    out = pl.concat([raised, new], how="diagonal_relaxed")
    return out.with_columns(premium_rate=pl.lit(0.0025))


def _median_ms(fn: Any, repeat: int = 20) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * float(np.median(times))


def measure(buyers: int = 100_000, sims: int = 20_000, seed: int = 2026) -> dict[str, Any]:
    """Time loading, single decisions, 10,000 requests and the command (seconds, ms)."""
    sc_path = baseline_scenario_path()
    sc = load_scenario(sc_path).with_simulation(sims=sims)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate_book(buyers, seed=seed, out=root / "book")
        t0 = time.perf_counter()
        res = riskengine.simulate(root / "book", sc)
        t_sim = time.perf_counter() - t0
        write_outputs(res, root / "run", report=False)
        t0 = time.perf_counter()
        ctx, book = load_decisions(sc_path, root / "run", root / "book")
        t_load = time.perf_counter() - t0
        req = requests(root / "book", 10_000)
        rows = req.to_dicts()
        pos = {str(x): i for i, x in enumerate(ctx.r.policy_ids)}

        def one(row: dict) -> None:
            row = {k: row.get(k) for k in (*row, "rating", "payment_term_days", "utilization")}
            p = pos[row["policy_id"]]
            marginal(ctx, request_buyer(ctx, row, p), p, row["requested_limit"], 0.0025)

        existing = next(r for r in rows if not r["buyer_id"].startswith("NEW"))
        newcomer = next(r for r in rows if r["buyer_id"].startswith("NEW"))
        one(newcomer)  # the kernel compiled and cached before timing
        t_one_existing = _median_ms(lambda: one(existing))
        t_one_new = _median_ms(lambda: one({**newcomer, "buyer_id": f"X{time.perf_counter()}"}))
        t0 = time.perf_counter()
        out = decide_requests(ctx, req)
        t_10k = time.perf_counter() - t0
        counts = dict(out["decision"].value_counts().iter_rows())
        t0 = time.perf_counter()
        decide_loaded(ctx, book, req.head(100), resimulate=False)
        t_100 = time.perf_counter() - t0
        req.head(100).write_csv(root / "requests.csv")
        cmd = [
            str(Path(sys.executable).parent / "riskengine"),
            "decide",
            str(sc_path),
            "--requests",
        ]
        cmd += [str(root / "requests.csv"), "--results", str(root / "run")]
        cmd += ["--book", str(root / "book"), "--out", str(root / "out"), "--no-resimulate"]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        t_cli = time.perf_counter() - t0
    return {
        "buyers": buyers,
        "sims": sims,
        "store_years": ctx.n_store,
        "store_claims": len(ctx.c_loss),
        "simulate_s": t_sim,
        "load_s": t_load,
        "one_existing_ms": t_one_existing,
        "one_new_ms": t_one_new,
        "requests_10k_s": t_10k,
        "decisions": counts,
        "requests_100_s": t_100,
        "command_100_s": t_cli,
    }


def markdown(r: dict[str, Any]) -> str:
    """The figures as a Markdown table."""
    d = r["decisions"]
    mix = ", ".join(f"{d.get(k, 0):,} {k}" for k in ("approve", "counter", "decline"))
    rows = [
        (
            "book",
            f"{r['buyers']:,} buyers × {r['sims']:,} years (simulated in {r['simulate_s']:.1f} s)",
        ),
        ("tail store", f"{r['store_years']:,} years, {r['store_claims']:,} claims"),
        ("loading the run (once)", f"{r['load_s']:.2f} s"),
        (
            "one decision, a position the book holds",
            f"{r['one_existing_ms']:.2f} ms (target ≤ 50 ms)",
        ),
        ("one decision, a new buyer (256 draws)", f"{r['one_new_ms']:.2f} ms (target ≤ 50 ms)"),
        ("10,000 requests", f"{r['requests_10k_s']:.2f} s (target ≤ 10 s): {mix}"),
        ("100 requests, loaded", f"{r['requests_100_s']:.3f} s"),
        (
            "`riskengine decide`, 100 requests, end to end",
            f"{r['command_100_s']:.2f} s (target ≤ 5 s)",
        ),
    ]
    return "\n".join(["| step | measured |", "|---|---|", *(f"| {a} | {b} |" for a, b in rows)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--buyers", type=int, default=100_000)
    ap.add_argument("--sims", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=2026)
    a = ap.parse_args()
    print(markdown(measure(a.buyers, a.sims, a.seed)))


if __name__ == "__main__":
    main()
