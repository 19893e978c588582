"""Dynamic limit management (docs/model.md §10): the kernel's law against a plain NumPy model,
the runs it is compared with, ``riskengine monitor`` and the report's section.

Statistical checks use bounds of K standard errors computed here, with fixed seeds, and show
that a plausibly wrong model would fail them; the laws that hold year by year on the same draws
(a difference that is the loss avoided, a longer notice that never avoids more) are checked
exactly.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from numba import njit, uint64
from scipy import special

import riskengine as rk
from reference.laws import check_quantiles
from reference.model import make_book
from reference.monitoring import Monitoring, reference_monitoring
from reference.testing import family_k, mixed_book, mixed_scenario, run_cli, within
from riskengine.book import generate_book
from riskengine.errors import ScenarioError
from riskengine.kernels.monitor import ZIG_R, zig_normal
from riskengine.kernels.rng import draw_state
from riskengine.measures import mean_se, paired_measures
from riskengine.monitoring import (
    MONITOR_SCHEMA,
    caught_share,
    monitoring_scenario,
    parse_monitor_sweep,
    run_monitoring,
)
from riskengine.report import render_report
from riskengine.run.replay import replay_year
from riskengine.run.simulate import simulate
from riskengine.scenario import parse_scenario


def _with(scenario: Any, **monitoring: Any) -> Any:
    """``scenario`` with monitoring on and these parameters."""
    return monitoring_scenario(scenario, True, **monitoring)


def _col(res: rk.Results, name: str) -> np.ndarray:
    return res.ylt[name].to_numpy()


@pytest.fixture(scope="module")
def book() -> Any:
    return generate_book(1_500, seed=11)


@pytest.fixture(scope="module")
def base() -> Any:
    return parse_scenario({"name": "monitor", "simulation": {"sims": 600, "seed": 5}})


# ---------------------------------------------------------------------------------------------
# Monitoring off changes nothing; on, it changes no default
# ---------------------------------------------------------------------------------------------
def test_off_is_bit_identical_to_a_run_without_the_block(book: Any, base: Any) -> None:
    plain = simulate(book, base)
    block = {"enabled": False, "trigger_pd": 0.2, "signal_noise": 0.1, "notice_days": 5}
    off = simulate(book, parse_scenario({**base.model_dump(by_alias=True), "monitoring": block}))
    assert plain.ylt.equals(off.ylt)
    assert "loss_avoided" not in off.ylt.columns
    a, b = plain.summary(), off.summary()
    assert a["measures"] == b["measures"] and a["checks"] == b["checks"]
    assert "monitoring" not in b
    # the comparison's run without monitoring is that run too
    on = simulate(book, _with(base))
    run = run_monitoring(book, base, on=on)
    assert run.off.ylt.equals(plain.ylt)


@pytest.mark.parametrize("copula", ["gaussian", "student_t"])
def test_defaults_unchanged_and_loss_avoided_is_the_difference(copula: str) -> None:
    """Every feature at once (groups spanning cells, contagion, political precedence, policy
    terms): the same defaults and LGDs year by year, the loss avoided exactly the ground-up
    difference, and gross claims never larger with monitoring."""
    sc = mixed_scenario(copula).with_simulation(sims=3_000, seed=7)
    book = mixed_book()
    off = simulate(book, sc)
    on = simulate(book, _with(sc, signal_noise=0.3, trigger_pd=0.2, cut_to=0.0))
    for name in ("n_defaults", "n_political_events", "weight", "sim_id"):
        np.testing.assert_array_equal(_col(off, name), _col(on, name), err_msg=name)
    years = np.nonzero((_col(on, "loss_avoided") > 0) & (_col(on, "n_political_events") > 0))[0]
    assert len(years) > 3
    for s in [0, 1, *years[:6].tolist()]:
        y0, y1 = replay_year(off.compiled, s), replay_year(on.compiled, s)
        np.testing.assert_array_equal(y0.defaults, y1.defaults)
        np.testing.assert_array_equal(y0.lgd, y1.lgd)
        # political losses are not changed by cuts (ground-up, exposure by exposure)
        p0, p1 = y0.ent_cause == 1, y1.ent_cause == 1
        np.testing.assert_array_equal(y0.ent_exposure[p0], y1.ent_exposure[p1])
        np.testing.assert_array_equal(y0.ent_loss[p0], y1.ent_loss[p1])
    avoided = _col(on, "loss_avoided")
    diff = _col(off, "ground_up") - _col(on, "ground_up")
    np.testing.assert_allclose(diff, avoided, rtol=1e-12, atol=1e-9 * _col(off, "ground_up").max())
    assert np.all(_col(on, "gross") <= _col(off, "gross") * (1 + 1e-12))
    assert np.all(_col(on, "n_caught") <= _col(on, "n_defaults"))
    assert avoided.sum() > 0 and np.any(avoided == 0)  # not vacuous
    # the summary's object
    m = on.summary()["monitoring"]
    assert m["loss_avoided"]["value"] == pytest.approx(avoided.mean())
    assert 0 < m["defaults_caught_share"] < 1


# ---------------------------------------------------------------------------------------------
# The law against plain NumPy (every buyer's path walked forwards, nothing conditioned)
# ---------------------------------------------------------------------------------------------
N_BUYERS, PD, R2, TERM = 200, 0.03, 0.2, 60.0


def _homogeneous_book(n: int, pd: float, r2: float, term: float) -> Any:
    ids = [f"B{i:04d}" for i in range(n)]
    return make_book(
        buyers={
            "buyer_id": ids,
            "country": ["DE"] * n,
            "sector": ["C"] * n,
            "pd": [pd] * n,
            "lgd": [1.0] * n,
            "lgd_sd": [0.0] * n,
            "asset_correlation": [r2] * n,
        },
        exposures={
            "exposure_id": [f"E{i:04d}" for i in range(n)],
            "policy_id": ["P1"] * n,
            "buyer_id": ids,
            "limit": [1.0] * n,
            "utilization": [1.0] * n,
            "payment_term_days": [term] * n,
        },
        policies={"policy_id": ["P1"], "currency": ["EUR"], "indemnity": [1.0]},
        countries={"country": ["DE"], "region": ["EU"], "political_pd": [0.0]},
    )


def _one_factor(dof: float | None = None, **monitoring: Any) -> Any:
    model: dict[str, Any] = {"factor_weights": {"global": 1.0}}
    if dof is not None:
        model.update(copula="student_t", dof=dof)
    return parse_scenario(
        {"model": model, "monitoring": {"enabled": True, **monitoring}, "outputs": {"segments": []}}
    )


def _per_year(
    loss_avoided: np.ndarray, n_caught: np.ndarray, n_defaults: np.ndarray
) -> dict[str, tuple[float, float]]:
    la = mean_se(loss_avoided)
    return {
        "loss avoided": (la.value, la.se),
        "caught share": caught_share(n_caught, n_defaults),
        "defaults": (
            float(n_defaults.mean()),
            float(n_defaults.std(ddof=1) / len(n_defaults) ** 0.5),
        ),
    }


def _disagreements(
    a: dict[str, tuple[float, float]], b: dict[str, tuple[float, float]], k: float
) -> list[str]:
    return [
        f"{key}: {a[key][0]:.6g} vs {b[key][0]:.6g} (se {math.hypot(a[key][1], b[key][1]):.3g})"
        for key in a
        if not within(a[key][0], b[key][0], math.hypot(a[key][1], b[key][1]), k)
    ]


CASES = {
    # a perfect signal, monthly reviews, immediate cancellation
    "perfect": (
        None,
        Monitoring(noise=0.0, cut_to=0.0, notice_days=0.0),
        ("free walk", "no horizon"),
    ),
    # the defaults: a noisy signal, 30 days' notice, cuts to half
    "noisy": (None, Monitoring(), ("no notice", "free walk")),
    "student_t": (4.0, Monitoring(noise=0.3, trigger_pd=0.3, notice_days=15.0), ("free walk",)),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_loss_avoided_and_caught_share_against_plain_numpy(case: str) -> None:
    dof, rules, wrongs = CASES[case]
    sims = 20_000
    sc = _one_factor(
        dof,
        reviews_per_year=rules.reviews,
        signal_noise=rules.noise,
        trigger_pd=rules.trigger_pd,
        trigger_multiple=rules.trigger_multiple,
        cut_to=rules.cut_to,
        notice_days=rules.notice_days,
        turnover_sample=0,
    )
    res = simulate(_homogeneous_book(N_BUYERS, PD, R2, TERM), sc, sims=sims, seed=101)
    eng = _per_year(_col(res, "loss_avoided"), _col(res, "n_caught"), _col(res, "n_defaults"))
    args = (np.full(N_BUYERS, PD), np.full(N_BUYERS, R2), np.full(N_BUYERS, TERM))
    args += (np.zeros(N_BUYERS), rules, sims)

    def reference(seed: int, wrong: str | None = None) -> dict[str, tuple[float, float]]:
        r = reference_monitoring(*args, seed, dof=dof, wrong=wrong)
        return _per_year(r["loss_avoided"], r["n_caught"], r["n_defaults"])

    k = family_k(3 * (1 + len(wrongs)))
    right = reference(202)
    assert _disagreements(eng, right, k) == []
    assert 0.05 < eng["caught share"][0] < 0.99 and eng["loss avoided"][0] > 0  # not vacuous
    for i, wrong in enumerate(wrongs):
        assert _disagreements(eng, reference(303 + i, wrong), k) != [], wrong


def _turnover_book() -> tuple[Any, dict[str, np.ndarray]]:
    """30 buyers: PDs from 1 % to 30 %, R² from 0.05 to 0.4, limits and payment terms that give
    insured turnovers over two orders of magnitude."""
    n = 30
    i = np.arange(n)
    pd = 0.01 + 0.29 * (i % 10) / 9
    r2 = 0.05 + 0.35 * (i % 3) / 2
    limit = 1_000.0 * (1 + (i * 7) % 13) ** 2
    term = np.array([30.0, 60.0, 90.0, 180.0])[i % 4]
    ids = [f"T{j:02d}" for j in i]
    book = make_book(
        buyers={
            "buyer_id": ids,
            "country": ["DE"] * n,
            "sector": ["C"] * n,
            "pd": pd.tolist(),
            "lgd": [1.0] * n,
            "lgd_sd": [0.0] * n,
            "asset_correlation": r2.tolist(),
        },
        exposures={
            "exposure_id": [f"X{j:02d}" for j in i],
            "policy_id": ["P1"] * n,
            "buyer_id": ids,
            "limit": limit.tolist(),
            "utilization": [1.0] * n,
            "payment_term_days": term.tolist(),
        },
        policies={"policy_id": ["P1"], "currency": ["EUR"], "indemnity": [1.0]},
        countries={"country": ["DE"], "region": ["EU"], "political_pd": [0.0]},
    )
    # insured turnover: the limit (× utilisation 1) revolving once per payment term
    return book, {"pd": pd, "r2": r2, "term": term, "turnover": limit * 365.0 / term}


@pytest.mark.slow
def test_turnover_lost_estimator_is_unbiased() -> None:
    """The kernel samples 64 buyers a year in proportion to their turnover; the reference walks
    every buyer's path every year."""
    book, b = _turnover_book()
    rules = Monitoring(noise=0.4, trigger_pd=0.3, cut_to=0.25, notice_days=20.0)
    sims = 100_000  # a year's turnover lost is rare large cuts: its sd is ~15 × its mean
    sc = _one_factor(
        signal_noise=rules.noise,
        trigger_pd=rules.trigger_pd,
        cut_to=rules.cut_to,
        notice_days=rules.notice_days,
        turnover_sample=64,
    )
    res = simulate(book, sc, sims=sims, seed=17)
    assert res.compiled.kernel.mon_turnover == pytest.approx(b["turnover"].sum(), rel=1e-12)
    eng = mean_se(_col(res, "turnover_lost"))
    args = (b["pd"], b["r2"], b["term"], b["turnover"], rules, sims)
    k = family_k(3)
    ref = mean_se(reference_monitoring(*args, 23)["turnover_lost"])
    assert within(eng.value, ref.value, math.hypot(eng.se, ref.se), k), (eng, ref)
    assert k * math.hypot(eng.se, ref.se) < 0.1 * ref.value  # precise enough to mean something
    # power: counting the buyers that default too, or cuts without notice, is seen
    for wrong in ("no notice", "with defaults"):
        r = reference_monitoring(*args, 29, wrong=wrong if wrong == "no notice" else None)
        x = r["turnover_lost"] + (r["turnover_lost_defaulted"] if wrong == "with defaults" else 0)
        w = mean_se(x)
        assert not within(eng.value, w.value, math.hypot(eng.se, w.se), k), wrong


# ---------------------------------------------------------------------------------------------
# Laws on the same draws, year by year
# ---------------------------------------------------------------------------------------------
def test_longer_notice_never_avoids_more_and_lower_triggers_cut_more(book: Any, base: Any) -> None:
    runs = {d: simulate(book, _with(base, notice_days=d)) for d in (0.0, 15.0, 30.0, 90.0)}
    notices = sorted(runs)
    for a, b in zip(notices, notices[1:], strict=False):
        la, lb = _col(runs[a], "loss_avoided"), _col(runs[b], "loss_avoided")
        assert np.all(lb <= la * (1 + 1e-12)), (a, b)
        assert np.all(_col(runs[b], "n_caught") <= _col(runs[a], "n_caught")), (a, b)
        assert np.any(lb < la)  # not vacuous
    # a lower trigger cuts every path it cut before, and earlier: more loss avoided, more lost
    low = simulate(book, _with(base, trigger_pd=0.1, trigger_multiple=0.0))
    high = simulate(book, _with(base, trigger_pd=0.5, trigger_multiple=0.0))
    for name in ("loss_avoided", "turnover_lost", "n_caught"):
        assert np.all(_col(low, name) >= _col(high, name) * (1 - 1e-12)), name
        assert np.any(_col(low, name) > _col(high, name)), name


# ---------------------------------------------------------------------------------------------
# The kernel's normal sampler
# ---------------------------------------------------------------------------------------------
@njit
def _zig_sample(n: int, key: uint64) -> np.ndarray:
    out = np.empty(n)
    for i in range(n):
        out[i] = zig_normal(draw_state(key, uint64(i // 8)), i % 8)
    return out


def test_ziggurat_normals_follow_the_normal_law() -> None:
    n = 2_000_000
    x = _zig_sample(n, uint64(2026))
    qs = [1e-4, 0.001, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 0.999, 0.9999]
    assert check_quantiles(x, special.ndtri, qs, family_k(len(qs) + 2)) == []
    # the tail beyond r (drawn by its own rejection step) has its mass
    tail = float(special.ndtr(-ZIG_R))
    for side in (x > ZIG_R, x < -ZIG_R):
        assert within(side.mean(), tail, math.sqrt(tail / n), family_k(len(qs) + 2))
    # power: a 1.5 % error of scale is seen
    assert check_quantiles(1.015 * x, special.ndtri, qs, family_k(len(qs) + 2)) != []


# ---------------------------------------------------------------------------------------------
# The comparison: monitor.parquet's rows
# ---------------------------------------------------------------------------------------------
def test_paired_measures() -> None:
    rng = np.random.default_rng(3)
    x0 = rng.gamma(0.5, 10.0, 5_000)
    shifted = paired_measures(x0, x0 + 2.0, 0.99)
    for key in ("EL", "VaR", "TVaR"):
        assert shifted[key].delta.value == pytest.approx(2.0)
        assert shifted[key].delta.se == pytest.approx(0.0, abs=1e-9)
    x1 = x0 * rng.uniform(0.5, 1.0, x0.size)
    p = paired_measures(x0, x1, 0.99)
    assert p["EL"].delta.se == pytest.approx(mean_se(x1 - x0).se)
    assert p["EL"].run0 == mean_se(x0)
    # pairing: the difference is known better than either measure
    assert 0 < p["VaR"].delta.se < p["VaR"].run0.se
    assert 0 < p["TVaR"].delta.se < p["TVaR"].run0.se
    weighted = paired_measures(x0, x1, 0.99, np.ones_like(x0), np.ones_like(x1))
    assert weighted["TVaR"].delta.value == pytest.approx(p["TVaR"].delta.value)


@pytest.fixture(scope="module")
def sweep_run(book: Any, base: Any) -> Any:
    return run_monitoring(book, base, parse_monitor_sweep("notice_days=0:60:3"))


def test_monitor_table(sweep_run: Any) -> None:
    t = sweep_run.table
    assert t.schema == pl.Schema(MONITOR_SCHEMA)
    assert t["run"].to_list() == ["off", "on", "sweep", "sweep", "sweep"]
    assert t["value"].to_list()[2:] == [0.0, 30.0, 60.0]
    off, on = t.row(0, named=True), t.row(1, named=True)
    assert off["loss_avoided"] == 0 and off["delta_el_gross"] == 0 and off["delta_var_gross"] == 0
    # ground-up: the change in EL is the loss avoided, with its standard error (same years)
    assert on["delta_el_ground_up"] == pytest.approx(-on["loss_avoided"], rel=1e-9)
    assert on["delta_el_ground_up_se"] == pytest.approx(on["loss_avoided_se"], rel=1e-6)
    assert on["el_ground_up"] == pytest.approx(off["el_ground_up"] - on["loss_avoided"])
    # the scenario's notice (30 days) is the middle sweep point: the same draws, the same row
    mid = t.row(3, named=True)
    for key in ("loss_avoided", "turnover_lost", "delta_var_gross", "delta_tvar_gross_se"):
        assert mid[key] == on[key], key
    # a longer notice avoids less, on the same years
    assert t["loss_avoided"][2] > t["loss_avoided"][3] > t["loss_avoided"][4] > 0
    # pairing makes the gross EL's change more precise than the EL itself
    assert on["delta_el_gross_se"] < 0.8 * on["el_gross_se"]
    assert len(sweep_run.points) == 3 and sweep_run.points[0].height == on["sims"]


def test_importance_sampling_keeps_the_runs_paired(book: Any) -> None:
    """A mixture chosen by a pilot run depends on the losses, so on monitoring: every run of the
    comparison draws with the mixture of the run with monitoring."""
    sc = parse_scenario(
        {"simulation": {"sims": 1_000, "seed": 2, "importance_sampling": {"shift": "auto"}}}
    )
    alone = simulate(book, sc)
    run = run_monitoring(book, sc, parse_monitor_sweep("cut_to=0,0.5"))
    assert run.on.weights is not None
    assert not alone.ylt["weight"].equals(run.on.ylt["weight"])  # monitoring moved the mixture
    for ylt in (run.off.ylt, *run.points):
        assert ylt["weight"].equals(run.on.ylt["weight"]) and ylt["n_defaults"].equals(
            run.on.ylt["n_defaults"]
        )
    on = run.table.row(1, named=True)
    assert on["delta_el_ground_up"] == pytest.approx(-on["loss_avoided"], rel=1e-9)
    assert run.table.row(3, named=True)["loss_avoided"] == on["loss_avoided"]  # cut_to 0.5


def test_sweep_specs() -> None:
    s = parse_monitor_sweep("trigger_pd=0.05:0.5:10")
    assert s.key == "trigger_pd" and len(s.values) == 10 and s.values[1] == 0.1
    assert parse_monitor_sweep("monitoring.reviews_per_year=4,12,52").values == (4.0, 12.0, 52.0)
    bad = {
        "trigger_pd=0:0.5:3": "trigger_pd = 0: Input should be greater than 0",
        "trigger=0.1:0.5:3": "'trigger' cannot be swept",
        "enabled=0,1": "'enabled' cannot be swept",
        "cut_to=0.1:0.5": "a range is START:STOP:N",
        "cut_to=0.1:0.5:2.5": "N must be a whole number",
        "notice_days=x": "'x' is not a number",
        "reviews_per_year=1:12:4": "a whole number of reviews a year",
        "signal_noise": "expected KEY=START:STOP:N",
        "cut_to=0.2:1.0:3": "cut_to = 1: Input should be less than 1",
    }
    for spec, message in bad.items():
        with pytest.raises(ScenarioError) as info:
            parse_monitor_sweep(spec)
        assert message in str(info.value) and "--sweep" in str(info.value), spec


# ---------------------------------------------------------------------------------------------
# riskengine monitor
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def book_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("monitor") / "book"
    generate_book(600, seed=9, out=out)
    return out


def _scenario_file(folder: Path, monitoring: dict[str, Any] | None = None) -> Path:
    data: dict[str, Any] = {"name": "monitor-cli", "simulation": {"sims": 300, "seed": 4}}
    if monitoring is not None:
        data["monitoring"] = monitoring
    path = folder / "sc.yaml"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.slow
def test_monitor_command_end_to_end(
    tmp_path: Path, book_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    argv = ["monitor", str(_scenario_file(tmp_path)), "--book", str(book_dir), "--out", str(out)]
    code, stdout, err = run_cli([*argv, "--sweep", "trigger_pd=0.1:0.5:3", "--sims", "400"], capsys)
    assert code == 0, err
    for name in ("monitor.parquet", "monitor_sweep.png", "report.html", "summary.json"):
        assert (out / name).exists(), name
    assert (out / "monitor_sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = pl.read_parquet(out / "monitor.parquet")
    assert table["run"].to_list() == ["off", "on", "sweep", "sweep", "sweep"]
    assert table["sims"].unique().to_list() == [400]
    summary = json.loads((out / "summary.json").read_text())
    on = table.row(1, named=True)
    assert summary["monitoring"]["loss_avoided"]["value"] == pytest.approx(on["loss_avoided"])
    assert "Dynamic limit management on 400 simulated years" in stdout
    assert "Sweep of trigger_pd" in stdout and "loss avoided (ground-up)" in stdout
    html = (out / "report.html").read_text()
    assert 'id="monitoring"' in html and 'aria-label="Loss avoided against turnover lost' in html
    assert "Gross: VaR 99.5 %" in html
    # without a sweep the old plot goes; the report then shows no sweep
    code, _, err = run_cli(argv, capsys)
    assert code == 0, err
    assert not (out / "monitor_sweep.png").exists()
    assert pl.read_parquet(out / "monitor.parquet").height == 2
    html = (out / "report.html").read_text()
    assert 'id="monitoring"' in html and "Loss avoided against turnover lost" not in html


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"trigger_pd": 1.5}, "'monitoring.trigger_pd'"),
        ({"reviews_per_year": 0}, "'monitoring.reviews_per_year'"),
        ({"cut_to": -0.1}, "'monitoring.cut_to'"),
        ({"notice": 30}, "'monitoring.notice'"),
        ({"signal_noise": "high"}, "'monitoring.signal_noise'"),
    ],
)
def test_bad_monitoring_blocks_exit_2(
    tmp_path: Path,
    book_dir: Path,
    capsys: pytest.CaptureFixture[str],
    block: dict[str, Any],
    message: str,
) -> None:
    path = _scenario_file(tmp_path, block)
    code, _, err = run_cli(["monitor", str(path), "--book", str(book_dir)], capsys)
    assert code == 2
    assert message in err and str(path) in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("trigger_pd=0.5:1:3", "trigger_pd = 1: Input should be less than 1"),
        ("budget=1:2:3", "'budget' cannot be swept"),
        ("notice_days=10:20", "a range is START:STOP:N"),
    ],
)
def test_bad_sweeps_exit_2(
    tmp_path: Path, book_dir: Path, capsys: pytest.CaptureFixture[str], spec: str, message: str
) -> None:
    argv = ["monitor", str(_scenario_file(tmp_path)), "--book", str(book_dir), "--sweep", spec]
    code, _, err = run_cli([*argv, "--out", str(tmp_path / "out")], capsys)
    assert code == 2
    assert message in err and "--sweep" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()  # refused before simulating anything


# ---------------------------------------------------------------------------------------------
# The report's section
# ---------------------------------------------------------------------------------------------
def test_report_section(
    book: Any, base: Any, sweep_run: Any, caplog: pytest.LogCaptureFixture
) -> None:
    plain = render_report(simulate(book, base))
    assert 'id="monitoring"' not in plain
    alone = render_report(sweep_run.on)
    assert 'id="monitoring"' in alone and 'href="#monitoring"' in alone
    assert "Ground-up: VaR 99.5 %" in alone and "Gross: VaR 99.5 %" not in alone
    assert "riskengine monitor SCENARIO --out DIR" in alone  # how to get the gross effect
    both = render_report(sweep_run.on, monitor=sweep_run.table)
    assert "Gross: VaR 99.5 %" in both and "notice_days swept" in both
    assert "riskengine monitor SCENARIO --out DIR" not in both
    # a table of another run is left out, with the reason
    other = sweep_run.table.with_columns(seed=pl.lit(99, pl.Int64))
    with caplog.at_level(logging.WARNING, logger="riskengine"):
        page = render_report(sweep_run.on, monitor=other)
    assert "Gross: VaR 99.5 %" not in page and "its seed differ" in caplog.text
    assert "its seed differ" in page
