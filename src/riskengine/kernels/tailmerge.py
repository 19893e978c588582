"""TVaR of a set of years after a sparse change: the credit-limit decisions' inner loop.

The stored years' losses are sorted once (descending); a request changes the loss of a few years
in each of its draws. The new tail is the merge of the unchanged years, still in order, with the
changed ones sorted: O(k + m log m) per draw for a tail of k years and m changed years, instead of
a sort or a partition of every stored year.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["tail_after_change"]


@njit(cache=True)
def tail_after_change(xs, ws, rank, indptr, years, deltas, mass, tvar, least):
    """Mean of the top ``mass`` of weight of the stored losses after each draw's change.

    Parameters
    ----------
    xs, ws : float64[n]
        Stored losses sorted descending, and their weights (1 for plain Monte Carlo).
    rank : int64[n]
        Position in ``xs`` of each stored year.
    indptr : int64[R + 1]
        Draw r changes the years ``years[indptr[r]:indptr[r + 1]]`` by ``deltas[...]`` (each year
        at most once per draw).
    mass : float
        The tail's weight: (1 − q) × the number of simulated years (fractional allowed).
    tvar, least : float64[R]
        Out: the tail's mean loss (sum of weight × loss over ``mass``) and its least loss.
    """
    n = len(xs)
    n_draws = len(indptr) - 1
    skip = np.zeros(n, dtype=np.bool_)
    for r in range(n_draws):
        lo, hi = indptr[r], indptr[r + 1]
        m = hi - lo
        vals = np.empty(m)
        wts = np.empty(m)
        for j in range(m):
            pos = rank[years[lo + j]]
            vals[j] = xs[pos] + deltas[lo + j]
            wts[j] = ws[pos]
            skip[pos] = True
        order = np.argsort(-vals)
        i = 0
        j = 0
        left = mass
        total = 0.0
        last = 0.0
        while left > 0.0 and (i < n or j < m):
            while i < n and skip[i]:
                i += 1
            take_changed = j < m and (i >= n or vals[order[j]] > xs[i])
            if take_changed:
                v = vals[order[j]]
                w = wts[order[j]]
                j += 1
            elif i < n:
                v = xs[i]
                w = ws[i]
                i += 1
            else:
                break
            used = w if w < left else left
            total += used * v
            left -= used
            last = v
        tvar[r] = total / (mass - left) if mass > left else 0.0
        least[r] = last
        for j in range(m):
            skip[rank[years[lo + j]]] = False
