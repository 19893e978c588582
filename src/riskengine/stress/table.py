"""The differences a stress makes, with standard errors that use common random numbers.

A stressed run uses the base run's seed and keeps its random numbers wherever the stress leaves
them alone (docs/stress.md), so each year's stressed loss is paired with its base loss and the
difference of a measure is far less noisy than either measure. For each stress, perspective
(gross, and net with treaties) and measure (EL; VaR and TVaR at the levels):

* ``value``, ``se``: the stressed run's measure and its Monte Carlo standard error;
* ``delta`` = stressed − base; ``delta_se``: for EL the standard error of the mean of the paired
  yearly differences w'x' − w x; for VaR and TVaR a paired bootstrap (the same resampled years
  for both runs; :data:`BOOTSTRAP` replicates, a fixed seed).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from ..measures import LEVELS, level_key, mean_se, measures

if TYPE_CHECKING:
    from ..results.model import Results

__all__ = ["stress_table", "STRESS_SCHEMA", "BOOTSTRAP", "BASE"]

#: The base run's name in stress.parquet (no stress may take it).
BASE = "base"
#: Paired bootstrap replicates for the standard errors of VaR and TVaR differences.
BOOTSTRAP = 200
STRESS_SCHEMA = {
    "stress": pl.String,
    "perspective": pl.String,
    "measure": pl.String,
    "level": pl.Float64,
    "value": pl.Float64,
    "se": pl.Float64,
    "delta": pl.Float64,
    "delta_se": pl.Float64,
}


def _var_tvar(x: np.ndarray, w: np.ndarray | None, levels: tuple[float, ...]) -> np.ndarray:
    m = measures(x, levels=levels, weights=w)
    return np.array(
        [m["VaR"][level_key(q)]["value"] for q in levels]
        + [m["TVaR"][level_key(q)]["value"] for q in levels]
    )


def _paired_bootstrap(
    x0: np.ndarray,
    w0: np.ndarray | None,
    x1: np.ndarray,
    w1: np.ndarray | None,
    levels: tuple[float, ...],
) -> np.ndarray:
    """Standard errors of the VaR and TVaR differences by a paired bootstrap."""
    rng = np.random.default_rng(20261129)
    n = len(x0)
    deltas = []
    for _ in range(BOOTSTRAP):
        i = rng.integers(0, n, n)
        a = _var_tvar(x0[i], None if w0 is None else w0[i], levels)
        b = _var_tvar(x1[i], None if w1 is None else w1[i], levels)
        deltas.append(b - a)
    return np.std(np.asarray(deltas), axis=0, ddof=1)


def stress_table(
    base: Results, stressed: dict[str, Results], levels: tuple[float, ...] = LEVELS
) -> pl.DataFrame:
    """stress.parquet's rows (:data:`STRESS_SCHEMA`): the base run (delta 0) and each stress."""
    perspectives = ["gross", "net"] if base.treaty_names else ["gross"]
    rows = []
    runs = {BASE: base, **stressed}
    for name, res in runs.items():
        for p in perspectives:
            x0, x1 = base.ylt[p].to_numpy(), res.ylt[p].to_numpy()
            w0, w1 = base.weights, res.weights
            m0 = measures(x0, levels=levels, weights=w0)
            m1 = measures(x1, levels=levels, weights=w1)
            d = (x1 if w1 is None else w1 * x1) - (x0 if w0 is None else w0 * x0)
            el_se = mean_se(d).se if name != BASE else 0.0
            rows.append(
                (
                    name,
                    p,
                    "EL",
                    None,
                    m1["EL"]["value"],
                    m1["EL"]["se"],
                    m1["EL"]["value"] - m0["EL"]["value"],
                    el_se,
                )
            )
            boot = (
                _paired_bootstrap(x0, w0, x1, w1, levels)
                if name != BASE
                else np.zeros(2 * len(levels))
            )
            for j, measure in enumerate(("VaR", "TVaR")):
                for i, q in enumerate(levels):
                    k = level_key(q)
                    v1, v0 = m1[measure][k], m0[measure][k]
                    se_d = float(boot[j * len(levels) + i])
                    rows.append(
                        (
                            name,
                            p,
                            measure,
                            100 * q,
                            v1["value"],
                            v1["se"],
                            v1["value"] - v0["value"],
                            se_d,
                        )
                    )
    frame = pl.DataFrame(rows, schema=STRESS_SCHEMA, orient="row")
    return frame.with_columns(pl.col("delta_se").fill_nan(math.nan))
