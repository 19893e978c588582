"""Exact claim accumulators: each exposure's, buyer's and group's weighted claims summed over
the years of a run, for expected losses and their standard errors by segment.

Each year's w·claim and its square are rounded to a whole number of units of 2^-EL_UNIT_LOG2
of the reporting currency (codes.EL_UNIT_LOG2; the square unit for squares) and added to a
two-word integer hi · 2^62 + lo; the net claims too when the net perspective is allocated
(``P.acc_net``). An entity's eight words (hi and lo of Σ w·claim, Σ (w·claim)², gross and net)
are one row of its array, 64 bytes: one cache line a claim. Integer sums are exact and
associative, so a chunk's, a block's and a run's totals are the same whatever the block size,
the executor or the order blocks finish in — unlike floating-point sums. The rounding costs at
most half a unit per year and exposure (1.5e-5 of the currency with the default unit).

:func:`accumulate_year` is the kernel stage (after the programme); :func:`add_exact`,
:func:`to_float` are their NumPy companions for combining chunks and blocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from .codes import ACC_GROSS, ACC_GROSS2, ACC_NET, ACC_NET2, EL_UNIT_LOG2
from .structs import prefetch

__all__ = ["accumulate_year", "add_exact", "to_float", "Accumulated", "UNIT", "WORD"]

#: One unit of the accumulators (reporting currency).
UNIT = 2.0**-EL_UNIT_LOG2
_SCALE = 2.0**EL_UNIT_LOG2
#: How many entries ahead the loops ask for an accumulator row (its loads then overlap).
ACC_AHEAD = 16
#: The low word's range: lo ∈ [0, WORD).
WORD = 2**62
_WORD_F = float(WORD)


@njit(cache=True)
def _add(acc, row, i, v):
    """Add ``v`` ≥ 0 (in units, rounded to a whole number) to the two-word integer
    ``acc[i, row] · 2^62 + acc[i, row + 1]``."""
    q = np.floor(v + 0.5)
    h = np.floor(q / _WORD_F)  # exact: division by a power of two
    lo = acc[i, row + 1] + np.int64(q - h * _WORD_F)  # q − h·2^62 is exact and < 2^62
    hi = np.int64(h)
    if lo >= np.int64(4611686018427387904):
        lo -= np.int64(4611686018427387904)
        hi += 1
    acc[i, row + 1] = lo
    acc[i, row] += hi


@njit(cache=True)
def _net_share(P, S, k, cause, claim):
    """The part of a claim of buyer slot ``k`` left after the programme (the programme's net
    claims of the slot, shared pro rata)."""
    if P.t_kind.shape[0] == 0:
        return claim
    if cause == 0:
        return claim * (S.net_c[k] / S.b_comm[k]) if S.b_comm[k] > 0.0 else 0.0
    return claim * (S.net_p[k] / S.b_pol[k]) if S.b_pol[k] > 0.0 else 0.0


@njit(cache=True)
def accumulate_year(P, S, w, seg_row, use_seg):
    """Add the year's claims, weighted by its likelihood ratio ``w``, to the accumulators; with
    a net segment block (``P.seg_net0`` ≥ 0) also add the net claims to the segment row.

    Call after the programme (the slots' net claims are then the programme's) and before a
    treaty sweep re-applies it. Uses ``S.occ_x``/``S.occ_ceded``/``S.occ_touch`` (idle between
    treaties) to total groups, and leaves them zeroed.
    """
    acc_e, acc_b, acc_g = S.acc_e, S.acc_b, S.acc_g
    ent_e, ent_l, ent_cause, ratio, b_slot = S.ent_e, S.ent_l, S.ent_cause, S.ratio, S.b_slot
    ent_p, ent_b, buyer_rec = S.ent_p, S.ent_b, P.buyer_rec
    net0 = P.seg_net0 if use_seg else -1
    net_on = P.acc_net  # the net words only when the net perspective is allocated
    ws = w * _SCALE
    flat_e, flat_b, flat_g = acc_e.reshape(-1), acc_b.reshape(-1), acc_g.reshape(-1)
    n_ent = S.n_ent
    for i in range(n_ent):
        if i + ACC_AHEAD < n_ent:
            prefetch(flat_e, ent_e[i + ACC_AHEAD] * 8)
        e = ent_e[i]
        p = ent_p[i]
        if p < 0:  # below the policy's nql
            continue
        claim = ent_l[i] * ratio[p]
        if claim <= 0.0:
            continue
        b = ent_b[i]
        g = ws * claim
        _add(acc_e, ACC_GROSS, e, g)
        _add(acc_e, ACC_GROSS2, e, g * g)
        if not net_on and net0 < 0:
            continue
        net_claim = _net_share(P, S, b_slot[b], ent_cause[i], claim)
        if net0 >= 0:
            br = buyer_rec[b]
            seg_row[net0 + br.country] += net_claim
            seg_row[net0 + P.seg_sector0 + br.sector] += net_claim
            if P.seg_policy0 >= 0:
                seg_row[net0 + P.seg_policy0 + p] += net_claim
        if net_on:
            n = ws * net_claim
            _add(acc_e, ACC_NET, e, n)
            _add(acc_e, ACC_NET2, e, n * n)
    has_t = P.t_kind.shape[0] > 0
    occ_x, occ_net, occ_touch = S.occ_x, S.occ_ceded, S.occ_touch
    n_u = 0
    n_bt = S.n_bt
    for k in range(n_bt):
        if k + ACC_AHEAD < n_bt:
            nb = S.b_touch[k + ACC_AHEAD]
            prefetch(flat_b, nb * 8 + 4)
            prefetch(P.buyer_occ_group, nb)
        b = S.b_touch[k]
        g = ws * (S.b_comm[k] + S.b_pol[k])
        n = ws * (S.net_c[k] + S.net_p[k]) if has_t else g
        _add(acc_b, ACC_GROSS2, b, g * g)
        if net_on:
            _add(acc_b, ACC_NET2, b, n * n)
        u = P.buyer_occ_group[b]
        if u < P.n_groups:
            if occ_x[u] == 0.0 and occ_net[u] == 0.0:
                occ_touch[n_u] = u
                n_u += 1
            occ_x[u] += g
            occ_net[u] += n
    for j in range(n_u):
        if j + ACC_AHEAD < n_u:
            prefetch(flat_g, occ_touch[j + ACC_AHEAD] * 8 + 4)
        u = occ_touch[j]
        _add(acc_g, ACC_GROSS2, u, occ_x[u] * occ_x[u])
        if net_on:
            _add(acc_g, ACC_NET2, u, occ_net[u] * occ_net[u])
        occ_x[u] = 0.0
        occ_net[u] = 0.0


def add_exact(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The exact sum of two accumulator arrays (columns in hi, lo pairs), carries normalised."""
    out = a + b  # lo words < 2^62 each: their sum < 2^63 fits
    lo, hi = out[:, 1::2], out[:, 0::2]
    carry = lo >> np.int64(62)
    lo -= carry << np.int64(62)
    hi += carry
    return out


def to_float(acc: np.ndarray, row: int, unit_log2: int = EL_UNIT_LOG2) -> np.ndarray:
    """The quantity of column ``row`` (codes.ACC_*) as floats in the reporting currency
    (squares: in the currency squared when ``unit_log2`` is twice the unit's)."""
    hi = acc[:, row].astype(np.float64)
    lo = acc[:, row + 1].astype(np.float64)
    return (hi * _WORD_F + lo) * 2.0**-unit_log2


@dataclass(frozen=True)
class Accumulated:
    """Exact claim accumulators (``kernels.accumulate``) of exposures, buyers and groups."""

    exposures: np.ndarray
    buyers: np.ndarray
    groups: np.ndarray

    @classmethod
    def empty(cls, port: Any) -> Accumulated:
        on = bool(port.accumulate)
        n_e, n_b = port.exp_rec.shape[0], port.buyer_rec.shape[0]
        sizes = (n_e, n_b, port.n_groups) if on else (0, 0, 0)
        return cls(*(np.zeros((n, 8), np.int64) for n in sizes))

    def add(self, other: Accumulated) -> Accumulated:
        """The exact sum."""
        return Accumulated(
            add_exact(self.exposures, other.exposures),
            add_exact(self.buyers, other.buyers),
            add_exact(self.groups, other.groups),
        )
