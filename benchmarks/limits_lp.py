"""Measure portfolio-wide limits on the sample book by country: about 200 segments × 20,000 years.

The issue's target: the limits linear programme for 200 countries on 20,000 years in at most
30 s. The sample book (``generate_book(100_000, seed=2026)``, 197 countries) is simulated under
``scenarios/baseline.yaml`` for 20,000 years, then timed step by step:

* the segment inputs by country, from the run in memory and from its written folder
  (``segments.parquet``);
* one solve at an appetite of 70 % of today's gross TVaR 99.5 % (working set: its rounds and
  years) and the same linear programme on every year at once (``method="full"``);
* the efficient frontier of 21 appetites, and :func:`~riskengine.limits.plan_limits` (a solve
  and the frontier: what ``riskengine limits`` computes);
* one ``--verify`` re-simulation of the proposed limits.

Usage: ``python benchmarks/limits_lp.py [--buyers 100000] [--sims 20000] [--seed 2026]``.
Prints the figures as a Markdown table (docs/limits.md, "Speed", quotes them). Not part of
``make bench``; ``tests/test_limits.py`` smoke-runs it tiny. Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from typing import Any

import numpy as np

import riskengine
from riskengine.book import generate_book
from riskengine.limits import (
    LimitsSettings,
    efficient_frontier,
    plan_limits,
    read_segment_inputs,
    segment_inputs,
    solve_limits,
    verify_limits,
)
from riskengine.scenario import baseline_scenario_path, load_scenario

#: Expenses plus commission (the pricing defaults: 0.20 + 0.05).
EXPENSES = 0.25
#: The appetite as a share of today's gross TVaR 99.5 %.
APPETITE_SHARE = 0.7


def _timed(fn: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def measure(buyers: int = 100_000, sims: int = 20_000, seed: int = 2026) -> dict[str, Any]:
    """Time each step of ``riskengine limits --by country`` on a sample book (seconds)."""
    book = generate_book(buyers, seed=seed)
    sc = load_scenario(baseline_scenario_path()).with_simulation(sims=sims)
    res, t_sim = _timed(lambda: riskengine.simulate(book, sc))
    inputs, t_inputs = _timed(lambda: segment_inputs(res, "country"))
    with tempfile.TemporaryDirectory() as folder:
        riskengine.write_outputs(res, folder, report=False)
        read, t_read = _timed(
            lambda: read_segment_inputs(
                folder, res.compiled.resolved, "country", book_hash=book.content_hash()
            )
        )
    assert read.segments == inputs.segments
    appetite = APPETITE_SHARE * res.measures("gross")["TVaR"]["99.5"]["value"]
    settings = LimitsSettings(appetite, EXPENSES)
    problem = inputs.problem(expense_share=EXPENSES, lower=0.0, upper=1.5, level=0.995)
    sol, t_solve = _timed(lambda: solve_limits(problem, appetite))
    full, t_full = _timed(lambda: solve_limits(problem, appetite, method="full"))
    frontier, t_frontier = _timed(lambda: efficient_frontier(problem, points=21))
    plan, t_plan = _timed(lambda: plan_limits(inputs, settings))
    checked, t_verify = _timed(
        lambda: verify_limits(plan, book, sc, res.compiled.resolved, rounds=1)
    )
    return {
        "buyers": buyers,
        "sims": sims,
        "segments": problem.m,
        "claims_stored": int(problem.losses.nnz),
        "simulate_s": t_sim,
        "inputs_s": t_inputs,
        "inputs_from_folder_s": t_read,
        "solve_s": t_solve,
        "solve_rounds": sol.rounds,
        "solve_years": sol.years,
        "full_lp_s": t_full,
        "scale_difference": float(np.max(np.abs(sol.scale - full.scale))),
        "frontier_points": frontier.height,
        "frontier_s": t_frontier,
        "plan_s": t_plan,
        "verify_round_s": t_verify,
        "appetite": appetite,
        "tvar_today": plan.current.value,
        "profit_today": plan.current_profit,
        "profit_proposed": plan.solution.profit,
        "segments_cut": int(np.sum(plan.solution.scale == 0.0)),
        "segments_at_max": int(np.sum(plan.solution.scale == 1.5)),
        "verify_tvar": checked.rounds[0].tvar,
        "verify_tvar_se": checked.rounds[0].tvar_se,
    }


def markdown(r: dict[str, Any]) -> str:
    """The figures as a Markdown table."""
    rows = [
        ("simulate the book", f"{r['simulate_s']:.1f} s"),
        ("segment inputs by country (run in memory)", f"{r['inputs_s']:.2f} s"),
        ("segment inputs by country (run folder)", f"{r['inputs_from_folder_s']:.2f} s"),
        (
            "one solve (working set)",
            f"{r['solve_s']:.2f} s, {r['solve_rounds']} LPs, {r['solve_years']:,} years",
        ),
        (
            "one LP on every year",
            f"{r['full_lp_s']:.2f} s (scales within {r['scale_difference']:.1e})",
        ),
        (f"efficient frontier, {r['frontier_points']} appetites", f"{r['frontier_s']:.2f} s"),
        ("`plan_limits` (solve + frontier)", f"{r['plan_s']:.2f} s"),
        ("one `--verify` re-simulation", f"{r['verify_round_s']:.1f} s"),
    ]
    head = (
        f"{r['buyers']:,} buyers, {r['segments']} countries, {r['sims']:,} years, "
        f"{r['claims_stored']:,} non-zero segment claims"
    )
    lines = [head, "", "| step | time |", "|---|---|"]
    lines += [f"| {a} | {b} |" for a, b in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--buyers", type=int, default=100_000)
    ap.add_argument("--sims", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args(argv)
    r = measure(args.buyers, args.sims, args.seed)
    print(markdown(r))
    print()
    print({k: v for k, v in r.items() if not k.endswith("_s")})
    return r


if __name__ == "__main__":
    main()
