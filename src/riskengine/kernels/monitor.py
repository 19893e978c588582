"""Dynamic limit management: reviews during the year, and limits cut before buyers default.

docs/model.md §10. A buyer's latent value X(t) = √R² Z(t) + √(1 − R²) ε(t) is a standard
Brownian motion over the year; X(1) is the year's latent variable of the default model (default
iff X(1) < θ, θ the year's threshold: the contagion PD's in an event year, scaled by √(W/ν)
under the Student-t copula). Given the year's systematic draws, X(1) = θ + σ (ε − c) with c the
cell's conditional threshold (default iff ε < c) and σ the idiosyncratic weight.

* **Defaulted buyers** (after the cells' geometric skips, which never draw ε): ε is drawn from
  its law given default, a normal truncated below c, on the monitoring stream keyed by the buyer;
  the path is a Brownian bridge from 0 to X(1) sampled at the reviews t_k = k / R,
  k = 1 … R − 1. At each review the insurer sees X(t_k) + noise · N(0, 1) and estimates the PD of
  the rest of the year p̂ = Φ((θ − signal) / √(1 − t_k)); the first review with p̂ ≥ the trigger
  (max(trigger_pd, trigger_multiple · pd)) cuts the limit, effective at τ = t_k + notice. Reviews
  whose cut could only take effect at or after year end are not simulated (they change nothing).
  Defaults and LGDs are those of the run without monitoring (own streams).
* **Exposure at default** of a commercial loss: EAD₀ × max(cut_to, min(max((τ − (1 − T)) / T, 0),
  1)) with T the exposure's payment term in years (receivables outstanding at default are the
  last T of sales; shipments after τ keep the outstanding within the cut limit); EAD₀ when τ ≥ 1.
  Political losses are not changed by cuts. ``loss_avoided`` is the ground-up difference.
* **Turnover lost** on buyers that do not default: each year ``mon_sample`` buyers are drawn with
  probability proportional to their insured turnover (a keyed uniform against the cumulative
  turnover); for each that did not default, ε is drawn from its law given no default (a normal
  truncated above c) and its reviews simulated; a cut at τ < 1 loses (1 − cut_to)(1 − τ) of its
  turnover. The year's estimate is the book's turnover × the sample's mean loss: unbiased, at a
  cost of ``mon_sample`` paths a year whatever the book's size.

Buyers of a heterogeneous group share their ε in the default model; their review paths are drawn
as if independent (each given its own default). Defaults happen at year end in the model, which
makes the loss avoided an upper estimate.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .rng import TWO_M53, draw_normal, draw_state, draw_u64, sim_key, u01, u01_open0
from .special import ndtri, norm_cdf

__all__ = ["monitor_defaults", "monitor_turnover", "ead_factor", "reset_monitoring"]


@njit(cache=True)
def _threshold(P, S, cell):
    """θ: the cell's default threshold this year (contagion in an event year; Student-t scaled)."""
    thr = P.cell_thr1[cell] if S.ev[P.cell_country[cell]] else P.cell_thr0[cell]
    return S.scale * thr


@njit(cache=True)
def _first_cut(P, state, j, theta, x1, z_trig):
    """When the first review's cut takes effect (inf: no cut effective within the year) for a
    path bridging 0 to ``x1``, drawing from ``state`` from draw ``j`` on. The reviews and their
    bridge coefficients come precomputed (``P.mon_table``: only reviews whose cut can take
    effect within the year)."""
    table = P.mon_table
    noise = P.mon_noise
    x = 0.0
    for k in range(P.mon_reviews):
        x += (x1 - x) * table[k, 1] + table[k, 2] * draw_normal(state, j)
        j += 1
        signal = x
        if noise > 0.0:
            signal += noise * draw_normal(state, j)
            j += 1
        if signal <= theta - z_trig * table[k, 3]:
            return table[k, 0] + P.mon_notice
    return math.inf


@njit(cache=True)
def monitor_defaults(P, S, s):
    """Each defaulted buyer's cut time (``S.dl_cut``), the defaults caught and the flags of
    defaulted buyers (``S.b_def``)."""
    key = sim_key(S.key_monitor, s)
    dl_b, dl_cut, b_def = S.dl_b, S.dl_cut, S.b_def
    buyer_cell, buyer_rec, cell_c, inv_sig = P.buyer_cell, P.buyer_rec, S.cell_c, P.cell_inv_sigma
    caught = 0
    for k in range(S.nd):
        b = dl_b[k]
        b_def[b] = 1
        cell = buyer_cell[b]
        c = cell_c[cell]
        state = draw_state(key, buyer_rec[b].key)
        p = norm_cdf(c)
        u = u01_open0(draw_u64(state, 0)) - 0.5 * TWO_M53  # in (0, 1)
        eps = ndtri(u * p) if p > 0.0 else c
        if eps > c:  # rounding at the truncation point
            eps = c
        x1 = _threshold(P, S, cell) + (eps - c) / inv_sig[cell]
        tau = _first_cut(P, state, 1, _threshold(P, S, cell), x1, P.mon_z[cell])
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
    lost = 0.0
    for j in range(m):
        state = draw_state(key, np.uint64(j))
        b = np.searchsorted(cum, u01(draw_u64(state, 0)) * P.mon_turnover, side="right")
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
        tau = _first_cut(P, state, 2, theta, theta + (eps - c) / inv_sig[cell], P.mon_z[cell])
        if tau < 1.0:
            lost += (1.0 - P.mon_cut_to) * (1.0 - tau)
    return P.mon_turnover * lost / m


@njit(cache=True)
def reset_monitoring(S):
    """Clear the defaulted buyers' flags."""
    dl_b, b_def = S.dl_b, S.b_def
    for k in range(S.nd):
        b_def[dl_b[k]] = 0
