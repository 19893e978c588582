"""Benchmarks are not tests, but they must keep working: import and smoke-run each one tiny.

No timing is asserted; only that every benchmark runs, returns its figures and that the NumPy
baseline really is the same model (its mean ground-up loss matches the exact value).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from reference.testing import K

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import run as bench_run  # noqa: E402
import suite  # noqa: E402


def test_rng_ceiling_smoke() -> None:
    r = suite.bench_rng_ceiling("tiny")
    assert r["uniforms"] == suite.SCALES["tiny"]["rng_n"] and r["uniforms_per_s"] > 0
    # the uniforms average 1/2 within K standard errors (sd of U(0,1) = 1/sqrt(12))
    assert abs(r["mean"] - 0.5) <= K * (12**-0.5) / r["uniforms"] ** 0.5


def test_throughput_smoke() -> None:
    r = suite.bench_throughput("tiny")
    # one figure per point of each grid, measured on that many buyers and years
    for key, grid in (("by_buyers", "buyers_grid"), ("by_sims", "sims_grid")):
        assert [(x["buyers"], x["sims"]) for x in r[key]] == [
            tuple(g) for g in suite.SCALES["tiny"][grid]
        ], key
    assert all(
        x["buyer_sims_per_s"] > 0 and x["mean_defaults"] > 0 for x in r["by_buyers"] + r["by_sims"]
    )


@pytest.mark.slow
def test_numpy_baseline_is_the_same_model() -> None:
    r = suite.bench_numpy_ratio("tiny")
    assert r["ratio"] > 0
    z = (r["numpy_ground_up_mean"] - r["exact_ground_up"]) / r["numpy_ground_up_se"]
    assert abs(z) < 4, z


@pytest.mark.slow
@pytest.mark.xdist_group("dask")
def test_dask_overhead_smoke() -> None:
    r = suite.bench_dask_overhead("tiny")
    assert r["identical"]


@pytest.mark.slow
def test_memory_smoke() -> None:
    r = suite.bench_memory("tiny")
    assert [r["buyers"], r["sims"]] == list(suite.SCALES["tiny"]["memory"])
    assert (
        r["peak_rss_bytes"] > r["kernel_bytes"] > 0
    )  # the process holds at least the kernel's arrays


@pytest.mark.slow
def test_compile_bench_and_results_file(tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    res = bench_run.main(
        ["--scale", "tiny", "--out", str(out), "--only", "rng", "throughput", "compile"]
    )
    assert res["compile"]["warm_s"] > 0
    text = out.read_text()
    assert "## Targets" in text and "warm start" in text
    assert (tmp_path / "throughput.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
