"""Portfolio-wide limits: the Rockafellar–Uryasev LP (riskengine.limits.portfolio).

The optimum is checked against a case solved by hand, against a plain dense LP written here from
the textbook (every year, α free, no segment fixed in advance), and its TVaR constraint with the
project's estimator (riskengine.measures.tvar_se). LP optima agree to the solvers' tolerances
(1e-7 relative at most), far inside the 1e-6 the tests allow and far from any real difference.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import sparse
from scipy.optimize import linprog

import riskengine.limits.portfolio as lp_mod
from riskengine.limits import (
    FRONTIER_SCHEMA,
    SEGMENT_SCHEMA,
    LimitsError,
    efficient_frontier,
    limits_problem,
    solve_limits,
)
from riskengine.measures import tail_count, tvar_se

#: Relative agreement of two LP optima (HiGHS' default tolerances are 1e-7 absolute on scaled
#: problems): the optimum is unique up to this.
RTOL = 1e-6


def book(n: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Segment claims with a common factor and heavy tails, some zero; premiums and ELs.

    Margins P (1 − e) − EL with e = 0.25 range from −30 % to +60 % of EL: some segments lose.
    """
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(n)
    load = rng.uniform(0.2, 0.8, m)
    latent = load * z[:, None] + np.sqrt(1 - load**2) * rng.standard_normal((n, m))
    size = rng.lognormal(0.0, 0.7, m)
    losses = size * np.maximum(latent - 0.5, 0.0) ** 2
    el = losses.mean(axis=0)
    premium = el * rng.uniform(0.7, 1.6, m) / 0.75
    return losses, premium, el


def tvar(problem, x: np.ndarray) -> float:
    """TVaR_q of Σ x_j L_j by the project's estimator (sorted, weights in the same order)."""
    y = np.asarray(problem.losses @ x)
    order = np.argsort(y)
    w = None if problem.weights is None else problem.weights[order]
    return tvar_se(y[order], problem.level, w).value


def reference_lp(
    losses: np.ndarray,
    margin: np.ndarray,
    appetite: float,
    lower: np.ndarray,
    upper: np.ndarray,
    mass: float,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """The textbook Rockafellar–Uryasev LP, dense, on every year: (x, optimal profit).

    max Σ x_j margin_j  s.t.  u_s ≥ Σ_j x_j L[s, j] − α, u_s ≥ 0, α free,
    α + Σ_s w_s u_s / mass ≤ appetite, lower ≤ x ≤ upper.
    """
    n, m = losses.shape
    w = np.ones(n) if weights is None else weights
    c = np.concatenate([-margin, [0.0], np.zeros(n)])
    a = np.zeros((n + 1, m + 1 + n))
    a[:n, :m] = losses
    a[:n, m] = -1.0
    a[:n, m + 1 :] = -np.eye(n)
    a[n, m] = 1.0
    a[n, m + 1 :] = w / mass
    b = np.concatenate([np.zeros(n), [appetite]])
    bounds = [(lo, hi) for lo, hi in zip(lower, upper, strict=True)]
    bounds += [(None, None)] + [(0.0, None)] * n
    res = linprog(c, A_ub=a, b_ub=b, bounds=bounds, method="highs")
    assert res.status == 0, res.message
    return res.x[:m], -res.fun


def assert_meets(problem, sol) -> None:
    """The solution's TVaR (project estimator) ≤ appetite, equal to it when the appetite binds."""
    t = tvar(problem, sol.scale)
    assert t == pytest.approx(sol.tvar.value, rel=1e-12)
    assert t <= sol.appetite
    if sol.binding:
        assert t == pytest.approx(sol.appetite, rel=1e-9)
    assert np.all(sol.scale >= problem.lower) and np.all(sol.scale <= problem.upper)


# --------------------------------------------------------------------------------------------
# Known answers
# --------------------------------------------------------------------------------------------

#: Two segments, four years, q = 0.5 (TVaR = mean of the 2 worst years).
HAND_LOSSES = np.array([[10.0, 0.0], [0.0, 10.0], [6.0, 6.0], [0.0, 0.0]])
#: EL = (4, 4) (the sample means); with e = 0.2 the margins P (1 − e) − EL are (3, 2).
HAND_PREMIUM = np.array([8.75, 7.5])


def test_two_segments_solved_by_hand() -> None:
    # Year claims 10a, 10b, 6a + 6b, 0: TVaR = max over pairs of their mean = max(5a + 5b,
    # 8a + 3b, 3a + 8b). Max 3a + 2b with TVaR ≤ 9: the vertex 8a + 3b = 3a + 8b = 9, a = b =
    # 9/11, where (3, 2) = 18/55 (8, 3) + 7/55 (3, 8) with both multipliers > 0: optimal, profit
    # 45/11. The bounds [0, 1.5] do not bind there.
    problem = limits_problem(HAND_LOSSES, HAND_PREMIUM, expense_share=0.2, level=0.5)
    np.testing.assert_allclose(problem.el, [4.0, 4.0])
    np.testing.assert_allclose(problem.margin, [3.0, 2.0])
    for method in ("tail", "full"):
        sol = solve_limits(problem, 9.0, method=method)
        np.testing.assert_allclose(sol.scale, [9 / 11, 9 / 11], rtol=1e-9)
        assert sol.profit == pytest.approx(45 / 11, rel=1e-9)
        assert sol.binding
        assert_meets(problem, sol)
        # λ = 18/55 + 7/55 = 5/11 a unit of TVaR; the two pairs' multipliers weigh the tail
        # years 0, 1, 2 by 18/50, 7/50, 1/2: contributions a (10·18/50 + 6/2) = 5.4 and
        # b (10·7/50 + 6/2) = 3.6, each earning λ per unit (3a / 5.4 = 2b / 3.6 = 5/11).
        assert sol.shadow_price == pytest.approx(5 / 11, rel=1e-9)
        np.testing.assert_allclose(sol.frame["tvar_contribution"], [5.4, 3.6], rtol=1e-9)
    # TVaR ≤ 20: both at the upper bound 1.5 (TVaR 8 × 1.5 + 3 × 1.5 = 16.5), not binding
    sol = solve_limits(problem, 20.0)
    np.testing.assert_array_equal(sol.scale, [1.5, 1.5])
    assert not sol.binding and sol.profit == pytest.approx(7.5) and sol.shadow_price == 0
    assert sol.tvar.value == pytest.approx(16.5)
    # years 2 and 0 are the 2 worst (0 before 1 on the tie): 1.5 (6 + 10)/2, 1.5 (6 + 0)/2
    np.testing.assert_allclose(sol.frame["tvar_contribution"], [12.0, 4.5])
    # TVaR ≤ 6 with b ≥ 0.6 (a = b = 6/11 < 0.6 is no longer allowed): along 3a + 8b = 6, a
    # gains 3 × 8/3 = 8 for the 2 that b loses, so b sits at 0.6 and a = (6 − 4.8)/3 = 0.4 (8a
    # + 3b = 5 and 5a + 5b = 5 are slack); KKT: (3, 2) = 1·(3, 8) − 6·(0, 1). Profit 2.4.
    low = limits_problem(HAND_LOSSES, HAND_PREMIUM, expense_share=0.2, level=0.5, lower=[0.0, 0.6])
    sol = solve_limits(low, 6.0)
    np.testing.assert_allclose(sol.scale, [0.4, 0.6], rtol=1e-9)
    assert sol.profit == pytest.approx(2.4, rel=1e-9)
    assert_meets(low, sol)


def test_loss_making_segment_cut_to_its_lower_bound_first() -> None:
    losses, _, el = book(400, 5, seed=3)
    # P (1 − e) / EL with e = 0.25: segment 2 loses 10 % of its EL, the others earn
    premium = el * np.array([1.5, 1.4, 0.9, 1.3, 1.6]) / 0.75
    lower = np.array([0.2, 0.2, 0.4, 0.2, 0.2])
    problem = limits_problem(losses, premium, el, expense_share=0.25, lower=lower, level=0.95)
    assert problem.margin[2] < 0 and np.all(np.delete(problem.margin, 2) > 0)
    floor, top = tvar(problem, lower), tvar(problem, problem.optimum_unconstrained())
    before = 0
    for a in np.linspace(floor, 1.2 * top, 25)[1:]:
        sol = solve_limits(problem, a)
        assert sol.scale[2] == lower[2]
        # binding, yet every profitable segment still above its lower bound: the loss-making
        # one went down first (as the appetite falls, segment 1 is the next, around 0.77 top)
        before += sol.binding and bool(np.all(np.delete(sol.scale - lower, 2) > 0))
        # the plain LP (nothing fixed in advance) finds the same profit and cuts it too
        x, profit = reference_lp(
            losses, problem.margin, a, lower, problem.upper, tail_count(0.95, 400)
        )
        assert sol.profit == pytest.approx(profit, rel=RTOL)
        assert x[2] == pytest.approx(lower[2], abs=1e-7)
    assert before >= 4


def test_huge_appetite_takes_every_profitable_segment_to_its_upper_bound() -> None:
    losses, premium, el = book(500, 6, seed=4)
    premium[[1, 4]] = 0.8 * el[[1, 4]] / 0.75
    upper = np.array([1.5, 1.2, 2.0, 1.1, 1.5, 1.3])
    problem = limits_problem(losses, premium, el, expense_share=0.25, upper=upper)
    sol = solve_limits(problem, 1e12)
    profitable = problem.margin > 0
    assert profitable.sum() == 4
    np.testing.assert_array_equal(sol.scale[profitable], upper[profitable])
    np.testing.assert_array_equal(sol.scale[~profitable], 0.0)
    assert not sol.binding and sol.rounds == 0
    assert sol.profit == pytest.approx(float(problem.margin[profitable] @ upper[profitable]))
    assert_meets(problem, sol)


# --------------------------------------------------------------------------------------------
# Against the plain LP
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "m", "level", "seed"),
    [(400, 4, 0.95, 1), (450, 6, 0.99, 2), (1000, 8, 0.995, 5), (600, 3, 0.9, 6)],
)
def test_optimum_equals_the_plain_lp(n: int, m: int, level: float, seed: int) -> None:
    # (1 − q)·n = 4.5 for (450, 0.99): the project's TVaR averages the ⌈4.5⌉ = 5 worst years,
    # and so must the LP.
    losses, premium, el = book(n, m, seed)
    problem = limits_problem(losses, premium, el, expense_share=0.25, level=level)
    top = tvar(problem, problem.optimum_unconstrained())
    rounds = []
    for share in (0.2, 0.5, 0.8):
        a = share * top
        _, profit = reference_lp(
            losses, problem.margin, a, problem.lower, problem.upper, tail_count(level, n)
        )
        sols = [solve_limits(problem, a, method=mth) for mth in ("tail", "full")]
        for sol in sols:
            assert sol.binding
            assert sol.profit == pytest.approx(profit, rel=RTOL)
            assert_meets(problem, sol)
        np.testing.assert_allclose(sols[0].scale, sols[1].scale, atol=1e-6)
        rounds.append(sols[0].rounds)
    assert all(r >= 1 for r in rounds)


def test_working_set_grows_until_the_tail_is_in_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # Start from a single year: the set must grow over several rounds to the same optimum.
    losses, premium, el = book(2000, 10, seed=8)
    problem = limits_problem(losses, premium, el, expense_share=0.25, level=0.99)
    a = 0.4 * tvar(problem, problem.optimum_unconstrained())
    full = solve_limits(problem, a, method="full")
    monkeypatch.setattr(lp_mod, "_first_years", lambda problem, prog: np.array([0]))
    sol = solve_limits(problem, a)
    assert sol.rounds >= 2 and sol.years < 2000
    assert sol.profit == pytest.approx(full.profit, rel=RTOL)
    assert_meets(problem, sol)
    # and when it stops early, all years at once
    monkeypatch.setattr(lp_mod, "MAX_ROUNDS", 1)
    sol = solve_limits(problem, a)
    # every year with a claim of a profitable segment (the others are fixed at 0)
    claims = np.count_nonzero(losses[:, problem.margin > 0].any(axis=1))
    assert sol.rounds == 2 and sol.years == claims < 2000
    assert sol.profit == pytest.approx(full.profit, rel=RTOL)


def test_weighted_years_equal_the_replicated_sample() -> None:
    # Weights 0.5 and 1.5, half each (mean 1): year s weighted w_s is worth 2 w_s copies of it in
    # a sample of 2n years. Tail masses (1 − q)·n = 20 and ⌈(1 − q)·2n⌉ = 40 match.
    n, level = 400, 0.95
    losses, premium, el = book(n, 5, seed=9)
    w = np.random.default_rng(10).permutation(np.repeat([0.5, 1.5], n // 2))
    copies = (2 * w).astype(int)
    weighted = limits_problem(losses, premium, el, expense_share=0.25, level=level, weights=w)
    replicated = limits_problem(
        np.repeat(losses, copies, axis=0), premium, el, expense_share=0.25, level=level
    )
    # the default EL is the weighted mean, the same in both
    np.testing.assert_allclose(
        limits_problem(losses, premium, weights=w).el,
        limits_problem(np.repeat(losses, copies, axis=0), premium).el,
        rtol=1e-12,
    )
    top = tvar(weighted, weighted.optimum_unconstrained())
    assert top == pytest.approx(tvar(replicated, replicated.optimum_unconstrained()), rel=1e-12)
    for share in (0.3, 0.7):
        a, b = (solve_limits(p, share * top) for p in (weighted, replicated))
        assert a.binding and b.binding
        assert a.profit == pytest.approx(b.profit, rel=RTOL)
        np.testing.assert_allclose(a.scale, b.scale, atol=1e-6)
        assert a.tvar.value == pytest.approx(b.tvar.value, rel=1e-9)
        assert_meets(weighted, a)
        assert_meets(replicated, b)
        np.testing.assert_allclose(
            a.frame["tvar_contribution"], b.frame["tvar_contribution"], rtol=1e-6
        )


def test_weighted_fractional_tail_against_the_plain_lp() -> None:
    # Random weights: the tail's boundary year enters fractionally, mass (1 − q)·n = 7.5.
    n, level = 750, 0.99
    losses, premium, el = book(n, 4, seed=11)
    w = np.random.default_rng(12).gamma(4.0, 0.25, n)
    problem = limits_problem(losses, premium, el, expense_share=0.25, level=level, weights=w)
    a = 0.5 * tvar(problem, problem.optimum_unconstrained())
    _, profit = reference_lp(
        losses, problem.margin, a, problem.lower, problem.upper, (1 - level) * n, w
    )
    sol = solve_limits(problem, a)
    assert sol.profit == pytest.approx(profit, rel=RTOL)
    assert_meets(problem, sol)


# --------------------------------------------------------------------------------------------
# Outputs
# --------------------------------------------------------------------------------------------


def test_segment_frame() -> None:
    losses, premium, el = book(800, 5, seed=13)
    exposure = np.array([100.0, 200.0, 50.0, 80.0, 10.0])
    labels = ["DE", "FR", "CN", "US", "BR"]
    problem = limits_problem(
        losses, premium, el, expense_share=0.25, level=0.99, segments=labels, exposure=exposure
    )
    a = 0.5 * tvar(problem, problem.optimum_unconstrained())
    sol = solve_limits(problem, a)
    f = sol.frame
    assert f.schema == SEGMENT_SCHEMA
    assert f["segment"].to_list() == labels
    x = sol.scale
    np.testing.assert_array_equal(f["scale"], x)
    np.testing.assert_allclose(f["limit"], x * exposure)
    np.testing.assert_allclose(f["el"], x * el)
    np.testing.assert_allclose(f["premium"], x * premium)
    np.testing.assert_allclose(f["profit"], x * (0.75 * premium - el))
    assert f["profit"].sum() == pytest.approx(sol.profit)
    # contributions: x_j × mean of L_j over the k = 8 worst years of the optimised portfolio
    y = losses @ x
    worst = np.argsort(-y, kind="stable")[: tail_count(0.99, 800)]
    assert len(worst) == 8 and y[worst[-1]] > np.sort(y)[-9]  # no tie at the boundary
    np.testing.assert_allclose(f["tvar_contribution"], x * losses[worst].mean(axis=0), rtol=1e-12)
    assert f["tvar_contribution"].sum() == pytest.approx(sol.tvar.value, rel=1e-12)
    # exposure unknown: limits unknown
    plain = solve_limits(limits_problem(losses, premium, el, expense_share=0.25, level=0.99), a)
    assert plain.frame["limit"].is_nan().all()


@pytest.mark.parametrize("share", [0.3, 0.6])
def test_shadow_price_and_contributions_at_the_optimum(share: float) -> None:
    # The KKT conditions, read off the output: λ is the frontier's slope, and each segment
    # strictly between its bounds earns λ per unit of TVaR contribution (≥ λ at its upper bound).
    losses, premium, el = book(2000, 10, seed=21)
    problem = limits_problem(losses, premium, el, expense_share=0.25, level=0.99)
    a = share * tvar(problem, problem.optimum_unconstrained())
    sol = solve_limits(problem, a)
    lam, x = sol.shadow_price, sol.scale
    c, profit = sol.frame["tvar_contribution"].to_numpy(), sol.frame["profit"].to_numpy()
    assert lam > 0 and np.all(c >= 0)
    assert c.sum() == pytest.approx(sol.tvar.value, rel=1e-9)
    inside = (x > problem.lower) & (x < problem.upper)
    at_upper = x == problem.upper
    assert inside.sum() >= 2 and at_upper.sum() >= 1
    np.testing.assert_allclose(profit[inside] / c[inside], lam, rtol=1e-6)
    assert np.all(profit[at_upper] >= lam * c[at_upper] * (1 - 1e-6))
    # the slope: the frontier is piecewise linear, so close to a it is λ on both sides (the
    # last-digit step of the appetite costs 1e-12 of profit, 1e-8 of a slope over h = 1e-4 a);
    # farther, concavity keeps the chords on either side of λ
    for h, rtol in ((1e-4, 1e-6), (0.2, None)):
        up = (solve_limits(problem, a * (1 + h)).profit - sol.profit) / (a * h)
        down = (sol.profit - solve_limits(problem, a * (1 - h)).profit) / (a * h)
        if rtol is None:
            assert up <= lam * (1 + 1e-9) and down >= lam * (1 - 1e-9)
            assert down - up > 1e-3 * lam  # the chords see a bend: the check is not vacuous
        else:
            assert up == pytest.approx(lam, rel=rtol) and down == pytest.approx(lam, rel=rtol)


def test_sparse_input_gives_the_dense_answer() -> None:
    losses, premium, el = book(600, 6, seed=14)
    assert (losses == 0).mean() > 0.3  # really sparse
    dense = limits_problem(losses, premium, el, expense_share=0.25, level=0.98)
    sp = limits_problem(sparse.csr_matrix(losses), premium, el, expense_share=0.25, level=0.98)
    assert sp.losses.nnz == np.count_nonzero(losses)
    a = 0.5 * tvar(dense, dense.optimum_unconstrained())
    s1, s2 = solve_limits(dense, a), solve_limits(sp, a)
    np.testing.assert_array_equal(s1.scale, s2.scale)


def test_zero_margin_segment_stays_at_its_lower_bound() -> None:
    losses, premium, el = book(400, 4, seed=15)
    premium[1] = el[1] / 0.75  # breaks even
    problem = limits_problem(losses, premium, el, expense_share=0.25, level=0.95, lower=0.3)
    assert problem.margin[1] == pytest.approx(0.0, abs=1e-12 * el[1])
    for a in (0.5 * tvar(problem, np.full(4, 1.5)), 1e9):
        assert solve_limits(problem, a).scale[1] == 0.3


def test_frontier_is_non_decreasing_and_concave() -> None:
    losses, premium, el = book(1500, 8, seed=16)
    problem = limits_problem(losses, premium, el, expense_share=0.25, level=0.99)
    f = efficient_frontier(problem, points=15)
    assert f.schema == FRONTIER_SCHEMA and f.height == 15
    a, p = f["appetite"].to_numpy(), f["profit"].to_numpy()
    assert a[0] == 0.0 and p[0] == pytest.approx(0.0, abs=1e-9)  # lower bounds 0: no risk
    assert a[-1] == pytest.approx(tvar(problem, problem.optimum_unconstrained()))
    assert f["binding"].to_list() == [True] * 14 + [False]
    np.testing.assert_allclose(f["tvar"], a, rtol=1e-9)
    scale = p[-1]
    d = np.diff(p)
    assert np.all(d >= -1e-9 * scale)
    dd = np.diff(d)  # equal steps: concave iff the second differences are ≤ 0
    assert np.all(dd <= 1e-7 * scale)
    assert dd.min() < -1e-3 * scale  # it bends: the check above is not vacuous
    # the shadow price is the slope: falling, and each chord lies between the slopes at its ends
    # (at the first point, the least appetite, only the slope to the right exists: NaN)
    lam = f["shadow_price"].to_numpy()
    assert math.isnan(lam[0]) and lam[-1] == 0.0 and np.all(np.diff(lam[1:]) <= 1e-9 * lam[1])
    step = np.diff(a)[1:]
    assert np.all(d[1:] <= lam[1:-1] * step * (1 + 1e-6))
    assert np.all(d[1:] >= lam[2:] * step * (1 - 1e-6))
    # each point is the optimum at its appetite
    for i in (3, 9):
        assert p[i] == pytest.approx(solve_limits(problem, a[i], method="full").profit, rel=RTOL)
    # explicit appetites beyond the unconstrained optimum: flat
    g = efficient_frontier(problem, [2 * a[-1], a[-1] * 3, a[7]])
    assert g["appetite"].to_list() == sorted(g["appetite"].to_list())
    assert g["profit"][1] == g["profit"][2] == pytest.approx(p[-1])


# --------------------------------------------------------------------------------------------
# Refusals
# --------------------------------------------------------------------------------------------


def test_appetite_below_what_the_lower_bounds_allow() -> None:
    problem = limits_problem(HAND_LOSSES, HAND_PREMIUM, expense_share=0.2, level=0.5, lower=0.5)
    floor = tvar(problem, problem.lower)
    assert floor == pytest.approx(5.5)  # max(5, 5.5, 5.5) at a = b = 0.5
    assert solve_limits(problem, floor).scale.tolist() == [0.5, 0.5]
    with pytest.raises(LimitsError) as e:
        solve_limits(problem, 5.0)
    msg = str(e.value)
    assert "appetite" in msg and "lower bound" in msg and "5.50" in msg and "5.00" in msg
    with pytest.raises(LimitsError, match="appetite"):
        efficient_frontier(problem, [4.0, 8.0])
    with pytest.raises(LimitsError, match="appetite"):
        solve_limits(limits_problem(HAND_LOSSES, HAND_PREMIUM), -1.0)


def test_bad_inputs_are_all_reported() -> None:
    losses = HAND_LOSSES.copy()
    losses[1, 0] = -1.0
    losses[3, 1] = math.nan
    with pytest.raises(LimitsError) as e:
        limits_problem(
            losses,
            [1.0, -2.0],
            expense_share=1.0,
            lower=[0.5, 1.0],
            upper=[1.0, 0.5],
            level=1.0,
            weights=[1.0, 1.0, -1.0, math.inf],
            segments=["DE", "FR"],
        )
    problems = e.value.problems
    text = str(e.value)
    assert len(problems) == 7, text
    for piece in (
        "losses[DE]",
        "losses[FR]",
        "year 1",
        "year 3",
        "'premium'",
        "FR",
        "'expense_share'",
        "'upper'",
        "'level'",
        "'weights'",
        "2 rows",
    ):
        assert piece in text, piece
    with pytest.raises(LimitsError, match="one per segment"):
        limits_problem(HAND_LOSSES, [1.0, 2.0, 3.0])
    with pytest.raises(LimitsError, match="labels"):
        limits_problem(HAND_LOSSES, [1.0, 2.0], segments=["DE"])
    with pytest.raises(LimitsError, match="unique"):
        limits_problem(HAND_LOSSES, [1.0, 2.0], segments=["DE", "DE"])
    with pytest.raises(LimitsError, match="table"):
        limits_problem(np.ones(4), [1.0])
    with pytest.raises(ValueError, match="method"):
        solve_limits(limits_problem(HAND_LOSSES, HAND_PREMIUM), 9.0, method="simplex")
