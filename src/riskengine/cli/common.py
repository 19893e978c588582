"""What every command shares: the console, amounts as people read them, the progress bar, the
options several commands take (declared once), and loading a scenario with its book."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from ..errors import Problem

__all__ = [
    "console",
    "money",
    "pct",
    "amount",
    "plus_minus",
    "Progress",
    "load_inputs",
    "BookOption",
    "SimsOption",
    "SeedOption",
    "BlockSizeOption",
    "SchedulerOption",
]

BookOption = Annotated[
    Path | None, typer.Option("--book", help="Book folder (overrides the scenario's `book:`).")
]
SimsOption = Annotated[
    int | None, typer.Option("--sims", min=1, help="Simulated years (overrides the scenario).")
]
SeedOption = Annotated[
    int | None, typer.Option("--seed", min=0, help="Seed (overrides the scenario).")
]
BlockSizeOption = Annotated[
    int | None,
    typer.Option("--block-size", min=1, help="Simulations per block (overrides the scenario)."),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        "--scheduler", help="Run on Dask: 'local' starts a LocalCluster, or tcp://host:port."
    ),
]


def console() -> Console:
    """The console commands print to."""
    return Console(highlight=False, soft_wrap=True)


def pct(x: float | None) -> str:
    """A fraction as a percentage (empty for None)."""
    return "" if x is None else f"{100 * x:.1f} %"


def amount(x: float | None) -> str:
    """A whole amount with thousands separators (empty for None)."""
    return "" if x is None else f"{x:,.0f}"


def money(x: float, ccy: str = "") -> str:
    """An amount scaled to k, m or bn with its currency."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    ax = abs(x)
    for scale, suffix in ((1e9, " bn"), (1e6, " m"), (1e3, " k")):
        if ax >= scale:
            return f"{x / scale:,.2f}{suffix} {ccy}".rstrip()
    return f"{x:,.0f} {ccy}".rstrip()


def plus_minus(est: dict, ccy: str) -> str:
    """``value ± se`` (the value alone when the standard error is not known)."""
    v, se = est["value"], est["se"]
    if se is None or se != se:
        return money(v, ccy)
    return f"{money(v, ccy)} ± {money(se)}"


class Progress:
    """A rich progress bar for simulation runs (it appears only on runs longer than a second)."""

    def __init__(self, out: Console, label: str):
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
        from rich.progress import Progress as RichProgress

        self.progress = RichProgress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("years"),
            TimeRemainingColumn(),
            console=out,
            transient=True,
        )
        self.label = label
        self.task: Any = None
        self.t0 = time.perf_counter()
        self.started = False

    def __call__(self, done: int, total: int) -> None:
        if not self.started and (time.perf_counter() - self.t0 > 1.0 or done == 0):
            self.progress.start()
            self.task = self.progress.add_task(self.label, total=total)
            self.started = True
        if self.started:
            self.progress.update(self.task, completed=done, total=total)

    def close(self) -> None:
        if self.started:
            self.progress.stop()


def load_inputs(scenario_path: Path, book_dir: Path | None) -> tuple[Any, Any]:
    """The scenario in ``scenario_path`` and its book (``book_dir``, else the scenario's)."""
    from ..book import load_book
    from ..errors import ScenarioError
    from ..scenario import load_scenario

    scenario = load_scenario(scenario_path)
    book_path = book_dir or (Path(scenario.book) if scenario.book else None)
    if book_path is None:
        rule = "no book: give --book DIR or a `book:` key in the scenario"
        raise ScenarioError(
            [Problem(str(scenario_path), "book", rule, label="key")], str(scenario_path)
        )
    return scenario, load_book(book_path, reporting_currency=scenario.reporting_currency)
