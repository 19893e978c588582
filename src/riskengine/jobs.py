"""Whole jobs, as the command line and the Python API run them: simulate a scenario (the years,
then what the scenario's outputs ask for), and write everything a run produces.

The layers below each do one thing — ``run`` simulates years, ``results`` holds and writes them,
``report`` renders the page — and this module composes them, so that neither results nor the
executors need to know about the report or the checkpoints.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .files import prepare_folder
from .results.model import Results
from .run.checkpoint import RUN_DIR
from .run.simulate import simulate as simulate_years

__all__ = ["simulate", "write_outputs"]


def simulate(
    book: Any, scenario: Any, client: Any = None, progress: Any = None, **options: Any
) -> Results:
    """Simulate a book under a scenario (see :func:`riskengine.run.simulate.simulate` for the
    options).

    Parameters
    ----------
    book : Book or path
    scenario : Scenario or path
    client : distributed.Client, optional
    progress : callable, optional
        ``progress(done_sims, total_sims)``.

    Returns
    -------
    Results
    """
    res = simulate_years(book, scenario, client, progress, **options)
    if options.get("checkpoint") is not None:
        res.meta["checkpoint"] = str(options["checkpoint"])
    if res.scenario.outputs.allocation is not None:
        allocate(res)
    return res


def allocate(res: Results) -> Results:
    """Fill ``res``'s tail store and capital allocation (the scenario's ``outputs.allocation``):
    the tail years replayed and recorded, expected losses by segment, Euler contributions."""
    from .allocation import contributions, expected_losses
    from .tail import build_store

    cfg = res.scenario.outputs.allocation
    assert cfg is not None
    perspectives = list(cfg.perspective)
    el = expected_losses(res, perspectives, list(cfg.dimensions))
    store = build_store(res, perspectives, list(cfg.levels), el, cfg.store_depth)
    res.tail = store
    res.allocation_table = contributions(
        res.ylt,
        store.claims,
        store.years,
        store.exposures,
        el,
        perspectives,
        list(cfg.levels),
        list(cfg.dimensions),
    )
    res._summary = None
    return res


def write_outputs(
    res: Results,
    folder: str | os.PathLike,
    *,
    report: bool | None = None,
    stress: Any = None,
) -> dict[str, Path]:
    """Write every file of a run into ``folder``: the data files, ``report.html`` (when the
    scenario's ``outputs.report`` or ``report`` asks for it; with ``stress``, a
    :class:`~riskengine.stress.StressRun`, it shows the stresses) and ``summary.json`` last;
    then remove the run's checkpoints. Returns the paths by file name."""
    prepare_folder(folder, "summary.json")  # a run being written is not complete
    extra: dict[str, bytes] = {}
    if report if report is not None else res.scenario.outputs.report:
        from .report import analytic_in, monitoring_in, render_report

        # CreditRisk+ outputs already in the folder (`riskengine analytic --out`) join the page,
        # and so does the comparison of `riskengine monitor` (monitor.parquet)
        monitor = monitoring_in(folder)
        more = {"monitor": monitor} if monitor is not None else {}
        if stress is not None:
            more["stress"] = stress
        page = render_report(res, analytic_in(folder), **more)
        extra["report.html"] = page.encode("utf-8")
    written = res.write(folder, extra_files=extra)
    checkpoint = res.meta.get("checkpoint")
    if checkpoint is not None:
        import shutil

        shutil.rmtree(Path(checkpoint) / RUN_DIR, ignore_errors=True)
    return written


def allocate_folder(
    folder: str | os.PathLike,
    *,
    perspectives: list[str] | None = None,
    levels: list[float] | None = None,
    dimensions: list[str] | None = None,
) -> Any:
    """Capital allocation of a finished run folder, from its files (no simulation): the YLT and
    the tail store (``tail/``). Writes ``allocation.parquet`` there and returns the table.

    Perspectives, levels and dimensions default to those the store was recorded for; another
    level needs its tail years in the store (a level whose years were not recorded is refused
    with a message), another perspective or dimension is refused (no expected losses for it).

    Raises
    ------
    OutputError
        When the folder has no finished run or no tail store, or its store was written by other
        kernels.
    """
    import polars as pl

    from .allocation import contributions
    from .errors import OutputError, Problem
    from .files import write_parquet
    from .tail import read_store

    folder = Path(folder)
    if not (folder / "summary.json").exists() or not (folder / "ylt.parquet").exists():
        rule = "not a finished run (no summary.json / ylt.parquet): run `riskengine simulate` first"
        raise OutputError([Problem(str(folder), None, rule)], str(folder))
    store = read_store(folder)
    ylt = pl.read_parquet(folder / "ylt.parquet")
    persp = perspectives or list(store.meta["perspectives"])
    lvls = levels or list(store.meta["levels"])
    recorded = store.el["dimension"].unique(maintain_order=True).to_list()  # the run's order
    dims = dimensions or recorded
    problems = [
        Problem(str(folder), key, f"{x!r} was not recorded (recorded: {have})")
        for key, asked, have in (
            ("perspective", persp, store.meta["perspectives"]),
            ("dimension", dims, recorded),
        )
        for x in asked
        if x not in have
    ]
    problems += [
        Problem(str(folder), "level", f"{x!r}: a level in percent, 0 < level < 100 (e.g. 99.5)")
        for x in lvls
        if not 0.0 < float(x) < 100.0
    ]
    if problems:
        raise OutputError(problems, str(folder))
    try:
        table = contributions(
            ylt,
            store.claims,
            store.years,
            store.exposures,
            store.el,
            persp,
            lvls,
            dims,
        )
    except ValueError as exc:
        raise OutputError([Problem(str(folder), None, str(exc))], str(folder)) from None
    write_parquet(folder / "allocation.parquet", table)
    return table
