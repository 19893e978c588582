"""Pricing's numerical core: technical premiums, turnover, rate cards, calibration, OECD MPR.

Every expected value is computed here from the defining formula (or by an independent method:
Monte Carlo for standard errors, a generic constrained optimiser for the monotone projection),
never read back from the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy.optimize import LinearConstraint, minimize

from riskengine.errors import BookError, ScenarioError
from riskengine.measures import tail
from riskengine.pricing import (
    MARKET_RANGES,
    RATINGS,
    TERM_BANDS,
    Loadings,
    allocated_capital,
    buyer_ratings,
    calibrate,
    combined_ratio,
    exposure_turnover,
    fit_monotone_multiplicative,
    fit_rate_card,
    insured_turnover,
    monotone_projection,
    oecd_benchmark,
    oecd_mpr,
    price_exposures,
    price_policies,
    rate_cells,
    rating_from_pd,
    realism_check,
    return_on_capital,
    technical_premium,
    term_band,
)

LOADS = Loadings(cost_of_capital=0.10, expense_ratio=0.20, commission=0.05)
SCENARIO_RATINGS = {
    "AAA": 0.0001,
    "AA": 0.0002,
    "A": 0.0005,
    "BBB": 0.0014,
    "BB": 0.0056,
    "B": 0.0293,
    "CCC": 0.2612,
}

# --------------------------------------------------------------------------------------------
# Technical premium and turnover
# --------------------------------------------------------------------------------------------


def test_technical_premium_identity_per_policy() -> None:
    rng = np.random.default_rng(11)
    n = 200
    policies = pl.DataFrame(
        {
            "policy_id": [f"P{i}" for i in range(n)],
            "turnover": rng.uniform(1e5, 1e8, n),
            "premium": rng.uniform(1e2, 1e5, n),
            "el": rng.uniform(0.0, 5e4, n),
            "el_se": rng.uniform(0.0, 1e3, n),
            "capital": rng.uniform(-1e3, 5e5, n),
            "capital_se": rng.uniform(0.0, 1e4, n),
        }
    )
    out = price_policies(policies, LOADS)
    tp = out.get_column("technical_premium").to_numpy()
    el = policies.get_column("el").to_numpy()
    cap = policies.get_column("capital").to_numpy()
    # the premium net of expenses and commission pays EL and the cost of the allocated capital
    np.testing.assert_allclose(tp * (1 - 0.20 - 0.05) - 0.10 * cap, el, rtol=1e-12, atol=1e-9)
    turnover = policies.get_column("turnover").to_numpy()
    premium = policies.get_column("premium").to_numpy()
    np.testing.assert_allclose(out.get_column("technical_rate").to_numpy(), tp / turnover)
    np.testing.assert_allclose(out.get_column("actual_rate").to_numpy(), premium / turnover)
    np.testing.assert_allclose(out.get_column("adequacy").to_numpy(), premium / tp)


def test_technical_premium_standard_error_matches_monte_carlo() -> None:
    """The propagated SE equals the SD of premiums computed from resampled EL and capital."""
    rng = np.random.default_rng(5)
    el, el_se, cap, cap_se = 1000.0, 40.0, 8000.0, 900.0
    for rho in (0.0, 0.6):
        _, se = technical_premium([el], [cap], LOADS, [el_se], [cap_se], rho=rho)
        cov = [[el_se**2, rho * el_se * cap_se], [rho * el_se * cap_se, cap_se**2]]
        draws = rng.multivariate_normal([el, cap], cov, size=400_000)
        tp, _ = technical_premium(draws[:, 0], draws[:, 1], LOADS)
        # relative SE of a sample SD is about 1/√(2n) = 0.11 %; allow 5 of them
        assert abs(tp.std() / se[0] - 1) < 5 / math.sqrt(2 * len(tp))
    _, no_se = technical_premium([el], [cap], LOADS)
    assert np.isnan(no_se[0])


def test_allocated_capital_is_contribution_minus_el() -> None:
    cap, se = allocated_capital([500.0, 80.0], [100.0, 90.0], [30.0, 4.0], [3.0, 1.0])
    np.testing.assert_allclose(cap, [400.0, -10.0])
    np.testing.assert_allclose(se, [math.hypot(30, 3), math.hypot(4, 1)])


def test_turnover_revolves_once_per_term_and_policy_turnover_is_split() -> None:
    limit = np.array([1000.0, 3000.0, 2000.0, 500.0])
    util = np.array([0.5, 1.0, 0.8, 0.0])
    term = np.array([30.0, 90.0, 60.0, 45.0])
    plain = limit * util * 365 / term
    np.testing.assert_allclose(insured_turnover(limit, util, term), plain)
    # policy 0 holds exposures 0, 1 with a given turnover; policy 1 holds 2 (none given)
    # and policy 2 holds 3, whose only exposure is unused: its turnover goes by limit / term
    policy = np.array([0, 0, 1, 2])
    given = np.array([50_000.0, np.nan, 7_000.0])
    out = insured_turnover(limit, util, term, policy=policy, policy_turnover=given)
    share = plain[:2] / plain[:2].sum()
    np.testing.assert_allclose(out[:2], 50_000.0 * share)
    assert out[2] == plain[2]
    assert out[3] == pytest.approx(7_000.0)


def test_same_buyer_terms_30_and_120_days_equal_premium_rates_in_ratio_4() -> None:
    """Equal limits on one buyer: the same claims, so equal EL, capital and premium; the 120-day
    limit revolves a quarter as often, so its rate on turnover is 4 times the 30-day one's."""
    exposures = pl.DataFrame(
        {
            "exposure_id": ["E30", "E120"],
            "policy_id": ["P30", "P120"],
            "buyer_id": ["B1", "B1"],
            "limit": [2_000_000.0, 2_000_000.0],
            "utilization": [0.6, 0.6],
            "payment_term_days": [30, 120],
        }
    )
    ex = exposure_turnover(exposures, default_utilization=0.5)
    turnover = ex.get_column("turnover").to_numpy()
    np.testing.assert_allclose(turnover, [2e6 * 0.6 * 365 / 30, 2e6 * 0.6 * 365 / 120])
    priced = price_policies(
        pl.DataFrame(
            {
                "policy_id": ["P30", "P120"],
                "turnover": turnover,
                "premium": [10_000.0, 10_000.0],
                "el": [3_000.0, 3_000.0],
                "el_se": [50.0, 50.0],
                "capital": [40_000.0, 40_000.0],
                "capital_se": [800.0, 800.0],
            }
        ),
        LOADS,
    )
    tp = priced.get_column("technical_premium").to_numpy()
    rate = priced.get_column("technical_rate").to_numpy()
    assert tp[0] == tp[1] == pytest.approx((3_000 + 0.1 * 40_000) / 0.75)
    assert rate[1] / rate[0] == pytest.approx(4.0, rel=1e-12)


def test_exposure_turnover_fills_defaults_and_splits_policy_turnover() -> None:
    exposures = pl.DataFrame(
        {
            "exposure_id": ["E1", "E2", "E3"],
            "policy_id": ["P1", "P1", "P2"],
            "limit": [100.0, 300.0, 50.0],
            "utilization": [None, 0.5, 1.0],
            "payment_term_days": [90, None, 30],
        }
    )
    policies = pl.DataFrame({"policy_id": ["P1", "P2"], "turnover": [None, 999.0]})
    out = exposure_turnover(
        exposures, policies, default_utilization=0.6, default_payment_term_days=60
    )
    np.testing.assert_allclose(
        out.get_column("turnover").to_numpy(),
        [100 * 0.6 * 365 / 90, 300 * 0.5 * 365 / 60, 999.0],
    )
    assert out.get_column("payment_term_days").to_list() == [90.0, 60.0, 30.0]


# --------------------------------------------------------------------------------------------
# Splitting a policy over its exposures
# --------------------------------------------------------------------------------------------


def test_el_and_capital_split_over_exposures_add_up_to_the_policy() -> None:
    rng = np.random.default_rng(3)
    n_pol, n_exp = 30, 200
    pol = rng.integers(0, n_pol, n_exp)
    exposures = pl.DataFrame(
        {
            "exposure_id": [f"E{i}" for i in range(n_exp)],
            "policy_id": [f"P{p}" for p in pol],
            "turnover": rng.uniform(1e3, 1e6, n_exp),
            "exposure_el": rng.uniform(0.0, 10.0, n_exp),
            "exposure_capital": rng.uniform(-5.0, 100.0, n_exp),
        }
    )
    # policy P0's exposures have no EL at all: its EL is split by turnover instead
    exposures = exposures.with_columns(
        pl.when(pl.col("policy_id") == "P0")
        .then(0.0)
        .otherwise(pl.col("exposure_el"))
        .alias("exposure_el")
    )
    policies = pl.DataFrame(
        {
            "policy_id": [f"P{p}" for p in range(n_pol)],
            "el": rng.uniform(1.0, 50.0, n_pol),
            "el_se": rng.uniform(0.1, 1.0, n_pol),
            "capital": rng.uniform(10.0, 500.0, n_pol),
            "capital_se": rng.uniform(1.0, 10.0, n_pol),
        }
    )
    out = price_exposures(exposures, policies, LOADS)
    sums = out.group_by("policy_id").agg(pl.col("el", "capital", "technical_premium").sum())
    check = policies.join(sums, on="policy_id", suffix="_split")
    assert check.height == pl.Series(pol).n_unique() >= 25
    priced = price_policies(
        policies.with_columns(turnover=pl.lit(1.0), premium=pl.lit(1.0)), LOADS
    ).select("policy_id", "technical_premium")
    check = check.join(priced, on="policy_id", suffix="_policy")
    for col in ("el", "capital"):
        np.testing.assert_allclose(check[f"{col}_split"], check[col], rtol=1e-12)
    np.testing.assert_allclose(
        check["technical_premium"], check["technical_premium_policy"], rtol=1e-12
    )
    # within a policy, EL goes in proportion to the exposures' EL, capital to their capital
    p5 = out.filter(pl.col("policy_id") == "P5")
    e = p5.get_column("exposure_el").to_numpy()
    c = p5.get_column("exposure_capital").to_numpy()
    el5, cap5 = policies.filter(pl.col("policy_id") == "P5").select("el", "capital").row(0)
    np.testing.assert_allclose(p5.get_column("el").to_numpy(), el5 * e / e.sum())
    np.testing.assert_allclose(p5.get_column("capital").to_numpy(), cap5 * c / c.sum())
    p0 = out.filter(pl.col("policy_id") == "P0")
    t0 = p0.get_column("turnover").to_numpy()
    el0 = policies.filter(pl.col("policy_id") == "P0").get_column("el").item()
    np.testing.assert_allclose(p0.get_column("el").to_numpy(), el0 * t0 / t0.sum())


def test_capital_and_el_of_policies_add_up_to_the_book_and_calibration_meets_target() -> None:
    """On simulated years: policies' EL and TVaR contributions − EL add up to the book's EL and
    TVaR − EL; the calibrated premium meets the target return and combined ratio exactly."""
    rng = np.random.default_rng(2024)
    n_years, n_pol = 20_000, 6
    z = rng.standard_normal(n_years)[:, None]
    latent = 0.5 * z + math.sqrt(1 - 0.25) * rng.standard_normal((n_years, n_pol))
    size = np.array([1.0, 2.0, 0.5, 3.0, 1.5, 0.8]) * 1e6
    losses = (latent < -2.3) * size * rng.uniform(0.2, 0.8, (n_years, n_pol))
    book = losses.sum(axis=1)
    t = tail(book, 0.995)
    el_pol = losses.mean(axis=0)
    cap_pol = t.mean(losses) - el_pol
    tvar = np.sort(book)[-t.index.size :].mean()  # the mean of the ⌈0.005 n⌉ worst years
    assert math.isclose(cap_pol.sum(), tvar - book.mean(), rel_tol=1e-12)
    assert math.isclose(el_pol.sum(), book.mean(), rel_tol=1e-12)
    tp, _ = technical_premium(el_pol, cap_pol, LOADS)
    p, el, cap = float(tp.sum()), float(book.mean()), float(tvar - book.mean())
    # at scale 1 the technical premiums return exactly the cost of capital
    assert return_on_capital(p, el, cap, LOADS) == pytest.approx(0.10, rel=1e-12)
    roc = calibrate(p, el, cap, LOADS, target_roc=0.15)
    assert roc.factor > 1
    assert (roc.factor * p * 0.75 - el) / cap == pytest.approx(0.15, rel=1e-12)
    assert roc.return_on_capital == pytest.approx(0.15, rel=1e-12)
    cr = calibrate(p, el, cap, LOADS, target_combined_ratio=0.85)
    assert (el + 0.25 * cr.factor * p) / (cr.factor * p) == pytest.approx(0.85, rel=1e-12)
    assert combined_ratio(cr.premium, el, LOADS) == pytest.approx(0.85, rel=1e-12)


def test_calibration_refuses_two_targets_and_unreachable_ones() -> None:
    with pytest.raises(ScenarioError, match="exactly one target"):
        calibrate(100.0, 50.0, 500.0, LOADS, target_roc=0.1, target_combined_ratio=0.8)
    with pytest.raises(ScenarioError, match="target_combined_ratio"):
        calibrate(100.0, 50.0, 500.0, LOADS, target_combined_ratio=0.2)


def test_calibration_factor_standard_error_propagates_el_and_capital() -> None:
    c = calibrate(100.0, 50.0, 400.0, LOADS, target_roc=0.12, el_se=2.0, capital_se=10.0)
    assert c.factor_se == pytest.approx(math.hypot(0.12 * 10.0, 2.0) / (100.0 * 0.75))
    c = calibrate(100.0, 50.0, 400.0, LOADS, target_combined_ratio=0.9, el_se=2.0)
    assert c.factor_se == pytest.approx(2.0 / (100.0 * 0.65))


# --------------------------------------------------------------------------------------------
# Ratings and term bands
# --------------------------------------------------------------------------------------------


def test_rating_from_pd_is_nearest_in_log_pd() -> None:
    pds = np.array(list(SCENARIO_RATINGS.values()))
    assert list(rating_from_pd(pds, SCENARIO_RATINGS)) == list(SCENARIO_RATINGS)
    # just below / above the geometric midpoint of BB and B
    mid = math.sqrt(0.0056 * 0.0293)
    got = rating_from_pd([mid * 0.999, mid, mid * 1.001, 1e-9, 0.9], SCENARIO_RATINGS)
    assert list(got) == ["BB", "B", "B", "AAA", "CCC"]
    # a 1 % PD: |log(0.01/0.0056)| = 0.58 < |log(0.0293/0.01)| = 1.07
    assert rating_from_pd([0.01], SCENARIO_RATINGS)[0] == "BB"


def test_buyer_ratings_keep_given_ratings_and_map_pds() -> None:
    buyers = pl.DataFrame(
        {"buyer_id": ["B1", "B2", "B3"], "rating": ["A", None, None], "pd": [0.2, 0.03, 0.0015]}
    )
    assert buyer_ratings(buyers, SCENARIO_RATINGS).to_list() == ["A", "B", "BBB"]
    with pytest.raises(BookError, match="B9"):
        buyer_ratings(
            pl.DataFrame({"buyer_id": ["B9"], "rating": [None], "pd": [None]}), SCENARIO_RATINGS
        )


def test_term_bands_are_upper_bounds_and_the_last_is_open() -> None:
    days = [1, 30, 31, 60, 61, 120, 121, 180, 181, 720]
    assert term_band(days).tolist() == [30, 30, 60, 60, 90, 120, 180, 180, 180, 180]
    assert term_band([45], [45, 90]).tolist() == [45]


# --------------------------------------------------------------------------------------------
# Rate card
# --------------------------------------------------------------------------------------------

GRADE_REL = np.array([1.0, 1.3, 1.8, 2.5, 3.5, 5.0, 7.5, 11.0])
RATING_REL = np.array([1.0, 1.1, 1.25, 1.6, 2.4, 4.0, 9.0])
TERM_REL = np.array([1.0, 1.4, 1.9, 2.3, 3.0])
BASE = 0.0004


def _cells(rng: np.random.Generator, *, empty: float = 0.25) -> pl.DataFrame:
    """Every cell with a known multiplicative rate, random turnover, some cells empty."""
    g, r, t = (a.ravel() for a in np.meshgrid(range(8), range(7), range(5), indexing="ij"))
    rate = BASE * GRADE_REL[g] * RATING_REL[r] * TERM_REL[t]
    n = rng.integers(1, 500, g.size)
    turnover = rng.uniform(1e5, 1e8, g.size)
    drop = rng.random(g.size) < empty
    n[drop], turnover[drop] = 0, 0.0
    return pl.DataFrame(
        {
            "risk_grade": g,
            "rating": np.array(RATINGS, dtype=object)[r].tolist(),
            "term_band": np.array(TERM_BANDS)[t],
            "turnover": turnover,
            "n_exposures": n,
            "technical_rate": np.where(drop, np.nan, rate),
        }
    ).with_columns(pl.col("technical_rate").fill_nan(None))


def _relativities(card, factor: str) -> np.ndarray:
    return card.factors.filter(pl.col("factor") == factor).get_column("relativity").to_numpy()


def test_fit_recovers_known_relativities_from_noiseless_cells() -> None:
    cells = _cells(np.random.default_rng(8))
    assert cells.get_column("n_exposures").eq(0).sum() > 40  # the model must fill these
    card = fit_rate_card(cells)
    np.testing.assert_allclose(_relativities(card, "risk_grade"), GRADE_REL, rtol=1e-6)
    np.testing.assert_allclose(_relativities(card, "rating"), RATING_REL, rtol=1e-6)
    np.testing.assert_allclose(_relativities(card, "term_band"), TERM_REL, rtol=1e-6)
    assert card.base == pytest.approx(BASE, rel=1e-6)
    # noiseless and monotone already: every cell, empty or not, gets the true rate
    g = card.card.get_column("risk_grade").to_numpy()
    r = np.array([RATINGS.index(x) for x in card.card.get_column("rating")])
    t = np.array([TERM_BANDS.index(x) for x in card.card.get_column("term_band")])
    truth = BASE * GRADE_REL[g] * RATING_REL[r] * TERM_REL[t]
    np.testing.assert_allclose(card.card.get_column("fitted_rate").to_numpy(), truth, rtol=1e-6)


def test_card_lookup_bands_terms_and_scaling_keeps_relativities() -> None:
    card = fit_rate_card(_cells(np.random.default_rng(8)))
    got = card.lookup([0, 5, 7], ["AAA", "B", "CCC"], [10, 75, 365])
    want = BASE * np.array(
        [
            1.0,
            GRADE_REL[5] * RATING_REL[5] * TERM_REL[2],
            GRADE_REL[7] * RATING_REL[6] * TERM_REL[4],
        ]
    )
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert np.isnan(card.lookup([3], ["D"], [30])[0])
    double = card.scaled(2.0)
    assert double.premium() == pytest.approx(2 * card.premium(), rel=1e-12)
    assert double.base == pytest.approx(2 * card.base, rel=1e-12)
    assert double.factors.equals(card.factors)


def _monotone_along_axes(card) -> bool:
    grid = card.card.get_column("fitted_rate").to_numpy().reshape(8, 7, 5)
    return all(np.all(np.diff(grid, axis=a) >= 0) for a in range(3))


def test_fitted_relativities_are_monotone_when_raw_rates_are_not() -> None:
    rng = np.random.default_rng(21)
    cells = _cells(rng, empty=0.0)
    noisy = cells.get_column("technical_rate").to_numpy() * rng.lognormal(0.0, 0.3, cells.height)
    # and systematically inverted: grade 3 cheaper than grade 2, BBB than A, 90 days than 60
    g = cells.get_column("risk_grade").to_numpy()
    r = cells.get_column("rating").to_numpy()
    t = cells.get_column("term_band").to_numpy()
    noisy = (
        noisy * np.where(g == 3, 0.5, 1) * np.where(r == "BBB", 0.7, 1) * np.where(t == 90, 0.6, 1)
    )
    cells = cells.with_columns(technical_rate=pl.Series(noisy))
    raw = noisy.reshape(8, 7, 5)
    assert not all(np.all(np.diff(raw, axis=a) >= 0) for a in range(3))  # the premise
    card = fit_rate_card(cells)
    for factor in ("risk_grade", "rating", "term_band"):
        rel = _relativities(card, factor)
        assert rel[0] == 1.0
        assert np.all(np.diff(rel) >= 0), factor
    assert _monotone_along_axes(card)
    # the model charges the observed cells their total technical premium
    c = card.card
    turnover = c.get_column("turnover").to_numpy()
    assert np.sum(turnover * c.get_column("model_rate").to_numpy()) == pytest.approx(
        np.sum(turnover * noisy), rel=1e-9
    )


def test_credibility_pulls_a_one_exposure_cell_toward_the_model() -> None:
    cells = _cells(np.random.default_rng(4), empty=0.0)
    cells = cells.with_columns(n_exposures=pl.lit(10_000))
    at = (pl.col("risk_grade") == 4) & (pl.col("rating") == "BB") & (pl.col("term_band") == 60)
    other = (pl.col("risk_grade") == 7) & (pl.col("rating") == "CCC") & (pl.col("term_band") == 180)
    # two cells three times dearer than the model: one with one exposure, one with 10,000 (in
    # the dearest corner, where no dearer cell's rate caps it: the card stays monotone)
    cells = cells.with_columns(
        pl.when(at | other).then(pl.col("technical_rate") * 3).otherwise(pl.col("technical_rate")),
        pl.when(at).then(1).otherwise(pl.col("n_exposures")).alias("n_exposures"),
        pl.when(at | other).then(1e3).otherwise(pl.col("turnover")).alias("turnover"),
    )
    k = 50.0
    card = fit_rate_card(cells, credibility_k=k).card
    thin = card.filter(at).row(0, named=True)
    thick = card.filter(other).row(0, named=True)
    assert thin["credibility"] == pytest.approx(1 / (1 + k))
    assert thin["model_rate"] < thin["fitted_rate"] < thin["technical_rate"]
    pull = (thin["fitted_rate"] - thin["model_rate"]) / (
        thin["technical_rate"] - thin["model_rate"]
    )
    assert pull == pytest.approx(1 / (1 + k), rel=1e-9)
    # the well-populated cell keeps nearly all of its own experience
    pull = (thick["fitted_rate"] - thick["model_rate"]) / (
        thick["technical_rate"] - thick["model_rate"]
    )
    assert pull == pytest.approx(10_000 / (10_000 + k), rel=1e-9)


def test_rate_cells_weight_rates_by_turnover_and_list_every_cell() -> None:
    exposures = pl.DataFrame(
        {
            "exposure_id": ["E1", "E2", "E3"],
            "risk_grade": [3, 3, 0],
            "rating": ["BB", "BB", "A"],
            "payment_term_days": [45, 60, 200],
            "turnover": [1000.0, 3000.0, 500.0],
            "technical_premium": [10.0, 6.0, 1.0],
        }
    )
    cells = rate_cells(exposures)
    assert cells.height == 8 * 7 * 5
    bb = cells.filter((pl.col("risk_grade") == 3) & (pl.col("rating") == "BB"))
    row = bb.filter(pl.col("term_band") == 60).row(0, named=True)
    assert row["n_exposures"] == 2
    assert row["technical_rate"] == pytest.approx(16.0 / 4000.0)
    a = cells.filter((pl.col("risk_grade") == 0) & (pl.col("rating") == "A"))
    assert a.filter(pl.col("term_band") == 180).get_column("n_exposures").item() == 1
    assert cells.get_column("n_exposures").sum() == 3
    assert cells.get_column("technical_rate").null_count() == cells.height - 2


def test_monotone_projection_is_the_least_squares_projection() -> None:
    """Compared with a generic constrained solver on a small grid."""
    rng = np.random.default_rng(9)
    y = rng.normal(size=(3, 4))
    w = rng.uniform(0.5, 3.0, size=y.shape)
    got = monotone_projection(y, w)
    rows = []  # x[neighbour above] − x[cell] ≥ 0 along both axes, cells numbered row-major
    for k in range(12):
        for step, ok in ((4, k + 4 < 12), (1, k % 4 < 3)):
            if ok:
                rows.append(np.eye(12)[k + step] - np.eye(12)[k])
    wy, yy = w.ravel(), y.ravel()
    ref = minimize(
        lambda x: np.sum(wy * (x - yy) ** 2),
        np.sort(yy),  # row-major sorted values are monotone along both axes: feasible
        jac=lambda x: 2 * wy * (x - yy),
        constraints=[LinearConstraint(np.array(rows), 0.0, np.inf)],
        method="SLSQP",
        options={"ftol": 1e-12, "maxiter": 1000},
    )
    assert ref.success
    np.testing.assert_allclose(got.ravel(), ref.x, atol=1e-6)
    assert np.all(np.diff(got, axis=0) >= 0) and np.all(np.diff(got, axis=1) >= 0)
    mono = np.cumsum(np.cumsum(np.abs(y), axis=0), axis=1)
    np.testing.assert_array_equal(monotone_projection(mono, w), mono)


def test_fit_keeps_unobserved_levels_between_their_neighbours() -> None:
    rng = np.random.default_rng(2)
    g, r = (a.ravel() for a in np.meshgrid(range(5), range(3), indexing="ij"))
    rel_g = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    rate = 0.001 * rel_g[g] * np.array([1.0, 1.5, 3.0])[r]
    w = rng.uniform(1.0, 2.0, g.size) * ((g != 2) & (g != 4))  # no data at levels 2 and 4
    fit = fit_monotone_multiplicative([g, r], [5, 3], rate, w)
    assert fit.converged
    np.testing.assert_allclose(fit.relativities[0], [1.0, 2.0, 4.0, 8.0, 8.0], rtol=1e-6)


# --------------------------------------------------------------------------------------------
# OECD minimum premium rates
# --------------------------------------------------------------------------------------------


def test_oecd_mpr_worked_values() -> None:
    """Annex VI of the Arrangement (TAD/PG(2023)7), worked by hand from its coefficients."""
    # category 7, sovereign, 95 % cover, standard product, HOR 5.25 years: 1.1 × 5.25 + 1.8
    assert oecd_mpr(7, 5.25)[()] == pytest.approx(0.07575, rel=1e-12)
    # category 1, sovereign, HOR 2: 0.09 × 2 + 0.35 = 0.53 %
    assert oecd_mpr(1, 2.0)[()] == pytest.approx(0.0053, rel=1e-12)
    # category 3, buyer CC2 (c = 0.223), HOR 4: 0.35 × 4 + 0.35 + 0.223 × 4 = 2.642 %
    assert oecd_mpr(3, 4.0, buyer="CC2")[()] == pytest.approx(0.02642, rel=1e-12)
    # category 5, better than sovereign, 100 % cover: (0.74 × 3 + 0.75) / 0.95 × PCF × 0.9,
    # PCF = 1 + (1 − 0.95) / 0.05 × 0.03657
    want = (0.74 * 3 + 0.75) / 0.95 * 1.03657 * 0.9 / 100
    assert oecd_mpr(5, 3.0, buyer="SOV+", pcc=1.0, pcp=1.0)[()] == pytest.approx(want, rel=1e-12)
    # category 6, below-standard product (QPF 0.98), HOR 1: (0.9 + 1.2) × 0.98 = 2.058 %
    assert oecd_mpr(6, 1.0, product_quality="below_standard")[()] == pytest.approx(0.02058)
    assert np.isnan(oecd_mpr(0, 1.0)[()])
    assert np.isnan(oecd_mpr(7, 1.0, buyer="CC5")[()])  # no CC5 buyers in category 7


def test_oecd_benchmark_at_payment_terms_is_labelled_an_extrapolation() -> None:
    grades = np.arange(8)
    out = oecd_benchmark(grades, 60)
    mpr = out.get_column("oecd_mpr").to_numpy()
    assert out.get_column("oecd_mpr").null_count() == 1  # category 0: market benchmark
    hor = 60 / 365
    a = np.array([0.09, 0.2, 0.35, 0.55, 0.74, 0.9, 1.1])
    b = np.array([0.35, 0.35, 0.35, 0.35, 0.75, 1.2, 1.8])
    np.testing.assert_allclose(mpr[1:], (a * hor + b) / 100, rtol=1e-12)
    assert np.all(np.diff(mpr[1:]) > 0)
    assert out.get_column("oecd_extrapolated").all()
    assert not oecd_benchmark(np.array([3]), 730).get_column("oecd_extrapolated").item()


# --------------------------------------------------------------------------------------------
# Realism check and bad input
# --------------------------------------------------------------------------------------------


def test_realism_check_reads_the_most_common_rating_and_term() -> None:
    cells = _cells(np.random.default_rng(6), empty=0.0)
    cells = cells.with_columns(
        pl.when((pl.col("rating") == "B") & (pl.col("term_band") == 90))
        .then(pl.col("turnover") * 100)
        .otherwise(pl.col("turnover"))
    )
    card = fit_rate_card(cells)
    check = realism_check(card)
    assert check.height == 8
    assert set(check.get_column("rating")) == {"B"} and set(check.get_column("term_band")) == {90}
    fitted = check.get_column("fitted_rate").to_numpy()
    np.testing.assert_allclose(fitted, BASE * GRADE_REL * RATING_REL[5] * TERM_REL[2], rtol=1e-6)
    for row in check.iter_rows(named=True):
        lo, hi = MARKET_RANGES.get(row["risk_grade"], (None, None))
        want = None if lo is None else lo <= row["fitted_rate"] <= hi
        assert row["within"] == want
    assert check.get_column("rising").all()


def test_bad_inputs_name_table_column_rule_and_rows() -> None:
    with pytest.raises(BookError) as err:
        insured_turnover([100.0, -1.0], [0.5, 1.5], [0, 60], ids=["E1", "E2"])
    text = str(err.value)
    assert "3 problems" in text
    assert "exposures: column 'limit': 0 < limit — 1 row (first: E2)" in text
    assert "column 'utilization'" in text and "column 'payment_term_days'" in text
    with pytest.raises(BookError, match="payment_term_days.*2 rows"):
        term_band([30.0, np.nan, 0.0])
    with pytest.raises(ScenarioError, match="pricing.commission"):
        Loadings(expense_ratio=0.7, commission=0.3)
    with pytest.raises(ScenarioError, match="pricing.cost_of_capital"):
        Loadings(cost_of_capital=-0.1)
