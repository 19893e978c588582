"""Reinsurance commands: ``treaty`` (layer sizing on one set of simulated years)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from .app import app
from .common import (
    BookOption,
    Progress,
    SchedulerOption,
    SeedOption,
    SimsOption,
    console,
    load_inputs,
    money,
    pct,
    table,
    term,
)


@app.command()
def treaty(
    scenario: Annotated[
        Path, typer.Argument(help="Scenario file (YAML) whose programme holds the treaty.")
    ],
    sweep: Annotated[
        list[str],
        typer.Option(
            "--sweep", help="TREATY.KEY=START:STOP:N or TREATY.KEY=V1,V2,… (repeat for a grid)."
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Folder for treaty_sweep.csv/.parquet/.png.")
    ] = Path("treaty-sweep"),
    book: BookOption = None,
    sims: SimsOption = None,
    seed: SeedOption = None,
    loading: Annotated[
        float, typer.Option("--loading", min=0.0, help="Premium loading on expected ceded loss.")
    ] = 0.3,
    scheduler: SchedulerOption = None,
) -> None:
    """Size a layer: a retention / limit grid for one treaty, evaluated on one set of simulated
    years."""
    from ..reinsurance.sweep import parse_sweep, sweep_treaty

    con = console()
    sweeps = [parse_sweep(s_) for s_ in sweep]
    sc, bk = load_inputs(scenario, book)
    sc = sc.with_simulation(sims=sims, seed=seed)
    bar = Progress(con, "simulating")
    try:
        res = sweep_treaty(bk, sc, sweeps, loading=loading, progress=bar, scheduler=scheduler)
    finally:
        bar.close()
    written = res.write(out)
    ccy = res.reporting_currency
    title = (
        f"{res.treaty}: {len(res.table)} grid points on {res.sims:,} simulated years, amounts in "
        f"{ccy} (gross capital {money(res.gross_capital, ccy)}, premium loading {loading:.0%})"
    )
    cols = ["E\\[ceded]", "P(attach)", "premium", "ROL", "net capital", "layer relief"]
    cols += ["layer relief / margin", "programme relief"]
    t = table(title, [(k, "right") for k in res.keys] + [(c, "right") for c in cols])
    for r in res.table.iter_rows(named=True):
        per_margin = r["layer_relief_per_margin"]
        t.add_row(
            *[term(r[k]) for k in res.keys],
            money(r["expected_ceded"]),
            pct(r["prob_attach"]),
            money(r["premium"]),
            "" if r["rol"] is None else pct(r["rol"]),
            money(r["net_capital"]),
            money(r["layer_capital_relief"]),
            "" if per_margin is None else f"{per_margin:,.2f}",
            money(r["programme_capital_relief"]),
        )
    con.print(t)
    con.print(
        Text("✓ wrote ", style="bold green") + Text(", ".join(str(p) for p in written.values()))
    )
