"""Dynamic limit management: reviews during the year, and limits cut before buyers default.

docs/model.md §10. A buyer's latent value X(t) = √R² Z(t) + √(1 − R²) ε(t) is a standard
Brownian motion over the year; X(1) is the year's latent variable of the default model (default
iff X(1) < θ, θ the year's threshold: the contagion PD's in an event year, scaled by √(W/ν)
under the Student-t copula). Given the year's systematic draws, X(1) = θ + σ (ε − c) with c the
cell's conditional threshold (default iff ε < c) and σ the idiosyncratic weight.

* **Defaulted buyers** (after the cells' geometric skips, which never draw ε): ε is drawn from
  its law given default, a normal truncated below c, on the monitoring stream keyed by the buyer;
  the path is a Brownian bridge from 0 to X(1) sampled at the reviews t_k = k / R,
  k = 1 … R − 1 (normals by a ziggurat). At each review the insurer sees X(t_k) + noise · N(0, 1)
  and estimates the PD of the rest of the year p̂ = Φ((θ − signal) / √(1 − t_k)); the first review
  with p̂ ≥ the trigger (max(trigger_pd, trigger_multiple · pd)) cuts the limit, effective at
  τ = t_k + notice. Reviews whose cut could only take effect at or after year end are not tested
  (they change nothing). The path is walked backwards from year end and stops at the first cut
  among the reviews whose cut leaves every exposure at cut_to (earlier cuts give the same loss):
  :func:`_loss_cut`. Defaults and LGDs are those of the run without monitoring (own streams).
* **Exposure at default** of a commercial loss: EAD₀ × max(cut_to, min(max((τ − (1 − T)) / T, 0),
  1)) with T the exposure's payment term in years (receivables outstanding at default are the
  last T of sales; shipments after τ keep the outstanding within the cut limit); EAD₀ when τ ≥ 1.
  Political losses are not changed by cuts. ``loss_avoided`` is the ground-up difference.
* **Turnover lost** on buyers that do not default: each year ``mon_sample`` buyers are drawn with
  probability proportional to their insured turnover (a keyed uniform against the cumulative
  turnover, searched through a guide table); for each that did not default, ε is drawn from its
  law given no default (a normal truncated above c) and its reviews walked forwards to the first
  cut; a cut at τ < 1 loses (1 − cut_to)(1 − τ) of its turnover. The year's estimate is the
  book's turnover × the sample's mean loss: unbiased, at a cost of ``mon_sample`` paths a year
  whatever the book's size.

Buyers of a heterogeneous group share their ε in the default model; their review paths are drawn
as if independent (each given its own default). Defaults happen at year end in the model, which
makes the loss avoided an upper estimate.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .rng import TWO_M53, draw_state, draw_u64, sim_key, u01, u01_open0
from .special import ndtri, norm_cdf

__all__ = [
    "monitor_defaults",
    "monitor_turnover",
    "ead_factor",
    "reset_monitoring",
    "zig_normal",
    "ZIG_R",
]

#: Layers of the ziggurat and the start of its tail (Marsaglia and Tsang's 256-layer normal).
ZIG_LAYERS = 256
ZIG_R = 3.6541528853610088
#: Extra uniforms of one normal (rejections, tail) are drawn at index j + c · ZIG_EXTRA, c ≥ 1.
ZIG_EXTRA = 1 << 32


def _ziggurat_tables(n: int = ZIG_LAYERS, r: float = ZIG_R) -> tuple[np.ndarray, np.ndarray]:
    """Edges x[0 … n] of the ziggurat's layers under f(x) = exp(−x²/2), and f at them.

    Every layer has area v = r f(r) + ∫_r^∞ f: the base strip (width x[0] = v / f(r), of which
    [0, r] lies under f and the rest stands for the tail), then rectangles [0, x[i]] × [f(x[i]),
    f(x[i+1])] with x[1] = r and x[n] = 0.
    """
    f = lambda x: math.exp(-0.5 * x * x)  # noqa: E731
    v = r * f(r) + math.sqrt(math.pi / 2) * math.erfc(r / math.sqrt(2))
    x = np.zeros(n + 1)
    x[0], x[1] = v / f(r), r
    for i in range(1, n - 1):
        x[i + 1] = math.sqrt(-2.0 * math.log(v / x[i] + f(x[i])))
    return x, np.exp(-0.5 * x * x)


_ZX, _ZF = _ziggurat_tables()


@njit(cache=True)
def zig_normal(state, j):
    """A standard normal from draw ``j`` of ``state`` by the ziggurat (exact; about 99 % of
    normals take one 64-bit draw: 8 bits choose the layer, the top 53 the abscissa and its sign).
    Rejections and the tail draw further uniforms at j + c · ZIG_EXTRA, c = 1, 2, …"""
    bits = draw_u64(state, j)
    c = 0
    while True:
        i = int(bits & np.uint64(0xFF))
        x = (2.0 * u01(bits) - 1.0) * _ZX[i]
        if abs(x) < _ZX[i + 1]:
            return x
        if i == 0:  # the tail beyond r (Marsaglia's exponential rejection)
            while True:
                c += 1
                a = -math.log(u01_open0(draw_u64(state, j + c * ZIG_EXTRA))) / ZIG_R
                c += 1
                b = -math.log(u01_open0(draw_u64(state, j + c * ZIG_EXTRA)))
                if 2.0 * b >= a * a:
                    return ZIG_R + a if x >= 0.0 else -(ZIG_R + a)
        c += 1
        y = _ZF[i + 1] + (_ZF[i] - _ZF[i + 1]) * u01(draw_u64(state, j + c * ZIG_EXTRA))
        if y < math.exp(-0.5 * x * x):
            return x
        c += 1
        bits = draw_u64(state, j + c * ZIG_EXTRA)


@njit(cache=True)
def _threshold(P, S, cell):
    """θ: the cell's default threshold this year (contagion in an event year; Student-t scaled)."""
    thr = P.cell_thr1[cell] if S.ev[P.cell_country[cell]] else P.cell_thr0[cell]
    return S.scale * thr


@njit(cache=True)
def _first_cut(P, state, j0, theta, x1, z_trig):
    """When the first review's cut takes effect (inf: no cut effective within the year) for a
    path bridging 0 to ``x1``, simulated forwards; review k draws its path's normal at j0 + 2k
    and its signal's noise at j0 + 1 + 2k of ``state``. The reviews and their bridge
    coefficients come precomputed (``P.mon_table``); the walk ends at the first review whose
    cut could only take effect at or after year end (the later ones cannot either).
    """
    table = P.mon_table
    noise = P.mon_noise
    x = 0.0
    for k in range(P.mon_reviews):
        if table[k, 6] == 0.0:
            break
        x += (x1 - x) * table[k, 1] + table[k, 2] * zig_normal(state, j0 + 2 * k)
        signal = x
        if noise > 0.0:
            signal += noise * zig_normal(state, j0 + 1 + 2 * k)
        if signal <= theta - z_trig * table[k, 3]:
            return table[k, 0] + P.mon_notice
    return math.inf


@njit(cache=True)
def _loss_cut(P, state, theta, x1, z_trig, early):
    """A defaulted buyer's cut time as its loss sees it: the path simulated backwards from
    ``x1`` at year end (the same bridge, the same draws per review as :func:`_first_cut` with
    j0 = 1).

    Reviews at t ≤ ``early`` (their cut takes effect a payment term or more before year end)
    all leave every exposure at ``cut_to``: once one of them cuts, the earlier ones cannot
    change the loss, and the walk stops there with that review's time. Otherwise the earliest
    later review that cuts gives the time (inf: none). Defaults are mostly caught late in the
    year, so walking back from year end finds them after a few reviews. Reviews whose cut could
    only take effect at or after year end move the path but are not tested (so a longer notice
    sees the same path: year by year it never avoids more).
    """
    table = P.mon_table
    noise = P.mon_noise
    x = x1
    tau = math.inf
    for k in range(P.mon_reviews - 1, -1, -1):
        x -= x * table[k, 4] - table[k, 5] * zig_normal(state, 1 + 2 * k)
        if table[k, 6] == 0.0:
            continue
        signal = x
        if noise > 0.0:
            signal += noise * zig_normal(state, 2 + 2 * k)
        if signal <= theta - z_trig * table[k, 3]:
            tau = table[k, 0] + P.mon_notice
            if table[k, 0] <= early:
                return tau
    return tau


@njit(cache=True)
def _early_end(P, br):
    """The last review time whose cut leaves every exposure of buyer record ``br`` at
    ``cut_to`` (its effect at least the longest payment term before year end), minus a margin
    against rounding."""
    term = 0.0
    for e in range(br.exp_start, br.exp_end):
        t = P.exp_rec[e].term
        if t > term:
            term = t
    return 1.0 - term - P.mon_notice - 1e-9


@njit(cache=True)
def monitor_defaults(P, S, s):
    """Each defaulted buyer's cut time as its loss sees it (``S.dl_cut``, see
    :func:`_loss_cut`), the defaults caught and the flags of defaulted buyers (``S.b_def``)."""
    key = sim_key(S.key_monitor, s)
    dl_b, dl_cut, b_def = S.dl_b, S.dl_cut, S.b_def
    buyer_cell, buyer_rec, cell_c, inv_sig = P.buyer_cell, P.buyer_rec, S.cell_c, P.cell_inv_sigma
    caught = 0
    last = -1
    c = p = theta = 0.0
    for k in range(S.nd):
        b = dl_b[k]
        b_def[b] = 1
        cell = buyer_cell[b]
        if cell != last:  # a cell's defaults come one after the other: Φ(c) once per cell
            last = cell
            c = cell_c[cell]
            p = norm_cdf(c)
            theta = _threshold(P, S, cell)
        br = buyer_rec[b]
        state = draw_state(key, br.key)
        u = u01_open0(draw_u64(state, 0)) - 0.5 * TWO_M53  # in (0, 1)
        eps = ndtri(u * p) if p > 0.0 else c
        if eps > c:  # rounding at the truncation point
            eps = c
        x1 = theta + (eps - c) / inv_sig[cell]
        tau = _loss_cut(P, state, theta, x1, P.mon_z[cell], _early_end(P, br))
        dl_cut[k] = tau
        if tau < 1.0:
            caught += 1
    S.n_caught = caught


@njit(cache=True)
def ead_factor(P, tau, term):
    """The share of an exposure's EAD left at default when its limit is cut at ``tau``."""
    if tau >= 1.0:
        return 1.0
    f = (tau - (1.0 - term)) / term if term > 0.0 else 1.0
    f = min(max(f, 0.0), 1.0)
    return max(P.mon_cut_to, f)


@njit(cache=True)
def monitor_turnover(P, S, s):
    """The year's estimate of the insured turnover lost to cuts on buyers that do not default."""
    m = P.mon_sample
    cum = P.mon_cum_turnover
    if m == 0 or cum.shape[0] == 0 or P.mon_turnover <= 0.0:
        return 0.0
    key = sim_key(S.key_monitor_cost, s)
    buyer_cell, cell_c, inv_sig, b_def = P.buyer_cell, S.cell_c, P.cell_inv_sigma, S.b_def
    guide = P.mon_guide
    size = guide.shape[0] - 1
    lost = 0.0
    for j in range(m):
        state = draw_state(key, np.uint64(j))
        u = u01(draw_u64(state, 0))
        # the first buyer whose cumulative turnover exceeds u × total: searched only between
        # the guide table's neighbours (the same buyer as a search of the whole table)
        g = int(u * size)
        lo, hi = guide[g], guide[g + 1]
        b = lo + np.searchsorted(cum[lo:hi], u * P.mon_turnover, side="right")
        if b >= cum.shape[0]:
            b = cum.shape[0] - 1
        if b_def[b]:
            continue
        cell = buyer_cell[b]
        c = cell_c[cell]
        p = norm_cdf(c)
        u = u01_open0(draw_u64(state, 1)) - 0.5 * TWO_M53
        q = p + (1.0 - p) * u  # ε ≥ c: its law given no default
        eps = ndtri(q) if q < 1.0 else c + 8.0
        if eps < c:
            eps = c
        theta = _threshold(P, S, cell)
        x1 = theta + (eps - c) / inv_sig[cell]
        tau = _first_cut(P, state, 2, theta, x1, P.mon_z[cell])
        if tau < 1.0:
            lost += (1.0 - P.mon_cut_to) * (1.0 - tau)
    return P.mon_turnover * lost / m


@njit(cache=True)
def reset_monitoring(S):
    """Clear the defaulted buyers' flags."""
    dl_b, b_def = S.dl_b, S.b_def
    for k in range(S.nd):
        b_def[dl_b[k]] = 0
