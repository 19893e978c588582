"""Risk measures: unweighted estimators unchanged bit for bit, weighted ones against closed forms.

Importance-sampled cases draw a normal or an exponential loss from a shifted (tilted) law and
weight each year by its likelihood ratio, so the exact VaR and TVaR of the original law are
known; bounds are k standard errors computed here, with fixed seeds.
"""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import riskengine.measures as rm
from riskengine.measures import (
    LEVELS,
    discrete_measures,
    ep_points,
    ep_table,
    mean_se,
    measures,
    sd_se,
    tail,
    tail_count,
    tvar_se,
    var_rank,
    var_se,
)
from riskengine.measures._core import Ranked, band_ranks

ODD_LEVELS = (*LEVELS, 0.0, 0.5, 2 / 3, 0.9973, 0.99)


# ---------------------------------------------------------------------------------------------
# The estimators as they were before weights (frozen copy): the oracle for bit-identity
# ---------------------------------------------------------------------------------------------
def _old_rank(q: float, n: int) -> int:
    return min(n - 1, max(0, math.ceil(q * n - 1e-9) - 1))


def _old_mean_se(x: np.ndarray) -> tuple[float, float]:
    n = len(x)
    return float(np.mean(x)), float(np.std(x, ddof=1) / math.sqrt(n))


def _old_sd_se(x: np.ndarray) -> tuple[float, float]:
    n = len(x)
    d = x - x.mean()
    s2 = float(np.sum(d * d) / (n - 1))
    m4 = float(np.mean(d**4))
    return math.sqrt(s2), math.sqrt(max(m4 - s2 * s2, 0.0) / (4 * s2 * n)) if s2 > 0 else 0.0


def _old_var_se(xs: np.ndarray, q: float) -> tuple[float, float]:
    n = len(xs)
    v = float(xs[_old_rank(q, n)])
    half = math.sqrt(n * q * (1 - q))
    lo = xs[min(n - 1, max(0, math.floor(q * n - half) - 1))]
    hi = xs[min(n - 1, max(0, math.ceil(q * n + half) - 1))]
    return v, float(hi - lo) / 2


def _old_tvar_se(xs: np.ndarray, q: float) -> tuple[float, float]:
    n = len(xs)
    k = max(1, math.ceil((1 - q) * n - 1e-9))
    tail_ = xs[n - k :]
    t = float(tail_.mean())
    v = float(xs[_old_rank(q, n)])
    var_tail = float(tail_.var(ddof=1)) if k > 1 else 0.0
    se = math.sqrt((var_tail + q * (t - v) ** 2) / (n * (1 - q))) if q < 1 else math.nan
    return t, se


def _band_inside(q: float, n: int) -> bool:
    """Whether the order statistics j± = q·n ± √(n q (1 − q)) both lie in 1 … n."""
    h = math.sqrt(n * q * (1 - q))
    return math.floor(q * n - h + 1e-9) >= 1 and math.ceil(q * n + h - 1e-9) <= n


def _losses(kind: str, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "lognormal":  # most years without a claim, a heavy tail
        return np.where(rng.random(n) < 0.3, 0.0, rng.lognormal(12, 1.8, n))
    return rng.integers(0, 12, n).astype(np.float64) * 250_000.0  # ties everywhere


# ---------------------------------------------------------------------------------------------
# Without weights: bit-identical to the estimators before
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["lognormal", "ties"])
@pytest.mark.parametrize("n", [2, 3, 7, 10, 199, 999, 1000, 1001, 4321, 20_000])
def test_unweighted_bit_identical_to_before(kind: str, n: int) -> None:
    x = _losses(kind, n, seed=n)
    xs = np.sort(x)
    compared = {"var_se": 0, "tvar_se": 0, "nan": 0}
    for weights in (None, np.ones(n)):
        m = measures(x, ODD_LEVELS, weights=weights)
        assert (m["EL"]["value"], m["EL"]["se"]) == _old_mean_se(x)
        assert (m["SD"]["value"], m["SD"]["se"]) == _old_sd_se(x)
        assert m["capital"] == _old_var_se(xs, 0.995)[0] - _old_mean_se(x)[0]
        for q in ODD_LEVELS:
            key = f"{100 * q:g}"
            v, v_se = _old_var_se(xs, q)
            t, t_se = _old_tvar_se(xs, q)
            k = max(1, math.ceil((1 - q) * n - 1e-9))
            assert m["VaR"][key]["value"] == v
            assert m["TVaR"][key]["value"] == t
            assert m["tail_years"][key] == min(k, n)
            if _band_inside(q, n):
                assert m["VaR"][key]["se"] == v_se
                compared["var_se"] += 1
            else:  # honest precision: the band runs off the sample
                assert math.isnan(m["VaR"][key]["se"])
                compared["nan"] += 1
            if k >= 2 and q < 1:
                assert m["TVaR"][key]["se"] == t_se
                compared["tvar_se"] += 1
            else:  # a single tail year has no spread to estimate
                assert math.isnan(m["TVaR"][key]["se"])
                compared["nan"] += 1
        # the same through the single-estimator functions
        for q in ODD_LEVELS:
            assert var_se(xs, q, weights).value == _old_var_se(xs, q)[0]
            assert tvar_se(xs, q, weights).value == _old_tvar_se(xs, q)[0]
    if n >= 999:
        assert compared["var_se"] >= 2 * 8 and compared["tvar_se"] >= 2 * 8
    rps = [1.0, 1.5, 2, 10, 25, 200, 1000, n]
    old_ep = {
        "AEP": [_old_var_se(xs, 1 - 1 / rp)[0] for rp in rps],
        "TVaR_AEP": [_old_tvar_se(xs, 1 - 1 / rp)[0] for rp in rps],
        "OEP": [_old_var_se(np.sort(x / 2), 1 - 1 / rp)[0] for rp in rps],
    }
    assert ep_table(x, rps, x / 2) == old_ep
    assert ep_table(x, rps, x / 2, weights=np.ones(n)) == old_ep


def test_honest_precision_on_tiny_samples() -> None:
    """--sims 3: VaR 99.9 % and TVaR have no standard error (they had one, or ± 0, before)."""
    x = np.array([5.0, 1.0, 3.0])
    m = measures(x)
    for key in ("99.9", "99.5", "90"):
        assert m["VaR"][key]["value"] == 5.0 and math.isnan(m["VaR"][key]["se"])
        assert m["TVaR"][key]["value"] == 5.0 and math.isnan(m["TVaR"][key]["se"])
        assert m["tail_years"][key] == 1
    assert _old_tvar_se(np.sort(x), 0.999)[1] == 0.0  # what was shown: "± 0"
    big = _losses("lognormal", 100_000, seed=1)
    m = measures(big)
    assert m["tail_years"] == {"90": 10_000, "95": 5_000, "99": 1_000, "99.5": 500, "99.9": 100}
    assert all(math.isfinite(m[k][key]["se"]) for k in ("VaR", "TVaR") for key in m["VaR"])
    # weighted: no year above VaR (it is the largest loss) leaves nothing to estimate s from
    w = np.array([0.5, 1.0, 1.5])
    mw = measures(x, (0.999,), weights=w)
    assert mw["VaR"]["99.9"]["value"] == 5.0 and math.isnan(mw["VaR"]["99.9"]["se"])
    assert math.isnan(mw["TVaR"]["99.9"]["se"]) and mw["tail_years"]["99.9"] == 1


# ---------------------------------------------------------------------------------------------
# The weighted standard errors reduce to the unweighted ones when w = 1
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("n", "q"), [(1000, 0.99), (4000, 0.995), (20_000, 0.999), (777, 0.9)])
def test_weighted_band_reduces_to_order_statistic_ranks(n: int, q: float) -> None:
    xs = np.sort(_losses("lognormal", n, seed=3))
    r = Ranked.of(xs[::-1], np.ones(n), n)
    up, down, inside = r.band_positions((1 - q) * n, math.sqrt(n * q * (1 - q)))
    lo, hi, inside_ranks = band_ranks(q, n)
    assert inside and inside_ranks
    assert (n - 1 - up, n - 1 - down) == (hi, lo)
    # and the estimated half width, sd(1{L > VaR})·√n, is √(n q (1 − q)) up to n/(n − 1)
    m = int(r.boundary((1 - q) * n)[0])  # the years ranked above VaR's
    assert np.count_nonzero(xs > xs[n - 1 - m]) == m
    p = m / n
    assert p == pytest.approx(1 - q, abs=1 / n)
    assert r.band_half(m) ** 2 == pytest.approx(n * p * (1 - p) * n / (n - 1), rel=1e-12)


@pytest.mark.parametrize(("n", "q"), [(1000, 0.99), (4000, 0.995), (20_000, 0.999), (777, 0.9)])
def test_weighted_tvar_se_reduces_to_unweighted_formula(n: int, q: float) -> None:
    xs = np.sort(_losses("lognormal", n, seed=4))
    k = math.ceil((1 - q) * n - 1e-9)
    t, se_w = Ranked.of(xs[::-1], np.ones(n), n).tvar_se(q)
    old_t, old_se = _old_tvar_se(xs, q)
    var_tail = float(xs[n - k :].var(ddof=1))
    if abs((1 - q) * n - k) < 1e-9:  # (1 − q)·n whole: the same years, the same value
        assert t == pytest.approx(old_t, rel=1e-12)
        # sd(w (L − VaR)⁺)² / ((1 − q)² n) = (Var(tail) + q (TVaR − VaR)²) / (n (1 − q)),
        # up to the degrees of freedom: n − 1 over all years, k − 1 in the tail
        expected = (old_se**2 - var_tail / (k * n * (1 - q))) * n / (n - 1)
        assert se_w**2 == pytest.approx(expected, rel=1e-9)
    assert se_w == pytest.approx(old_se, rel=1.5 / k + 2 / n)


# ---------------------------------------------------------------------------------------------
# Weighted estimates against closed forms
# ---------------------------------------------------------------------------------------------
Q = 0.999


def _is_normal(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """N(0, 1) losses drawn from N(μ, 1), μ = VaR_q, with their likelihood ratios."""
    mu = stats.norm.ppf(Q)
    z = np.random.default_rng(seed).normal(mu, 1.0, n)
    return z, np.exp(-mu * z + mu * mu / 2)


def _is_exponential(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Exp(1) losses drawn from Exp(θ) with mean VaR_q, with their likelihood ratios."""
    theta = 1 / -math.log(1 - Q)
    x = np.random.default_rng(seed).exponential(1 / theta, n)
    return x, np.exp(-(1 - theta) * x) / theta


NORMAL = {"EL": 0.0, "SD": 1.0, "VaR": stats.norm.ppf(Q), "TVaR": stats.norm.pdf(stats.norm.ppf(Q))}
NORMAL["TVaR"] /= 1 - Q
EXPONENTIAL = {"EL": 1.0, "SD": 1.0, "VaR": -math.log(1 - Q), "TVaR": 1 - math.log(1 - Q)}
CASES = [(_is_normal, NORMAL), (_is_exponential, EXPONENTIAL)]


@pytest.mark.parametrize(("draw", "exact"), CASES)
def test_weighted_estimates_match_closed_forms(draw, exact) -> None:
    n = 20_000
    x, w = draw(11, n)
    assert np.mean(w) == pytest.approx(1.0, abs=5 * np.std(w) / math.sqrt(n))
    m = measures(x, (Q,), weights=w)
    key = f"{100 * Q:g}"
    got = {
        "EL": m["EL"],
        "SD": m["SD"],
        "VaR": m["VaR"][key],
        "TVaR": m["TVaR"][key],
    }
    # a shift to the 99.9 % tail of a normal makes the weights' variance e^{μ²} − 1 ≈ 14,000:
    # hopeless for EL and SD (their SEs are then unreliable too), which IS does not aim at;
    # the exponential tilt keeps w ≤ 1/θ, so all four are checked there
    names = ("VaR", "TVaR") if draw is _is_normal else ("EL", "SD", "VaR", "TVaR")
    for name in names:
        est = got[name]
        assert abs(est["value"] - exact[name]) <= 4 * est["se"], (name, est, exact[name])
    # the tail rests on many years although (1 − q)·n = 20
    assert m["tail_years"][key] > 2_000
    # plain Monte Carlo would need over 10× as many years for these standard errors
    for name, plain_se in _plain_se(draw, exact["VaR"], n).items():
        assert (plain_se / got[name]["se"]) ** 2 > 10, (name, plain_se, got[name]["se"])
    # power: the same years without their weights are far off
    unweighted = measures(x, (Q,))
    assert abs(unweighted["VaR"][key]["value"] - exact["VaR"]) > 50 * got["VaR"]["se"]
    # EP points and the tail agree with the measures
    xs_order = np.argsort(x, kind="stable")
    rp = np.array([1 / (1 - Q)])
    assert ep_points(x[xs_order], rp, "AEP", w[xs_order])[0] == got["VaR"]["value"]
    assert ep_points(x[xs_order], rp, "TVaR", w[xs_order])[0] == pytest.approx(
        got["TVaR"]["value"], rel=1e-12
    )
    assert tail(x, Q, w).mean(x) == pytest.approx(got["TVaR"]["value"], rel=1e-12)


def _plain_se(draw, v: float, n: int) -> dict[str, float]:
    """Asymptotic SEs of plain Monte Carlo: √(q(1 − q)/n)/f(VaR), sd((L − VaR)⁺)/((1 − q)√n)."""
    if draw is _is_normal:
        f, tail_p = stats.norm.pdf(v), stats.norm.sf(v)
        m1, m2 = f - v * tail_p, (1 + v * v) * tail_p - v * f  # E(Z − v)⁺, E((Z − v)⁺)²
    else:  # the excess over v is Exp(1)
        f = tail_p = math.exp(-v)
        m1, m2 = tail_p, 2 * tail_p
    return {
        "VaR": math.sqrt(Q * (1 - Q) / n) / f,
        "TVaR": math.sqrt(m2 - m1 * m1) / ((1 - Q) * math.sqrt(n)),
    }


@pytest.mark.slow
@pytest.mark.parametrize(("draw", "exact"), CASES)
def test_weighted_intervals_cover_about_95_percent(draw, exact) -> None:
    seeds, n = 1_000, 2_000
    key = f"{100 * Q:g}"
    hits = {"VaR": 0, "TVaR": 0}
    for seed in range(seeds):
        x, w = draw(seed, n)
        m = measures(x, (Q,), weights=w)
        for name in hits:
            est = m[name][key]
            hits[name] += abs(est["value"] - exact[name]) <= 1.96 * est["se"]
    band = 4 * math.sqrt(0.95 * 0.05 / seeds)  # 4 binomial standard deviations
    for name, h in hits.items():
        assert abs(h / seeds - 0.95) <= band, (name, h / seeds)


def test_weighted_definitions_on_a_hand_computed_sample() -> None:
    """Four years, weights summing to n: VaR, TVaR and the tail by hand."""
    x = np.array([10.0, 40.0, 20.0, 30.0])
    w = np.array([1.6, 0.4, 1.2, 0.8])
    q = 0.75  # tail mass (1 − q)·n = 1: 40 with 0.4, then 30 with 0.6 of its 0.8
    assert var_se(np.sort(x), q, w[np.argsort(x)]).value == 30.0
    t = tvar_se(np.sort(x), q, w[np.argsort(x)]).value
    assert t == pytest.approx((0.4 * 40 + 0.6 * 30) / 1.0, rel=1e-15)
    tl = tail(x, q, w)
    assert tl.index.tolist() == [1, 3] and tl.mass == pytest.approx([0.4, 0.6], rel=1e-15)
    assert tl.var_index == 3 and tl.mean(x) == pytest.approx(t, rel=1e-15)
    assert mean_se(x, w).value == pytest.approx((16 + 16 + 24 + 24) / 4, rel=1e-15)
    # q = 0.95: mass 0.2 < 0.4 of the worst year, which alone is the tail
    assert tvar_se(np.sort(x), 0.95, w[np.argsort(x)]).value == 40.0
    # at q = 0 TVaR is EL = Σ w L / n (weights are not renormalised)
    assert ep_points(np.sort(x), np.array([1.0]), "TVaR", w[np.argsort(x)])[0] == pytest.approx(
        mean_se(x, w).value, rel=1e-15
    )


def test_weighted_sd_matches_closed_form_variance_of_the_estimator() -> None:
    x, w = _is_exponential(5, 50_000)
    est = sd_se(x, w)
    assert abs(est.value - 1.0) <= 4 * est.se
    assert sd_se(x, np.ones(len(x))) == sd_se(x)


# ---------------------------------------------------------------------------------------------
# The tail: the years capital allocation averages over
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(("kind", "n", "q"), [("lognormal", 1001, 0.995), ("ties", 997, 0.99)])
def test_tail_defines_tvar_and_the_var_window(kind: str, n: int, q: float, weighted: bool) -> None:
    x = _losses(kind, n, seed=7)
    w = np.random.default_rng(8).lognormal(-0.125, 0.5, n) if weighted else None
    t = tail(x, q, w)
    m = measures(x, (q,), weights=w)
    key = f"{100 * q:g}"
    assert t.mean(x) == pytest.approx(m["TVaR"][key]["value"], rel=1e-12)
    assert t.mass.sum() == pytest.approx((1 - q) * n, rel=1e-12)
    assert len(t.index) == m["tail_years"][key] == len(set(t.index.tolist()))
    # worst first; among equal losses the lower index first
    keys = list(zip(-x[t.index], t.index, strict=True))
    assert keys == sorted(keys)
    outside = np.setdiff1d(np.arange(n), t.index)
    assert x[outside].max() <= x[t.index].min()
    assert x[t.var_index] == m["VaR"][key]["value"]
    # segment claims: the contributions of a split of the loss add up to TVaR
    split = np.column_stack([0.3 * x, 0.7 * x])
    assert t.mean(split).sum() == pytest.approx(m["TVaR"][key]["value"], rel=1e-12)
    win = x[t.window]
    assert np.all(np.diff(win) <= 0) and win.min() <= x[t.var_index] <= win.max()
    if not weighted:  # the window is the order statistics q·n ± √(n q (1 − q))
        lo, hi, _ = band_ranks(q, n)
        assert np.array_equal(np.sort(win), np.sort(x)[lo : hi + 1])
        assert t.mass.tolist() == [(1 - q) * n / len(t.index)] * len(t.index)
    else:  # the window spans the VaR band: its ends are the band's losses
        xs, ws = np.sort(x), w[np.argsort(x, kind="stable")]
        se = var_se(xs, q, ws).se
        assert (win.max() - win.min()) / 2 == pytest.approx(se, rel=1e-12)


def test_tail_refuses_level_one() -> None:
    with pytest.raises(ValueError, match="level below 1"):
        tail(np.arange(10.0), 1.0)


# ---------------------------------------------------------------------------------------------
# Discrete distributions
# ---------------------------------------------------------------------------------------------
def test_discrete_measures_by_hand() -> None:
    values = np.array([100.0, 0.0, 50.0, 10.0])
    probs = np.array([0.01, 0.9, 0.03, 0.06])
    m = discrete_measures(values, probs, (0.9, 0.95, 0.99, 0.995))
    assert m["EL"] == {"value": pytest.approx(3.1, rel=1e-14), "se": 0.0}
    assert m["SD"]["value"] == pytest.approx(math.sqrt(181 - 3.1**2), rel=1e-14)
    # VaR: smallest value with CDF ≥ q (CDF: 0.9, 0.96, 0.99, 1); 0.99 exactly reaches 50
    assert {k: v["value"] for k, v in m["VaR"].items()} == {
        "90": 0.0,
        "95": 10.0,
        "99": 50.0,
        "99.5": 100.0,
    }
    # TVaR: worst (1 − q) of mass, the boundary atom fractional
    tv = {k: v["value"] for k, v in m["TVaR"].items()}
    assert tv["90"] == pytest.approx((1 + 1.5 + 0.06 * 10) / 0.1, rel=1e-13)
    assert tv["95"] == pytest.approx((1 + 1.5 + 0.01 * 10) / 0.05, rel=1e-13)
    assert tv["99"] == pytest.approx(100.0, rel=1e-13)
    assert tv["99.5"] == 100.0
    assert all(v["se"] == 0.0 for k in ("VaR", "TVaR") for v in m[k].values())
    assert m["capital"] == pytest.approx(100 - 3.1, rel=1e-14)


def test_discrete_agrees_with_the_sample_that_realises_it() -> None:
    """100 years in exact proportions: where (1 − q)·100 is whole, the sample's measures."""
    values = np.array([0.0, 10.0, 50.0, 100.0])
    probs = np.array([0.9, 0.06, 0.03, 0.01])
    sample = np.repeat(values, (probs * 100).round().astype(int))
    levels = (0.5, 0.9, 0.95, 0.97, 0.99)
    d, s = discrete_measures(values, probs, levels), measures(sample, levels)
    for k in ("VaR", "TVaR"):
        for key in d[k]:
            assert d[k][key]["value"] == pytest.approx(s[k][key]["value"], rel=1e-12)
    assert d["EL"]["value"] == pytest.approx(s["EL"]["value"], rel=1e-12)


def test_discrete_refuses_what_is_not_a_distribution() -> None:
    with pytest.raises(ValueError, match="sum to 1"):
        discrete_measures(np.array([1.0, 2.0]), np.array([0.5, 0.4]))
    with pytest.raises(ValueError, match="finite and ≥ 0"):
        discrete_measures(np.array([1.0, 2.0]), np.array([1.5, -0.5]))
    with pytest.raises(ValueError, match="one length"):
        discrete_measures(np.array([1.0, 2.0]), np.array([1.0]))


# ---------------------------------------------------------------------------------------------
# Many levels at once; input checks; overflow; imports
# ---------------------------------------------------------------------------------------------
def test_vectorised_ranks_and_ep_points_match_the_scalar_estimators() -> None:
    xs = np.sort(_losses("lognormal", 3_001, seed=2))
    rps = np.array([1.0, 1.5, 2, 10, 200, 1000, 3001])
    q = 1 - 1 / rps
    assert var_rank(q, len(xs)).tolist() == [var_rank(float(v), len(xs)) for v in q]
    assert tail_count(q, len(xs)).tolist() == [tail_count(float(v), len(xs)) for v in q]
    aep, tv = ep_points(xs, rps), ep_points(xs, rps, "TVaR")
    for i, qi in enumerate(q):
        assert aep[i] == var_se(xs, qi).value
        assert tv[i] == pytest.approx(tvar_se(xs, qi).value, rel=1e-12)
    w = np.random.default_rng(3).lognormal(-0.5, 1.0, len(xs))
    aep_w, tv_w = ep_points(xs, rps, weights=w), ep_points(xs, rps, "TVaR", weights=w)
    for i, qi in enumerate(q):
        assert aep_w[i] == var_se(xs, qi, w).value
        assert tv_w[i] == tvar_se(xs, qi, w).value
    # the floating-point noise of (1 − 0.995)·1000 = 5.000000000000004 adds no sixth year
    assert tail_count(0.995, 1000) == 5 and var_rank(0.995, 1000) == 994


def test_bad_levels_and_weights_are_refused() -> None:
    x = np.arange(10.0)
    with pytest.raises(ValueError, match=r"levels must lie in \[0, 1\]"):
        measures(x, (99.5,))
    with pytest.raises(ValueError, match="expected 10 values"):
        measures(x, weights=np.ones(9))
    with pytest.raises(ValueError, match="row 3"):
        measures(x, weights=np.where(np.arange(10) == 3, np.nan, 1.0))
    with pytest.raises(ValueError, match="finite and ≥ 0"):
        mean_se(x, -np.ones(10))


@pytest.mark.parametrize(
    "x",
    [
        np.array([1e300] * 20 + [0.0] * 80),
        np.array([1.7e308] * 20 + [1.0] * 80),
        np.array([np.inf] * 3 + [1.0] * 97),
        np.array([np.inf, -np.inf] + [1.0] * 98),
    ],
)
@pytest.mark.parametrize("weighted", [False, True])
def test_huge_and_infinite_amounts_never_raise(x: np.ndarray, weighted: bool) -> None:
    """No OverflowError, no numpy warning (pytest turns them into errors): inf or NaN out."""
    w = np.linspace(0.5, 1.5, len(x)) if weighted else None
    m = measures(x, weights=w)
    values = [m["EL"]["value"], m["SD"]["value"], m["capital"]]
    values += [m[k][key][f] for k in ("VaR", "TVaR") for key in m[k] for f in ("value", "se")]
    assert all(isinstance(v, float) for v in values)
    assert m["VaR"]["99.9"]["value"] == np.sort(x)[-1] or weighted
    ep_table(x, [1, 2, 10, 100, 1e9], x, weights=w)
    tail(x, 0.99, w).mean(x)
    discrete_measures(x, np.full(len(x), 1 / len(x)))


def test_the_package_imports_only_numpy_and_the_standard_library() -> None:
    allowed = {"numpy", "math", "dataclasses", "collections", "typing", "__future__"}
    folder = Path(rm.__file__).parent
    seen = set()
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                seen |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                seen.add(node.module.split(".")[0])
    assert "numpy" in seen and seen <= allowed, seen - allowed
