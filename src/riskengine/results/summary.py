"""``summary.json``: run metadata, book totals, measures by perspective, capital, treaty metrics
and self-checks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import __version__
from ..measures import LEVELS, mean_se
from .treaties import treaty_metrics

if TYPE_CHECKING:
    from .model import Results

__all__ = ["summarize", "EL_CHECK_Z"]

#: The expected-loss self-check fails beyond this many standard errors.
EL_CHECK_Z = 4.0


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
    cp = res.compiled
    est = mean_se(res.ylt["ground_up"].to_numpy(), res.weights)
    z = (est.value - cp.expected_ground_up) / est.se if est.se and est.se > 0 else 0.0
    return {
        "exact": cp.expected_ground_up,
        "simulated": est.value,
        "se": est.se,
        "z": z,
        "ok": bool(abs(z) < EL_CHECK_Z),
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
    }
    if res.treaty_names:
        out["treaties"] = treaty_metrics(res)
        g, n = all_measures["gross"], all_measures["net"]
        out["capital"]["relief"] = g["capital"] - n["capital"]
    return out
