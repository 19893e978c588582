"""The engine against the closed-form laws of the model (docs/model.md §2–§4).

Every check runs the real engine (``riskengine.run.simulate.simulate``) with a fixed seed and
compares a simulated statistic with an exact value within K standard errors computed here (K = 4:
a normal deviation beyond K has probability ``k_sigma_alpha(K)`` = 6.3e-5). Chi-square and
quantile-band tests reject at that tail probability; where one test is m tests, each uses α/m
(``family_k``). Each test also shows that a plausible modelling mistake would be rejected at the
same K.

Per-buyer or per-country outcomes are read from the run's segments: in these books a buyer has its
own policy (or a country its own buyers), LGD is 1 with sd 0, limits and utilisation are 1 and
indemnity is 1, so a segment's gross claim is the number of defaults (or events) in it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from reference.laws import (
    bivariate_event_prob,
    check_quantiles,
    expected_ground_up,
    finite_portfolio_pmf,
    vasicek_ppf,
)
from reference.model import PD_CAP, homogeneous_book, make_book, reference_portfolio
from reference.testing import (
    ALPHA,
    K,
    binom_se,
    bvn_owen,
    chi_square_pvalue,
    discrete_cdf,
    explicit_case,
    family_k,
    indicator_book,
    mixed_book,
    pairwise_default_failures,
    segment_matrix,
    structured_case,
    within,
    within_rate,
)
from reference.testing import mixed_scenario as _mixed_scenario
from riskengine.portfolio.compile import compile_portfolio
from riskengine.run.simulate import simulate
from riskengine.scenario import Scenario, parse_scenario


def mixed_scenario(
    copula: str = "gaussian", explicit: bool = False, multiplier: float = 3.0
) -> Scenario:
    return _mixed_scenario(copula, explicit, multiplier, outputs={"segments": []})


def scenario(**sections) -> Scenario:
    return parse_scenario(sections)


def buyer_defaults(res, ids: list[str]) -> np.ndarray:
    """Bool [sims, buyers] from the policy segments of an :func:`indicator_book` run."""
    m = segment_matrix(res, "policy", ids)
    assert set(np.unique(m)) <= {0.0, 1.0}
    return m == 1.0


# =================================================================================================
# one-factor laws
# =================================================================================================
@pytest.mark.slow
@pytest.mark.parametrize(
    ("copula", "other", "weights"),
    [
        ("gaussian", "student_t", {"global": 1.0}),
        ("student_t", "gaussian", {"global": 1.0}),
        # all buyers share region, country and sector: any weights give the same one-factor model
        ("gaussian", "student_t", {"global": 0.35, "region": 0.2, "country": 0.3, "sector": 0.15}),
    ],
)
def test_homogeneous_book_reproduces_finite_portfolio_law(copula, other, weights):
    n, p, rho, nu, sims = 40, 0.03, 0.25, 4.0, 100_000
    sc = scenario(
        model={"copula": copula, "dof": nu, "factor_weights": weights}, outputs={"segments": []}
    )
    res = simulate(homogeneous_book(n, p, rho), sc, sims=sims, seed=20261201)
    d = res.ylt["n_defaults"].to_numpy()
    np.testing.assert_array_equal(res.ylt["gross"].to_numpy(), d)  # LGD 1, unit limits, no terms
    np.testing.assert_array_equal(res.ylt["ground_up"].to_numpy(), d)
    pmf = finite_portfolio_pmf(n, p, rho, copula, nu)
    counts = np.bincount(d, minlength=n + 1)
    assert chi_square_pvalue(counts, pmf) > ALPHA
    assert check_quantiles(d, discrete_cdf(pmf), [0.5, 0.9, 0.99, 0.999], K, kind="cdf") == []
    assert within(d.mean(), n * p, d.std() / math.sqrt(sims))
    # power: the other copula's law (same p and ρ), or a correlation of 0.2, is rejected
    assert chi_square_pvalue(counts, finite_portfolio_pmf(n, p, rho, other, nu)) < ALPHA
    assert chi_square_pvalue(counts, finite_portfolio_pmf(n, p, 0.2, copula, nu)) < ALPHA


@pytest.mark.slow
def test_large_homogeneous_book_follows_vasicek():
    n, p, rho, sims = 2000, 0.1, 0.2, 20_000
    qs = np.array([0.5, 0.9, 0.99, 0.995])
    se = np.sqrt(qs * (1 - qs) / sims)
    # premise: at this n the Vasicek law is within a tenth of the band of the exact finite law
    cdf = np.cumsum(finite_portfolio_pmf(n, p, rho))
    assert np.all(
        np.abs(cdf[np.floor(n * vasicek_ppf(qs, p, rho)).astype(int)] - qs) <= 0.1 * K * se
    )
    sc = scenario(model={"factor_weights": {"global": 1.0}}, outputs={"segments": []})
    frac = (
        simulate(homogeneous_book(n, p, rho), sc, sims=sims, seed=7).ylt["n_defaults"].to_numpy()
        / n
    )
    assert check_quantiles(frac, lambda u: vasicek_ppf(u, p, rho), qs, K) == []
    assert within(frac.mean(), p, frac.std() / math.sqrt(sims))
    # power: a correlation of 0.15 instead of 0.2 is rejected
    assert check_quantiles(frac, lambda u: vasicek_ppf(u, p, 0.15), qs, K) != []


# =================================================================================================
# exact expected loss
# =================================================================================================
@pytest.mark.parametrize("explicit", [False, True])
@pytest.mark.parametrize("multiplier", [1.0, 3.0])
def test_compiled_expected_ground_up_equals_closed_form(explicit, multiplier):
    book, sc = mixed_book(explicit), mixed_scenario("gaussian", explicit, multiplier)
    cp = compile_portfolio(book, sc)
    assert cp.expected_ground_up == pytest.approx(expected_ground_up(book, sc), rel=1e-12)
    off = scenario(political={"enabled": False}, model=sc.model.model_dump(by_alias=True))
    assert compile_portfolio(book, off).expected_ground_up == pytest.approx(
        expected_ground_up(book, off), rel=1e-12
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("copula", "explicit"), [("gaussian", False), ("student_t", False), ("gaussian", True)]
)
def test_mean_ground_up_equals_closed_form(copula, explicit):
    sims = 200_000
    book, sc = mixed_book(explicit), mixed_scenario(copula, explicit)
    port = reference_portfolio(book, sc)
    assert np.any(port.multiplier * port.pd > PD_CAP)  # the cap is exercised (b06: 3·0.4)
    res = simulate(book, sc, sims=sims, seed=2026)
    gu = res.ylt["ground_up"].to_numpy()
    se = gu.std(ddof=1) / math.sqrt(sims)
    exact = expected_ground_up(book, sc)
    assert within(gu.mean(), exact, se)
    assert res.compiled.expected_ground_up == pytest.approx(exact, rel=1e-12)
    # power: forgetting contagion would be detected
    assert abs(expected_ground_up(book, mixed_scenario(copula, explicit, 1.0)) - exact) > 2 * K * se
    # mean default count: Σ_i [(1 − q_c)·pd_i + q_c·pd'_i]
    q = port.q[port.buyer_country]
    pd_ev = np.maximum(port.pd, np.minimum(port.multiplier * port.pd, PD_CAP))
    nd = res.ylt["n_defaults"].to_numpy()
    assert within(
        nd.mean(), float(np.sum((1 - q) * port.pd + q * pd_ev)), nd.std(ddof=1) / math.sqrt(sims)
    )
    ne = res.ylt["n_political_events"].to_numpy()
    assert within(ne.mean(), float(port.q.sum()), ne.std(ddof=1) / math.sqrt(sims))


# =================================================================================================
# the factor structure
# =================================================================================================
def two_country_book(n: int, p: float, rho: float):
    ids = [f"{c}{i:03d}" for c in ("DE", "FR") for i in range(n)]
    return make_book(
        {
            "buyer_id": ids,
            "country": ["DE"] * n + ["FR"] * n,
            "sector": ["C"] * (2 * n),
            "pd": [p] * (2 * n),
            "lgd": [1.0] * (2 * n),
            "lgd_sd": [0.0] * (2 * n),
            "asset_correlation": [rho] * (2 * n),
        },
        {
            "exposure_id": [f"E{b}" for b in ids],
            "policy_id": ["P"] * (2 * n),
            "buyer_id": ids,
            "limit": [1.0] * (2 * n),
            "utilization": [1.0] * (2 * n),
        },
        {"policy_id": ["P"], "currency": ["EUR"], "indemnity": [1.0]},
        {"country": ["DE", "FR"], "region": ["EU", "EU"], "political_pd": [0.0, 0.0]},
    )


@pytest.mark.slow
def test_country_only_weights_make_countries_independent():
    n, p, rho, sims = 40, 0.05, 0.3, 60_000
    book = two_country_book(n, p, rho)
    pmf = finite_portfolio_pmf(n, p, rho)  # each country alone is a one-factor book
    results = {}
    for name, w in (("country", {"country": 1.0}), ("shared", {"global": 0.5, "country": 0.5})):
        sc = scenario(
            model={"factor_weights": w},
            political={"enabled": False},
            outputs={"segments": ["country"]},
        )
        res = simulate(book, sc, sims=sims, seed=515)
        d = segment_matrix(res, "country", ["DE", "FR"])
        np.testing.assert_array_equal(d.sum(1), res.ylt["n_defaults"].to_numpy())
        for c in range(2):
            assert (
                chi_square_pvalue(np.bincount(d[:, c].astype(int), minlength=n + 1), pmf)
                > ALPHA / 4
            ), (name, c)
        results[name] = d
    # E[D_DE·D_FR] = n²·P(two buyers of different countries both default) = n²·Φ₂(p, p; ρ·w_shared)
    for name, shared in (("country", 0.0), ("shared", 0.5)):
        prod = results[name][:, 0] * results[name][:, 1]
        exact = n * n * bivariate_event_prob(p, p, rho * shared)
        assert within(prod.mean(), exact, prod.std(ddof=1) / math.sqrt(sims)), name
    # independence: the sample correlation is within K/√n of 0 ...
    r = np.corrcoef(results["country"].T)[0, 1]
    assert abs(r) <= K / math.sqrt(sims)
    # ... while a shared global factor gives a correlation far outside that band (power)
    r_shared = np.corrcoef(results["shared"].T)[0, 1]
    assert r_shared > 2 * K / math.sqrt(sims)


@pytest.mark.slow
@pytest.mark.parametrize("copula", ["gaussian", "student_t"])
def test_structured_factor_model_pairwise_default_correlation(copula):
    sims, nu = 200_000, 5.0
    case = structured_case()
    sc = scenario(
        model={**case.model, "copula": copula, "dof": nu}, outputs={"segments": ["policy"]}
    )
    d = buyer_defaults(simulate(case.book, sc, sims=sims, seed=17), case.ids)
    n = len(case.ids)
    kf = family_k(n + n * (n - 1) // 2)

    def joint(pi: float, pj: float, rho: float) -> float:
        if copula == "gaussian":
            return bivariate_event_prob(pi, pj, rho)
        # P(X_i < S·t_i, X_j < S·t_j) = E_W[Φ₂(S·t_i, S·t_j; ρ)], S = √(W/ν), by quadrature over W
        ti, tj = stats.t.ppf(pi, nu), stats.t.ppf(pj, nu)

        log_c = -math.lgamma(nu / 2) - (nu / 2) * math.log(2)

        def f(w: float) -> float:  # Φ₂(S·t_i, S·t_j; ρ) times the χ²_ν density of W
            if w <= 0:
                return 0.0
            s = math.sqrt(w / nu)
            return bvn_owen(ti * s, tj * s, rho) * math.exp(
                log_c + (nu / 2 - 1) * math.log(w) - w / 2
            )

        val, _ = integrate.quad(f, 0, np.inf, epsabs=1e-13, epsrel=1e-10, limit=200)
        return val

    # premise: the quadrature reproduces the exact two-buyer law of laws.finite_portfolio_pmf
    exact2 = finite_portfolio_pmf(2, 0.1, 0.2, copula, nu)[2]
    assert joint(0.1, 0.1, 0.2) == pytest.approx(exact2, rel=1e-8)

    # marginal PDs (in both copulas) and joint defaults; power: weights ignored (every pair fully
    # correlated) would be rejected
    failures, power = pairwise_default_failures(d, case, kf, joint)
    assert failures == []
    assert power > 2 * kf


@pytest.mark.slow
def test_explicit_factor_model_pairwise_default_correlation():
    sims = 200_000
    case = explicit_case()
    sc = scenario(model=case.model, outputs={"segments": ["policy"]})
    d = buyer_defaults(simulate(case.book, sc, sims=sims, seed=23), case.ids)
    n = len(case.ids)
    kf = family_k(n + n * (n - 1) // 2)
    failures, power = pairwise_default_failures(d, case, kf)
    assert failures == []
    # power: ignoring the factor correlation (Σ_F = I) would be rejected
    assert power > 2 * kf


# =================================================================================================
# political events and contagion
# =================================================================================================
@pytest.mark.slow
def test_political_event_frequencies_and_joint_events():
    sims, rho_p = 200_000, 0.5
    countries = {
        "country": ["DE", "FR", "IT", "AR", "BR", "CL"],
        "region": ["EU", "EU", "EU", "LATAM", "LATAM", "LATAM"],
        "risk_grade": [None, 5, None, None, 0, None],
        "political_pd": [0.1, None, None, 0.15, None, 0.2],
    }
    # a sentinel buyer per country with political cover only: a claim exactly in event years
    ids = ["sAR", "sBR", "sCL", "sDE", "sFR", "sIT"]
    book = indicator_book(
        {"buyer_id": ids, "country": [i[1:] for i in ids], "sector": ["C"] * 6, "pd": [0.3] * 6},
        countries,
        covers=(False, True),
    )
    sc = scenario(
        political={
            "correlation": rho_p,
            "grade_pd": [0.0, 0.01, 0.02, 0.04, 0.06, 0.08, 0.12, 0.2],
            "lgd": 1.0,
        },
        outputs={"segments": ["policy"]},
    )
    res = simulate(book, sc, sims=sims, seed=3)
    ev = buyer_defaults(res, ids)  # [sims, countries AR BR CL DE FR IT]
    q = np.array(
        [0.15, 0.0, 0.2, 0.1, 0.08, 0.0]
    )  # sorted: given, grade 0, given, given, grade 5, none
    np.testing.assert_array_equal(reference_portfolio(book, sc).q, q)
    np.testing.assert_array_equal(ev.sum(1), res.ylt["n_political_events"].to_numpy())
    np.testing.assert_array_equal(res.ylt["political"].to_numpy(), ev.sum(1))
    assert res.ylt["commercial"].sum() == 0  # no commercial cover
    kf = family_k(6 + 5)
    for c in range(6):
        assert within_rate(ev[:, c], q[c], kf), c
    assert not ev[:, [1, 5]].any()  # q = 0: never
    pairs = {
        (3, 4): rho_p,
        (0, 2): rho_p,
        (0, 3): 0.0,
        (2, 4): 0.0,
        (3, 2): 0.0,
    }  # same region: ρ_p
    for (i, j), rho in pairs.items():
        p12 = bivariate_event_prob(q[i], q[j], rho)
        assert within_rate(ev[:, i] & ev[:, j], p12, kf), (i, j)
    # power: independence within a region would be rejected
    p_same = bivariate_event_prob(q[3], q[4], rho_p)
    assert abs(p_same - q[3] * q[4]) > 2 * kf * binom_se(p_same, sims)
    off = simulate(
        book, scenario(political={"enabled": False}, outputs={"segments": []}), sims=2000, seed=3
    )
    assert off.ylt["n_political_events"].sum() == 0 and off.ylt["gross"].sum() == 0


@pytest.mark.slow
@pytest.mark.parametrize("copula", ["gaussian", "student_t"])
def test_contagion_raises_pd_only_in_event_years(copula):
    sims, pd, m, q = 200_000, 0.04, 3.0, 0.25
    # X in EG has two exposures: commercial cover only (policy PX: claims when X defaults) and
    # political cover only (policy PE: claims in EG's event years). Y in TR never has events.
    book = make_book(
        buyers={
            "buyer_id": ["X", "Y"],
            "country": ["EG", "TR"],
            "sector": ["C", "C"],
            "pd": [pd, pd],
            "lgd": [1.0, 1.0],
            "lgd_sd": [0.0, 0.0],
        },
        exposures={
            "exposure_id": ["EX", "EE", "EY"],
            "policy_id": ["PX", "PE", "PY"],
            "buyer_id": ["X", "X", "Y"],
            "limit": [1.0, 1.0, 1.0],
            "utilization": [1.0, 1.0, 1.0],
            "commercial_cover": [True, False, True],
            "political_cover": [False, True, False],
        },
        policies={"policy_id": ["PE", "PX", "PY"], "currency": ["EUR"] * 3, "indemnity": [1.0] * 3},
        countries={"country": ["EG", "TR"], "region": ["MENA", "MENA"], "political_pd": [q, 0.0]},
    )
    model = {"copula": copula, "dof": 4.0}
    sc = scenario(
        model=model,
        political={"commercial_pd_multiplier": m, "lgd": 1.0},
        outputs={"segments": ["policy"]},
    )
    res = simulate(book, sc, sims=sims, seed=99)
    mat = segment_matrix(res, "policy", ["PE", "PX", "PY"]) > 0
    event, x, y = mat.T
    np.testing.assert_array_equal(event, res.ylt["n_political_events"].to_numpy() == 1)

    kf = family_k(5)
    assert within_rate(event, q, kf)
    assert within_rate(x[event], m * pd, kf)  # pd' in event years
    assert within_rate(x[~event], pd, kf)  # pd otherwise
    assert within_rate(y, pd, kf)  # a country without events: never raised
    # power: contagion in every year, or in none, would be rejected
    assert abs(m * pd - pd) > 2 * kf * binom_se(m * pd, int(event.sum()))
    off = simulate(
        book,
        scenario(model=model, political={"enabled": False}, outputs={"segments": ["policy"]}),
        sims=sims,
        seed=5,
    )
    x_off = segment_matrix(off, "policy", ["PE", "PX", "PY"])[:, 1] > 0
    assert within_rate(x_off, pd, kf)  # disabled: no contagion


# =================================================================================================
# buyer groups
# =================================================================================================
@pytest.mark.slow
@pytest.mark.parametrize("copula", ["gaussian", "student_t"])
def test_group_members_default_together(copula):
    sims, r2 = 100_000, 0.3
    # G: g1, g2 (pd 0.1) and g3 (pd 0.05) span two cells: one shared ε, compared with each
    # member's conditional threshold. H: h1, h2 share s1's cell (pd 0.1): one unit of that cell.
    ids = ["g1", "g2", "g3", "h1", "h2", "s1"]
    pds = [0.1, 0.1, 0.05, 0.1, 0.1, 0.1]
    book = indicator_book(
        {
            "buyer_id": ids,
            "country": ["DE"] * 6,
            "sector": ["C"] * 6,
            "pd": pds,
            "asset_correlation": [r2] * 6,
            "group_id": ["G", "G", "G", "H", "H", None],
        },
        {"country": ["DE"], "region": ["EU"], "political_pd": [0.0]},
    )
    sc = scenario(model={"copula": copula, "dof": 5.0}, outputs={"segments": ["policy"]})
    res = simulate(book, sc, sims=sims, seed=31)
    assert res.compiled.n_units == 2  # {h1, h2} and {s1}; g1..g3 are drawn as a heterogeneous group
    g1, g2, g3, h1, h2, s1 = buyer_defaults(res, ids).T
    assert g1.any() and h1.any() and g3.any()
    np.testing.assert_array_equal(g1, g2)  # same PD and factors: together, always
    np.testing.assert_array_equal(h1, h2)
    assert not (g3 & ~g1).any()  # lower PD, same ε: g3 defaults only with g1
    assert (h1 != s1).any() and (g1 != s1).any()  # a buyer outside the group does not follow it
    kf = family_k(5)
    for b, p in ((g1, 0.1), (g3, 0.05), (h1, 0.1), (s1, 0.1)):
        assert within_rate(b, p, kf)  # members keep their marginal PD
    # members of different units still share the factor: P(both) = the copula's joint law
    if copula == "gaussian":
        p12 = bivariate_event_prob(0.1, 0.1, r2)
        assert within_rate(g1 & s1, p12, kf)
        assert within_rate(h1 & s1, p12, kf)
        # power: a group treated as independent of the rest would be rejected
        assert abs(p12 - 0.01) > 2 * kf * binom_se(p12, sims)


# =================================================================================================
# loss given default
# =================================================================================================
@pytest.mark.slow
def test_lgd_is_beta_with_the_buyers_or_the_scenarios_mean_and_sd():
    sims = 40_000
    # R² = 0, pd 0.5: about 20k defaults each; a buyer's policy claim is its LGD (unit limit,
    # indemnity 1); its own lgd/lgd_sd, the scenario's, or sd 0 (the mean exactly)
    ids = ["own", "scen", "fixed"]
    book = indicator_book(
        {
            "buyer_id": ids,
            "country": ["DE"] * 3,
            "sector": ["C"] * 3,
            "pd": [0.5] * 3,
            "asset_correlation": [0.0] * 3,
            "lgd": [0.45, None, 0.6],
            "lgd_sd": [0.2, None, 0.0],
        },
        {"country": ["DE"], "region": ["EU"], "political_pd": [0.0]},
    )
    sc = scenario(model={"lgd": {"mean": 0.3, "sd": 0.1}}, outputs={"segments": ["policy"]})
    res = simulate(book, sc, sims=sims, seed=41)
    claims = segment_matrix(res, "policy", ids)
    n_def = res.ylt["n_defaults"].to_numpy()
    assert within(n_def.mean(), 1.5, n_def.std() / math.sqrt(sims))
    for j, (mu, sd) in enumerate(((0.45, 0.2), (0.3, 0.1))):
        x = claims[:, j][claims[:, j] > 0]
        k = mu * (1 - mu) / sd**2 - 1
        assert stats.kstest(x, stats.beta(mu * k, (1 - mu) * k).cdf).pvalue > ALPHA / 2, (mu, sd)
        assert within(x.mean(), mu, sd / math.sqrt(x.size))
        # power: a 10 % larger sd is rejected
        k2 = mu * (1 - mu) / (1.1 * sd) ** 2 - 1
        assert stats.kstest(x, stats.beta(mu * k2, (1 - mu) * k2).cdf).pvalue < ALPHA / 2
    fixed = claims[:, 2][claims[:, 2] > 0]
    assert fixed.size > sims / 3 and np.all(fixed == 0.6)
