"""Stress tests (docs/stress.md): each transform against a closed form, common random numbers,
validation, and ``riskengine stress`` end to end.

Statistical checks run the real engine with a fixed seed and compare with exact values within
K standard errors computed here (K = 4, reference.testing); each also shows that the plausible
mistake — no shift, a shift of the wrong sign, an unpaired run — is rejected at the same K.
Exact checks compare the stressed book's resolved parameters and the closed-form expected loss
(reference.laws, an implementation that shares nothing with the engine) with the same book
carrying the stressed values in its data.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from scipy import stats

import riskengine as rk
from reference.laws import check_quantiles, expected_ground_up, finite_portfolio_pmf
from reference.model import PD_CAP, homogeneous_book, make_book
from reference.testing import (
    ALPHA,
    K,
    chi_square_pvalue,
    discrete_cdf,
    mixed_book,
    mixed_scenario,
    run_cli,
    within,
)
from riskengine.book import generate_book
from riskengine.book.generate import write_book
from riskengine.errors import ScenarioError
from riskengine.jobs import write_outputs
from riskengine.measures import mean_se
from riskengine.portfolio.compile import compile_portfolio
from riskengine.report import render_report
from riskengine.report.format import fmt_amount
from riskengine.report.stress import tornado
from riskengine.run.simulate import simulate
from riskengine.scenario import Scenario, parse_scenario
from riskengine.scenario.models import Stress, load_stresses
from riskengine.stress import BASE, STRESS_SCHEMA, check_stresses, run_stresses, stress_table

REPO = Path(__file__).resolve().parents[1]


def stressed(scenario: Scenario, **stress: Any) -> Scenario:
    """``scenario`` with one more stress (``name`` defaults to ``s``)."""
    entry = Stress.model_validate({"name": "s", **stress})
    return scenario.model_copy(update={"stress": [*scenario.stress, entry]})


def write_yaml(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data))  # JSON is YAML
    return path


# =================================================================================================
# factor_shift: the law with Z ~ N(δ, 1)
# =================================================================================================
def shifted_mixture_pmf(n: int, p: float, rho: float, mean: float) -> np.ndarray:
    """P(D = k), k = 0..n, of n homogeneous buyers whose common factor is Z ~ N(mean, 1).

    P(D = k) = ∫ Binom(k; n, π(z)) φ(z − mean) dz with π(z) = Φ((Φ⁻¹(p) − √ρ·z) / √(1 − ρ))
    (a buyer defaults when √ρ·Z + √(1 − ρ)·ε < Φ⁻¹(p)), by the trapezoidal rule on
    mean ± 12 at a step of 0.002 (an analytic integrand decaying like φ: the error is far below
    1e-10).
    """
    h = 0.002
    z = np.arange(mean - 12.0, mean + 12.0 + h, h)
    weight = stats.norm.pdf(z - mean) * h
    pi = stats.norm.cdf((stats.norm.ppf(p) - math.sqrt(rho) * z) / math.sqrt(1 - rho))
    return stats.binom.pmf(np.arange(n + 1)[:, None], n, pi[None, :]) @ weight


@pytest.mark.slow
@pytest.mark.parametrize(
    ("weights", "factor"),
    [
        ({"global": 1.0}, "global"),
        # the buyers' country factor carries half the systematic variance: a shift δ of it
        # moves their common factor by √0.5·δ
        ({"global": 0.5, "country": 0.5}, "country:DE"),
    ],
)
def test_factor_shift_gives_the_law_of_the_shifted_factor(weights: dict, factor: str) -> None:
    n, p, rho, delta, sims = 40, 0.03, 0.25, -1.0, 50_000
    mean = math.sqrt(weights["global" if factor == "global" else "country"]) * delta
    law = shifted_mixture_pmf(n, p, rho, mean)
    # premise: the mixture is the finite-portfolio law at PD Φ(Φ⁻¹(p) − √ρ·mean)
    p_shift = float(stats.norm.cdf(stats.norm.ppf(p) - math.sqrt(rho) * mean))
    np.testing.assert_allclose(law, finite_portfolio_pmf(n, p_shift, rho), atol=1e-10)
    sc = parse_scenario({"model": {"factor_weights": weights}, "outputs": {"segments": []}})
    res = simulate(
        homogeneous_book(n, p, rho),
        stressed(sc, factor_shift={factor: delta}),
        sims=sims,
        seed=20261202,
    )
    d = res.ylt["n_defaults"].to_numpy()
    counts = np.bincount(d, minlength=n + 1)
    assert chi_square_pvalue(counts, law) > ALPHA
    assert check_quantiles(d, discrete_cdf(law), [0.5, 0.9, 0.99, 0.999], K, kind="cdf") == []
    assert within(d.mean(), n * p_shift, d.std() / math.sqrt(sims))
    assert res.weights is None  # part of the model: no likelihood ratio
    # power: the unshifted law, and the shift with the wrong sign, are rejected
    assert chi_square_pvalue(counts, finite_portfolio_pmf(n, p, rho)) < ALPHA
    assert chi_square_pvalue(counts, shifted_mixture_pmf(n, p, rho, -mean)) < ALPHA


@pytest.mark.slow
def test_factor_shift_is_not_reweighted_under_importance_sampling() -> None:
    """Under importance sampling the weighted years estimate the stressed model: the stress's
    shift never enters the likelihood ratio."""
    n, p, rho, delta, sims = 40, 0.03, 0.25, -1.0, 40_000
    sc = parse_scenario(
        {
            "model": {"factor_weights": {"global": 1.0}},
            "simulation": {"importance_sampling": {"shift": {"global": -1.5}, "defensive": 0.2}},
            "outputs": {"segments": []},
        }
    )
    res = simulate(
        homogeneous_book(n, p, rho),
        stressed(sc, factor_shift={"global": delta}),
        sims=sims,
        seed=11,
    )
    w = res.weights
    assert w is not None
    d = res.ylt["n_defaults"].to_numpy().astype(np.float64)
    est = mean_se(d, w)
    p_shift = float(stats.norm.cdf(stats.norm.ppf(p) - math.sqrt(rho) * delta))
    assert within(est.value, n * p_shift, est.se)
    assert not within(est.value, n * p, est.se)  # the unstressed mean is rejected
    tail = np.cumsum(finite_portfolio_pmf(n, p_shift, rho)[::-1])[::-1]  # P(D ≥ k)
    for k in (5, 10, 15):
        hit = mean_se((d >= k).astype(np.float64), w)
        assert within(hit.value, tail[k], hit.se), k


# =================================================================================================
# pd_multiplier: the law at the multiplied PD, EL exact
# =================================================================================================
@pytest.mark.slow
def test_pd_multiplier_is_the_law_at_the_multiplied_pd() -> None:
    n, p, rho, m, sims = 40, 0.02, 0.2, 2.5, 40_000
    sc = parse_scenario({"model": {"factor_weights": {"global": 1.0}}, "outputs": {"segments": []}})
    got = simulate(homogeneous_book(n, p, rho), stressed(sc, pd_multiplier=m), sims=sims, seed=3)
    data = simulate(homogeneous_book(n, p * m, rho), sc, sims=sims, seed=4)  # PD×m in the data
    law = finite_portfolio_pmf(n, p * m, rho)
    a = np.bincount(got.ylt["n_defaults"].to_numpy(), minlength=n + 1)
    b = np.bincount(data.ylt["n_defaults"].to_numpy(), minlength=n + 1)
    assert chi_square_pvalue(a, law) > ALPHA
    assert chi_square_pvalue(b, law) > ALPHA
    # the two runs against each other (a two-sample test on bins pooled to ≥ 5 expected)
    keep = law * sims >= 5
    table = np.stack([np.append(a[keep], a[~keep].sum()), np.append(b[keep], b[~keep].sum())])
    assert stats.chi2_contingency(table).pvalue > ALPHA
    assert chi_square_pvalue(a, finite_portfolio_pmf(n, p, rho)) < ALPHA  # power
    # EL exact: Σ pd·m·EAD·LGD (unit exposures, LGD 1)
    cp = compile_portfolio(homogeneous_book(n, p, rho), stressed(sc, pd_multiplier=m))
    assert cp.expected_ground_up == pytest.approx(n * p * m, rel=1e-12)
    g = got.ylt["ground_up"].to_numpy()
    assert within(g.mean(), n * p * m, g.std() / math.sqrt(sims))


# =================================================================================================
# forced political events
# =================================================================================================
def political_book() -> Any:
    """TR and AR (no political risk of their own) and DE; political and commercial covers mixed,
    two policies with indemnities 0.9 and 0.95 and no other terms."""
    buyers = {
        "buyer_id": ["t1", "t2", "t3", "a1", "a2", "d1", "d2"],
        "country": ["TR", "TR", "TR", "AR", "AR", "DE", "DE"],
        "sector": ["C", "G", "C", "C", "F", "C", "G"],
        "pd": [0.02, 0.05, 0.01, 0.08, 0.03, 0.01, 0.02],
        "lgd": [0.5, 0.6, 0.4, 0.7, 0.5, 0.45, 0.55],
        "lgd_sd": [0.2, 0.0, 0.1, 0.2, 0.0, 0.2, 0.1],
    }
    ex = [  # buyer, policy, limit, utilisation, political cover
        ("t1", "P1", 1_000.0, 1.0, True),
        ("t2", "P1", 2_500.0, 0.8, True),
        ("t3", "P2", 4_000.0, 0.5, False),
        ("a1", "P2", 3_000.0, 1.0, True),
        ("a2", "P1", 1_500.0, 0.6, True),
        ("a2", "P2", 700.0, 1.0, False),
        ("d1", "P1", 5_000.0, 1.0, True),
        ("d2", "P2", 2_000.0, 0.9, True),
    ]
    return make_book(
        buyers,
        {
            "exposure_id": [f"e{i}" for i in range(len(ex))],
            "buyer_id": [e[0] for e in ex],
            "policy_id": [e[1] for e in ex],
            "limit": [e[2] for e in ex],
            "utilization": [e[3] for e in ex],
            "political_cover": [e[4] for e in ex],
        },
        {"policy_id": ["P1", "P2"], "currency": ["EUR", "EUR"], "indemnity": [0.9, 0.95]},
        {
            "country": ["AR", "DE", "TR"],
            "region": ["LATAM", "EU", "EMEA"],
            "political_pd": [0.0, 0.0, 0.0],
            "political_lgd": [0.8, 0.5, 0.6],
        },
    )


def test_forced_political_events_make_political_losses_exact() -> None:
    book = political_book()
    sc = parse_scenario({"political": {"commercial_pd_multiplier": 3.0}})
    res = simulate(book, stressed(sc, political_events=["TR", "AR"]), sims=3000, seed=9)
    # every year: Σ political LGD × EAD × indemnity over the politically covered exposures there
    plgd, indemnity = {"TR": 0.6, "AR": 0.8}, {"P1": 0.9, "P2": 0.95}
    country = dict(zip(book.buyers["buyer_id"], book.buyers["country"], strict=True))
    exact = sum(
        plgd[country[r["buyer_id"]]] * r["limit"] * r["utilization"] * indemnity[r["policy_id"]]
        for r in book.exposures.iter_rows(named=True)
        if country[r["buyer_id"]] in plgd and r["political_cover"]
    )
    political = res.ylt["political"].to_numpy()
    np.testing.assert_allclose(political, exact, rtol=1e-12, atol=0)
    assert np.all(res.ylt["n_political_events"].to_numpy() == 2)
    base = simulate(book, sc, sims=3000, seed=9)
    assert not base.ylt["political"].to_numpy().any()  # without the stress: none
    # the closed-form EL: an event every year in TR and AR (q = 1), contagion PD pd' elsewhere
    e = book.exposures.join(book.buyers, on="buyer_id")
    q = e["country"].is_in(["TR", "AR"]).to_numpy()
    pol = e["political_cover"].to_numpy()
    ead = (e["limit"] * e["utilization"]).to_numpy()
    pd, mu = e["pd"].to_numpy(), e["lgd"].to_numpy()
    kappa = e["country"].replace_strict({"TR": 0.6, "AR": 0.8, "DE": 0.0}).to_numpy()
    pd_event = np.maximum(pd, np.minimum(3.0 * pd, PD_CAP))
    el = np.where(q & pol, kappa * ead, np.where(q, pd_event, pd) * mu * ead)
    cp = compile_portfolio(book, stressed(sc, political_events=["TR", "AR"]))
    assert cp.expected_ground_up == pytest.approx(float(el.sum()), rel=1e-12)


# =================================================================================================
# lgd_add, asset_correlation_add, limit_multiplier and where: exactly the selected buyers
# =================================================================================================
WHERE = {
    "country": {"country": ["FR"]},
    "region": {"region": ["LATAM"]},
    "sector": {"sector": ["F"]},
    "risk_grade": {"risk_grade": [6]},
    "rating": {"rating": ["BB"]},
    "group": {"group": ["G2"]},
    "buyer": {"buyer": ["b00", "b11"]},
    "region-and-sector": {"region": ["LATAM"], "sector": ["C", "G"]},
}


def selected(book: Any, where: dict[str, list]) -> set[str]:
    """The buyers of ``book`` that ``where`` selects, read from the book's tables."""
    b = book.buyers.join(book.countries, on="country", how="left")
    names = {"group": "group_id", "buyer": "buyer_id"}
    for key, values in where.items():
        b = b.filter(pl.col(names.get(key, key)).is_in(values))
    return set(b["buyer_id"].to_list())


@pytest.mark.parametrize("case", list(WHERE), ids=list(WHERE))
def test_buyer_transforms_change_exactly_the_selected_buyers(case: str) -> None:
    where = WHERE[case]
    book, sc = mixed_book(), mixed_scenario()
    m, add, r2_add, lim = 2.5, 0.15, 0.1, 1.7
    sel_ids = selected(book, where)
    assert sel_ids  # premise: every case selects someone, and not everyone
    assert len(sel_ids) < book.buyers.height
    sc_s = stressed(
        sc,
        pd_multiplier=m,
        lgd_add=add,
        asset_correlation_add=r2_add,
        limit_multiplier=lim,
        where=where,
    )
    r0, r1 = compile_portfolio(book, sc).resolved, compile_portfolio(book, sc_s).resolved
    sel = np.isin(r0.buyer_ids.astype(str), sorted(sel_ids))
    on = sel[r0.e_buyer]
    pd = np.minimum(r0.b_pd * m, PD_CAP)
    np.testing.assert_array_equal(r1.b_pd, np.where(sel, pd, r0.b_pd))
    contagion = np.maximum(pd, np.minimum(pd * 3.0, PD_CAP))
    np.testing.assert_array_equal(r1.b_pd_contagion, np.where(sel, contagion, r0.b_pd_contagion))
    mu = np.clip(r0.b_lgd_mean + add, 0.0, 1.0)
    np.testing.assert_array_equal(r1.b_lgd_mean, np.where(sel, mu, r0.b_lgd_mean))
    # an sd the new mean cannot carry is shrunk just inside the beta's bound, others kept
    bound = np.sqrt(r1.b_lgd_mean * (1 - r1.b_lgd_mean))
    assert np.all(r1.b_lgd_sd < bound) or not np.any(r1.b_lgd_sd)
    keep = r0.b_lgd_sd < bound * (1 - 1e-6)
    np.testing.assert_array_equal(r1.b_lgd_sd[keep], r0.b_lgd_sd[keep])
    np.testing.assert_array_equal(r1.b_r2, np.where(sel, r0.b_r2 + r2_add, r0.b_r2))
    np.testing.assert_array_equal(r1.e_limit, np.where(on, r0.e_limit * lim, r0.e_limit))
    np.testing.assert_allclose(r1.e_ead, np.where(on, r0.e_ead * lim, r0.e_ead), rtol=1e-15)
    np.testing.assert_array_equal(r1.c_event_pd, r0.c_event_pd)
    # EL in closed form: the reference on the book carrying the stressed values in its data
    lgd_mean = dict(zip(r0.buyer_ids.astype(str), r1.b_lgd_mean, strict=True))
    pd_of = dict(zip(r0.buyer_ids.astype(str), r1.b_pd, strict=True))
    data = dataclasses.replace(
        book,
        buyers=book.buyers.with_columns(
            pl.col("buyer_id").replace_strict(pd_of).alias("pd"),
            pl.col("buyer_id").replace_strict(lgd_mean).alias("lgd"),
            pl.lit(0.0).alias("lgd_sd"),
        ),
        exposures=book.exposures.with_columns(
            pl.when(pl.col("buyer_id").is_in(sorted(sel_ids)))
            .then(pl.col("limit") * lim)
            .otherwise(pl.col("limit"))
            .alias("limit")
        ),
    )
    exact = expected_ground_up(data, sc)
    assert compile_portfolio(book, sc_s).expected_ground_up == pytest.approx(exact, rel=1e-12)
    assert exact != pytest.approx(expected_ground_up(book, sc), rel=1e-3)  # the stress matters


def test_asset_correlation_add_keeps_el_and_moves_systematic_variance() -> None:
    """R² + a on the selected buyers: the structured model's loadings are √R² × √weights, the
    explicit model's loadings are scaled so the systematic variance rises by a; EL unchanged."""
    where = {"region": ["LATAM"]}
    for explicit in (False, True):
        book, sc = mixed_book(explicit), mixed_scenario(explicit=explicit)
        sc_s = stressed(sc, asset_correlation_add=0.1, where=where)
        c0, c1 = compile_portfolio(book, sc), compile_portfolio(book, sc_s)
        f0, f1 = c0.resolved.factors, c1.resolved.factors
        sel = np.isin(c0.resolved.buyer_ids.astype(str), sorted(selected(book, where)))
        v0, v1 = 1 - f0.sigma**2, 1 - f1.sigma**2
        np.testing.assert_allclose(v1, np.where(sel, v0 + 0.1, v0), rtol=0, atol=1e-12)
        scale = np.where(sel, np.sqrt(v1 / v0), 1.0)[:, None]
        np.testing.assert_allclose(f1.loading_w, f0.loading_w * scale, rtol=1e-12, atol=0)
        assert c1.expected_ground_up == c0.expected_ground_up


@pytest.mark.slow
def test_stressed_mean_loss_matches_the_closed_form() -> None:
    """The simulated stressed EL of the mixed book (political risk, contagion, groups, terms)
    within K standard errors of the engine's exact EL — and away from the unstressed one."""
    book, sc = mixed_book(), mixed_scenario()
    sc_s = stressed(
        sc, pd_multiplier=2.0, lgd_add=0.1, limit_multiplier=1.5, where={"region": ["LATAM"]}
    )
    res = simulate(book, sc_s, sims=100_000, seed=5)
    g = res.ylt["ground_up"].to_numpy()
    exact = res.compiled.expected_ground_up
    assert within(g.mean(), exact, g.std() / math.sqrt(len(g)))
    assert not within(g.mean(), expected_ground_up(book, sc), g.std() / math.sqrt(len(g)))


# =================================================================================================
# common random numbers
# =================================================================================================
def test_a_stress_that_changes_nothing_gives_the_base_years() -> None:
    bk = generate_book(400, seed=2)
    sc = parse_scenario({"simulation": {"sims": 2000}})
    run = run_stresses(bk, sc, [Stress(name="same", pd_multiplier=1.0, limit_multiplier=1.0)])
    same = run.stressed["same"].ylt
    assert same.equals(run.base.ylt)
    rows = run.table.filter(pl.col("stress") == "same")
    assert rows["delta"].to_list() == [0.0] * rows.height
    assert rows["delta_se"].to_list() == [0.0] * rows.height


def test_stresses_on_a_given_base_run_take_its_years() -> None:
    bk = generate_book(200, seed=2)
    sc = parse_scenario({"simulation": {"sims": 2000}})
    base = simulate(bk, sc, sims=500, seed=3)
    run = run_stresses(bk, sc, [Stress(name="up", pd_multiplier=2.0)], base=base)
    assert run.stressed["up"].n_sims == 500
    assert run.stressed["up"].ylt.equals(
        simulate(bk, stressed(sc, pd_multiplier=2.0, name="up"), sims=500, seed=3).ylt
    )
    with pytest.raises(ValueError, match=r"sims=700 \(the base run's is 500\)"):
        run_stresses(bk, sc, [Stress(name="up", pd_multiplier=2.0)], base=base, sims=700)


def test_a_restricted_stress_leaves_every_other_buyers_years_unchanged() -> None:
    """Buyers outside the stressed country keep their draws (defaults and LGDs), year by year;
    those inside change."""
    n = 60
    rng = np.random.default_rng(4)
    ids = [f"b{i:02d}" for i in range(n)]
    country = ["FR", "DE", "IT"] * (n // 3)
    book = make_book(
        {
            "buyer_id": ids,
            "country": country,
            "sector": ["C", "G"] * (n // 2),
            "pd": rng.uniform(0.02, 0.1, n).round(3).tolist(),
            "lgd": [0.5] * n,
            "lgd_sd": [0.2] * n,
        },
        {
            "exposure_id": [f"e{i:02d}" for i in range(n)],
            "policy_id": ids,
            "buyer_id": ids,
            "limit": rng.uniform(1e3, 1e4, n).round(0).tolist(),
        },
        {"policy_id": ids, "currency": ["EUR"] * n, "indemnity": [1.0] * n},
        {"country": ["DE", "FR", "IT"], "region": ["EU"] * 3, "political_pd": [0.0] * 3},
    )
    sc = parse_scenario({"simulation": {"sims": 3000}, "outputs": {"segments": ["policy"]}})
    base = simulate(book, sc)
    stress = {"pd_multiplier": 2.0, "lgd_add": 0.1, "where": {"country": ["FR"]}}
    res = simulate(book, stressed(sc, **stress))
    # the runner's stressed run is this one (its YLT; it keeps no segments)
    run = run_stresses(book, sc, [Stress(name="s", **stress)], base=base)
    assert run.stressed["s"].ylt.equals(res.ylt)

    def claims(res: rk.Results) -> np.ndarray:
        seg = res.segments(["policy"])
        out = np.zeros((res.n_sims, n))
        out[seg["sim_id"].to_numpy(), [ids.index(s) for s in seg["segment"]]] = seg["gross"]
        return out

    a, b = claims(base), claims(res)
    fr = np.array([c == "FR" for c in country])
    np.testing.assert_array_equal(a[:, ~fr], b[:, ~fr])
    assert a[:, ~fr].any() and b[:, fr].sum() > 1.5 * a[:, fr].sum()


@pytest.mark.slow
def test_common_random_numbers_make_differences_precise() -> None:
    """A mild stress (PDs × 1.1) on a sample book: the standard errors of Δ EL and Δ TVaR are
    at least 1.5 times smaller than those of EL and TVaR, and the variance reduction factor
    (se_base² + se²) / se(Δ)² — how many times as many years independent runs would need — is
    at least 4; a run on other years (another seed) gains nothing: its se(Δ) exceeds the
    measure's and its factor is about 1.

    Measured over seeds 20–25 of this book: se / se(Δ) 3.7–4.0 for EL and 2.4–4.8 for TVaR 99.5,
    factors 26–31 and 12–47; the bounds leave room for the noise of the estimated se's (the
    TVaR's rests on the 100 tail years, se(Δ) on 200 bootstrap resamples).
    """
    bk = generate_book(3000, seed=5)
    sc = parse_scenario({"simulation": {"sims": 20_000, "seed": 17}})
    mild = Stress(name="mild", pd_multiplier=1.1)
    run = run_stresses(bk, sc, [mild])
    other = simulate(bk, stressed(sc, pd_multiplier=1.1), seed=18)
    unpaired = stress_table(run.base, {"other": other})

    def row(t: pl.DataFrame, name: str, measure: str) -> dict[str, float]:
        keep = (pl.col("stress") == name) & (pl.col("measure") == measure)
        keep &= pl.col("level").is_null() | (pl.col("level") == 99.5)
        return t.filter(keep & (pl.col("perspective") == "gross")).row(0, named=True)

    for measure in ("EL", "TVaR"):
        base = row(run.table, BASE, measure)
        for name, t in (("mild", run.table), ("other", unpaired)):
            r = row(t, name, measure)
            factor = (base["se"] ** 2 + r["se"] ** 2) / r["delta_se"] ** 2
            assert r["delta"] > 0
            if name == "mild":
                assert r["se"] >= 1.5 * r["delta_se"] and factor >= 4, (measure, r, factor)
            else:
                assert r["se"] < r["delta_se"] and 0.5 <= factor <= 2, (measure, r, factor)
    # the paired EL difference is the mean of the yearly differences, its se theirs
    d = run.stressed["mild"].ylt["gross"].to_numpy() - run.base.ylt["gross"].to_numpy()
    el = row(run.table, "mild", "EL")
    assert el["delta"] == pytest.approx(d.mean(), rel=1e-12)
    assert el["delta_se"] == pytest.approx(d.std(ddof=1) / math.sqrt(len(d)), rel=1e-9)


def test_stressed_runs_share_the_base_runs_importance_sampling() -> None:
    """Under importance sampling every stressed run draws the base run's mixture: its years
    carry exactly the base run's weights (the pairing holds)."""
    bk = generate_book(500, seed=8)
    sc = parse_scenario(
        {"simulation": {"sims": 2000, "importance_sampling": {"pilot": 1000, "level": 99.0}}}
    )
    run = run_stresses(
        bk,
        sc,
        [Stress(name="down", factor_shift={"global": -1.0}), Stress(name="lgd", lgd_add=0.1)],
    )
    w = run.base.weights
    assert w is not None and np.ptp(w) > 0
    for res in run.stressed.values():
        np.testing.assert_array_equal(res.weights, w)


# =================================================================================================
# validation
# =================================================================================================
@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small sample book with treaties in its scenario, and a scenario without politics."""
    root = tmp_path_factory.mktemp("stress")
    treaties = [
        {"name": "qs", "type": "quota_share", "share": 0.3},
        {"name": "xl", "type": "per_risk_xl", "retention": 2e5, "limit": 2e6},
    ]
    return {
        "root": root,
        "book": write_book(generate_book(300, seed=3), root / "book"),
        "sc": write_yaml(
            root / "sc.yaml", {"name": "small", "simulation": {"sims": 1000}, "treaties": treaties}
        ),
        "nopol": write_yaml(
            root / "nopol.yaml", {"simulation": {"sims": 200}, "political": {"enabled": False}}
        ),
    }


BAD = {
    "unknown-key": (
        {"stress": [{"name": "a", "pd_multiplyer": 2}]},
        ["stress.0.pd_multiplyer", "unknown key", "pd_multiplier"],
    ),
    "country-not-in-book": (
        {
            "stress": [
                {"name": "a", "pd_multiplier": 2},
                {"name": "b", "lgd_add": 0.1, "where": {"country": ["DEU"]}},
            ]
        },
        ["stress.1.where.country", "not in the book: 'DEU'", "did you mean 'DE'"],
    ),
    "factor-not-in-book": (
        {"stress": [{"name": "a", "factor_shift": {"globl": -1}}]},
        ["stress.0.factor_shift", "no factor named 'globl'", "did you mean 'global'"],
    ),
    "event-country-not-in-book": (
        {"stress": [{"name": "a", "political_events": ["ZZ"]}]},
        ["stress.0.political_events", "not in the book: 'ZZ'"],
    ),
    "named-base": ({"stress": [{"name": "base", "pd_multiplier": 2}]}, ["stress.0.name", "'base'"]),
    "duplicate-names": (
        {"stress": [{"name": "a", "pd_multiplier": 2}, {"name": "a", "lgd_add": 0.1}]},
        ["stress", "duplicate stress names: a"],
    ),
    "no-transform": (
        {"stress": [{"name": "a", "description": "x"}]},
        ["stress.0", "changes nothing"],
    ),
    "where-without-buyer-transform": (
        {"stress": [{"name": "a", "political_events": ["DE"], "where": {"sector": ["F"]}}]},
        ["stress.0.where", "factor_shift and political_events apply to the whole book"],
    ),
    "pd-multiplier-out-of-range": (
        {"stress": [{"name": "a", "pd_multiplier": 0}]},
        ["stress.0.pd_multiplier", "> 0"],
    ),
    "not-a-list": ({"stress": {"name": "a"}}, ["stress", "list"]),
    "not-a-mapping": ([1, 2], ["a stress file is a mapping with a `stress:` list"]),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_stresses_exit_2_with_one_clear_message(
    folders: dict[str, Path], case: str, capsys: Any, tmp_path: Path
) -> None:
    data, expected = BAD[case]
    path = write_yaml(tmp_path / "bad.yaml", data)
    out = tmp_path / "out"
    argv = ["stress", str(folders["sc"]), "--book", str(folders["book"]), "--stresses", str(path)]
    code, text, err = run_cli([*argv, "--out", str(out)], capsys)
    assert code == 2, (text, err)
    assert "Traceback" not in err and str(path) in err, err
    for piece in expected:
        assert piece in err, (piece, err)
    assert not out.exists()  # refused before anything was simulated


def test_bad_yaml_and_missing_files_exit_2(folders: dict[str, Path], capsys: Any, tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("stress:\n  - name: a\n    pd_multiplier: [2\n")
    argv = ["stress", str(folders["sc"]), "--book", str(folders["book"]), "--out", str(tmp_path)]
    for path, piece in ((bad, "not valid YAML"), (tmp_path / "none.yaml", "file not found")):
        code, text, err = run_cli([*argv, "--stresses", str(path)], capsys)
        assert code == 2 and piece in err and str(path) in err and "Traceback" not in err, err


def test_forced_events_need_political_risk(folders: dict[str, Path], capsys: Any, tmp_path: Path):
    path = write_yaml(tmp_path / "s.yaml", {"stress": [{"name": "a", "political_events": ["DE"]}]})
    argv = ["stress", str(folders["nopol"]), "--book", str(folders["book"])]
    code, _, err = run_cli([*argv, "--stresses", str(path), "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "stress.0.political_events" in err
    assert "forced political events need political.enabled: true" in err


def test_check_lists_every_problem_and_notes() -> None:
    book = mixed_book()
    sc = mixed_scenario()
    stresses = [
        Stress(name="cap", pd_multiplier=1000, where={"buyer": ["b06"]}),
        Stress(name="nobody", lgd_add=0.1, where={"country": ["DE"], "sector": ["F"]}),
        Stress(name="r2", asset_correlation_add=0.9),
    ]
    notes = check_stresses(book, sc, stresses)
    assert notes["cap"] == [f"stress 'cap': 1 PDs pushed to 1 or above were capped at {PD_CAP}"]
    assert "selects no buyer" in notes["nobody"][0]
    assert "R² kept in [0, 0.99]" in notes["r2"][0]
    with pytest.raises(ScenarioError) as info:
        check_stresses(
            book,
            sc,
            [
                Stress(name="x", pd_multiplier=2, where={"group": ["G9"]}),
                Stress(name="y", lgd_add=0.1, where={"rating": ["AAA"], "region": ["Mars"]}),
            ],
            source="file.yaml",
        )
    text = str(info.value)
    assert [p.column for p in info.value.problems] == [
        "stress.0.where.group",
        "stress.1.where.region",
        "stress.1.where.rating",
    ], text
    assert all(p.file == "file.yaml" for p in info.value.problems)


def test_the_library_of_stresses_is_valid_for_the_sample_book() -> None:
    stresses = load_stresses(REPO / "scenarios" / "stresses.yaml")
    assert len(stresses) >= 5 and all(s.description for s in stresses)
    sc = rk.load_scenario(REPO / "scenarios" / "baseline.yaml")
    notes = check_stresses(generate_book(20_000, seed=2026), sc, stresses)
    assert notes["largest_group_default"][0].startswith(
        "stress 'largest_group_default': 3 PDs pushed to 1 or above were capped"
    )
    assert not any(notes[s.name] for s in stresses if s.name != "largest_group_default")


# =================================================================================================
# the command end to end, and the report
# =================================================================================================
@pytest.mark.slow
def test_the_command_writes_the_table_the_runs_and_the_report(
    folders: dict[str, Path], capsys: Any, tmp_path: Path
) -> None:
    stresses = write_yaml(
        tmp_path / "stresses.yaml",
        {
            "stress": [
                {
                    "name": "downturn",
                    "description": "Global <b>downturn</b>",
                    "factor_shift": {"global": -1.5},
                },
                {"name": "one_buyer", "pd_multiplier": 1000, "where": {"buyer": ["B0000007"]}},
                {"name": "lgd_up", "lgd_add": 0.1, "where": {"risk_grade": [3, 4, 5, 6, 7]}},
            ]
        },
    )
    out = tmp_path / "out"
    argv = ["stress", str(folders["sc"]), "--book", str(folders["book"])]
    code, text, err = run_cli([*argv, "--stresses", str(stresses), "--out", str(out)], capsys)
    assert code == 0, (text, err)
    for piece in ("stress tests (gross)", "stress tests (net)", "downturn", "one_buyer", "lgd_up"):
        assert piece in text, piece
    assert "note: stress 'one_buyer': 1 PDs pushed to 1 or above were capped at 0.999999" in text
    table = pl.read_parquet(out / "stress.parquet")
    assert dict(table.schema) == STRESS_SCHEMA
    assert table.height == 4 * 2 * (1 + 2 * 5)  # runs × perspectives × (EL, VaR and TVaR at 5)
    summary = json.loads((out / "summary.json").read_text())
    for name in ("base", "downturn", "one_buyer", "lgd_up"):
        if name != "base":
            summary = json.loads((out / "stresses" / name / "summary.json").read_text())
            assert summary["stress"]["definition"]["name"] == name
            assert pl.read_parquet(out / "stresses" / name / "ylt.parquet").height == 1000
        for p in ("gross", "net"):
            rows = table.filter((pl.col("stress") == name) & (pl.col("perspective") == p))
            m = summary["measures"][p]
            el = rows.filter(pl.col("measure") == "EL").row(0, named=True)
            assert el["value"] == pytest.approx(m["EL"]["value"], rel=1e-12)
            tv = rows.filter((pl.col("measure") == "TVaR") & (pl.col("level") == 99.5))
            assert tv["value"][0] == pytest.approx(m["TVaR"]["99.5"]["value"], rel=1e-12)
    notes = json.loads((out / "stresses" / "one_buyer" / "summary.json").read_text())["stress"]
    assert notes["notes"] == [
        "stress 'one_buyer': 1 PDs pushed to 1 or above were capped at 0.999999"
    ]
    base = table.filter(pl.col("stress") == "base")
    assert (base["delta"] == 0).all() and (base["delta_se"] == 0).all()
    joined = table.join(
        base.select("perspective", "measure", "level", pl.col("value").alias("b")),
        on=["perspective", "measure", "level"],
        nulls_equal=True,
    )
    np.testing.assert_allclose(joined["delta"], joined["value"] - joined["b"], rtol=0, atol=1e-6)
    # the report of the base run has the section, with the table's numbers
    html = (out / "report.html").read_text()
    assert '<section id="stress"' in html and 'href="#stress"' in html
    assert "Global &lt;b&gt;downturn&lt;/b&gt;" in html  # escaped
    section = html[html.index('<section id="stress"') :]
    section = section[: section.index("</section>")]
    for r in table.filter(
        (pl.col("measure") == "TVaR") & (pl.col("level") == 99.5) & (pl.col("stress") != "base")
    ).iter_rows(named=True):
        assert fmt_amount(r["delta"], "EUR") in section, r
    assert section.count("<svg") == 2  # a tornado for gross and net
    assert "Variance reduction" in section and "capped at 0.999999" in section


def test_report_section_shows_the_variance_reduction(tmp_path: Path) -> None:
    """The section's figures: each stress's se of Δ and its variance reduction factor
    (se_base² + se²) / se(Δ)², against stress.parquet."""
    bk = generate_book(400, seed=6)
    sc = parse_scenario({"simulation": {"sims": 2000}})
    run = run_stresses(
        bk, sc, [Stress(name="pds", pd_multiplier=1.5), Stress(name="lim", limit_multiplier=2.0)]
    )
    from riskengine.report import gather

    d = gather(run.base, stress=run)
    assert d.stress is not None and [v.perspective for v in d.stress.views] == ["gross"]
    rows = d.stress.views[0].rows
    assert rows["stress"].to_list() == ["base", "pds", "lim"]
    t = run.table.filter(pl.col("perspective") == "gross")
    for name in ("pds", "lim"):
        for m, measure in (("el", "EL"), ("tvar", "TVaR")):
            keep = (pl.col("measure") == measure) & (
                pl.col("level").is_null() | (pl.col("level") == 99.5)
            )
            b = t.filter(keep & (pl.col("stress") == "base")).row(0, named=True)
            s = t.filter(keep & (pl.col("stress") == name)).row(0, named=True)
            r = rows.filter(pl.col("stress") == name).row(0, named=True)
            assert r[f"{m}_delta"] == s["delta"] and r[f"{m}_delta_se"] == s["delta_se"]
            vrf = (b["se"] ** 2 + s["se"] ** 2) / s["delta_se"] ** 2
            assert r[f"{m}_vrf"] == pytest.approx(vrf, rel=1e-12)
            assert r[f"{m}_change"] == pytest.approx(s["delta"] / b["value"], rel=1e-12)
    html = render_report(run.base, stress=run)
    assert '<section id="stress"' in html and html.count('href="#stress"') == 1
    svg = tornado(run)  # the chart alone, for notebooks
    assert svg.startswith("<svg") and svg in html
    with pytest.raises(ValueError, match="no stressed 'net' loss"):
        tornado(run, "net")  # no treaties
    # another run's stresses are left out
    other = simulate(bk, sc, seed=99)
    assert '<section id="stress"' not in render_report(other, stress=run)
    written = write_outputs(run.base, tmp_path, stress=run, report=True)
    assert '<section id="stress"' in written["report.html"].read_text()
