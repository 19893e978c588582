"""Counter-based random numbers (docs/model.md §6).

Every random number is a pure function of (seed, stream, simulation id, entity key, draw index):

* ``stream_key(seed, stream)`` mixes the run's seed with a stream number (one stream per kind of
  draw: factors, political, defaults, LGD, …);
* ``sim_key(stream_key, sim)`` mixes in the simulation id;
* ``draw_state(sim_key, entity)`` mixes in a 64-bit entity key (a stable hash of the entity's
  name, so adding an entity does not move the others' draws) and gives the state of a SplitMix64
  sequence; ``draw_u64(state, j)`` is its j-th output.

The mixer is SplitMix64's finaliser (Stafford's "Mix13"), a bijection of 64-bit integers with full
avalanche. Nothing is stateful, so any block partition, worker count or replay of one simulation
gives the same numbers. The plain twin is :func:`fmix64_np` (vectorised NumPy), which the tests
compare bit for bit.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, uint64

from .special import ndtri

__all__ = [
    "GOLDEN",
    "TWO_M53",
    "STREAM_FACTOR",
    "STREAM_CHI2",
    "STREAM_POL_REGION",
    "STREAM_POL_COUNTRY",
    "STREAM_DEFAULT",
    "STREAM_GROUP",
    "STREAM_LGD",
    "STREAM_IS",
    "STREAM_MONITOR",
    "STREAM_MONITOR_COST",
    "fmix64",
    "fmix64_np",
    "stream_key",
    "sim_key",
    "draw_state",
    "draw_u64",
    "u01_open0",
    "u01",
    "draw_normal",
    "draw_gamma",
    "draw_beta",
    "beta_cheng_bb",
    "cheng_constants",
    "hash_bytes",
    "hash_all",
]

GOLDEN = 0x9E3779B97F4A7C15
_M1 = 0xBF58476D1CE4E5B9
_M2 = 0x94D049BB133111EB

# Streams: one per kind of draw. Changing these changes every result: never renumber.
STREAM_FACTOR = 1
STREAM_CHI2 = 2
STREAM_POL_REGION = 3
STREAM_POL_COUNTRY = 4
STREAM_DEFAULT = 5
STREAM_GROUP = 6
STREAM_LGD = 7
STREAM_IS = 8  # importance sampling: the mixture component of a year
STREAM_MONITOR = 9  # dynamic limit management: defaulted buyers' review paths and signals
STREAM_MONITOR_COST = 10  # dynamic limit management: buyers sampled for the turnover lost

TWO_M53 = 1.0 / 9007199254740992.0  # 2**-53
_TWO_M53 = TWO_M53


@njit(cache=True)
def fmix64(z):
    """SplitMix64 finaliser: a 64-bit bijection with full avalanche."""
    z = uint64(z)
    z = (z ^ (z >> uint64(30))) * uint64(_M1)
    z = (z ^ (z >> uint64(27))) * uint64(_M2)
    return z ^ (z >> uint64(31))


def fmix64_np(z: np.ndarray) -> np.ndarray:
    """Plain NumPy twin of :func:`fmix64` (uint64 arrays, wrap-around arithmetic)."""
    z = np.asarray(z, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(_M1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(_M2)
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def stream_key(seed, stream):
    """Key of one stream of a run: mixes the seed and the stream number."""
    return fmix64(
        fmix64(uint64(seed) ^ uint64(0x5851F42D4C957F2D)) + uint64(stream) * uint64(GOLDEN)
    )


@njit(cache=True)
def sim_key(skey, sim):
    """Key of one simulation within a stream."""
    return fmix64(skey + (uint64(sim) + uint64(1)) * uint64(0xD1B54A32D192ED03))


@njit(cache=True)
def draw_state(skey_sim, entity):
    """SplitMix64 state of an entity's draws in one simulation of one stream."""
    return fmix64(skey_sim ^ uint64(entity))


@njit(cache=True)
def draw_u64(state, j):
    """The j-th 64-bit output (j = 0, 1, …) of the SplitMix64 sequence started at ``state``."""
    return fmix64(state + (uint64(j) + uint64(1)) * uint64(GOLDEN))


@njit(cache=True)
def u01_open0(x):
    """Map 64 random bits to a double in (0, 1] (never 0: safe for logarithms)."""
    return (float(x >> uint64(11)) + 1.0) * _TWO_M53


@njit(cache=True)
def u01(x):
    """Map 64 random bits to a double in [0, 1)."""
    return float(x >> uint64(11)) * _TWO_M53


@njit(cache=True)
def draw_normal(state, j):
    """Standard normal from the j-th draw of ``state`` (by inversion, so one uniform per normal)."""
    return ndtri(u01_open0(draw_u64(state, j)) - 0.5 * _TWO_M53)


@njit(cache=True)
def draw_gamma(shape, state, j0):
    """Gamma(shape, 1) by Marsaglia and Tsang (2000), using draws j0, j0+1, … of ``state``.

    Shapes below 1 use Gamma(shape + 1)·U^(1/shape). Returns ``(value, next_j)``.
    """
    j = j0
    boost = 1.0
    a = shape
    if a < 1.0:
        u = u01_open0(draw_u64(state, j))
        j += 1
        boost = math.exp(math.log(u) / a)
        a += 1.0
    d = a - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        x = draw_normal(state, j)
        j += 1
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = u01_open0(draw_u64(state, j))
        j += 1
        x2 = x * x
        if u < 1.0 - 0.0331 * x2 * x2:
            return d * v * boost, j
        if math.log(u) < 0.5 * x2 + d * (1.0 - v + math.log(v)):
            return d * v * boost, j


def cheng_constants(a0: float, b0: float) -> tuple[float, float, float, float]:
    """Set-up constants (a, b, beta, gamma) of Cheng's algorithm BB for Beta(a0, b0), min > 1."""
    a = min(a0, b0)
    b = max(a0, b0)
    alpha = a + b
    beta = math.sqrt((alpha - 2.0) / (2.0 * a * b - alpha))
    return a, b, beta, a + 1.0 / beta


@njit(cache=True)
def beta_cheng_bb(a, b, beta, gamma, flip, state):
    """Beta(a0, b0), min(a0, b0) > 1, by Cheng's algorithm BB (Comm. ACM 21, 1978).

    ``a, b, beta, gamma`` come from :func:`cheng_constants` (a = min, b = max of the shapes);
    ``flip`` is true when a0 > b0. Rejection from a log-logistic envelope; acceptance is at
    least 0.9 and most candidates pass the first, logarithm-free squeeze.
    """
    alpha = a + b
    j = 0
    while True:
        u1 = u01_open0(draw_u64(state, j)) - 0.5 * _TWO_M53  # in (0, 1)
        u2 = u01_open0(draw_u64(state, j + 1))
        j += 2
        v = beta * math.log(u1 / (1.0 - u1))
        w = a * math.exp(v)
        z = u1 * u1 * u2
        r = gamma * v - 1.3862943611198906  # log 4
        s = a + r - w
        if s + 2.6094379124341003 >= 5.0 * z:  # 1 + log 5
            break
        t = math.log(z)
        if s >= t:
            break
        if r + alpha * math.log(alpha / (b + w)) >= t:
            break
    if flip:
        return b / (b + w)
    return w / (b + w)


@njit(cache=True)
def _beta_cheng_bb(a0, b0, state):
    a = min(a0, b0)
    b = max(a0, b0)
    alpha = a + b
    beta = math.sqrt((alpha - 2.0) / (2.0 * a * b - alpha))
    return beta_cheng_bb(a, b, beta, a + 1.0 / beta, a0 > b0, state)


@njit(cache=True)
def draw_beta(alpha, beta, state):
    """Beta(alpha, beta) from the draws of ``state``.

    Cheng's algorithm BB when both shapes exceed 1 (the usual LGD case); otherwise X/(X+Y) with
    independent gammas.
    """
    if alpha > 1.0 and beta > 1.0:
        return _beta_cheng_bb(alpha, beta, state)
    x, j = draw_gamma(alpha, state, 0)
    y, j = draw_gamma(beta, state, j)
    return x / (x + y)


@njit(cache=True)
def hash_bytes(data, start, stop, salt):
    """64-bit hash of ``data[start:stop]`` (FNV-1a over bytes, then a SplitMix64 finaliser)."""
    h = uint64(0xCBF29CE484222325) ^ fmix64(uint64(salt))
    for k in range(start, stop):
        h = (h ^ uint64(data[k])) * uint64(0x100000001B3)
    return fmix64(h ^ uint64(stop - start))


@njit(cache=True)
def hash_all(offsets, data, salt, out):
    """``out[i]`` = :func:`hash_bytes` of ``data[offsets[i]:offsets[i + 1]]`` (string keys)."""
    for i in range(out.shape[0]):
        out[i] = hash_bytes(data, offsets[i], offsets[i + 1], salt)
