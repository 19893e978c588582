"""Expected losses by segment, with standard errors, from a run's exact claim accumulators.

Each exposure's expected claim EL_e = Σ_s w_s C_e,s / n comes from the exact accumulators the
kernel fills during the run (``kernels.accumulate``: the same for any block size); a segment's EL
is the sum of its exposures', so the segments of every dimension add up to the same total. The
standard error of a segment's EL is sd(w C_j) / √n of its yearly claims C_j:

* exposures, buyers and buyer groups: from their accumulated Σ (w C)²;
* countries, regions, sectors and policies: from the run's yearly segment claims (gross, and
  net when the net perspective is allocated);
* ground-up: the closed-form expected loss of each exposure (docs/model.md §7), standard error 0.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from ..kernels.accumulate import to_float
from ..kernels.codes import ACC_GROSS, ACC_GROSS2, ACC_NET, ACC_NET2, EL_UNIT_LOG2
from ..portfolio.expected import expected_ground_up
from ..tail.store import exposure_labels

if TYPE_CHECKING:
    from ..results.model import Results

__all__ = ["expected_losses", "DIMENSIONS", "EL_SCHEMA"]

#: Allocation dimensions, in the order tables list them.
DIMENSIONS = ("buyer", "group", "policy", "exposure", "country", "region", "sector")
#: The expected-loss table.
EL_SCHEMA = {
    "perspective": pl.String,
    "dimension": pl.String,
    "segment": pl.String,
    "el": pl.Float64,
    "el_se": pl.Float64,
    "ead": pl.Float64,
}
_LABEL = {
    "buyer": "buyer_id",
    "group": "group_id",
    "policy": "policy_id",
    "exposure": "exposure_id",
    "country": "country",
    "region": "region",
    "sector": "sector",
}


def _se(sum_sq: np.ndarray, el: np.ndarray, n: int) -> np.ndarray:
    """sd(w C)/√n from Σ (w C)² and the mean (n − 1 in the variance)."""
    if n < 2:
        return np.full_like(el, np.nan)
    var = np.maximum(sum_sq - n * el * el, 0.0) / (n - 1)
    return np.sqrt(var / n)


def _segment_squares(res: Results, dimension: str, perspective: str, n_seg: int) -> np.ndarray:
    """Σ_s (w_s C_j,s)² of a country, region, sector or policy segment from the yearly segment
    claims (zero years contribute nothing)."""
    layout = res.compiled.layout
    block = "country" if dimension == "region" else dimension
    m, codes = layout.select(res.seg_col, block, perspective)
    sim = res.seg_sim[m]
    v = res.seg_val[m]
    w = res.weights
    if w is not None:
        v = v * w[sim - res.first_sim]
    if dimension == "region":
        codes = res.compiled.kernel.country_region[codes]
    key = (sim - res.first_sim) * n_seg + codes
    uniq, inv = np.unique(key, return_inverse=True)
    totals = np.bincount(inv.reshape(-1), weights=v, minlength=len(uniq))
    return np.bincount(uniq % n_seg, weights=totals * totals, minlength=n_seg)


def expected_losses(res: Results, perspectives: list[str], dimensions: list[str]) -> pl.DataFrame:
    """EL and its standard error by perspective, dimension and segment (:data:`EL_SCHEMA`).

    ``res`` must come from a run that allocates capital (its accumulators are filled).
    """
    acc = res.accumulated
    if acc is None:
        raise ValueError("the run did not accumulate claims (outputs.allocation not set)")
    cp = res.compiled
    n = max(res.n_sims, 1)
    labels = exposure_labels(cp)
    k_buyer = cp.kernel.exp_rec["buyer"].astype(np.int64)  # kernel buyer of each exposure
    frames = []
    for p in perspectives:
        if p == "ground_up":
            el_e = expected_ground_up(cp.resolved)[cp.exposure_perm]
        else:
            row = ACC_GROSS if p == "gross" else ACC_NET
            el_e = to_float(acc.exposures, row) / n
        sq_row = ACC_GROSS2 if p == "gross" else ACC_NET2
        for d in dimensions:
            seg_labels, code = np.unique(labels[_LABEL[d]].to_numpy(), return_inverse=True)
            code = code.reshape(-1)
            m = len(seg_labels)
            el = np.bincount(code, weights=el_e, minlength=m)
            ead = np.bincount(code, weights=labels["ead"].to_numpy(), minlength=m)
            if p == "ground_up":
                se = np.zeros(m)
            elif d == "exposure":
                sq = to_float(acc.exposures, sq_row, 2 * EL_UNIT_LOG2)
                se = _se(np.bincount(code, weights=sq, minlength=m), el, n)
            elif d in ("buyer", "group"):
                se = _se(_buyer_group_squares(res, d, sq_row, seg_labels, k_buyer, code), el, n)
            else:
                se = _se(_ordered_segment_squares(res, d, p, seg_labels), el, n)
            frames.append(
                pl.DataFrame(
                    {
                        "perspective": p,
                        "dimension": d,
                        "segment": seg_labels.astype(str),
                        "el": el,
                        "el_se": se,
                        "ead": ead,
                    },
                    schema=EL_SCHEMA,
                )
            )
    return pl.concat(frames) if frames else pl.DataFrame(schema=EL_SCHEMA)


def _buyer_group_squares(
    res: Results, d: str, sq_row: int, seg_labels: np.ndarray, k_buyer: np.ndarray, code: np.ndarray
) -> np.ndarray:
    """Σ (w C)² of buyers (from the buyers' accumulators) or groups (real groups from the groups'
    accumulators, a buyer without a group from its own), in ``seg_labels`` order."""
    acc = res.accumulated
    cp = res.compiled
    buyer_sq = to_float(acc.buyers, sq_row, 2 * EL_UNIT_LOG2)  # kernel buyer order
    seg_of_buyer = np.zeros(cp.n_buyers, np.int64)
    seg_of_buyer[k_buyer] = code
    if d == "buyer":
        return np.bincount(seg_of_buyer, weights=buyer_sq, minlength=len(seg_labels))
    n_groups = cp.kernel.n_groups
    occ = cp.kernel.buyer_occ_group.astype(np.int64)
    single = occ >= n_groups
    out = np.bincount(seg_of_buyer[single], weights=buyer_sq[single], minlength=len(seg_labels))
    if n_groups:
        group_sq = to_float(acc.groups, sq_row, 2 * EL_UNIT_LOG2)
        first = np.full(n_groups, -1, np.int64)
        first[occ[~single]] = seg_of_buyer[~single]
        has = first >= 0
        out[first[has]] += group_sq[has]
    return out


def _ordered_segment_squares(res: Results, d: str, p: str, seg_labels: np.ndarray) -> np.ndarray:
    """Segment squares from the yearly segment claims, in ``seg_labels`` order."""
    cp = res.compiled
    names = {
        "country": cp.country_codes,
        "region": cp.region_names,
        "sector": cp.sector_codes,
        "policy": cp.policy_ids,
    }[d]
    sq = _segment_squares(res, d, p, len(names))
    pos = {str(x): i for i, x in enumerate(names)}
    return np.array([sq[pos[str(s)]] for s in seg_labels])
