"""The year loss table (YLT): its columns, declared once, and how the kernels' rows become it.

One row per simulated year: ``sim_id``, ``weight`` (the likelihood ratio of importance sampling,
1 otherwise), the kernel's columns (``kernels.codes.YLT_COLUMNS``: ground-up, gross, gross by
cause, counts, the largest occurrence), one ``ceded_<treaty>`` per treaty, then ``net``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from ..kernels.codes import N_YLT, YLT_COLUMNS

__all__ = ["YLT_SCHEMA", "YLT_VALUE_COLUMNS", "ylt_frame", "ylt_columns", "empty_kernel_ylt"]

#: The YLT's fixed columns and types (``ceded_<treaty>`` columns go between max_occurrence and
#: net, Float64).
YLT_SCHEMA: dict[str, Any] = {
    "sim_id": pl.Int64,
    "weight": pl.Float64,
    "ground_up": pl.Float64,
    "gross": pl.Float64,
    "commercial": pl.Float64,
    "political": pl.Float64,
    "n_defaults": pl.Int64,
    "n_political_events": pl.Int64,
    "max_occurrence": pl.Float64,
    "net": pl.Float64,
}


#: The kernel's columns that appear in the YLT under their own name (``log_weight`` becomes
#: ``weight``).
YLT_VALUE_COLUMNS = tuple(c for c in YLT_COLUMNS if c in YLT_SCHEMA)
#: Dynamic limit management's columns (after ``max_occurrence``, when monitoring is on).
MONITORING_COLUMNS: dict[str, Any] = {
    "loss_avoided": pl.Float64,
    "turnover_lost": pl.Float64,
    "n_caught": pl.Int64,
}


def ylt_columns(treaty_names: list[str], monitoring: bool = False) -> list[str]:
    """The YLT's columns in order."""
    fixed = list(YLT_SCHEMA)
    i = fixed.index("net")
    extra = list(MONITORING_COLUMNS) if monitoring else []
    return fixed[:i] + extra + [f"ceded_{t}" for t in treaty_names] + fixed[i:]


def empty_kernel_ylt() -> np.ndarray:
    """A kernel YLT matrix with no rows."""
    return np.zeros((0, N_YLT))


def ylt_frame(
    sim_id: np.ndarray,
    kernel_ylt: np.ndarray,
    ceded: np.ndarray,
    treaty_names: list[str],
    monitoring: bool = False,
) -> pl.DataFrame:
    """The YLT of the kernel's rows ``kernel_ylt`` ([n, N_YLT]) and ceded losses ([n, n_t])."""
    k = {name: kernel_ylt[:, j] for j, name in enumerate(YLT_COLUMNS)}
    cols: dict[str, Any] = {
        "sim_id": np.asarray(sim_id, dtype=np.int64),
        "weight": np.exp(k["log_weight"]),
    }
    for j, name in enumerate(treaty_names):
        cols[f"ceded_{name}"] = ceded[:, j]
    names = ylt_columns(treaty_names, monitoring)
    for name in names:
        if name not in cols:
            cols[name] = k[name]
    types = {**YLT_SCHEMA, **MONITORING_COLUMNS}
    schema = {name: types.get(name, pl.Float64) for name in names}
    data = {n: cols[n].astype(np.int64) if t == pl.Int64 else cols[n] for n, t in schema.items()}
    return pl.DataFrame(data, schema=schema)
