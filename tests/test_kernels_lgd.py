"""The tabulated beta LGD (``kernels.losses.lgd_tabulated``, built by ``portfolio.pack``).

* **Exact to the stated tolerance**: at 200,000 random 64-bit draws and at the extreme ones (the
  smallest and largest uniforms, both sides of ½) the table's LGD equals SciPy's beta quantile at
  the same uniform — computed here from the same integer bits — within 1e-12 absolute, and the
  tabulated tail (the LGD below u = ½, one minus it above) within 1e-11 relative: deterministic,
  not statistical. A table built with a wrong shape, or with the tails swapped, fails it.
* **The beta law** of keyed draws (the kernel's random-number chain, fixed seeds): Kolmogorov–
  Smirnov and seven quantiles within their order-statistic bands (``check_quantiles``); a 10 %
  larger sd is rejected (power).
* Which classes are tabulated: every beta law of a book with at most ``LGD_TAB_MAX_CLASSES``;
  a law no table reaches the tolerance for, and every law of a book with more classes, keep the
  exact samplers (Cheng's BB, two gammas); a fixed LGD stays fixed.
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit
from scipy import special, stats

from reference.laws import check_quantiles
from reference.testing import ALPHA, family_k
from riskengine.kernels.losses import lgd_of, lgd_tabulated
from riskengine.kernels.portfolio import LGD_CHENG, LGD_FIXED, LGD_GAMMAS, LGD_TABLE
from riskengine.kernels.rng import STREAM_LGD, draw_state, sim_key, stream_key
from riskengine.portfolio.pack import LGD_TAB_MAX_CLASSES, lgd_classes, quantile_table
from riskengine.portfolio.resolve import beta_shapes

U64 = np.uint64
#: (mean, sd): the sample book's two most common laws (one with β < 1), U-shaped (α, β < 1),
#: skewed with α < 1, concentrated (large shapes), near the upper end.
LAWS = [(0.6, 0.25), (0.775, 0.25), (0.5, 0.4), (0.2, 0.3), (0.45, 0.02), (0.9, 0.05)]


def _classes(laws: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    mu = np.array([m for m, _ in laws])
    a, b, bad = beta_shapes(mu, np.array([s for _, s in laws]))
    assert not bad.any()
    table, _, tab = lgd_classes(mu, a, b)
    return table, tab


@njit
def _at_bits(tab, cls, bits):
    out = np.empty(bits.shape[0])
    for i in range(bits.shape[0]):
        out[i] = lgd_tabulated(tab, cls, bits[i])
    return out


@njit
def _keyed(tab, cls, skey, n):
    """LGDs of one buyer (entity key 7) in simulations 0 … n − 1, as the kernel draws them."""
    out = np.empty(n)
    for s in range(n):
        out[s] = lgd_of(tab, cls, draw_state(sim_key(skey, s), U64(7)))
    return out


def _bits(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2**64, n, dtype=np.uint64, endpoint=False)
    half, top = 1 << 52, (1 << 53) - 1
    ends = [0, 1, 2, half - 1, half, half + 1, top - 1, top]  # 53-bit values at the ends and ½
    extreme = np.array([(m << 11) | low for m in ends for low in (0, 2047)], dtype=np.uint64)
    return np.concatenate([bits, extreme])


def _exact(a: float, b: float, bits: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SciPy's beta quantile at the uniform of ``bits`` (u = (m + ½) 2⁻⁵³), computed on the tail
    probability t = min(u, 1 − u), exact from the integers; returns (LGD, tail value, upper)."""
    m = bits >> U64(11)
    upper = m >= U64(1 << 52)
    n = np.where(upper, U64((1 << 53) - 1) - m, m)
    t = (U64(2) * n + U64(1)).astype(np.float64) * 2.0**-54
    y = np.where(upper, special.betaincinv(b, a, t), special.betaincinv(a, b, t))
    return np.where(upper, 1.0 - y, y), y, upper


def _tail_error(got: np.ndarray, y: np.ndarray, upper: np.ndarray) -> float:
    """Largest relative error of the tabulated tail (LGD below ½, one minus it above)."""
    got_y = np.where(upper, 1.0 - got, got)
    close = np.abs(got_y - y) <= 1e-11 * y  # values far below 1e-11 relative need no rounding
    rel = np.abs(got_y - y) / np.maximum(y, 1e-300)
    # 1 − LGD rounds to the double grid near 1: there, judge the LGD itself (absolute)
    return float(np.max(np.where(upper & (y < 1e-4), 0.0, np.where(close, 0.0, rel))))


def test_tabulated_lgd_equals_the_beta_quantile_to_the_tolerance():
    table, tab = _classes(LAWS)
    bits = _bits(200_000, seed=5)
    assert np.all(table["method"] == LGD_TABLE)
    for rec in table:
        got = _at_bits(tab, rec, bits)
        exact, y, upper = _exact(rec["alpha"], rec["beta"], bits)
        assert np.all((got >= 0.0) & (got <= 1.0))
        assert np.max(np.abs(got - exact)) <= 1e-12, (rec["mean"], rec["alpha"], rec["beta"])
        assert _tail_error(got, y, upper) <= 1e-11, (rec["mean"], rec["alpha"], rec["beta"])
        # the extreme uniforms reach beyond the quantiles at 1e-15 and 1 − 1e-15
        assert got[-16] < special.betaincinv(rec["alpha"], rec["beta"], 1e-15)
        assert 1.0 - got[-1] < special.betaincinv(rec["beta"], rec["alpha"], 1e-15)
    # power: the same check rejects a table of a slightly different law, and swapped tails
    rec = table[0]
    wrong, wrong_tab = _classes([(0.6, 0.25 * 1.001)])
    got = _at_bits(wrong_tab, wrong[0], bits)
    assert np.max(np.abs(got - _exact(rec["alpha"], rec["beta"], bits)[0])) > 1e-6
    fit = quantile_table(rec["alpha"], rec["beta"])
    assert fit is not None
    half = len(fit[0]) // 2
    swapped = np.ascontiguousarray(np.concatenate([fit[0][half:], fit[0][:half]]))
    swap_rec = table[0:1].copy()[0]
    swap_rec["tab_row0"] = 0
    got = _at_bits(swapped, swap_rec, bits)
    assert np.max(np.abs(got - _exact(rec["alpha"], rec["beta"], bits)[0])) > 0.1


@pytest.mark.slow
def test_keyed_tabulated_lgds_follow_the_beta_law():
    n = 200_000
    table, tab = _classes(LAWS)
    kf = family_k(len(LAWS))
    qs = [0.001, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999]
    for i, ((mu, sd), rec) in enumerate(zip(sorted(LAWS), table, strict=True)):
        assert np.isclose(rec["mean"], mu)
        x = _keyed(tab, rec, U64(stream_key(U64(1000 + i), STREAM_LGD)), n)
        law = stats.beta(rec["alpha"], rec["beta"])
        assert stats.kstest(x, law.cdf).pvalue > ALPHA / len(LAWS), (mu, sd)
        assert not check_quantiles(x, law.ppf, qs, k=family_k(len(LAWS) * len(qs))), (mu, sd)
        assert abs(x.mean() - mu) <= kf * sd / np.sqrt(n)
        # power: a beta with a 10 % larger sd is rejected
        k2 = mu * (1 - mu) / (1.1 * sd) ** 2 - 1
        assert stats.kstest(x, stats.beta(mu * k2, (1 - mu) * k2).cdf).pvalue < ALPHA, (mu, sd)


def test_which_lgd_classes_are_tabulated():
    # fixed LGDs stay fixed; beta laws are tabulated
    mu = np.array([0.5, 0.5, 0.3])
    a, b, _ = beta_shapes(mu, np.array([0.0, 0.25, 0.2]))
    table, cls, tab = lgd_classes(mu, a, b)
    assert list(table["method"]) == [LGD_TABLE, LGD_FIXED, LGD_TABLE]  # sorted by (mean, α, β)
    assert cls.tolist() == [1, 2, 0]
    rows = 2 * 53 * (2 ** table["tab_k"][0] + 2 ** table["tab_k"][2])
    assert tab.shape == (rows, 8) and table["tab_row0"][2] == 2 * 53 * 2 ** table["tab_k"][0]
    # a law no table of at most 64 intervals a bucket fits keeps its exact sampler
    assert quantile_table(0.02, 0.02) is None
    table, _, _ = lgd_classes(np.array([0.5]), np.array([0.02]), np.array([0.02]))
    assert table["method"][0] == LGD_GAMMAS
    # a book with more distinct laws than LGD_TAB_MAX_CLASSES keeps the exact samplers
    n = LGD_TAB_MAX_CLASSES + 1
    mu = np.linspace(0.3, 0.6, n)
    a, b, _ = beta_shapes(mu, np.full(n, 0.2))
    table, _, tab = lgd_classes(mu, a, b)
    assert np.all(table["method"] == LGD_CHENG) and len(tab) == 0
