"""``summary.json``: run metadata, book totals, measures by perspective, capital, treaty metrics
and self-checks."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import __version__
from ..measures import LEVELS, mean_se
from .treaties import treaty_metrics

if TYPE_CHECKING:
    from .model import Results

__all__ = ["summarize", "EL_CHECK_Z", "MIN_CHECK_YEARS", "MIN_TAIL_YEARS"]

#: The expected-loss self-check fails beyond this many standard errors.
EL_CHECK_Z = 4.0
#: Fewer simulated years than this and the expected-loss check says "not enough years".
MIN_CHECK_YEARS = 30
#: A level whose tail holds fewer simulated years than this gets a warning.
MIN_TAIL_YEARS = 10


def _run_meta(res: Results) -> dict[str, Any]:
    sc, meta = res.scenario, res.meta
    return {
        "scenario": sc.name,
        "scenario_hash": meta.get("scenario_hash"),
        "book": meta.get("book_path"),
        "book_hash": meta.get("book_hash"),
        "seed": sc.simulation.seed,
        "sims": res.n_sims,
        "block_size": sc.simulation.block_size,
        "reporting_currency": res.compiled.reporting_currency,
        "copula": sc.model.copula,
        "executor": meta.get("executor"),
        "workers": meta.get("workers"),
        "wall_time_s": meta.get("wall_time_s"),
        "simulate_time_s": meta.get("simulate_time_s"),
        "started_at": meta.get("started_at"),
        "finished_at": meta.get("finished_at"),
    }


def _el_check(res: Results) -> dict[str, Any]:
    """The simulated mean ground-up loss against its exact value, as a z-score.

    ``status`` is ``"ok"``, ``"failed"`` (|z| ≥ :data:`EL_CHECK_Z`) or ``"not enough years"``
    (fewer than :data:`MIN_CHECK_YEARS` years, or no variation to estimate a standard error
    from: the check would test nothing); ``ok`` is then null.
    """
    cp = res.compiled
    est = mean_se(res.ylt["ground_up"].to_numpy(), res.weights)
    testable = res.n_sims >= MIN_CHECK_YEARS and math.isfinite(est.se) and est.se > 0
    z = (est.value - cp.expected_ground_up) / est.se if testable else None
    ok = None if z is None else bool(abs(z) < EL_CHECK_Z)
    return {
        "exact": cp.expected_ground_up,
        "simulated": est.value,
        "se": est.se,
        "z": z,
        "ok": ok,
        "status": "not enough years" if ok is None else ("ok" if ok else "failed"),
    }


def _warnings(measures: dict[str, Any]) -> list[str]:
    """Levels whose VaR and TVaR rest on fewer than :data:`MIN_TAIL_YEARS` simulated years."""
    tail = measures["gross"].get("tail_years", {})
    thin = [lvl for lvl, k in tail.items() if k < MIN_TAIL_YEARS]
    if not thin:
        return []
    return [
        f"VaR and TVaR at {', '.join(f'{lvl} %' for lvl in thin)} rest on fewer than "
        f"{MIN_TAIL_YEARS} simulated years ({', '.join(str(tail[lvl]) for lvl in thin)}): "
        "simulate more years for estimates to rely on"
    ]


def _allocation_summary(res: Results) -> dict[str, Any]:
    """Per perspective and level: the contributions' totals against TVaR and VaR (additivity),
    and the largest contributors by country and sector."""
    import polars as pl

    table = res.allocation_table
    cfg = res.scenario.outputs.allocation
    out: dict[str, Any] = {"perspectives": list(cfg.perspective), "levels": list(cfg.levels)}
    out["dimensions"] = list(cfg.dimensions)
    checks = {}
    d0 = cfg.dimensions[0]
    for (p, lvl), sub in table.filter(pl.col("dimension") == d0).group_by(
        ["perspective", "level"], maintain_order=True
    ):
        checks[f"{p} {lvl:g}"] = {
            "tvar_contributions": float(sub["tvar_contribution"].sum()),
            "var_contributions": float(sub["var_contribution"].sum()),
            "el": float(sub["el"].sum()),
        }
    out["totals"] = checks
    return out


def _monitoring_summary(res: Results) -> dict[str, Any]:
    """Dynamic limit management: expected loss avoided (ground-up), the share of defaults
    caught (cut effective before year end) and the expected insured turnover lost, weighted."""
    w = res.weights
    ylt = res.ylt
    caught = mean_se(ylt["n_caught"].to_numpy().astype(np.float64), w).value
    defaults = mean_se(ylt["n_defaults"].to_numpy().astype(np.float64), w).value
    cfg = res.scenario.monitoring
    return {
        "loss_avoided": mean_se(ylt["loss_avoided"].to_numpy(), w).as_dict(),
        "defaults_caught_share": caught / defaults if defaults > 0 else None,
        "turnover_lost": mean_se(ylt["turnover_lost"].to_numpy(), w).as_dict(),
        "turnover": float(res.compiled.kernel.mon_turnover),
        "parameters": cfg.model_dump(),
    }


def summarize(res: Results) -> dict[str, Any]:
    """The summary of a run (what ``summary.json`` holds)."""
    cp = res.compiled
    all_measures = res.measures()
    out: dict[str, Any] = {
        "riskengine_version": __version__,
        "run": _run_meta(res),
        "book": {
            "buyers": cp.n_buyers,
            "exposures": cp.n_exposures,
            "policies": len(cp.policy_ids),
            "countries": len(cp.country_codes),
            "cells": cp.n_cells,
            "total_ead": float(cp.kernel.exp_rec["ead"].sum()),
            "premium": cp.book_premium,
        },
        "levels": [100 * q for q in LEVELS],
        "measures": all_measures,
        "capital": {p: all_measures[p]["capital"] for p in ("gross", "net")},
        "checks": {"expected_ground_up": _el_check(res)},
        "warnings": _warnings(all_measures),
    }
    if res.meta.get("importance_sampling"):
        w = res.ylt["weight"].to_numpy()
        ess = float(w.sum() ** 2 / np.sum(w * w)) if len(w) else 0.0
        out["importance_sampling"] = {**res.meta["importance_sampling"], "effective_sims": ess}
    if res.allocation_table is not None:
        out["allocation"] = _allocation_summary(res)
    if "loss_avoided" in res.ylt.columns:
        out["monitoring"] = _monitoring_summary(res)
    if res.treaty_names:
        out["treaties"] = treaty_metrics(res)
        g, n = all_measures["gross"], all_measures["net"]
        out["capital"]["relief"] = g["capital"] - n["capital"]
    return out
