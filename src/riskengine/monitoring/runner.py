"""``riskengine monitor``: a scenario simulated with dynamic limit management off and on, and at
each point of a sweep of one monitoring parameter, every run on the same simulated years."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ..files import atomic_write_bytes, write_parquet
from ..portfolio.compile import compile_portfolio, same_mixture
from ..results.model import Results
from ..run.simulate import resolve_inputs
from ..run.simulate import simulate as simulate_years
from ..scenario.models import Scenario
from .sweep import MonitorSweep
from .table import MONITOR_SCHEMA, monitor_row

__all__ = ["MonitorRun", "run_monitoring", "monitoring_scenario", "MONITOR_FILE", "SWEEP_PLOT"]

#: The comparison's table and the sweep's plot, as written into an output folder.
MONITOR_FILE = "monitor.parquet"
SWEEP_PLOT = "monitor_sweep.png"


@dataclass
class MonitorRun:
    """The runs without and with monitoring, their table (one row per run: off, on and each
    sweep point) and each sweep point's year loss table (its other results are not kept)."""

    off: Results
    on: Results
    table: pl.DataFrame
    sweep: MonitorSweep | None = None
    points: list[pl.DataFrame] = field(default_factory=list)

    @property
    def reporting_currency(self) -> str:
        return self.on.compiled.reporting_currency

    def write(self, folder: str | os.PathLike) -> dict[str, Path]:
        """Write ``monitor.parquet`` and, with a sweep, ``monitor_sweep.png`` atomically (a
        ``monitor_sweep.png`` left by an earlier sweep is removed when there is none)."""
        from .plot import sweep_png

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        out = {MONITOR_FILE: write_parquet(folder / MONITOR_FILE, self.table)}
        if self.sweep is not None:
            png = sweep_png(self.table, self.reporting_currency)
            out[SWEEP_PLOT] = atomic_write_bytes(folder / SWEEP_PLOT, png)
        else:
            (folder / SWEEP_PLOT).unlink(missing_ok=True)
        return out


def monitoring_scenario(scenario: Scenario, enabled: bool = True, **changes: Any) -> Scenario:
    """``scenario`` with its ``monitoring`` block switched on (or off) and ``changes`` made."""
    cfg = scenario.monitoring.model_copy(update={"enabled": enabled, **changes})
    return scenario.model_copy(update={"monitoring": cfg})


def _light(scenario: Scenario) -> Scenario:
    """A comparison run's scenario: no segments and no report (they change no draw)."""
    outputs = scenario.outputs.model_copy(update={"segments": [], "report": False})
    return scenario.model_copy(update={"outputs": outputs})


def run_monitoring(
    book: Any,
    scenario: Scenario | str | os.PathLike,
    sweep: MonitorSweep | None = None,
    *,
    progress: Callable[[str, int, int], None] | None = None,
    on: Results | None = None,
    **options: Any,
) -> MonitorRun:
    """Simulate ``scenario`` with monitoring off and on (its ``monitoring`` block, enabled) and,
    with ``sweep``, once per swept value, all with the same seed and settings.

    Parameters
    ----------
    book : Book or path
    scenario : Scenario or path
    sweep : MonitorSweep, optional
        One monitoring key and its values (:func:`~riskengine.monitoring.parse_monitor_sweep`).
    progress : callable, optional
        ``progress(label, done_sims, total_sims)``.
    on : Results, optional
        The run with monitoring, when the caller simulated it already (with the scenario's
        monitoring block enabled and the same simulation settings). Every other run draws with
        its mean shifts (with importance sampling: the mixture its pilot run chose), so that the
        years stay paired.
    options
        Passed to :func:`riskengine.run.simulate.simulate` (sims, seed, block_size, scheduler…).

    Returns
    -------
    MonitorRun
    """
    book, scenario = resolve_inputs(book, scenario)
    scenario = scenario.with_simulation(
        sims=options.pop("sims", None),
        seed=options.pop("seed", None),
        block_size=options.pop("block_size", None),
    )

    def run(label: str, sc: Scenario, like: Results | None = None) -> Results:
        bar = (lambda done, total: progress(label, done, total)) if progress else None
        compiled = (
            None if like is None else same_mixture(compile_portfolio(book, sc), like.compiled)
        )
        return simulate_years(book, sc, progress=bar, compiled=compiled, **options)

    if on is None:
        on = run("monitoring on", monitoring_scenario(scenario))
    off = run("monitoring off", _light(monitoring_scenario(scenario, enabled=False)), on)
    rows = [monitor_row("off", None, None, off, off), monitor_row("on", None, None, on, off)]
    points: list[pl.DataFrame] = []
    for cfg in sweep.configs(on.scenario.monitoring) if sweep is not None else []:
        value = getattr(cfg, sweep.key)
        sc = _light(scenario.model_copy(update={"monitoring": cfg}))
        res = run(f"{sweep.key} = {value:g}", sc, on)
        rows.append(monitor_row("sweep", sweep.key, float(value), res, off))
        points.append(res.ylt)  # the rest (the compiled book) is not kept: sweeps can be long
    table = pl.DataFrame(rows, schema=MONITOR_SCHEMA, orient="row")
    return MonitorRun(off=off, on=on, table=table, sweep=sweep, points=points)
