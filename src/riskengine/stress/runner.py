"""``riskengine stress``: the base run and each stress of a file, on common random numbers.

Every stressed run uses the base run's seed, years and settings, and under importance sampling
the base run's mixture of shifts (so each stressed year has the base year's weight): year i of
a stressed run is year i of the base run with the stress applied, and the table's differences
pair them (docs/stress.md).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import Problem, ScenarioError
from ..files import atomic_write_bytes, write_parquet
from ..results.model import Results
from ..results.write import jsonable
from ..run.simulate import resolve_inputs
from ..run.simulate import simulate as simulate_years
from ..scenario.models import Scenario, Stress
from .table import BASE, stress_table

__all__ = ["StressRun", "check_stresses", "run_stresses"]


@dataclass
class StressRun:
    """The base run, each stressed run by name, the table of their differences
    (:data:`~riskengine.stress.table.STRESS_SCHEMA`) and each stress's definition by name."""

    base: Results
    stressed: dict[str, Results]
    table: pl.DataFrame
    stresses: dict[str, Stress] = field(default_factory=dict)

    def definition(self, name: str) -> Stress | None:
        """The stress that made run ``name`` (the last entry of its scenario's ``stress:``)."""
        if name in self.stresses:
            return self.stresses[name]
        res = self.stressed.get(name)
        return res.scenario.stress[-1] if res is not None and res.scenario.stress else None

    def notes(self, name: str) -> list[str]:
        """What the stressed run ``name``'s transforms reported (PDs capped below 1, R² kept
        in range, a ``where`` selecting no buyer)."""
        res = self.stressed.get(name)
        return list(res.compiled.stress_notes) if res is not None else []

    def write(self, folder: str | os.PathLike) -> dict[str, Path]:
        """``stress.parquet`` and each stressed run's ``stresses/<name>/ylt.parquet`` and
        ``summary.json`` (with a ``stress`` block: the definition and its notes); the base
        run's own files are written by the caller."""
        import json

        folder = Path(folder)
        out = {"stress.parquet": write_parquet(folder / "stress.parquet", self.table)}
        for name, res in self.stressed.items():
            sub = folder / "stresses" / name
            out[f"stresses/{name}/ylt.parquet"] = write_parquet(sub / "ylt.parquet", res.ylt)
            s = self.definition(name)
            block = {
                "name": name,
                "definition": s.model_dump(mode="json", exclude_none=True) if s else None,
                "notes": self.notes(name),
            }
            text = json.dumps(jsonable({**res.summary(), "stress": block}), indent=2).encode()
            out[f"stresses/{name}/summary.json"] = atomic_write_bytes(sub / "summary.json", text)
        return out


def check_stresses(
    book: Any,
    scenario: Scenario | str | os.PathLike,
    stresses: list[Stress],
    *,
    source: str | None = None,
) -> dict[str, list[str]]:
    """Check every stress against the book before anything is simulated.

    Each stress is applied, after the scenario's own ``stress:`` list, to the resolved book (a
    fraction of a second on 100,000 buyers): names the book does not have (countries, regions,
    sectors, ratings, groups, buyers, factors), forced political events without political risk,
    a stress named ``base`` (the base run's rows in stress.parquet) and repeated names are all
    reported at once, each with its key ``stress.<i>…`` in ``source``.

    Parameters
    ----------
    book : Book or path
    scenario : Scenario or path
    stresses : list of Stress
    source : str, optional
        Where the stresses come from (the stress file), for the messages.

    Returns
    -------
    dict of str to list of str
        Each stress's notes (PDs capped below 1, R² kept in range, a ``where`` selecting no
        buyer), by name.

    Raises
    ------
    ScenarioError
        Listing every problem of every stress.
    """
    from ..portfolio.resolve import resolve
    from ..portfolio.stress import apply_stresses

    book, scenario = resolve_inputs(book, scenario)
    where = source or "stresses"
    problems: list[Problem] = []
    names = [s.name for s in stresses]
    for i, s in enumerate(stresses):
        if s.name == BASE:
            rule = f"{BASE!r} names the base run in stress.parquet: give the stress another name"
            problems.append(Problem(where, f"stress.{i}.name", rule, label="key"))
        elif names.index(s.name) != i:
            rule = f"{s.name!r} names stress.{names.index(s.name)} already: names must be unique"
            problems.append(Problem(where, f"stress.{i}.name", rule, label="key"))
    resolved = resolve(book, scenario)
    if scenario.stress:  # the scenario's own stresses: their problems are the scenario's
        resolved, _ = apply_stresses(resolved, list(scenario.stress), scenario)
    notes: dict[str, list[str]] = {}
    for i, s in enumerate(stresses):
        try:
            notes[s.name] = apply_stresses(resolved, [s], scenario, at=f"stress.{i}")[1].notes
        except ScenarioError as exc:
            problems += [dataclasses.replace(p, file=where) for p in exc.problems]
    if problems:
        raise ScenarioError(problems, where)
    return notes


def run_stresses(
    book: Any,
    scenario: Scenario | str | os.PathLike,
    stresses: list[Stress],
    *,
    progress: Any = None,
    base: Results | None = None,
    source: str | None = None,
    **options: Any,
) -> StressRun:
    """Simulate the base scenario (unless ``base`` is given) and each stress on top of the
    scenario's own ``stress:`` list, every run on the base run's years.

    The stresses are checked first (:func:`check_stresses`): a bad one stops the run before
    anything is simulated.

    Parameters
    ----------
    book : Book or path
    scenario : Scenario or path
    stresses : list of Stress
        Each is run separately against the base.
    progress : callable, optional
        ``progress(label, done_sims, total_sims)``; the label is ``base`` or the stress's name.
    base : Results, optional
        The base run, when the caller simulated it already: the stressed runs take its years
        (sims and seed; giving others is an error).
    source : str, optional
        Where the stresses come from (the stress file), for messages.
    options
        Passed to :func:`riskengine.run.simulate.simulate` (sims, seed, block_size, scheduler…).

    Returns
    -------
    StressRun

    Raises
    ------
    ScenarioError
        When a stress names what the book does not have (every problem listed).
    ValueError
        When ``sims`` or ``seed`` differ from those of a given ``base``.
    """
    from ..portfolio.compile import compile_portfolio, same_mixture

    book, scenario = resolve_inputs(book, scenario)
    given = {k: options.pop(k, None) for k in ("sims", "seed", "block_size")}
    if base is not None:  # the stressed runs draw the base run's years
        run_of = {"sims": base.n_sims, "seed": base.scenario.simulation.seed}
        clash = [
            f"{k}={v} (the base run's is {run_of[k]})"
            for k, v in given.items()
            if k in run_of and v is not None and v != run_of[k]
        ]
        if clash:
            raise ValueError(f"the stressed runs draw the base run's years: {', '.join(clash)}")
        given.update(run_of)
    scenario = scenario.with_simulation(**given)
    check_stresses(book, scenario, stresses, source=source)

    def bar(label: str) -> Any:
        return (lambda done, total: progress(label, done, total)) if progress else None

    if base is None:
        base = simulate_years(book, scenario, progress=bar(BASE), **options)
    shifted = base.compiled.kernel.shifted
    # the base run's mixture, not one chosen again for the stressed book: the same years
    plain = scenario.simulation.model_copy(update={"importance_sampling": None})
    # a stressed run keeps its year loss table and measures: no segments, allocation or report
    quiet = scenario.outputs.model_copy(
        update={"segments": [], "allocation": None, "report": False, "occurrence_threshold": None}
    )
    stressed = {}
    for s in stresses:
        update = {"stress": [*scenario.stress, s], "simulation": plain, "outputs": quiet}
        sc = scenario.model_copy(update=update)
        cp = same_mixture(compile_portfolio(book, sc), base.compiled) if shifted else None
        stressed[s.name] = simulate_years(book, sc, progress=bar(s.name), compiled=cp, **options)
    table = stress_table(base, stressed)
    return StressRun(
        base=base, stressed=stressed, table=table, stresses={s.name: s for s in stresses}
    )
