"""What every command shares: the console, amounts as people read them, the progress bar, the
options several commands take (declared once), and loading a scenario with its book."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ..errors import BookError, Problem
from ..scenario.models import MAX_BLOCK_SIZE, MAX_SEED, MAX_SIMS

__all__ = [
    "console",
    "table",
    "rate",
    "term",
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
    Path | None,
    typer.Option(
        "--book",
        help="Book folder or .xlsx workbook (overrides the scenario's `book:`).",
        metavar="DIR",
    ),
]
SimsOption = Annotated[
    int | None,
    typer.Option(
        "--sims", help=f"Simulated years, 1 to {MAX_SIMS:,} (overrides the scenario).", metavar="N"
    ),
]
SeedOption = Annotated[
    int | None,
    typer.Option("--seed", help=f"Seed, 0 to {MAX_SEED:,} (overrides the scenario).", metavar="N"),
]
BlockSizeOption = Annotated[
    int | None,
    typer.Option(
        "--block-size",
        help=f"Simulations per block, 1 to {MAX_BLOCK_SIZE:,} (overrides the scenario).",
        metavar="N",
    ),
]
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        help="Run on Dask: 'local' starts a LocalCluster, or tcp://HOST:PORT.",
        metavar="ADDRESS",
    ),
]


#: Width of output that does not go to a terminal (a file, a pipe): wide enough for every table.
PIPE_WIDTH = 160


def console() -> Console:
    """The console commands print to (at least :data:`PIPE_WIDTH` wide when not a terminal)."""
    out = Console(highlight=False, soft_wrap=True)
    if not out.is_terminal:
        out = Console(highlight=False, soft_wrap=True, width=PIPE_WIDTH)
    return out


def table(title: str | None, columns: list[tuple[str, str]]) -> Table:
    """A rich table whose headers and cells wrap instead of being cut off with "…".

    ``columns`` are (header, justify) pairs.
    """
    t = Table(title=title, title_justify="left")
    for header, justify in columns:
        t.add_column(header, justify=justify, overflow="fold")  # type: ignore[arg-type]
    return t


def rate(per_second: float) -> str:
    """A throughput with a unit that keeps its digits (k, M, bn per second)."""
    for scale, suffix in ((1e9, " bn"), (1e6, " M"), (1e3, " k")):
        if per_second >= scale:
            return f"{per_second / scale:,.3g}{suffix}"
    return f"{per_second:,.3g}"


def term(x: float) -> str:
    """A treaty or sweep parameter as people write it: amounts with k/m/bn, else the number."""
    if abs(x) >= 1e3:
        return money(x)
    return f"{x:,.4g}"


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
    if ax < 0.5:  # no "-0"
        return f"0 {ccy}".rstrip()
    for scale, suffix in ((1e9, " bn"), (1e6, " m"), (1e3, " k")):
        if ax >= scale:
            return f"{x / scale:,.2f}{suffix} {ccy}".rstrip()
    return f"{x:,.0f} {ccy}".rstrip()


def plus_minus(est: dict, ccy: str) -> str:
    """``value ± se``; ``± n/a`` when the standard error cannot be estimated (too few years)."""
    v, se = est["value"], est["se"]
    if se is None or se != se:
        return f"{money(v, ccy)} ± n/a"
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
        if not self.progress.console.is_terminal:  # a file or a pipe: no bar, no blank lines
            return
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
    if book_dir is None and not book_path.exists():
        rule = (
            f"the book {book_path} (the scenario's `book:`) does not exist: create the sample "
            f"book with `riskengine generate-book --buyers 100000 --seed 2026 --out {book_path}` "
            "(`make demo` does it too), or give --book DIR"
        )
        raise BookError(
            [Problem(str(scenario_path), "book", rule, label="key")], str(scenario_path)
        )
    return scenario, load_book(book_path, reporting_currency=scenario.reporting_currency)
