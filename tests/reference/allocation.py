"""Exact tails of discrete loss laws and exact Euler contributions of two independent segments.

Plain NumPy, sharing nothing with the engine but the definitions of docs/model.md §7 and §9:
for a loss L with atoms x₁ > x₂ > … of probabilities P₁, P₂, … and a level q,

* VaR_q = the smallest atom x_k whose exceedance P(L > x_k) = P₁ + … + P_{k−1} is ≤ 1 − q;
* the tail holds every atom above VaR_q whole and the atom at VaR_q with the fraction
  f = (1 − q − P(L > VaR_q)) / P(L = VaR_q) of its probability, so that it has probability
  1 − q exactly; TVaR_q = E[L; tail] / (1 − q);
* the TVaR contribution of a part C of L = Σ C is E[C; tail] / (1 − q) (the parts of L that sit
  on the boundary atom entering with the same fraction f), so the parts add up to TVaR_q;
* the VaR contribution of C is E[C | L = VaR_q] (the atom's conditional mean), so the parts add
  up to VaR_q.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DiscreteTail", "discrete_tail", "TwoSegmentLaw", "two_segment_law"]

#: Relative slack on cumulative probability (the rounding of a pmf that sums to 1 within 1e-10).
_SLACK = 1e-12


@dataclass(frozen=True)
class DiscreteTail:
    """The tail of a discrete law at level q.

    Attributes
    ----------
    var, tvar : float
        VaR_q and TVaR_q.
    share : ndarray of float
        For each input atom (in input order), the fraction of its probability in the tail: 1
        above VaR_q, f at VaR_q, 0 below.
    at_var : ndarray of bool
        Whether each input atom's value is VaR_q.
    """

    var: float
    tvar: float
    share: np.ndarray
    at_var: np.ndarray


def discrete_tail(values: np.ndarray, probabilities: np.ndarray, q: float) -> DiscreteTail:
    """VaR_q, TVaR_q and each atom's share of the tail (module docstring).

    Parameters
    ----------
    values : ndarray of float
        Loss values (any order; equal values are one atom together).
    probabilities : ndarray of float
        Their probabilities (summing to 1).
    q : float
        Level in (0, 1).
    """
    v = np.asarray(values, dtype=np.float64)
    p = np.asarray(probabilities, dtype=np.float64)
    atoms, inv = np.unique(v, return_inverse=True)  # ascending
    mass = np.bincount(inv.reshape(-1), weights=p, minlength=len(atoms))
    atoms, mass = atoms[::-1], mass[::-1]  # worst first
    above = np.concatenate([[0.0], np.cumsum(mass)[:-1]])  # P(L > atom)
    target = 1.0 - q
    k = int(np.nonzero(above <= target * (1 + _SLACK))[0][-1])  # VaR's atom
    frac = min(max((target - above[k]) / mass[k], 0.0), 1.0) if mass[k] > 0 else 0.0
    atom_share = np.where(np.arange(len(atoms)) < k, 1.0, 0.0)
    atom_share[k] = frac
    tvar = float(np.sum(atom_share * mass * atoms) / target)
    pos = len(atoms) - 1 - inv.reshape(-1)  # each input's atom, worst-first position
    return DiscreteTail(var=float(atoms[k]), tvar=tvar, share=atom_share[pos], at_var=pos == k)


@dataclass(frozen=True)
class TwoSegmentLaw:
    """L = a·D_A + b·D_B with independent counts D_A, D_B: exact measures and contributions.

    ``tvar_contribution`` and ``var_contribution`` hold (segment A, segment B).
    """

    el: tuple[float, float]
    var: float
    tvar: float
    tvar_contribution: tuple[float, float]
    var_contribution: tuple[float, float]


def two_segment_law(
    pmf_a: np.ndarray, pmf_b: np.ndarray, a: float, b: float, q: float
) -> TwoSegmentLaw:
    """Exact VaR_q, TVaR_q and Euler contributions of the two parts of L = a·D_A + b·D_B.

    D_A and D_B are independent with P(D_A = i) = ``pmf_a[i]`` and P(D_B = j) = ``pmf_b[j]``;
    the joint law is their outer product (the convolution of the two laws, kept by pair so that
    each part's claim is known on every atom of L).
    """
    i = np.arange(len(pmf_a), dtype=np.float64)
    j = np.arange(len(pmf_b), dtype=np.float64)
    ca = np.repeat(a * i, len(j))
    cb = np.tile(b * j, len(i))
    prob = np.outer(pmf_a, pmf_b).ravel()
    t = discrete_tail(ca + cb, prob, q)
    w = t.share * prob / (1.0 - q)
    at = prob * t.at_var
    p_at = float(at.sum())
    return TwoSegmentLaw(
        el=(float(np.sum(prob * ca)), float(np.sum(prob * cb))),
        var=t.var,
        tvar=t.tvar,
        tvar_contribution=(float(np.sum(w * ca)), float(np.sum(w * cb))),
        var_contribution=(float(np.sum(at * ca) / p_at), float(np.sum(at * cb) / p_at)),
    )
