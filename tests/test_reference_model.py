"""Tests of the yardstick itself: the plain NumPy reference model and the closed-form laws.

Statistical tests use fixed seeds and bounds of K standard errors computed by the test (a
normal deviation beyond K = 4 has probability 6.3e-5); chi-square tests reject at the matching
tail probability ``k_sigma_alpha(K)``. Where a test could pass vacuously, a power check shows
that a plausible mistake would have made it fail.
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
    quantile_band,
    vasicek_cdf,
    vasicek_ppf,
)
from reference.model import (
    PD_CAP,
    homogeneous_book,
    make_book,
    reference_draws,
    reference_losses,
    reference_portfolio,
    reference_simulate,
)
from reference.testing import (
    ALPHA,
    K,
    binom_se,
    bvn_owen,
    chi_square_pvalue,
    discrete_cdf,
    explicit_case,
    mixed_book,
    mixed_scenario,
    pairwise_default_failures,
    structured_case,
    within,
    within_rate,
)
from riskengine.scenario import Scenario


def scenario(**sections) -> Scenario:
    return Scenario.model_validate(sections)


def one_factor(copula: str = "gaussian", dof: float = 6.0) -> Scenario:
    return scenario(model={"copula": copula, "dof": dof, "factor_weights": {"global": 1.0}})


# =================================================================================================
# closed forms
# =================================================================================================
def test_vasicek_reproduces_basel_irb_example():
    # Basel IRB corporate risk weight (BCBS, Basel II, June 2006, §272): PD 1 %, LGD 45 %, M 2.5
    # → R = 0.1928, K = 7.385 %, RW = 92.32 % (rounded figures: each must match to half a unit of
    # its last published digit)
    pd, lgd = 0.01, 0.45
    w = (1 - math.exp(-50 * pd)) / (1 - math.exp(-50))
    r = 0.12 * w + 0.24 * (1 - w)
    b = (0.11852 - 0.05478 * math.log(pd)) ** 2
    capital = lgd * (vasicek_ppf(0.999, pd, r) - pd) / (1 - 1.5 * b)  # M = 2.5
    assert abs(r - 0.1928) <= 0.5e-4
    assert abs(capital - 0.07385) <= 0.5e-5
    assert abs(12.5 * capital - 0.9232) <= 0.5e-4


def test_vasicek_cdf_inverts_ppf_and_has_mean_p():
    p, rho = 0.03, 0.18
    qs = np.array([1e-4, 0.01, 0.3, 0.5, 0.9, 0.995, 0.9999])
    np.testing.assert_allclose(vasicek_cdf(vasicek_ppf(qs, p, rho), p, rho), qs, rtol=1e-10)
    # E[loss fraction] = p: ∫ (1 − F(x)) dx over [0, 1]
    mean, err = integrate.quad(
        lambda x: 1 - vasicek_cdf(x, p, rho), 0, 1, epsabs=1e-13, limit=200, points=[p]
    )
    assert abs(mean - p) <= 1e-9 + err
    assert vasicek_cdf(0.0, p, rho) == 0.0 and vasicek_cdf(1.0, p, rho) == 1.0


def test_finite_pmf_small_portfolios_are_exact():
    p, rho, nu = 0.05, 0.2, 4.0
    for copula in ("gaussian", "student_t"):
        np.testing.assert_allclose(
            finite_portfolio_pmf(1, p, rho, copula, nu), [1 - p, p], rtol=1e-12
        )
    # two Gaussian buyers: P(D = 2) = Φ₂(Φ⁻¹(p), Φ⁻¹(p); ρ)
    h = stats.norm.ppf(p)
    assert finite_portfolio_pmf(2, p, rho)[2] == pytest.approx(bvn_owen(h, h, rho), rel=1e-10)
    # two Student-t buyers: P(D = 2) = E_W[Φ₂(T·S, T·S; ρ)], S = √(W/ν), by adaptive quadrature
    t = stats.t.ppf(p, nu)

    def both(w: float) -> float:
        x = t * math.sqrt(w / nu)
        return bvn_owen(x, x, rho) * stats.chi2.pdf(w, nu)

    exact, err = integrate.quad(both, 0, np.inf, epsabs=1e-14, epsrel=1e-12, limit=200)
    assert finite_portfolio_pmf(2, p, rho, "student_t", nu)[2] == pytest.approx(
        exact, rel=1e-9, abs=err
    )


def test_finite_pmf_gaussian_matches_adaptive_quadrature():
    n, p, rho = 30, 0.04, 0.3
    pmf = finite_portfolio_pmf(n, p, rho)
    c = stats.norm.ppf(p)
    for k in (0, 1, 5, 15, 30):

        def integrand(z: float, k: int = k) -> float:
            pi = stats.norm.cdf((c - math.sqrt(rho) * z) / math.sqrt(1 - rho))
            return stats.binom.pmf(k, n, pi) * stats.norm.pdf(z)

        val, err = integrate.quad(integrand, -np.inf, np.inf, epsabs=1e-15, epsrel=1e-11, limit=400)
        assert pmf[k] == pytest.approx(val, rel=1e-8, abs=1e-14 + err), k


@pytest.mark.parametrize("copula", ["gaussian", "student_t"])
def test_finite_pmf_mean_is_np(copula):
    n, p = 200, 0.02
    pmf = finite_portfolio_pmf(n, p, 0.25, copula, 5.0)
    assert np.arange(n + 1) @ pmf == pytest.approx(n * p, rel=1e-10)


def test_bivariate_event_prob_matches_owens_t_formula():
    for q1, q2, rho in [(0.1, 0.05, 0.3), (0.002, 0.01, 0.6), (0.3, 0.7, 0.1)]:
        h, k = stats.norm.ppf(q1), stats.norm.ppf(q2)
        assert bivariate_event_prob(q1, q2, rho) == pytest.approx(bvn_owen(h, k, rho), rel=1e-10)
    assert bivariate_event_prob(0.1, 0.2, 0.0) == pytest.approx(0.02, rel=1e-10)
    assert bivariate_event_prob(0.0, 0.2, 0.5) == 0.0


def test_quantile_band_and_check_quantiles():
    n, q = 10_000, 0.99
    j_lo, j_hi = quantile_band(n, q, K)
    se = math.sqrt(q * (1 - q) / n)
    assert j_lo <= n * (q - K * se) < j_lo + 1 and j_hi - 1 < n * (q + K * se) <= j_hi
    rng = np.random.default_rng(11)
    qs = [0.01, 0.5, 0.9, 0.99]
    x = rng.standard_normal(n)
    assert check_quantiles(x, stats.norm.ppf, qs, K) == []
    assert check_quantiles(x + 0.1, stats.norm.ppf, qs, K) != []  # power: a shift of 0.1 sd
    counts = rng.poisson(3.0, n)
    assert check_quantiles(counts, lambda v: stats.poisson.cdf(v, 3.0), qs, K, kind="cdf") == []
    assert check_quantiles(counts, lambda v: stats.poisson.cdf(v, 3.6), qs, K, kind="cdf") != []


# =================================================================================================
# policy terms, by hand
# =================================================================================================
def one_country_book(exposures: dict, policies: dict, buyers: dict | None = None, **tables):
    n_b = len(set(exposures["buyer_id"]))
    ids = sorted(set(exposures["buyer_id"]))
    buyers = buyers or {
        "buyer_id": ids,
        "country": ["DE"] * n_b,
        "sector": ["C"] * n_b,
        "pd": [0.01] * n_b,
    }
    countries = tables.pop("countries", {"country": ["DE"], "region": ["EU"]})
    return make_book(buyers, exposures, policies, countries, **tables)


def test_terms_deductible_indemnity_and_pro_rata_split():
    # rows deliberately unsorted: matrices follow sorted ids (A, B)
    book = one_country_book(
        exposures={
            "exposure_id": ["E2", "E1"],
            "policy_id": ["P1", "P1"],
            "buyer_id": ["B", "A"],
            "limit": [500.0, 1000.0],
            "utilization": [0.5, 1.0],
        },
        policies={
            "policy_id": ["P1"],
            "currency": ["EUR"],
            "indemnity": [0.9],
            "deductible": [100.0],
        },
        buyers={
            "buyer_id": ["B", "A"],
            "country": ["DE", "DE"],
            "sector": ["G", "C"],
            "pd": [0.01, 0.01],
        },
    )
    sc = scenario()
    assert reference_portfolio(book, sc).buyer_ids == ["A", "B"]
    defaults = np.array([[True, True], [False, True], [False, False]])
    lgd = np.array([[0.5, 0.4], [0.0, 0.2], [0.0, 0.0]])
    events = np.zeros((3, 1), dtype=bool)
    out = reference_losses(book, sc, defaults, lgd, events)
    # sim 0: L_A = 1000·0.5 = 500, L_B = 250·0.4 = 100; claim = 0.9·(600 − 100) = 450, split 5:1
    # sim 1: L_B = 250·0.2 = 50 < deductible → 0
    np.testing.assert_allclose(out["ground_up"], [600, 50, 0])
    np.testing.assert_allclose(out["gross"], [450, 0, 0])
    np.testing.assert_allclose(out["commercial"], [450, 0, 0])
    np.testing.assert_allclose(out["political"], [0, 0, 0])
    np.testing.assert_allclose(out["buyer_claims"], [[375, 75], [0, 0], [0, 0]])
    np.testing.assert_allclose(out["buyer_commercial"], [[375, 75], [0, 0], [0, 0]])
    np.testing.assert_allclose(out["sector_gross"], [[375, 75], [0, 0], [0, 0]])  # sectors C, G
    np.testing.assert_allclose(out["country_gross"], [[450], [0], [0]])
    np.testing.assert_allclose(out["policy_claims"], [[450], [0], [0]])
    np.testing.assert_array_equal(out["n_defaults"], [2, 1, 0])
    np.testing.assert_allclose(out["max_occurrence"], [375, 0, 0])


def test_terms_non_qualifying_loss():
    book = one_country_book(
        exposures={
            "exposure_id": ["E1", "E2", "E3"],
            "policy_id": ["P1"] * 3,
            "buyer_id": ["A", "B", "C"],
            "limit": [99.99, 100.0, 250.0],
            "utilization": [1.0] * 3,
        },
        policies={"policy_id": ["P1"], "currency": ["EUR"], "indemnity": [1.0], "nql": [100.0]},
    )
    out = reference_losses(
        book, scenario(), np.ones((1, 3), bool), np.ones((1, 3)), np.zeros((1, 1), bool)
    )
    # 99.99 < nql does not qualify; 100 = nql does
    np.testing.assert_allclose(out["ground_up"], [449.99])
    np.testing.assert_allclose(out["gross"], [350.0])
    np.testing.assert_allclose(out["buyer_claims"], [[0.0, 100.0, 250.0]])


def test_terms_max_liability_caps_and_splits():
    book = one_country_book(
        exposures={
            "exposure_id": ["E1", "E2", "E3"],
            "policy_id": ["P1", "P1", "P2"],
            "buyer_id": ["A", "B", "C"],
            "limit": [400.0, 200.0, 1000.0],
            "utilization": [1.0] * 3,
        },
        policies={
            "policy_id": ["P1", "P2"],
            "currency": ["EUR", "EUR"],
            "max_liability": [300.0, None],
        },
    )
    out = reference_losses(
        book, scenario(), np.ones((1, 3), bool), np.ones((1, 3)), np.zeros((1, 1), bool)
    )
    # P1: min(0.9·600, 300) = 300 split 2:1; P2: no cap, 0.9·1000 = 900
    np.testing.assert_allclose(out["policy_claims"], [[300.0, 900.0]])
    np.testing.assert_allclose(out["buyer_claims"], [[200.0, 100.0, 900.0]])
    np.testing.assert_allclose(out["gross"], [1200.0])
    np.testing.assert_allclose(out["max_occurrence"], [900.0])


def test_terms_in_two_currencies_with_fx():
    # reporting EUR; USD 0.9 EUR, GBP 1.25 EUR; the policy is in GBP
    book = one_country_book(
        exposures={
            "exposure_id": ["E1", "E2", "E3"],
            "policy_id": ["P1"] * 3,
            "buyer_id": ["A", "B", "C"],
            "limit": [1000.0, 100.0, 9.0],
            "utilization": [1.0] * 3,
            "currency": ["USD", None, "EUR"],
        },
        policies={
            "policy_id": ["P1"],
            "currency": ["GBP"],
            "deductible": [40.0],
            "nql": [8.0],
            "max_liability": [400.0],
        },
        fx={"currency": ["USD", "GBP"], "rate": [0.9, 1.25]},
    )
    defaults = np.array([[True, True, True], [False, True, False]])
    lgd = np.array([[1.0, 1.0, 1.0], [0.0, 0.5, 0.0]])
    out = reference_losses(book, scenario(), defaults, lgd, np.zeros((2, 1), bool))
    # EAD: 900, 125 (null currency → GBP), 9 EUR; deductible 50, nql 10, cap 500 EUR
    # sim 0: 9 < 10 does not qualify; min(0.9·(1025 − 50), 500) = 500
    # sim 1: L = 62.5; 0.9·(62.5 − 50) = 11.25
    np.testing.assert_allclose(out["ground_up"], [1034.0, 62.5])
    np.testing.assert_allclose(out["gross"], [500.0, 11.25])
    np.testing.assert_allclose(
        out["buyer_claims"], [[500 * 900 / 1025, 500 * 125 / 1025, 0.0], [0.0, 11.25, 0.0]]
    )
    # the same book reported in GBP: every amount divided by 1.25
    book_gbp = one_country_book(
        exposures=book.exposures,
        policies=book.policies,
        fx={"currency": ["USD", "EUR"], "rate": [0.72, 0.8]},
        reporting_currency="GBP",
    )
    out_gbp = reference_losses(
        book_gbp, scenario(reporting_currency="GBP"), defaults, lgd, np.zeros((2, 1), bool)
    )
    np.testing.assert_allclose(out_gbp["gross"], out["gross"] / 1.25)


def test_political_precedence_and_covers():
    countries = {
        "country": ["AR", "BR", "DE"],
        "region": ["LATAM", "LATAM", "EU"],
        "political_pd": [0.1, 0.1, 0.0],
        "political_lgd": [None, 0.5, None],
    }
    buyers = {
        "buyer_id": ["A", "C", "D", "R"],
        "country": ["DE", "BR", "BR", "AR"],
        "sector": ["C", "C", "G", "G"],
        "pd": [0.01] * 4,
        "lgd": [0.3] * 4,
    }
    # (buyer, commercial_cover, political_cover)
    cover = [
        ("C", True, True),  # E1: political (event wins over the default)
        ("C", True, False),  # E2: commercial
        ("C", False, True),  # E3: political
        ("C", False, False),  # E4: nothing
        ("D", True, True),  # E5: political although D does not default
        ("D", True, False),  # E6: nothing
        ("A", False, True),  # E7: A defaults, no commercial cover, no event: nothing
        ("R", True, True),  # E8: political with the scenario's political lgd 0.8
    ]
    book = make_book(
        buyers,
        {
            "exposure_id": [f"E{i + 1}" for i in range(8)],
            "policy_id": ["P1"] * 8,
            "buyer_id": [c[0] for c in cover],
            "limit": [100.0] * 8,
            "utilization": [1.0] * 8,
            "commercial_cover": [c[1] for c in cover],
            "political_cover": [c[2] for c in cover],
        },
        {"policy_id": ["P1"], "currency": ["EUR"], "indemnity": [1.0]},
        countries,
    )
    sc = scenario(political={"lgd": 0.8})
    defaults = np.array([[True, True, False, False]])  # A, C, D, R
    lgd = np.array([[0.3, 0.3, 0.0, 0.0]])
    events = np.array([[True, True, False]])  # AR, BR, DE
    out = reference_losses(book, sc, defaults, lgd, events)
    political = 3 * 50.0 + 80.0  # E1, E3, E5 at 0.5; E8 at 0.8
    commercial = 30.0  # E2
    np.testing.assert_allclose(out["political"], [political])
    np.testing.assert_allclose(out["commercial"], [commercial])
    np.testing.assert_allclose(out["ground_up"], [political + commercial])
    np.testing.assert_allclose(out["country_political"], [[80.0, 150.0, 0.0]])
    np.testing.assert_allclose(out["country_gross"], [[80.0, 180.0, 0.0]])
    np.testing.assert_allclose(out["buyer_commercial"], [[0.0, 30.0, 0.0, 0.0]])
    np.testing.assert_allclose(out["buyer_claims"], [[0.0, 130.0, 50.0, 80.0]])
    np.testing.assert_allclose(out["sector_gross"], [[130.0, 130.0]])
    np.testing.assert_array_equal(out["n_defaults"], [2])  # A counts although nothing is paid
    np.testing.assert_array_equal(out["n_political_events"], [2])
    np.testing.assert_allclose(out["max_occurrence"], [150.0])  # the BR event


def test_buyer_under_two_policies():
    book = one_country_book(
        exposures={
            "exposure_id": ["E1", "E2", "E3"],
            "policy_id": ["P1", "P1", "P2"],
            "buyer_id": ["A", "B", "A"],
            "limit": [1000.0, 200.0, 400.0],
            "utilization": [1.0] * 3,
        },
        policies={
            "policy_id": ["P1", "P2"],
            "currency": ["EUR", "EUR"],
            "indemnity": [0.9, 0.8],
            "deductible": [100.0, 0.0],
        },
    )
    out = reference_losses(
        book, scenario(), np.ones((1, 2), bool), np.full((1, 2), 0.5), np.zeros((1, 1), bool)
    )
    # P1: 0.9·(500 + 100 − 100) = 450 split 5:1; P2: 0.8·200 = 160, all A's
    np.testing.assert_allclose(out["policy_claims"], [[450.0, 160.0]])
    np.testing.assert_allclose(out["buyer_claims"], [[375.0 + 160.0, 75.0]])
    np.testing.assert_allclose(out["max_occurrence"], [535.0])


def test_nulls_resolve_from_the_scenario():
    book = make_book(
        buyers={
            "buyer_id": ["A", "B"],
            "country": ["BR", "DE"],
            "sector": ["C", "C"],
            "pd": [None, 0.02],
            "rating": ["BB", None],
            "lgd": [None, 0.3],
            "lgd_sd": [None, 0.0],
            "asset_correlation": [None, 0.1],
        },
        exposures={
            "exposure_id": ["E1"],
            "policy_id": ["P1"],
            "buyer_id": ["A"],
            "limit": [100.0],
        },
        policies={"policy_id": ["P1"], "currency": ["USD"]},
        countries={
            "country": ["BR", "DE", "XK"],
            "region": ["LATAM", "EU", "EU"],
            "risk_grade": [6, None, None],
        },
        fx={"currency": ["USD"], "rate": [0.5]},
    )
    sc = scenario(
        model={"asset_correlation": 0.15, "lgd": {"mean": 0.4, "sd": 0.2}, "utilization": 0.7},
        political={"lgd": 0.9, "grade_pd": [0, 0, 0, 0, 0, 0, 0.05, 0.1]},
    )
    port = reference_portfolio(book, sc)
    np.testing.assert_array_equal(port.pd, [sc.ratings["BB"], 0.02])
    np.testing.assert_array_equal(port.lgd, [0.4, 0.3])
    np.testing.assert_array_equal(port.lgd_sd, [0.2, 0.0])
    np.testing.assert_array_equal(port.r2, [0.15, 0.1])
    np.testing.assert_array_equal(port.q, [0.05, 0.0, 0.0])  # grade 6; no grade → 0
    np.testing.assert_array_equal(port.plgd, [0.9, 0.9, 0.9])
    np.testing.assert_allclose(
        port.ead, [100 * 0.7 * 0.5]
    )  # utilisation and currency of the policy
    np.testing.assert_array_equal(port.indemnity, [0.9])
    assert np.isinf(port.max_liability).all()
    off = reference_portfolio(book, scenario(political={"enabled": False}))
    np.testing.assert_array_equal(off.q, [0.0, 0.0, 0.0])


# =================================================================================================
# the simulation against the laws
# =================================================================================================
@pytest.mark.slow
@pytest.mark.parametrize(
    ("copula", "other"), [("gaussian", "student_t"), ("student_t", "gaussian")]
)
def test_homogeneous_book_reproduces_finite_portfolio_law(copula, other):
    n, p, rho, nu, sims = 40, 0.03, 0.25, 4.0, 100_000
    book = homogeneous_book(n, p, rho)
    out = reference_simulate(book, one_factor(copula, nu), sims, seed=20261201)
    d = out["n_defaults"]
    np.testing.assert_array_equal(out["gross"], d)  # LGD 1, unit limits, no terms
    pmf = finite_portfolio_pmf(n, p, rho, copula, nu)
    counts = np.bincount(d, minlength=n + 1)
    assert chi_square_pvalue(counts, pmf) > ALPHA
    qs = [0.5, 0.9, 0.99, 0.999]
    assert check_quantiles(d, discrete_cdf(pmf), qs, K, kind="cdf") == []
    # power: the other copula's law (same p and ρ) is rejected
    assert chi_square_pvalue(counts, finite_portfolio_pmf(n, p, rho, other, nu)) < ALPHA


@pytest.mark.slow
def test_large_homogeneous_book_follows_vasicek():
    n, p, rho, sims = 2000, 0.1, 0.2, 20_000
    qs = np.array([0.5, 0.9, 0.99, 0.995])
    se = np.sqrt(qs * (1 - qs) / sims)
    # premise: at this n the Vasicek law is within a tenth of the band of the exact finite law
    cdf = np.cumsum(finite_portfolio_pmf(n, p, rho))
    approx_err = np.abs(cdf[np.floor(n * vasicek_ppf(qs, p, rho)).astype(int)] - qs)
    assert np.all(approx_err <= 0.1 * K * se)
    out = reference_simulate(homogeneous_book(n, p, rho), one_factor(), sims, seed=7)
    frac = out["n_defaults"] / n
    assert check_quantiles(frac, lambda u: vasicek_ppf(u, p, rho), qs, K) == []
    assert within(frac.mean(), p, frac.std() / math.sqrt(sims))
    # power: a correlation of 0.15 instead of 0.2 is rejected
    assert check_quantiles(frac, lambda u: vasicek_ppf(u, p, 0.15), qs, K) != []


def political_book():
    countries = {
        "country": ["DE", "FR", "IT", "AR", "BR"],
        "region": ["EU", "EU", "EU", "LATAM", "LATAM"],
        "risk_grade": [None, 5, None, None, 0],
        "political_pd": [0.1, None, None, 0.15, None],
    }
    buyers = {"buyer_id": ["X"], "country": ["DE"], "sector": ["C"], "pd": [0.01]}
    exposures = {"exposure_id": ["E"], "policy_id": ["P"], "buyer_id": ["X"], "limit": [1.0]}
    return make_book(buyers, exposures, {"policy_id": ["P"], "currency": ["EUR"]}, countries)


@pytest.mark.slow
def test_political_event_frequencies_and_joint_events():
    sims, rho_p = 200_000, 0.5
    sc = scenario(
        political={"correlation": rho_p, "grade_pd": [0.0, 0.01, 0.02, 0.04, 0.06, 0.08, 0.12, 0.2]}
    )
    book = political_book()
    # sorted: AR given, BR grade 0, DE given, FR grade 5, IT none
    q = np.array([0.15, 0.0, 0.1, 0.08, 0.0])
    np.testing.assert_array_equal(reference_portfolio(book, sc).q, q)
    ev = reference_draws(book, sc, sims, seed=3).events
    for c in range(5):
        assert within_rate(ev[:, c], q[c]), c
    assert not ev[:, [1, 4]].any()  # q = 0: never
    pairs = {(2, 3): rho_p, (0, 2): 0.0, (0, 3): 0.0}  # same region: ρ_p; else independent
    for (i, j), rho in pairs.items():
        p12 = bivariate_event_prob(q[i], q[j], rho)
        assert within_rate(ev[:, i] & ev[:, j], p12), (i, j)
    # power: independence within a region would be rejected
    p_same = bivariate_event_prob(q[2], q[3], rho_p)
    assert abs(p_same - q[2] * q[3]) > 2 * K * binom_se(p_same, sims)
    off = reference_draws(book, scenario(political={"enabled": False}), 1000, seed=3).events
    assert not off.any()


@pytest.mark.slow
@pytest.mark.parametrize("copula", ["gaussian", "student_t"])
def test_contagion_raises_pd_only_in_event_years(copula):
    sims, pd, m, q = 200_000, 0.04, 3.0, 0.25
    book = make_book(
        buyers={
            "buyer_id": ["X", "Y"],
            "country": ["EG", "TR"],
            "sector": ["C", "C"],
            "pd": [pd, pd],
        },
        exposures={"exposure_id": ["E"], "policy_id": ["P"], "buyer_id": ["X"], "limit": [1.0]},
        policies={"policy_id": ["P"], "currency": ["EUR"]},
        countries={"country": ["EG", "TR"], "region": ["MENA", "MENA"], "political_pd": [q, 0.0]},
    )
    sc = scenario(model={"copula": copula, "dof": 4.0}, political={"commercial_pd_multiplier": m})
    d = reference_draws(book, sc, sims, seed=99)
    event = d.events[:, 0]
    x, y = d.defaults[:, 0], d.defaults[:, 1]

    assert within_rate(event, q)
    assert within_rate(x[event], m * pd)  # pd' in event years
    assert within_rate(x[~event], pd)  # pd otherwise
    assert within_rate(y, pd)  # a country without events: never raised
    off = reference_draws(
        book, scenario(model={"copula": copula, "dof": 4.0}, political={"enabled": False}), sims, 5
    )
    assert within_rate(off.defaults[:, 0], pd)  # disabled: no contagion


@pytest.mark.slow
@pytest.mark.parametrize(
    ("make_case", "seed"),
    [(structured_case, 17), (explicit_case, 23)],
    ids=["structured", "explicit"],
)
def test_factor_model_pairwise_default_correlation(make_case, seed):
    # marginal PDs and joint defaults (Gaussian copula); power: the structured model's weights
    # ignored, or the explicit model's factor correlation ignored, would be rejected
    case = make_case()
    d = reference_draws(case.book, scenario(model=case.model), 200_000, seed=seed).defaults
    assert reference_portfolio(case.book, scenario()).buyer_ids == case.ids  # the columns of d
    failures, power = pairwise_default_failures(d, case)
    assert failures == []
    assert power > 2 * K


@pytest.mark.slow
@pytest.mark.parametrize("copula", ["gaussian", "student_t"])
def test_group_members_default_together(copula):
    sims = 20_000
    book = make_book(
        {
            "buyer_id": ["g1", "g2", "g3", "s1"],
            "country": ["DE"] * 4,
            "sector": ["C"] * 4,
            "pd": [0.1, 0.1, 0.05, 0.1],
            "asset_correlation": [0.3] * 4,
            "group_id": ["G", "G", "G", None],
        },
        {"exposure_id": ["E"], "policy_id": ["P"], "buyer_id": ["g1"], "limit": [1.0]},
        {"policy_id": ["P"], "currency": ["EUR"]},
        {"country": ["DE"], "region": ["EU"], "political_pd": [0.0]},
    )
    d = reference_draws(book, scenario(model={"copula": copula}), sims, seed=31).defaults
    g1, g2, g3, s1 = d.T
    assert g1.any()
    np.testing.assert_array_equal(g1, g2)  # same PD and factors: together, always
    assert not (g3 & ~g1).any()  # lower PD, same draw: g3 defaults only with g1
    assert (g1 != s1).any()  # a buyer outside the group does not follow it


@pytest.mark.slow
def test_lgd_is_beta_with_the_given_mean_and_sd():
    sims, n = 10_000, 30
    mu, sd = np.r_[[0.45] * 10, [None] * 10, [0.6] * 10], np.r_[[0.2] * 10, [None] * 10, [0.0] * 10]
    book = make_book(
        {
            "buyer_id": [f"b{i:02d}" for i in range(n)],
            "country": ["DE"] * n,
            "sector": ["C"] * n,
            "pd": [0.5] * n,
            "asset_correlation": [0.0] * n,
            "lgd": mu.tolist(),
            "lgd_sd": sd.tolist(),
        },
        {"exposure_id": ["E"], "policy_id": ["P"], "buyer_id": ["b00"], "limit": [1.0]},
        {"policy_id": ["P"], "currency": ["EUR"]},
        {"country": ["DE"], "region": ["EU"], "political_pd": [0.0]},
    )
    d = reference_draws(book, scenario(model={"lgd": {"mean": 0.3, "sd": 0.1}}), sims, seed=41)
    assert not d.lgd[~d.defaults].any()  # 0 where no default
    for cols, m, s in [(slice(0, 10), 0.45, 0.2), (slice(10, 20), 0.3, 0.1)]:
        x = d.lgd[:, cols][d.defaults[:, cols]]
        k = m * (1 - m) / s**2 - 1
        law = stats.beta(m * k, (1 - m) * k)
        assert within(x.mean(), m, s / math.sqrt(x.size))
        assert check_quantiles(x, law.ppf, [0.01, 0.1, 0.5, 0.9, 0.99], K) == []
    fixed = d.lgd[:, 20:][d.defaults[:, 20:]]
    assert fixed.size > 0 and np.all(fixed == 0.6)  # sd = 0: the mean exactly


@pytest.mark.slow
@pytest.mark.parametrize(
    ("copula", "explicit"), [("gaussian", False), ("student_t", False), ("gaussian", True)]
)
def test_mean_ground_up_equals_closed_form(copula, explicit):
    sims = 200_000
    book, sc = mixed_book(explicit), mixed_scenario(copula, explicit)
    port = reference_portfolio(book, sc)
    assert np.any(port.multiplier * port.pd > PD_CAP)  # the cap is exercised (b06: 3·0.4)
    gu = reference_simulate(book, sc, sims, seed=2026)["ground_up"]
    se = gu.std(ddof=1) / math.sqrt(sims)
    exact = expected_ground_up(book, sc)
    assert within(gu.mean(), exact, se)
    # power: forgetting contagion would be detected
    assert abs(expected_ground_up(book, mixed_scenario(copula, explicit, 1.0)) - exact) > 2 * K * se


@pytest.mark.slow
def test_loss_invariants_on_a_mixed_book():
    book, sc = mixed_book(), mixed_scenario("student_t")
    out = reference_simulate(book, sc, 20_000, seed=5, matrices=True)
    port = reference_portfolio(book, sc)
    gross = out["gross"]
    assert (gross > 0).mean() > 0.1  # the checks below bite
    for total in (
        out["commercial"] + out["political"],
        out["policy_claims"].sum(1),
        out["buyer_claims"].sum(1),
        out["country_gross"].sum(1),
        out["sector_gross"].sum(1),
    ):
        np.testing.assert_allclose(total, gross, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(
        out["buyer_commercial"].sum(1), out["commercial"], rtol=1e-12, atol=1e-9
    )
    np.testing.assert_allclose(
        out["country_political"].sum(1), out["political"], rtol=1e-12, atol=1e-9
    )
    assert np.all(out["policy_claims"] <= port.max_liability * (1 + 1e-12))
    assert np.all(out["buyer_commercial"] <= out["buyer_claims"] * (1 + 1e-12) + 1e-9)
    assert np.all(gross <= out["ground_up"] + 1e-9)  # indemnity ≤ 1
    occ = np.maximum(out["buyer_commercial"].max(1), out["country_political"].max(1))
    np.testing.assert_array_equal(out["max_occurrence"], occ)
