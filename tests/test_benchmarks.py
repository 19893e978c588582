"""Benchmarks are not tests, but they must keep working: import and smoke-run each one tiny.

No timing is asserted; only that every benchmark runs and returns its figures, and that the NumPy
baseline (``benchmarks/numpy_baseline.py``) really is the engine's model: its statistics agree
with the closed forms (exact expected ground-up loss, default and event counts, the Vasicek law)
and with the engine's (EL, SD and VaR 99 % of its outputs, segment means) within K standard
errors computed here, with fixed seeds; each comparison also shows it would see a plausible error.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.special import ndtr

from reference.laws import check_quantiles, vasicek_ppf
from reference.model import homogeneous_book
from reference.testing import K, family_k, mixed_book, mixed_scenario, segment_matrix, within
from riskengine.measures import Estimate, mean_se, sd_se, var_se
from riskengine.portfolio.cells import thresholds
from riskengine.portfolio.compile import compile_portfolio
from riskengine.portfolio.resolve import PD_CAP
from riskengine.run.simulate import simulate
from riskengine.scenario import parse_scenario

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import floor  # noqa: E402
import numpy_baseline as nb  # noqa: E402
import run as bench_run  # noqa: E402
import scale  # noqa: E402
import suite  # noqa: E402
from numpy_baseline import OUTPUT_KEYS, NumpyModel, numpy_simulate  # noqa: E402


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
    assert r["ratio_per_core"] > 0 and r["ratio_machine"] > 0
    assert set(r["numpy_profile_ns_per_buyer_year"]) == set(nb.STAGES)
    se, exact = r["numpy_ground_up_se"], r["exact_ground_up"]
    assert within(r["numpy_ground_up_mean"], exact, se)
    assert K * se < 0.15 * exact  # power: a 15 % error would be seen


def _var99(x: np.ndarray) -> Estimate:
    return var_se(np.sort(x), 0.99)


def _disagreements(
    a: dict[str, np.ndarray],
    b: dict[str, np.ndarray],
    checks: list[tuple[str, Callable[[np.ndarray], Estimate]]],
    k: float,
) -> list[str]:
    """The checks ``(key, estimator)`` whose estimates on the independent samples ``a`` and
    ``b`` differ by more than ``k`` combined standard errors (empty: all agree)."""
    bad = []
    for key, est in checks:
        ea, eb = est(a[key]), est(b[key])
        se = math.hypot(ea.se, eb.se)
        if not abs(ea.value - eb.value) <= k * se:
            bad.append(f"{key} {est.__name__}: {ea.value:.6g} vs {eb.value:.6g} (se {se:.3g})")
    return bad


@pytest.mark.slow
def test_numpy_baseline_agrees_with_engine_on_the_sample_book() -> None:
    sims = 10_000
    book, sc = suite._book_and_scenario(100_000, sims)
    res = simulate(book, sc, sims=sims, seed=31)
    cp = res.compiled
    ref = numpy_simulate(NumpyModel.from_compiled(cp), sims, seed=32)
    eng = {key: res.ylt[key].to_numpy() for key in ("ground_up", "gross")}
    # (key, estimator, the relative error the comparison must be able to see)
    checks = [("gross", mean_se, 0.1), ("ground_up", _var99, 0.2), ("gross", _var99, 0.2)]
    k = family_k(len(checks) + 1)
    gu = mean_se(ref["ground_up"])
    assert within(gu.value, cp.expected_ground_up, gu.se, k)
    assert k * gu.se < 0.05 * cp.expected_ground_up  # power: a 5 % error would be seen
    assert _disagreements(ref, eng, [c[:2] for c in checks], k) == []
    for key, est, power in checks:
        e, f = est(ref[key]), est(eng[key])
        assert k * math.hypot(e.se, f.se) < power * f.value, (key, est.__name__)


def _mixed_run(copula: str, explicit: bool, multiplier: float, sims: int, seed: int):
    sc = mixed_scenario(copula, explicit, multiplier, outputs={"segments": ["country", "sector"]})
    res = simulate(mixed_book(explicit), sc, sims=sims, seed=seed)
    cp = res.compiled
    out = {key: res.ylt[key].to_numpy() for key in OUTPUT_KEYS}
    for dim, labels in (("country", cp.country_codes), ("sector", cp.sector_codes)):
        seg = segment_matrix(res, dim, list(labels))
        out.update({f"{dim}:{v}": seg[:, j] for j, v in enumerate(labels)})
    return cp, out


@pytest.mark.slow
@pytest.mark.parametrize(
    ("copula", "explicit"), [("gaussian", False), ("student_t", False), ("gaussian", True)]
)
def test_numpy_baseline_is_the_engine_model_on_a_mixed_book(copula: str, explicit: bool) -> None:
    """Every feature at once (groups spanning cells, capped contagion, currencies, covers switched
    off, fixed and beta LGDs, all policy terms; Student-t and explicit factors)."""
    sims = 100_000
    cp, eng = _mixed_run(copula, explicit, 3.0, sims, seed=41)
    m = NumpyModel.from_compiled(cp)
    ref = numpy_simulate(m, sims, seed=42)
    for dim, labels in (("country", cp.country_codes), ("sector", cp.sector_codes)):
        ref.update({f"{dim}:{v}": ref[dim][:, j] for j, v in enumerate(labels)})
    r = cp.resolved
    # premise: the features are there (groups, capped contagion, fixed and beta LGDs, a cap)
    assert m.n_groups > 0 and np.any(r.b_pd_contagion == PD_CAP)
    assert np.any(r.b_lgd_alpha == 0) and np.any(r.b_lgd_alpha > 0)
    assert np.any(np.isfinite(r.p_max_liability))
    checks = [(key, mean_se) for key in eng if key != "ground_up"]
    checks += [(key, sd_se) for key in ("gross", "n_defaults", "max_occurrence")]
    checks += [("gross", _var99), ("n_defaults", _var99)]
    k = family_k(len(checks) + 3)
    # closed forms: expected ground-up loss, defaults and events
    q = r.c_event_pd[r.b_country]
    exact = {
        "ground_up": cp.expected_ground_up,
        "n_defaults": float(np.sum((1 - q) * r.b_pd + q * r.b_pd_contagion)),
        "n_political_events": float(r.c_event_pd.sum()),
    }
    for key, value in exact.items():
        est = mean_se(ref[key])
        assert within(est.value, value, est.se, k), key
    assert _disagreements(ref, eng, checks, k) == []
    # power: the same checks see an engine run without contagion
    _, wrong = _mixed_run(copula, explicit, 1.0, sims, seed=43)
    assert _disagreements(ref, wrong, checks, k) != []


def test_phi_upper_bounds_phi_tightly() -> None:
    """The per-buyer screen's bound is above Φ everywhere (so it discards only uniforms the exact
    comparison rejects) and close to it in the tail where conditional PDs live."""
    x = np.concatenate([np.linspace(-37.0, -1.0, 200_001), np.linspace(-1.0, 6.0, 70_001)])
    exact = ndtr(x)
    upper = nb._phi_upper(x)
    assert np.all(upper >= exact)
    tail = x <= -1.0
    assert np.all(upper[tail] <= 1.02 * exact[tail]) and np.all(upper <= 1.0)


@pytest.mark.parametrize("copula", ["gaussian", "student_t"])
def test_numpy_baseline_lazy_default_test_is_exact(copula: str) -> None:
    """The baseline's defaults are exactly the buyer-years whose uniform is below Φ(bound),
    every uniform compared (groups sharing theirs, contagion in event years)."""
    cp = compile_portfolio(mixed_book(), mixed_scenario(copula))
    m = NumpyModel.from_compiled(cp)
    rng = np.random.Generator(np.random.SFC64(71))
    n_years, n_b = 64, m.n_buyers
    rhs, scale, events = nb._systematic(m, rng, n_years)
    bound, p_max = nb._bounds(m, rhs, scale, events)
    state = rng.bit_generator.state
    scratch = (np.empty(n_b * n_years), np.empty(n_b * n_years, dtype=bool))
    got = nb._defaults(m, rng, bound, p_max, scratch)
    rng.bit_generator.state = state  # the same uniforms, compared one by one
    u = rng.random((n_b, n_years))
    u[m.group_rows] = rng.random((m.n_groups, n_years))[m.group_of]
    want = np.nonzero(u < ndtr(bound))
    assert events.any() and m.n_groups > 0  # premise: contagion and groups are exercised
    assert want[0].size > 0 and np.sum(u <= p_max[:, None]) > want[0].size  # screen not vacuous
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    # the bounds themselves: (s·t − aᵀZ)/σ, with t' in event years
    r = cp.resolved
    order = np.argsort(r.b_country, kind="stable")
    f = r.factors
    t0 = thresholds(r.b_pd[order], copula == "student_t", 5.0)
    t1 = thresholds(r.b_pd_contagion[order], copula == "student_t", 5.0)
    ev = events[:, r.b_country[order]].T  # [n_b, S]: an event in the buyer's country
    thr = np.where(ev, t1[:, None], t0[:, None]) * scale[None, :]
    az = np.einsum("ik,ik...->i...", f.loading_w[order], rhs[f.loading_idx[order]])
    ref = (thr - az) / f.sigma[order][:, None]
    np.testing.assert_allclose(bound, ref, rtol=1e-12, atol=1e-12)


def _terms_by_loops(
    m: NumpyModel, r: Any, entries: list[tuple[int, int, float, int, int]], n_years: int
) -> tuple[dict[str, np.ndarray], set[str]]:
    """Policy terms (read from the resolved book ``r``), split and sums of loss entries (year,
    exposure, loss, cause, buyer) by plain loops, straight from docs/model.md §4 (cause 0
    commercial, 1 political); and which terms bound somewhere (``nql``, ``nql equal``: a loss
    equal to a positive nql, ``deductible``, ``cap``)."""
    out = {key: np.zeros(n_years) for key in ("ground_up", "gross", "commercial", "political")}
    out["max_occurrence"] = np.zeros(n_years)
    out["country"] = np.zeros((n_years, m.n_countries))
    out["sector"] = np.zeros((n_years, m.n_sectors))
    bound: set[str] = set()
    for s in range(n_years):
        year = [e for e in entries if e[0] == s]
        q: dict[int, float] = {}
        for _, x, loss, _, _ in year:
            out["ground_up"][s] += loss
            p = int(m.exp_policy[x])
            if loss >= r.p_nql[p]:
                q[p] = q.get(p, 0.0) + loss
                bound |= {"nql equal"} if loss == r.p_nql[p] > 0 else set()
            else:
                bound.add("nql")
        claim = {}
        for p, qp in q.items():
            cap = r.p_max_liability[p]
            claim[p] = min(r.p_indemnity[p] * max(qp - r.p_deductible[p], 0.0), cap)
            bound |= {"deductible"} if 0 < qp <= r.p_deductible[p] else set()
            bound |= {"cap"} if claim[p] == cap else set()
        out["gross"][s] = sum(claim.values())
        occ: dict[tuple[int, int], float] = {}
        for _, x, loss, cause, buyer in year:
            p = int(m.exp_policy[x])
            if loss < r.p_nql[p]:
                continue
            share = loss * claim[p] / q[p]
            out["political" if cause else "commercial"][s] += share
            out["country"][s, m.exp_country[x]] += share
            out["sector"][s, m.exp_sector[x]] += share
            unit = (1, int(m.exp_country[x])) if cause else (0, buyer)
            occ[unit] = occ.get(unit, 0.0) + share
        out["max_occurrence"][s] = max(occ.values(), default=0.0)
    return out, bound


def test_numpy_baseline_terms_equal_plain_loops() -> None:
    """Policy terms, pro-rata split, cause, segment and occurrence sums of the baseline equal
    loops over random loss entries of the mixed book, with nql, deductible and cap binding."""
    cp = compile_portfolio(mixed_book(), mixed_scenario())
    m = NumpyModel.from_compiled(cp)
    rng = np.random.default_rng(61)
    n_years, n_comm, n_pol, n_e = 40, 300, 200, len(m.exp_policy)
    # commercial entries come grouped by default (year, buyer): each group is one occurrence
    c_year = rng.integers(0, n_years, n_comm)
    c_exp = rng.integers(0, n_e, n_comm)
    c_buyer = np.searchsorted(m.exp_ptr, c_exp, side="right") - 1
    order = np.lexsort((c_buyer, c_year))
    c_year, c_exp, c_buyer = c_year[order], c_exp[order], c_buyer[order]
    first = np.r_[True, (np.diff(c_year) != 0) | (np.diff(c_buyer) != 0)]
    c_loss = rng.uniform(0, 60, n_comm) * rng.choice([1, 30], n_comm)
    at_nql = np.nonzero(m.exp_nql[c_exp] > 0)[0][::10]
    c_loss[at_nql] = m.exp_nql[c_exp[at_nql]]  # a loss equal to the nql qualifies
    p_year, p_exp = rng.integers(0, n_years, n_pol), rng.integers(0, n_e, n_pol)
    p_loss = rng.uniform(0, 1500, n_pol)
    got = {key: np.zeros(n_years) for key in OUTPUT_KEYS}
    got["country"] = np.zeros((n_years, m.n_countries))
    got["sector"] = np.zeros((n_years, m.n_sectors))
    comm = (c_year, c_exp, c_loss, np.cumsum(first) - 1)
    nb._terms(m, n_years, c_year[first], comm, (p_year, p_exp, p_loss), got, 0)
    entries = [(y, x, v, 0, b) for y, x, v, b in zip(c_year, c_exp, c_loss, c_buyer, strict=True)]
    entries += [(y, x, v, 1, -1) for y, x, v in zip(p_year, p_exp, p_loss, strict=True)]
    want, bound = _terms_by_loops(m, cp.resolved, entries, n_years)
    assert bound == {"nql", "nql equal", "deductible", "cap"} and np.all(want["gross"] > 0)
    for key, value in want.items():
        np.testing.assert_allclose(got[key], value, rtol=1e-12, atol=1e-9, err_msg=key)


@pytest.mark.slow
def test_numpy_baseline_follows_vasicek_on_a_large_homogeneous_book() -> None:
    n, p, rho, sims = 2_000, 0.1, 0.2, 20_000
    qs = np.array([0.5, 0.9, 0.99, 0.995])
    sc = parse_scenario({"model": {"factor_weights": {"global": 1.0}}, "outputs": {"segments": []}})
    cp = compile_portfolio(homogeneous_book(n, p, rho), sc)
    frac = numpy_simulate(NumpyModel.from_compiled(cp), sims, seed=51)["n_defaults"] / n
    assert check_quantiles(frac, lambda u: vasicek_ppf(u, p, rho), qs, K) == []
    assert within(frac.mean(), p, frac.std() / math.sqrt(sims))
    # power: a correlation of 0.15 instead of 0.2 is rejected
    assert check_quantiles(frac, lambda u: vasicek_ppf(u, p, 0.15), qs, K) != []


@pytest.mark.parametrize("copula", ["gaussian", "student_t"])
def test_floor_draws_the_engines_defaults(copula: str) -> None:
    """The floor does the engine's default work exactly: the same defaulted buyers' count in
    every year (groups spanning cells, contagion, Student-t scale), on one thread and on two."""
    cp = compile_portfolio(mixed_book(), mixed_scenario(copula))
    ids = np.arange(3_000, dtype=np.int64)
    ylt = simulate(mixed_book(), mixed_scenario(copula), sims=len(ids)).ylt
    want = ylt["n_defaults"].to_numpy()
    assert cp.kernel.hg_key.size > 0 and ylt["n_political_events"].sum() > 0 and want.sum() > 0
    for threads in (1, 2):
        np.testing.assert_array_equal(floor.run_floor(cp.kernel, ids, n_threads=threads), want)
    # power: another seed's years differ
    other = simulate(mixed_book(), mixed_scenario(copula), sims=len(ids), seed=5).ylt
    assert not np.array_equal(other["n_defaults"].to_numpy(), want)


def test_floor_bench_smoke() -> None:
    r = suite.bench_floor("tiny")
    assert (r["buyers"], r["sims"]) == suite.SCALES["tiny"]["floor"][:2]
    assert r["identical_defaults"] and r["ratio_cpu"] > 0 and r["ratio_wall"] > 0
    assert list(r["stage_ms_per_year"]) == [
        "floor",
        *floor.STAGE_CUTS,
        "whole year",
        suite.ALLOCATION_STAGE,
    ]
    assert all(v > 0 for v in r["stage_ms_per_year"].values())


def test_cost_fit_recovers_a_linear_cost() -> None:
    """The cost model's least squares returns the coefficients of exactly linear data, and a
    plausible error (one point off by 10 %) shows in its residual and R²."""
    rng = np.random.default_rng(3)
    pts = [
        {"cells": float(c), "defaults_per_year": float(d), "t": 0.012 * c + 0.09 * d + 4.0}
        for c, d in zip(rng.integers(500, 20_000, 12), rng.integers(10, 30_000, 12), strict=True)
    ]
    f = suite.fit_cost(pts, "t")
    assert f["ns_per_cell"] == pytest.approx(12.0) and f["ns_per_default"] == pytest.approx(90.0)
    assert f["us_per_year"] == pytest.approx(4.0) and f["r2"] == pytest.approx(1.0)
    pts[0]["t"] *= 1.1
    g = suite.fit_cost(pts, "t")
    assert g["max_rel_residual"] > 0.03 and g["r2"] < 1.0 - 1e-6


def test_cost_model_smoke() -> None:
    r = suite.bench_cost_model("tiny")
    cfg = suite.SCALES["tiny"]
    assert [(p["buyers"], p["pd_multiplier"]) for p in r["points"]] == [
        (n, k) for n in cfg["cost_books"] for k in cfg["cost_pd"]
    ]
    # scaling PDs keeps the cells and raises the defaults
    for n in cfg["cost_books"]:
        pts = [p for p in r["points"] if p["buyers"] == n]
        assert len({p["cells"] for p in pts}) == 1
        assert [p["defaults_per_year"] for p in pts] == sorted(p["defaults_per_year"] for p in pts)
    assert set(r["fit"]) == set(suite.FITTED)


@pytest.mark.slow
@pytest.mark.xdist_group("dask")
def test_every_benchmark_and_the_results_file(tmp_path: Path) -> None:
    """``make bench`` at the tiny scale: every benchmark runs, returns its figures, and
    RESULTS.md gets every section."""
    out = tmp_path / "RESULTS.md"
    res = bench_run.main(["--scale", "tiny", "--out", str(out)])
    failed = {k: v["error"] for k, v in res.items() if isinstance(v, dict) and "error" in v}
    assert not failed, failed
    assert set(bench_run.BENCHES) <= set(res)
    text = out.read_text()
    assert "## Targets (issue 15)" in text and "warm start" in text
    headings = [
        "## The floor",
        "## Cost model",
        "## Against a competent NumPy",
        "## Start-up and memory at scale",
        "## Writing a long run's outputs",
        "## Dask",
        "## Compilation",
        "## Throughput",
        "## Credit-limit decisions",
        "## Portfolio-wide limits",
        "## Dynamic limit management",
        "## Capital allocation",
        "## Importance sampling at 99.9 %",
    ]
    assert [h for h in headings if h not in text] == []
    assert (tmp_path / "throughput.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert res["compile"]["warm_s"] > 0 and "decisions' tail merge" in res["compile"]["warm_steps"]
    # Dask: the portfolio shared, not copied, and the same results
    d = res["dask"]
    assert d["identical"] and d["portfolio_sharing"] == "shared memory"
    assert len(d["dask_s"]) == len(d["in_process_s"]) == suite.SCALES["tiny"]["dask"][3]
    # start-up: every size measured in its own process, each holding at least its kernel
    st = res["startup"]
    sizes = scale.SCALES["tiny"]["startup"]
    assert [x["buyers"] for x in st["sizes"]] == sizes and not st["skipped"]
    for x in st["sizes"]:
        assert x["compile"]["peak_rss"] >= x["compile"]["rss"] > x["kernel_bytes"] > 0
        assert x["max_rss"] >= x["simulate"]["peak_rss"] > 0
    assert [(g["from"], g["to"]) for g in st["growth"]] == list(zip(sizes, sizes[1:], strict=False))
    # outputs: the demo's files, timed against the simulation
    o = res["outputs"]
    assert (o["buyers"], o["sims"]) == scale.SCALES["tiny"]["outputs"]
    assert {"ylt.parquet", "segments.parquet", "allocation.parquet", "summary.json"} <= set(
        o["bytes"]
    )
    assert o["write_s"] > 0 and o["simulate_s"] > 0
    # dynamic limit management: on and off side by side, with the parts
    mo = res["monitoring"]
    assert (mo["buyers"], mo["sims"]) == suite.SCALES["tiny"]["monitoring"][:2]
    assert mo["ratio"] > 0 and mo["mean_defaults"] > 0 and 0 < mo["caught_share"] < 1
    assert set(mo["seconds"]) == {"off", "on", "on, no reviews", "on, no turnover sample"}
    # allocation: every buyer's contribution and every dimension
    a = res["allocation"]
    assert (a["buyers"], a["sims"]) == tuple(suite.SCALES["tiny"]["allocation"])
    assert a["buyer_rows"] == a["buyers"] and a["rows"] > a["buyers"]
    assert a["tail_years"] > 0 and all(v > 0 for v in a["steps"].values())
    # importance sampling: the shift found, on both books
    r = res["importance"]
    for book in ("sample", "glasserman_li"):
        auto = r[book]["variants"]["auto"]
        assert auto["importance_sampling"]["status"] == "ok"
        assert all(auto["ratio"][k] > 0 for k in ("var", "tvar")), auto["ratio"]
    assert "IS variance reduction" in text and "contributions of all" in text
    assert "dynamic limit management on" in text


def test_glasserman_li_book_is_the_papers_portfolio() -> None:
    """1,000 obligors, PD 0.01 (1 + sin(16πk/N)), exposure ⌈5k/N⌉², LGD 1, 10 factors with
    loadings in (0, 1/√10): its exact expected loss is Σ PD_k · exposure_k."""
    book = suite.glasserman_li_book()
    n = 1_000
    k = np.arange(1, n + 1)
    pd_ = 0.01 * (1 + np.sin(16 * np.pi * k / n))
    c = np.ceil(5 * k / n) ** 2
    buyers = book.buyers.sort("buyer_id")
    np.testing.assert_allclose(buyers["pd"].to_numpy(), pd_, rtol=1e-12)
    assert sorted(set(book.exposures["limit"].to_list())) == [1.0, 4.0, 9.0, 16.0, 25.0]
    fl = book.factor_loadings
    assert fl["factor"].n_unique() == 10 and fl.height == 10 * n
    assert fl["loading"].min() > 0 and fl["loading"].max() < 1 / math.sqrt(10)
    sc = parse_scenario({"political": {"enabled": False}, "outputs": {"segments": []}})
    cp = compile_portfolio(book, sc)
    assert cp.expected_ground_up == pytest.approx(float(np.sum(pd_ * c)), rel=1e-12)
