"""The kernels' random numbers and special functions against their plain twins and known laws.

* ``fmix64`` and the whole key chain (``stream_key`` → ``sim_key`` → ``draw_state`` → ``draw_u64``)
  against NumPy twins written here from docs/model.md §6 and the module docstring, bit for bit;
* ``ndtri``/``norm_cdf`` against SciPy's ``ndtri``/``ndtr`` with relative error bounds stated in
  units of the double epsilon (deterministic, not statistical);
* ``hash_strings`` against a pure-Python FNV-1a + SplitMix64 twin, a pinned value, salts, and
  independence of the position in the list (also for sliced and chunked Arrow buffers);
* uniforms: Pearson chi-square uniformity and correlation across consecutive simulations,
  entities and draw indices;
* ``draw_normal``/``draw_gamma``/``draw_beta`` against SciPy laws (Kolmogorov–Smirnov);
* the geometric-skip default draw of one cell with R² = 0: Binomial(n, pd) counts, uniform
  marginals and pairwise independence.

Statistical tests use fixed seeds and reject at ``k_sigma_alpha(K)`` (K = 4: 6.3e-5); where one
test is really m tests, each uses the two-sided level α/m so that the family's false-alarm rate is
still α (``family_k``). Each statistical test also shows that a plausible mistake is rejected.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from numba import njit
from scipy import special, stats

from reference.model import homogeneous_book
from reference.testing import ALPHA, K, binom_se, chi_square_pvalue, family_k, segment_matrix
from riskengine.kernels.rng import (
    GOLDEN,
    STREAM_DEFAULT,
    STREAM_LGD,
    draw_beta,
    draw_gamma,
    draw_normal,
    draw_state,
    draw_u64,
    fmix64,
    fmix64_np,
    sim_key,
    stream_key,
    u01,
    u01_open0,
)
from riskengine.kernels.special import ndtri, norm_cdf
from riskengine.portfolio.keys import hash_strings
from riskengine.run.simulate import simulate
from riskengine.scenario import parse_scenario

EPS = np.finfo(np.float64).eps
U64 = np.uint64
MASK64 = (1 << 64) - 1


# -------------------------------------------------------------------------------------------------
# jitted drivers (plain loops over the kernels' scalar functions)
# -------------------------------------------------------------------------------------------------
def _elementwise(f):
    """A jitted loop applying the scalar kernel function ``f`` to each element of a 1-D array."""

    @njit
    def apply(x):
        out = np.empty_like(x)
        for i in range(x.size):
            out[i] = f(x[i])
        return out

    return apply


_fmix_all = _elementwise(fmix64)
_ndtri_all = _elementwise(ndtri)
_cdf_all = _elementwise(norm_cdf)


@njit
def _chain(seed, stream, sims, entities, n_j):
    """draw_u64 of (seed, stream, sim, entity, j) for sims × entities × j."""
    out = np.empty((sims.size, entities.size, n_j), dtype=np.uint64)
    sk = stream_key(seed, stream)
    for a in range(sims.size):
        k = sim_key(sk, sims[a])
        for b in range(entities.size):
            st = draw_state(k, entities[b])
            for j in range(n_j):
                out[a, b, j] = draw_u64(st, j)
    return out


@njit
def _map_u01(x):
    out = np.empty((x.size, 2))
    for i in range(x.size):
        out[i, 0] = u01(x[i])
        out[i, 1] = u01_open0(x[i])
    return out


@njit
def _normals(seed, n):
    out = np.empty(n)
    sk = stream_key(seed, STREAM_LGD)
    for s in range(n):
        out[s] = draw_normal(draw_state(sim_key(sk, s), 99), 0)
    return out


@njit
def _gammas(shape, seed, n):
    out = np.empty(n)
    sk = stream_key(seed, STREAM_LGD)
    for s in range(n):
        out[s], _ = draw_gamma(shape, draw_state(sim_key(sk, s), 7), 0)
    return out


@njit
def _betas(a, b, seed, n):
    out = np.empty(n)
    sk = stream_key(seed, STREAM_LGD)
    for s in range(n):
        out[s] = draw_beta(a, b, draw_state(sim_key(sk, s), 11))
    return out


# -------------------------------------------------------------------------------------------------
# NumPy / pure-Python twins written from the documented contract
# -------------------------------------------------------------------------------------------------
def _wrap(x: int) -> np.uint64:
    return U64(x & MASK64)


def _fmix_py(z: int) -> int:
    """SplitMix64 finaliser in Python integers (a third, independent implementation)."""
    z &= MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def _chain_py(seed: int, stream: int, sim: int, entity: int, j: int) -> int:
    sk = _fmix_py(_fmix_py(seed ^ 0x5851F42D4C957F2D) + stream * GOLDEN)
    k = _fmix_py(sk + (sim + 1) * 0xD1B54A32D192ED03)
    st = _fmix_py(k ^ entity)
    return _fmix_py(st + (j + 1) * GOLDEN)


def _hash_py(s: str, salt: int) -> int:
    """FNV-1a 64 over the UTF-8 bytes, seeded with fmix64(salt), then fmix64(h ^ length)."""
    data = s.encode("utf-8")
    h = 0xCBF29CE484222325 ^ _fmix_py(salt)
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & MASK64
    return _fmix_py(h ^ len(data))


# =================================================================================================
# fmix64 and the key chain
# =================================================================================================
def test_fmix64_equals_numpy_twin_bit_for_bit():
    gen = np.random.default_rng(1)
    z = np.concatenate(
        [
            np.array(
                [0, 1, 2, GOLDEN, MASK64, MASK64 - 1, 1 << 63, (1 << 63) - 1], dtype=np.uint64
            ),
            gen.integers(0, MASK64, size=100_000, dtype=np.uint64, endpoint=True),
            np.arange(1000, dtype=np.uint64),  # consecutive small integers: the weakest inputs
        ]
    )
    np.testing.assert_array_equal(_fmix_all(z), fmix64_np(z))
    # the scalar entry point from Python, and a third implementation in Python integers
    for v in z[:30].tolist():
        assert (
            int(fmix64(U64(v))) == int(fmix64_np(np.array([v], dtype=np.uint64))[0]) == _fmix_py(v)
        )
    # a bijection: no collisions among 100k distinct inputs
    uz = np.unique(z)
    assert np.unique(fmix64_np(uz)).size == uz.size
    assert (
        fmix64_np(np.array([0], dtype=np.uint64))[0] == 0
    )  # the finaliser's fixed point (why keys add constants)


def test_key_chain_equals_python_twin():
    sims = np.array([0, 1, 2, 999, 10**9, 2**40], dtype=np.int64)
    ents = np.array([0, 1, 2, 0x62, GOLDEN, MASK64], dtype=np.uint64)
    for seed, stream in [(0, 1), (20261128, STREAM_DEFAULT), (2**63 - 1, STREAM_LGD)]:
        got = _chain(U64(seed), U64(stream), sims, ents, 3)
        for a, s in enumerate(sims.tolist()):
            for b, e in enumerate(ents.tolist()):
                for j in range(3):
                    assert int(got[a, b, j]) == _chain_py(seed, stream, s, e, j), (
                        seed,
                        stream,
                        s,
                        e,
                        j,
                    )


def test_u01_maps_the_top_53_bits():
    x = np.array([0, 1 << 11, MASK64, MASK64 - (1 << 11) + 1, 1 << 63], dtype=np.uint64)
    m = _map_u01(x)
    np.testing.assert_array_equal(m[:, 0], [0.0, 2.0**-53, 1 - 2.0**-53, 1 - 2.0**-53, 0.5])
    np.testing.assert_array_equal(m[:, 1], [2.0**-53, 2 * 2.0**-53, 1.0, 1.0, 0.5 + 2.0**-53])
    assert np.all(m[:, 1] > 0)  # (0, 1]: safe for log


# =================================================================================================
# special functions
# =================================================================================================
def test_ndtri_matches_scipy_over_both_tails():
    # AS 241 is accurate to about 1e-16 relative; scipy's ndtri (Cephes) to a few ulp. Bound: 8 ulp
    # of the exact quantile, over p from 1e-300 to 1 − 1e-16 (where the double grid allows).
    p = np.concatenate(
        [
            np.logspace(-300, -1, 60_001),
            np.linspace(0.1, 0.9, 20_001),
            1 - np.logspace(-16, -1, 10_001),
            [np.nextafter(0.5, 1), np.nextafter(0.5, 0), 0.5 + 1e-12],
        ]
    )
    got, want = _ndtri_all(p), special.ndtri(p)
    nz = want != 0
    rel = np.abs(got[nz] - want[nz]) / np.abs(want[nz])
    assert rel.max() <= 8 * EPS, (rel.max() / EPS, p[nz][rel.argmax()])
    assert _ndtri_all(np.array([0.5]))[0] == 0.0
    # edges: 0 → −inf, 1 → +inf, outside [0, 1] and NaN → NaN
    edge = _ndtri_all(np.array([0.0, 1.0, -1e-300, 1.0 + EPS, np.nan]))
    assert edge[0] == -np.inf and edge[1] == np.inf and np.isnan(edge[2:]).all()
    # symmetry Φ⁻¹(1 − p) = −Φ⁻¹(p): up to 8 ulp each, plus the rounding of 1 − p (≤ ε/2,
    # which moves the quantile by ≤ ε/(2φ(x)))
    q = np.linspace(0.01, 0.49, 4801)
    x = _ndtri_all(q)
    assert np.all(
        np.abs(_ndtri_all(1 - q) + x) <= 16 * EPS * np.abs(x) + EPS / (2 * stats.norm.pdf(x))
    )


def test_norm_cdf_matches_scipy_with_full_relative_accuracy_in_the_lower_tail():
    # Φ has relative condition number |x·φ(x)/Φ(x)| ≈ 1 + x² in the lower tail: rounding x·√½
    # alone costs ~x² ulp. Bound: 8·ε·(1 + x²), down to Φ(x) ≈ 1e-300 (x = −37).
    x = np.concatenate([np.linspace(-37.0, 8.5, 200_001), [-1e-300, 0.0, 1e-300]])
    got, want = _cdf_all(x), special.ndtr(x)
    rel = np.abs(got - want) / want
    bound = 8 * EPS * (1 + x * x)
    assert np.all(rel <= bound), (rel / bound).max()
    assert want[0] < 1e-298  # the tail is really reached
    assert _cdf_all(np.array([0.0]))[0] == 0.5
    # the round trip at the probabilities the engine uses: Φ(Φ⁻¹(p)) = p
    p = np.logspace(-300, math.log10(0.5), 3001)
    xs = _ndtri_all(p)
    assert np.all(np.abs(_cdf_all(xs) - p) <= 16 * EPS * (1 + xs * xs) * p)


# =================================================================================================
# string keys
# =================================================================================================
def test_hash_strings_matches_python_twin_and_is_pinned():
    words = ["", "a", "B1", "DE", "Western Europe", "B0000001", "ünïcødé 北京", "x" * 300]
    for salt in (0, 0x62, 0x63, 0x67, 0x72, 0x73, MASK64):
        got = hash_strings(words, salt)
        assert got.dtype == np.uint64
        assert [int(v) for v in got] == [_hash_py(w, salt) for w in words], salt
    # pinned: part of the random-number contract (a change would change every simulated result)
    assert int(hash_strings(["B1"], 0x62)[0]) == 0xF62E02CF62A46CD1
    assert int(hash_strings(["riskengine"], 0x62)[0]) == 0xBCC55F92E6B0B373


def test_hash_strings_salt_and_position_independence():
    ids = [f"B{i:05d}" for i in range(2000)]
    a = hash_strings(ids, 0x62)
    assert np.unique(a).size == a.size  # no collisions
    assert not np.any(a == hash_strings(ids, 0x63))  # another salt (entity kind): other keys
    # the key of a string does not depend on its position or on the other strings
    rev = hash_strings(ids[::-1], 0x62)[::-1]
    np.testing.assert_array_equal(a, rev)
    np.testing.assert_array_equal(hash_strings(["zz", *ids[5:9]], 0x62)[1:], a[5:9])
    # every input form gives the same keys: list, NumPy, a Polars slice (Arrow offset), chunks
    s = pl.Series(ids)
    np.testing.assert_array_equal(hash_strings(np.array(ids, dtype=object), 0x62), a)
    np.testing.assert_array_equal(hash_strings(s.slice(700, 50), 0x62), a[700:750])
    chunked = pl.concat([s.slice(0, 1000), s.slice(1000, 1000)], rechunk=False)
    assert chunked.n_chunks() == 2
    np.testing.assert_array_equal(hash_strings(chunked, 0x62), a)
    np.testing.assert_array_equal(hash_strings(s.cast(pl.Categorical).cast(pl.String), 0x62), a)
    with pytest.raises(ValueError, match="null"):
        hash_strings(pl.Series(["a", None]), 0x62)


# =================================================================================================
# uniforms
# =================================================================================================
def test_uniforms_are_uniform_and_uncorrelated():
    sims, bins = 100_000, 1000
    # entity keys as the engine uses them (hashes) and the weakest possible ones (0, 1, 2, …)
    ents = np.concatenate(
        [hash_strings([f"B{i}" for i in range(4)], 0x62), np.arange(4, dtype=np.uint64)]
    )
    x = _chain(U64(20261128), U64(STREAM_DEFAULT), np.arange(sims, dtype=np.int64), ents, 3)
    u = _map_u01(x.ravel())[:, 0].reshape(x.shape)  # [sims, entities, j]

    # 1. uniformity: all 2.4M uniforms in 1000 equal bins, and each (entity, j) stream on its own
    flat = u.ravel()
    counts = np.bincount((flat * bins).astype(np.int64), minlength=bins)
    assert chi_square_pvalue(counts, np.full(bins, 1 / bins)) > ALPHA
    m = u.shape[1] * u.shape[2]
    a_each = ALPHA / m
    for e in range(u.shape[1]):
        for j in range(u.shape[2]):
            c = np.bincount((u[:, e, j] * 100).astype(np.int64), minlength=100)
            assert chi_square_pvalue(c, np.full(100, 0.01)) > a_each, (e, j)
    # power: a 2 % tilt of the density (u → u^1.02) is rejected by the pooled test
    tilted = np.bincount((flat**1.02 * bins).astype(np.int64), minlength=bins)
    assert chi_square_pvalue(tilted, np.full(bins, 1 / bins)) < ALPHA

    # 2. correlations, each estimated from ≥ 100k pairs with se ≈ 1/√n under independence:
    # consecutive simulations, consecutive entity keys (0,1,2,3 and hashed), consecutive draws j
    pairs = []
    for e in range(u.shape[1]):
        for j in range(u.shape[2]):
            pairs.append((u[:-1, e, j], u[1:, e, j]))  # sim s vs s + 1
        for j in range(u.shape[2] - 1):
            pairs.append((u[:, e, j], u[:, e, j + 1]))  # draw j vs j + 1
    for e in range(u.shape[1] - 1):
        pairs.append((u[:, e, 0], u[:, e + 1, 0]))  # entity e vs e + 1
    pairs.append((u[:, 0, 0], u[:, 4, 0]))  # a hashed key vs key 0
    kf = family_k(len(pairs))
    for a, b in pairs:
        r = np.corrcoef(a, b)[0, 1]
        assert abs(r) <= kf / math.sqrt(a.size), r
    # power: the bound is ≤ 0.02, so a correlation of 0.02 between neighbours would be caught
    assert kf / math.sqrt(sims - 1) < 0.02
    # lag-1 serial pairs as a 2-D histogram (catches non-linear dependence correlation misses)
    g = 20
    idx = (u[:-1, 0, 0] * g).astype(np.int64) * g + (u[1:, 0, 0] * g).astype(np.int64)
    assert chi_square_pvalue(np.bincount(idx, minlength=g * g), np.full(g * g, 1 / g**2)) > ALPHA


@pytest.mark.slow
def test_draw_normal_gamma_and_beta_follow_scipy_laws():
    n = 50_000
    z = _normals(U64(3), n)
    assert stats.kstest(z, stats.norm.cdf).pvalue > ALPHA
    assert stats.kstest(z, stats.norm(0.05).cdf).pvalue < ALPHA  # power: a 0.05 shift is rejected
    # shapes below 1 (boosted: Gamma(a + 1)·U^(1/a)), 1, and above; dof/2 of the t copula
    for i, shape in enumerate((0.3, 0.9, 1.0, 2.0, 2.5, 7.0)):
        x = _gammas(shape, U64(100 + i), n)
        assert np.all(x > 0)
        assert stats.kstest(x, stats.gamma(shape).cdf).pvalue > ALPHA, shape
        # power: a 4 % error in the shape, or (shape < 1) forgetting the boost, is rejected
        assert stats.kstest(x, stats.gamma(shape * 1.04).cdf).pvalue < ALPHA, shape
        if shape < 1:
            assert stats.kstest(x, stats.gamma(shape + 1).cdf).pvalue < ALPHA
    # beta LGDs: (mean, sd) → (a, b) as compile does, including a, b < 1 (U-shaped)
    for i, (mu, sd) in enumerate(((0.5, 0.25), (0.45, 0.2), (0.2, 0.3), (0.9, 0.05))):
        k = mu * (1 - mu) / sd**2 - 1
        a, b = mu * k, (1 - mu) * k
        x = _betas(a, b, U64(200 + i), n)
        assert np.all((x >= 0) & (x <= 1))
        assert stats.kstest(x, stats.beta(a, b).cdf).pvalue > ALPHA, (mu, sd)
        assert abs(x.mean() - mu) <= K * sd / math.sqrt(n)
        # power: a beta with a 10 % larger sd is rejected
        k2 = mu * (1 - mu) / (1.1 * sd) ** 2 - 1
        assert stats.kstest(x, stats.beta(mu * k2, (1 - mu) * k2).cdf).pvalue < ALPHA, (mu, sd)


# =================================================================================================
# the geometric-skip default draw of one cell
# =================================================================================================
@pytest.mark.slow
def test_geometric_skips_in_a_cell_without_factor_give_binomial_defaults():
    n, pd, sims = 30, 0.1, 100_000
    # n buyers in one cell (same country, sector, PD, R² = 0), each under its own policy, LGD 1
    book = homogeneous_book(n, pd, 0.0, own_policies=True)
    sc = parse_scenario({"outputs": {"segments": ["policy"]}})
    res = simulate(book, sc, sims=sims, seed=424242, block_size=25_000)
    assert (
        res.compiled.n_cells == 1 and res.compiled.n_units == n
    )  # one cell: the skip path is used
    d = res.ylt["n_defaults"].to_numpy()
    counts = np.bincount(d, minlength=n + 1)
    assert chi_square_pvalue(counts, stats.binom.pmf(np.arange(n + 1), n, pd)) > ALPHA
    # power: a 3 % error in p, or an off-by-one losing the last unit (Binomial(n − 1, p)), is
    # rejected
    assert chi_square_pvalue(counts, stats.binom.pmf(np.arange(n + 1), n, 1.03 * pd)) < ALPHA
    assert chi_square_pvalue(counts, stats.binom.pmf(np.arange(n + 1), n - 1, pd)) < ALPHA

    # which units default: every buyer with probability pd, independently of the others
    x = segment_matrix(res, "policy", res.compiled.buyer_ids.tolist()) > 0  # [sims, buyer code]
    np.testing.assert_array_equal(x.sum(1), d)
    kf = family_k(n)
    assert np.all(np.abs(x.mean(0) - pd) <= kf * binom_se(pd, sims)), x.mean(0)
    # pairs, in particular neighbours in the kernel's unit order (where a skip bug would show)
    m = x.astype(np.float64)
    joint = (m.T @ m) / sims
    iu = np.triu_indices(n, 1)
    p2 = pd * pd
    kf = family_k(iu[0].size)
    assert np.all(np.abs(joint[iu] - p2) <= kf * binom_se(p2, sims))
    order = res.compiled.kernel.unit_members  # buyer codes in unit order (one buyer per unit)
    adj = (x[:, order[:-1]] & x[:, order[1:]]).mean(0)
    kf = family_k(n - 1)
    assert np.all(np.abs(adj - p2) <= kf * binom_se(p2, sims)), adj
    # the bound is tight enough: a neighbour correlation of 0.1 (joint p² + 0.1·p(1 − p)) would fail
    assert 0.1 * pd * (1 - pd) > kf * binom_se(p2, sims)


def test_cells_with_pd_near_one_or_tiny():
    # the forced defaults of the hand-computed years (test_engine_terms) rely on this
    n, sims = 50, 2000
    sc = parse_scenario({"outputs": {"segments": []}})
    d = (
        simulate(homogeneous_book(n, 0.999999, 0.0), sc, sims=sims, seed=1)
        .ylt["n_defaults"]
        .to_numpy()
    )
    # buyer-years without default ~ Poisson(n·sims·1e-6 = 0.1): at most its (1 − α)-quantile
    assert (n - d).sum() <= stats.poisson.isf(ALPHA, n * sims * 1e-6)
    low = (
        simulate(homogeneous_book(n, 1e-9, 0.0), sc, sims=sims, seed=1).ylt["n_defaults"].to_numpy()
    )
    assert low.sum() <= stats.poisson.isf(ALPHA, n * sims * 1e-9)  # i.e. 0
