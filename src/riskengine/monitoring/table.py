"""``monitor.parquet``: one row per run — monitoring off, on, and each point of a sweep — with
what dynamic limit management does on the same simulated years.

Every run of a comparison has the same seed and settings, and monitoring draws on streams of
its own, so defaults and LGDs are the same year by year (docs/model.md §10): year i of a run
with monitoring is paired with year i of the run without, and the differences of EL, VaR and
TVaR carry paired standard errors (:func:`riskengine.measures.paired_measures`). Per row:

* ``run`` (``off``, ``on`` or ``sweep``), ``key`` and ``value`` (the swept key and its value;
  null otherwise), the monitoring parameters of the run, ``sims``, ``seed``, ``book_hash``;
* ``loss_avoided`` (± ``_se``): expected ground-up loss the cuts avoid a year;
* ``defaults_caught_share`` (± ``_se``): the share of defaults whose cut took effect before
  year end (a ratio of means; delta-method standard error) and ``n_defaults``, the mean number
  of defaults a year;
* ``turnover_lost`` (± ``_se``): expected insured turnover a year lost to cuts on buyers that
  do not default; ``turnover``: the book's insured turnover a year;
* for each perspective p (``ground_up``, ``gross``) and measure m (``el``; ``var`` and
  ``tvar`` at ``level``, 99.5 %): ``m_p`` and ``m_p_se`` of the run, ``delta_m_p`` = run − off
  and ``delta_m_p_se`` (0 for the ``off`` row).

Amounts are in the reporting currency a year; shares are fractions.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from ..measures import CAPITAL_LEVEL, mean_se, paired_measures
from ..measures.paired import BOOTSTRAP

if TYPE_CHECKING:
    from ..results.model import Results
    from ..scenario.models import MonitoringConfig

__all__ = [
    "MONITOR_SCHEMA",
    "PERSPECTIVES",
    "PARAMETERS",
    "monitor_row",
    "monitor_table",
    "caught_share",
]

#: Loss perspectives whose measures the table compares.
PERSPECTIVES = ("ground_up", "gross")
#: The monitoring parameters recorded with each run.
PARAMETERS: dict[str, Any] = {
    "reviews_per_year": pl.Int64,
    "signal_noise": pl.Float64,
    "trigger_pd": pl.Float64,
    "trigger_multiple": pl.Float64,
    "cut_to": pl.Float64,
    "notice_days": pl.Float64,
}


def _measure_columns() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in PERSPECTIVES:
        for m in ("el", "var", "tvar"):
            for name in (f"{m}_{p}", f"{m}_{p}_se", f"delta_{m}_{p}", f"delta_{m}_{p}_se"):
                out[name] = pl.Float64
    return out


MONITOR_SCHEMA: dict[str, Any] = {
    "run": pl.String,
    "key": pl.String,
    "value": pl.Float64,
    **PARAMETERS,
    "sims": pl.Int64,
    "seed": pl.Int64,
    "book_hash": pl.String,
    "loss_avoided": pl.Float64,
    "loss_avoided_se": pl.Float64,
    "defaults_caught_share": pl.Float64,
    "defaults_caught_share_se": pl.Float64,
    "n_defaults": pl.Float64,
    "turnover_lost": pl.Float64,
    "turnover_lost_se": pl.Float64,
    "turnover": pl.Float64,
    "level": pl.Float64,
    **_measure_columns(),
}


def caught_share(
    n_caught: np.ndarray, n_defaults: np.ndarray, weights: np.ndarray | None = None
) -> tuple[float, float]:
    """Share of defaults caught, Σ w·caught / Σ w·defaults, and its delta-method standard
    error sd(w (caught − r·defaults)) / (√n · mean(w·defaults)); NaN without defaults."""
    c = np.asarray(n_caught, dtype=np.float64)
    d = np.asarray(n_defaults, dtype=np.float64)
    w = np.ones_like(d) if weights is None else np.asarray(weights, dtype=np.float64)
    mean_d = float(np.mean(w * d)) if len(d) else 0.0
    if mean_d <= 0.0:
        return math.nan, math.nan
    r = float(np.mean(w * c)) / mean_d
    se = float(np.std(w * (c - r * d), ddof=1) / math.sqrt(len(d)) / mean_d) if len(d) > 1 else 0.0
    return r, se


def _check_paired(off: Results, res: Results) -> None:
    """Monitoring changes no default: a run and the run without it have the same years and the
    same defaults in each (else they were not simulated with the same seed and settings)."""
    a, b = off.ylt, res.ylt
    if not (a["sim_id"].equals(b["sim_id"]) and a["n_defaults"].equals(b["n_defaults"])):
        raise ValueError(
            "the runs compared are not of the same simulated years (their ids or defaults "
            "differ): run them with the same seed, sims and model"
        )


def monitor_row(
    run: str,
    key: str | None,
    value: float | None,
    res: Results,
    off: Results,
    level: float = CAPITAL_LEVEL,
    perspectives: tuple[str, ...] = PERSPECTIVES,
) -> dict[str, Any]:
    """One row of :data:`MONITOR_SCHEMA`: run ``res`` against ``off`` (monitoring off); the
    measures of perspectives not in ``perspectives`` are left null.

    Raises
    ------
    ValueError
        When the two runs are not of the same simulated years (ids or defaults differ).
    """
    _check_paired(off, res)
    cfg: MonitoringConfig = res.scenario.monitoring
    ylt, w = res.ylt, res.weights
    row: dict[str, Any] = {
        "run": run,
        "key": key,
        "value": value,
        **{k: getattr(cfg, k) for k in PARAMETERS},
        "sims": res.n_sims,
        "seed": res.scenario.simulation.seed,
        "book_hash": res.meta.get("book_hash"),
        "level": 100 * level,
        "n_defaults": mean_se(ylt["n_defaults"].to_numpy().astype(np.float64), w).value,
        "turnover": float(res.compiled.kernel.mon_turnover) if run != "off" else 0.0,
    }
    if "loss_avoided" in ylt.columns:
        la = mean_se(ylt["loss_avoided"].to_numpy(), w)
        tl = mean_se(ylt["turnover_lost"].to_numpy(), w)
        share = caught_share(ylt["n_caught"].to_numpy(), ylt["n_defaults"].to_numpy(), w)
    else:  # monitoring off: nothing avoided, caught or lost
        la = tl = mean_se(np.zeros(res.n_sims))
        share = (0.0, 0.0)
    row.update(
        loss_avoided=la.value,
        loss_avoided_se=la.se,
        defaults_caught_share=share[0],
        defaults_caught_share_se=share[1],
        turnover_lost=tl.value,
        turnover_lost_se=tl.se,
    )
    same = res is off
    row.update(dict.fromkeys(_measure_columns()))
    for p in perspectives:
        x0, x1 = off.ylt[p].to_numpy(), ylt[p].to_numpy()
        pair = paired_measures(x0, x1, level, off.weights, w, replicates=0 if same else BOOTSTRAP)
        for m, est in pair.items():
            name = f"{m.lower()}_{p}"
            row[name], row[f"{name}_se"] = est.run1.value, est.run1.se
            row[f"delta_{name}"] = 0.0 if same else est.delta.value
            row[f"delta_{name}_se"] = 0.0 if same else est.delta.se
    return row


def monitor_table(
    off: Results,
    on: Results,
    sweep: list[tuple[str, float, Results]] | None = None,
    level: float = CAPITAL_LEVEL,
) -> pl.DataFrame:
    """monitor.parquet's rows (:data:`MONITOR_SCHEMA`): the run without monitoring, the run
    with it, and each sweep point ``(key, value, results)``, all on the same years.

    Raises
    ------
    ValueError
        When the runs are not of the same simulated years.
    """
    rows = [monitor_row("off", None, None, off, off, level)]
    rows.append(monitor_row("on", None, None, on, off, level))
    for key, value, res in sweep or []:
        rows.append(monitor_row("sweep", key, value, res, off, level))
    return pl.DataFrame(rows, schema=MONITOR_SCHEMA, orient="row")
