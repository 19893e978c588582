"""Euler contributions to TVaR and VaR by segment, from the tail store.

For a loss perspective L = Σ_j C_j (segments j of one dimension; for every simulated year the
segments' claims add up to the year's loss) and a level q:

* **TVaR contribution** of segment j: its mean claim over exactly the years whose mean defines
  TVaR_q (``measures.tail``: the worst years up to weighted mass (1 − q)·n, the boundary year
  entering fractionally under importance sampling),
  T_j = Σ_s m_s C_j,s / ((1 − q)·n). The segments of a dimension add up to TVaR_q (to rounding).
  Standard error from the estimator's influence function
  φ_s = m_s (C_j,s − c_j) / (1 − q) over the tail years (0 elsewhere), c_j the VaR contribution:
  SE = √(Var(φ)/n); for the whole loss (C = L, c = VaR) this is the TVaR standard error of
  ``measures``: √((Var_tail + q (TVaR − VaR)²) / (n (1 − q))).
* **VaR contribution**: the segment's mean claim over the window of years around VaR_q (ranks
  q·n ± √(n q (1 − q)); weighted by the years' weights), rescaled so that the segments add up to
  VaR_q: V_j = VaR_q · Σ_W w C_j / Σ_W w L. This kernel estimator of E[C_j | L = VaR_q] is biased
  by the curvature of that conditional mean over the window (of the order of the window's squared
  width) and noisy: its standard error is the ratio estimator's,
  VaR_q · √(Σ_W w² (C_j − R_j L)²) / Σ_W w L with R_j = Σ_W w C_j / Σ_W w L, which ignores the
  uncertainty of VaR_q itself.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ..measures import Tail, level_key, tail
from .expected import DIMENSIONS

__all__ = ["contributions", "ALLOCATION_SCHEMA", "VALUE_OF"]

#: allocation.parquet.
ALLOCATION_SCHEMA = {
    "perspective": pl.String,
    "dimension": pl.String,
    "segment": pl.String,
    "level": pl.Float64,
    "el": pl.Float64,
    "el_se": pl.Float64,
    "tvar_contribution": pl.Float64,
    "tvar_contribution_se": pl.Float64,
    "var_contribution": pl.Float64,
    "var_contribution_se": pl.Float64,
    "share": pl.Float64,
    "ead": pl.Float64,
}
#: The tail store's claim column that adds up to each perspective's loss.
VALUE_OF = {"ground_up": "loss", "gross": "claim", "net": "net"}
_LABEL = {
    "buyer": "buyer_id",
    "group": "group_id",
    "policy": "policy_id",
    "exposure": "exposure_id",
    "country": "country",
    "region": "region",
    "sector": "sector",
}


def _by_year_segment(
    year: np.ndarray, seg: np.ndarray, value: np.ndarray, n_seg: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(year, segment, Σ value) over the claims' (year, segment) pairs."""
    key = year * n_seg + seg
    uniq, inv = np.unique(key, return_inverse=True)
    sums = np.bincount(inv.reshape(-1), weights=value, minlength=len(uniq))
    return uniq // n_seg, uniq % n_seg, sums


def _one_level(
    t: Tail,
    x: np.ndarray,
    w: np.ndarray,
    pairs: tuple[np.ndarray, np.ndarray, np.ndarray],
    store_row: np.ndarray,
    n_store: int,
    n_seg: int,
) -> dict[str, np.ndarray]:
    """TVaR and VaR contributions of every segment at one level (see the module docstring).

    ``pairs`` are the claims summed by (store year row, segment); ``store_row`` maps each YLT
    row to its store row.
    """
    p_year, p_seg, p_val = pairs
    n, q = t.n, t.level
    # -- VaR window: the weighted ratio estimator --------------------------------------------------
    win = t.window
    var = float(x[t.var_index])
    win_pos = np.full(n_store, -1, np.int64)
    win_pos[store_row[win]] = np.arange(len(win))
    in_win = win_pos[p_year] >= 0
    wl = w[win] * x[win]
    denom = float(np.sum(wl))
    pos = win_pos[p_year[in_win]]
    c_w = w[win][pos] * p_val[in_win]
    seg_w = p_seg[in_win]
    ratio = (
        np.bincount(seg_w, weights=c_w, minlength=n_seg) / denom if denom > 0 else np.zeros(n_seg)
    )
    # Σ_W w² (C − R L)²: the pairs present, plus R² Σ w² L² over the window (C = 0 elsewhere)
    cross = np.bincount(
        seg_w, weights=c_w * c_w - 2 * ratio[seg_w] * c_w * wl[pos], minlength=n_seg
    )
    dev2 = np.maximum(cross + ratio * ratio * float(np.sum(wl * wl)), 0.0)
    var_contrib = var * ratio
    var_se = var * np.sqrt(dev2) / denom if denom > 0 else np.full(n_seg, np.nan)
    # -- TVaR: the tail's years with their masses ----------------------------------------------
    tail_pos = np.full(n_store, -1, np.int64)
    tail_pos[store_row[t.index]] = np.arange(len(t.index))
    in_tail = tail_pos[p_year] >= 0
    m = t.mass[tail_pos[p_year[in_tail]]]
    c = p_val[in_tail]
    s = p_seg[in_tail]
    weighted = np.bincount(s, weights=m * c, minlength=n_seg)
    tvar_contrib = weighted / t.denominator
    # the influence function φ_s = m_s (C_j,s − c_j) / (1 − q), 0 outside the tail
    sum_m, sum_m2 = float(np.sum(t.mass)), float(np.sum(t.mass**2))
    s1 = weighted - var_contrib * sum_m
    s2 = np.bincount(s, weights=m * m * (c * c - 2 * var_contrib[s] * c), minlength=n_seg)
    s2 += var_contrib**2 * sum_m2
    mean_phi = s1 / ((1 - q) * n)
    var_phi = s2 / ((1 - q) ** 2 * n) - mean_phi**2
    tvar_se = np.sqrt(np.maximum(var_phi, 0.0) / n) if n > 1 else np.full(n_seg, np.nan)
    return {
        "tvar_contribution": tvar_contrib,
        "tvar_contribution_se": tvar_se,
        "var_contribution": var_contrib,
        "var_contribution_se": var_se,
    }


def contributions(
    ylt: pl.DataFrame,
    claims: pl.DataFrame,
    years: pl.DataFrame,
    exposures: pl.DataFrame,
    el: pl.DataFrame,
    perspectives: list[str],
    levels: list[float],
    dimensions: list[str] | None = None,
) -> pl.DataFrame:
    """The allocation table (:data:`ALLOCATION_SCHEMA`) of a run.

    Parameters
    ----------
    ylt : polars.DataFrame
        The run's year loss table (the tails are taken from it, weighted by ``weight``).
    claims, years, exposures : polars.DataFrame
        The tail store's frames (``claims`` with ``year`` and ``exposure`` codes).
    el : polars.DataFrame
        Expected losses by perspective, dimension and segment (``expected.EL_SCHEMA``).
    perspectives : list of str
    levels : list of float
        Levels in percent.
    dimensions : list of str, optional
        Default: every dimension.
    """
    dims = list(dimensions or DIMENSIONS)
    w_all = ylt["weight"].to_numpy()
    weights = None if np.all(w_all == 1.0) else w_all
    first_sim = int(ylt["sim_id"][0]) if ylt.height else 0
    c_year = claims["year"].to_numpy()
    c_exp = claims["exposure"].to_numpy()
    store_row = _ylt_to_store(years, first_sim, ylt.height)
    frames = []
    for p in perspectives:
        x = ylt[p].to_numpy()
        value = claims[VALUE_OF[p]].to_numpy()
        tails = {lvl: tail(x, lvl / 100.0, weights) for lvl in levels}
        for d in dims:
            seg_labels, code = np.unique(exposures[_LABEL[d]].to_numpy(), return_inverse=True)
            code = code.reshape(-1)
            n_seg = len(seg_labels)
            pairs = _by_year_segment(c_year, code[c_exp], value, n_seg)
            base = _el_rows(el, p, d, seg_labels)
            for lvl, t in tails.items():
                if np.any(store_row[np.r_[t.index, t.window]] < 0):
                    raise ValueError(
                        f"the tail store does not hold the years of {p} at {lvl:g} %: re-run "
                        "the simulation with that level in outputs.allocation.levels"
                    )
                cols = _one_level(t, x, w_all, pairs, store_row, years.height, n_seg)
                total = float(t.mean(x))
                frame = base.with_columns(
                    pl.lit(float(level_key_value(lvl))).alias("level"),
                    *[pl.Series(k, v) for k, v in cols.items()],
                    pl.Series(
                        "share", cols["tvar_contribution"] / total if total else np.zeros(n_seg)
                    ),
                )
                frames.append(frame.select(list(ALLOCATION_SCHEMA)))
    if not frames:
        return pl.DataFrame(schema=ALLOCATION_SCHEMA)
    return pl.concat(frames).cast(ALLOCATION_SCHEMA)


def level_key_value(level: float) -> float:
    """A level in percent as the table stores it (99.5)."""
    return float(level_key(level / 100.0))


def _ylt_to_store(years: pl.DataFrame, first_sim: int, n: int) -> np.ndarray:
    """Store row of each YLT row (−1 where the store does not hold the year)."""
    out = np.full(n, -1, np.int64)
    rows = years["sim_id"].to_numpy() - first_sim
    out[rows] = np.arange(years.height)
    return out


def _el_rows(
    el: pl.DataFrame, perspective: str, dimension: str, seg_labels: np.ndarray
) -> pl.DataFrame:
    """The EL columns of ``seg_labels`` (zeros for segments the EL table lacks)."""
    want = pl.DataFrame({"segment": seg_labels.astype(str)})
    have = el.filter((pl.col("perspective") == perspective) & (pl.col("dimension") == dimension))
    out = want.join(have.select("segment", "el", "el_se", "ead"), on="segment", how="left")
    return out.with_columns(
        pl.lit(perspective).alias("perspective"),
        pl.lit(dimension).alias("dimension"),
        pl.col("el").fill_null(0.0),
        pl.col("el_se").fill_null(0.0),
        pl.col("ead").fill_null(0.0),
    )
