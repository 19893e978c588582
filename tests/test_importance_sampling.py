"""Importance sampling (docs/model.md §8): mean shifts of the systematic and political draws,
each year weighted by its likelihood ratio, every estimate weighted.

Checked far in the tail against the exact finite-portfolio law of a homogeneous one-factor book
(Gaussian and Student-t copulas), against long plain runs (explicit factor model, the sample
book with political events), and for what must hold whatever the shift: the weights average 1,
the expected loss is unbiased, a zero shift is plain sampling bit for bit. Bounds are K standard
errors computed here (``reference.testing.K`` = 4), fixed seeds; each check also shows that the
shifted sample with its weights ignored fails it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from reference.allocation import discrete_tail
from reference.laws import finite_portfolio_pmf
from reference.model import homogeneous_book, make_book
from reference.testing import K, family_k, within
from riskengine.book import generate_book
from riskengine.jobs import simulate
from riskengine.measures import level_key, mean_se, measures
from riskengine.results import Results
from riskengine.scenario import Scenario, parse_scenario

#: The homogeneous book: buyers, PD, R²; Student-t degrees of freedom.
N, PD, RHO, DOF = 1_000, 0.01, 0.2, 5.0
TAIL_LEVELS = (0.999, 0.9999)


def one_factor(copula: str = "gaussian", importance: dict | None = None) -> Scenario:
    sim: dict = {}
    if importance is not None:
        sim["importance_sampling"] = importance
    return parse_scenario(
        {
            "model": {"copula": copula, "dof": DOF, "factor_weights": {"global": 1.0}},
            "simulation": sim,
            "outputs": {"segments": [], "report": False},
        }
    )


def weight_mean_ok(res: Results, k: float = K) -> bool:
    """The likelihood ratios average 1 within k standard errors (and they are not all 1)."""
    w = res.ylt["weight"].to_numpy()
    return bool(np.any(w != 1.0)) and within(w.mean(), 1.0, w.std(ddof=1) / math.sqrt(len(w)), k)


# =================================================================================================
# What holds for any shift
# =================================================================================================
def test_a_zero_shift_is_plain_sampling() -> None:
    book = generate_book(800, seed=2)
    base = {
        "outputs": {"report": False, "allocation": {"perspective": ["gross", "ground_up"]}},
        "treaties": [{"name": "qs", "type": "quota_share", "share": 0.4}],
    }
    plain = simulate(book, parse_scenario(base), sims=3_000, seed=6)
    zero = {"shift": {"global": 0.0, "political_country:DE": 0.0}, "defensive": 0.3}
    shifted = simulate(
        book,
        parse_scenario({**base, "simulation": {"importance_sampling": zero}}),
        sims=3_000,
        seed=6,
    )
    assert np.all(shifted.ylt["weight"].to_numpy() == 1.0)
    assert shifted.ylt.equals(plain.ylt)
    assert shifted.measures() == plain.measures()
    assert shifted.allocation_table.equals(plain.allocation_table)
    assert shifted.tail.claims.equals(plain.tail.claims)
    # power: any shift changes the years and their weights
    one = {"shift": {"global": -0.5}}
    moved = simulate(
        book, parse_scenario({**base, "simulation": {"importance_sampling": one}}), sims=3_000
    )
    assert not moved.ylt["gross"].equals(plain.ylt["gross"])


@pytest.mark.parametrize(
    "shift",
    [
        # a country without political risk never draws its η: shifting it must not enter the
        # likelihood ratio
        {"global": -1.5, "political_country:DE": 1.5},
        {"global": -1.5, "political_region:EU": -2.0},
    ],
)
@pytest.mark.parametrize("political", [True, False])
def test_shifts_of_draws_the_year_never_makes_leave_the_weights_unbiased(
    shift: dict, political: bool
) -> None:
    """Shifts of draws a year does not make (the η of a country without political risk; any
    political draw when political risk is off) must not enter the likelihood ratio: the weights
    still average 1 and the expected loss stays the exact one."""
    sc = parse_scenario(
        {
            "model": {"factor_weights": {"global": 1.0}},
            "political": {"enabled": political},
            "simulation": {"importance_sampling": {"shift": shift}},
            "outputs": {"segments": [], "report": False},
        }
    )
    res = simulate(homogeneous_book(N, PD, RHO), sc, sims=20_000, seed=31)
    assert weight_mean_ok(res)
    el = mean_se(res.ylt["gross"].to_numpy(), res.weights)
    assert within(el.value, N * PD, el.se)
    # power: the shifted sample without its weights is far off
    assert not within(res.ylt["gross"].mean(), N * PD, el.se)


# =================================================================================================
# Far in the tail against the exact law
# =================================================================================================
@pytest.mark.parametrize(
    ("copula", "shift", "level"),
    [
        ("gaussian", "auto", 99.99),
        ("gaussian", {"global": -3.0}, None),
        # the mixing variable W is not shifted: aim lower, where the shifted years still see
        # small W often enough (docs/model.md §8)
        ("student_t", "auto", 99.9),
        ("student_t", {"global": -1.5}, None),
    ],
    ids=["gaussian-auto", "gaussian-global", "student_t-auto", "student_t-global"],
)
def test_tail_estimates_match_the_exact_finite_portfolio_law(
    copula: str, shift, level: float | None
) -> None:
    """VaR and TVaR at 99.9 % and 99.99 % of a homogeneous one-factor book (the finite-portfolio
    binomial mixture, by quadrature) within K standard errors, from 20,000 shifted years; EL
    unbiased; the weights average 1. Unweighted, the same years miss by many standard errors."""
    sims = 20_000
    importance = {"shift": shift, "level": level}
    res = simulate(homogeneous_book(N, PD, RHO), one_factor(copula, importance), sims=sims, seed=5)
    if shift == "auto":
        info = res.meta["importance_sampling"]
        assert info["status"] == "ok" and info["components"][0]["mode"] == "commercial downturn"
    pmf = finite_portfolio_pmf(N, PD, RHO, copula, DOF)
    x = res.ylt["gross"].to_numpy()
    assert np.array_equal(x, res.ylt["n_defaults"].to_numpy())  # unit losses: defaults
    k = family_k(2 * len(TAIL_LEVELS) + 2)
    m = measures(x, TAIL_LEVELS, res.weights)
    unweighted = measures(x, TAIL_LEVELS)
    for q in TAIL_LEVELS:
        exact = discrete_tail(np.arange(N + 1), pmf, q)
        var, tvar = m["VaR"][level_key(q)], m["TVaR"][level_key(q)]
        # VaR is a whole number of defaults: allow the lattice's step besides the k se
        assert abs(var["value"] - exact.var) <= k * var["se"] + 1.0, (q, var, exact.var)
        assert within(tvar["value"], exact.tvar, tvar["se"], k), (q, tvar, exact.tvar)
        assert tvar["se"] < 0.03 * exact.tvar  # the tail is well sampled: the check has power
        # power: ignoring the weights gives far too large VaR and TVaR (the same bounds fail)
        wrong = unweighted["TVaR"][level_key(q)]["value"]
        assert wrong - exact.tvar > k * tvar["se"], (q, wrong, exact.tvar)
        wrong = unweighted["VaR"][level_key(q)]["value"]
        assert wrong - exact.var > k * var["se"] + 1.0, (q, wrong, exact.var)
    el = m["EL"]
    assert within(el["value"], N * PD, el["se"], k)
    assert not within(unweighted["EL"]["value"], N * PD, el["se"], k)
    assert weight_mean_ok(res, k)


def test_importance_sampling_reduces_the_variance_of_tail_estimates() -> None:
    """At equal years, the shifted run's standard errors of VaR and TVaR at 99.9 % are several
    times smaller than plain Monte Carlo's (benchmarks/ measures the ratio by replication)."""
    book, sims = homogeneous_book(N, PD, RHO), 20_000
    plain = simulate(book, one_factor(), sims=sims, seed=8).measures("gross")
    shifted = simulate(
        book, one_factor(importance={"shift": "auto", "level": 99.9}), sims=sims, seed=8
    ).measures("gross")
    for kind in ("VaR", "TVaR"):
        assert shifted[kind]["99.9"]["se"] < plain[kind]["99.9"]["se"] / 2, kind


# =================================================================================================
# Against long plain runs: the explicit factor model, and political events
# =================================================================================================
def explicit_book():
    """Three groups of 200 buyers loaded on two correlated factors (one group on both)."""
    groups = {
        "a": ({"F1": 0.5}, 0.02),
        "b": ({"F2": 0.6}, 0.01),
        "c": ({"F1": 0.3, "F2": 0.4}, 0.03),
    }
    ids, pds, rows = [], [], []
    for g, (loading, p) in groups.items():
        for i in range(200):
            b = f"{g}{i:03d}"
            ids.append(b)
            pds.append(p)
            rows += [(b, f, a) for f, a in loading.items()]
    n = len(ids)
    return make_book(
        buyers={
            "buyer_id": ids,
            "country": ["DE"] * n,
            "sector": ["C"] * n,
            "pd": pds,
            "lgd": [0.6] * n,
            "lgd_sd": [0.2] * n,
        },
        exposures={
            "exposure_id": [f"E{b}" for b in ids],
            "policy_id": ["P1"] * n,
            "buyer_id": ids,
            "limit": [1.0 + (i % 5) for i in range(n)],
            "utilization": [1.0] * n,
        },
        policies={"policy_id": ["P1"], "currency": ["EUR"], "indemnity": [1.0]},
        countries={"country": ["DE"], "region": ["EU"], "political_pd": [0.0]},
        factor_loadings={
            "buyer_id": [r[0] for r in rows],
            "factor": [r[1] for r in rows],
            "loading": [r[2] for r in rows],
        },
    )


def _disagreements(a: dict, b: dict, levels: tuple[str, ...], k: float) -> list[str]:
    """EL, VaR and TVaR at ``levels`` of two independent runs' measures that differ by more than
    k combined standard errors."""
    pairs = [("EL", a["EL"], b["EL"])]
    pairs += [(f"{m} {lv}", a[m][lv], b[m][lv]) for m in ("VaR", "TVaR") for lv in levels]
    return [
        f"{name}: {x['value']:.6g} vs {y['value']:.6g}"
        for name, x, y in pairs
        if not abs(x["value"] - y["value"]) <= k * math.hypot(x["se"], y["se"])
    ]


@pytest.mark.slow
@pytest.mark.parametrize("copula", ["gaussian", "student_t"])
def test_explicit_factor_model_agrees_with_a_long_plain_run(copula: str) -> None:
    """The explicit model's shift moves the independent draws ξ before the Cholesky factor: EL,
    VaR and TVaR at 99.5 % and 99.9 % of 20,000 shifted years agree with 300,000 plain years."""
    book = explicit_book()
    corr = {"factors": ["F1", "F2"], "matrix": [[1.0, 0.6], [0.6, 1.0]]}

    def scenario(importance: dict | None) -> Scenario:
        d: dict = {
            "model": {"copula": copula, "dof": DOF, "factor_correlation": corr},
            "political": {"enabled": False},
            "outputs": {"segments": [], "report": False},
        }
        if importance:
            d["simulation"] = {"importance_sampling": importance}
        return parse_scenario(d)

    plain = simulate(book, scenario(None), sims=300_000, seed=1).measures("gross")
    res = simulate(book, scenario({"shift": "auto", "level": 99.9}), sims=20_000, seed=2)
    info = res.meta["importance_sampling"]
    assert info["status"] == "ok" and info["components"][0]["norm"] > 1.0
    levels = ("99.5", "99.9")
    k = family_k(1 + 2 * len(levels))
    shifted = res.measures("gross")
    assert _disagreements(shifted, plain, levels, k) == []
    assert weight_mean_ok(res, k)
    # power: the shifted years without their weights disagree
    unweighted = measures(res.ylt["gross"].to_numpy(), (0.995, 0.999))
    assert len(_disagreements(unweighted, plain, levels, k)) == 1 + 2 * len(levels)


@pytest.mark.slow
def test_political_shifts_on_the_sample_book() -> None:
    """The automatic mixture on a sample book with political events: ground-up EL within K se
    of the exact expected loss, the weights average 1, and gross EL, VaR and TVaR at 99.5 % and
    99.9 % agree with a long plain run."""
    book = generate_book(5_000, seed=21)
    base = {"outputs": {"segments": [], "report": False}}
    isc = {"shift": "auto", "level": 99.9, "components": 8}
    res = simulate(
        book, parse_scenario({**base, "simulation": {"importance_sampling": isc}}), sims=20_000
    )
    modes = [c["mode"] for c in res.meta["importance_sampling"]["components"]]
    assert any(m.startswith("event in") for m in modes), modes
    levels = ("99.5", "99.9")
    k = family_k(3 + 2 * len(levels))
    gu = mean_se(res.ylt["ground_up"].to_numpy(), res.weights)
    assert within(gu.value, res.compiled.expected_ground_up, gu.se, k)
    assert weight_mean_ok(res, k)
    plain = simulate(book, parse_scenario(base), sims=200_000, seed=4).measures("gross")
    assert _disagreements(res.measures("gross"), plain, levels, k) == []
    # power: unweighted, the shifted years overstate the tail
    unweighted = measures(res.ylt["gross"].to_numpy(), (0.995, 0.999))
    assert _disagreements(unweighted, plain, levels, k) != []
