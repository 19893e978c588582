"""Stress-test commands: ``stress`` (the base run and each stress of a file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
from rich.console import Console
from rich.text import Text

from .app import app
from .common import (
    BlockSizeOption,
    BookOption,
    Progress,
    SchedulerOption,
    SeedOption,
    SimsOption,
    console,
    load_inputs,
    money,
    table,
)


def print_stress_table(out: Console, frame: pl.DataFrame, ccy: str) -> None:
    """Each stress's EL, VaR 99.5 and TVaR 99.5 (gross, and net with treaties) and its change
    against the base, with standard errors of the changes from common random numbers."""
    keep = (pl.col("measure") == "EL") | (pl.col("level") == 99.5)
    for p, sub in frame.filter(keep).group_by("perspective", maintain_order=True):
        cols = [("stress", "left")]
        for m in ("EL", "VaR 99.5 %", "TVaR 99.5 %"):
            cols += [(m, "right"), (f"Δ {m.split()[0]}", "right")]
        t = table(f"stress tests ({p[0]}), Δ against the base ± its standard error", cols)
        for name, rows in sub.group_by("stress", maintain_order=True):
            by = {r["measure"]: r for r in rows.iter_rows(named=True)}
            cells: list[str] = [name[0]]
            for m in ("EL", "VaR", "TVaR"):
                r = by[m]
                delta = (
                    "" if name[0] == "base" else f"{money(r['delta'], '')} ± {money(r['delta_se'])}"
                )
                cells += [money(r["value"], ccy), delta]
            t.add_row(*cells)
        out.print(t)


@app.command(short_help="Run the base scenario and each stress of a file, side by side.")
def stress(
    scenario: Annotated[Path, typer.Argument(help="Base scenario file (YAML).")],
    stresses: Annotated[
        Path,
        typer.Option(
            "--stresses", help="Stress file: a mapping with a `stress:` list.", metavar="FILE"
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Output folder.", metavar="DIR")] = Path(
        "stress-out"
    ),
    book: BookOption = None,
    sims: SimsOption = None,
    seed: SeedOption = None,
    block_size: BlockSizeOption = None,
    scheduler: SchedulerOption = None,
) -> None:
    """Simulate the base scenario and each stress of FILE (every run on the base run's random
    numbers), write the base run's files, stress.parquet and each stressed run's YLT and summary
    into --out, and print the differences with their standard errors."""
    from ..jobs import simulate as run_job
    from ..jobs import write_outputs
    from ..scenario.models import load_stresses
    from ..stress import check_stresses, run_stresses

    con = console()
    entries = load_stresses(stresses)
    sc, bk = load_inputs(scenario, book)
    sc = sc.with_simulation(sims=sims, seed=seed, block_size=block_size, source="command line")
    check_stresses(bk, sc, entries, source=str(stresses))  # before the base run is simulated
    bar = Progress(con, "base")
    try:
        base = run_job(bk, sc, progress=bar, scheduler=scheduler)
    finally:
        bar.close()
    bars: dict[str, Progress] = {}

    def progress(label: str, done: int, total: int) -> None:
        if label not in bars:
            for b in bars.values():
                b.close()
            bars[label] = Progress(con, label)
        bars[label](done, total)

    try:
        run = run_stresses(
            bk, sc, entries, progress=progress, base=base, source=str(stresses), scheduler=scheduler
        )
    finally:
        for b in bars.values():
            b.close()
    with con.status("writing results"):
        written: dict[str, Any] = dict(write_outputs(base, out, stress=run))
        written.update(run.write(out))
    print_stress_table(con, run.table, base.compiled.reporting_currency)
    for name in run.stressed:
        for note in run.notes(name):
            con.print(Text(f"note: {note}", style="yellow"))
    con.print(
        Text("✓ wrote ", style="bold green") + Text(", ".join(str(p) for p in written.values()))
    )
