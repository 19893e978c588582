"""``riskengine stress``: the base run and each stress of a file, on common random numbers."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from ..files import atomic_write_bytes, write_parquet
from ..results.model import Results
from ..results.write import jsonable
from ..run.simulate import resolve_inputs
from ..run.simulate import simulate as simulate_years
from ..scenario.models import Scenario, Stress
from .table import stress_table

__all__ = ["StressRun", "run_stresses"]


@dataclass
class StressRun:
    """The base run, each stressed run by name, and the table of their differences."""

    base: Results
    stressed: dict[str, Results]
    table: pl.DataFrame

    def write(self, folder: str | os.PathLike) -> dict[str, Path]:
        """``stress.parquet`` and each stressed run's ``stresses/<name>/ylt.parquet`` and
        ``summary.json`` (the base run's own files are written by the caller)."""
        import json

        folder = Path(folder)
        out = {"stress.parquet": write_parquet(folder / "stress.parquet", self.table)}
        for name, res in self.stressed.items():
            sub = folder / "stresses" / name
            out[f"stresses/{name}/ylt.parquet"] = write_parquet(sub / "ylt.parquet", res.ylt)
            text = json.dumps(jsonable(res.summary()), indent=2).encode()
            out[f"stresses/{name}/summary.json"] = atomic_write_bytes(sub / "summary.json", text)
        return out


def run_stresses(
    book: Any,
    scenario: Scenario | str | os.PathLike,
    stresses: list[Stress],
    *,
    progress: Any = None,
    base: Results | None = None,
    **options: Any,
) -> StressRun:
    """Simulate the base scenario (unless ``base`` is given) and each stress on top of the
    scenario's own ``stress:`` list, every run with the base run's seed and settings.

    Parameters
    ----------
    book : Book or path
    scenario : Scenario or path
    stresses : list of Stress
        Each is run separately against the base.
    progress : callable, optional
        ``progress(label, done_sims, total_sims)``.
    base : Results, optional
        The base run, when the caller simulated it already.
    options
        Passed to :func:`riskengine.run.simulate.simulate` (sims, seed, block_size, scheduler…).
    """
    book, scenario = resolve_inputs(book, scenario)
    scenario = scenario.with_simulation(
        sims=options.pop("sims", None),
        seed=options.pop("seed", None),
        block_size=options.pop("block_size", None),
    )

    def bar(label: str) -> Any:
        return (lambda done, total: progress(label, done, total)) if progress else None

    if base is None:
        base = simulate_years(book, scenario, progress=bar("base"), **options)
    stressed = {}
    for s in stresses:
        sc = scenario.model_copy(update={"stress": [*scenario.stress, s]})
        stressed[s.name] = simulate_years(book, sc, progress=bar(s.name), **options)
    return StressRun(base=base, stressed=stressed, table=stress_table(base, stressed))
