"""Dynamic limit management: ``monitor`` (the scenario with monitoring off and on, and a sweep)."""

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
    pct,
    plus_minus,
    table,
    term,
)

_MEASURES = (("el", "EL"), ("var", "VaR {level} %"), ("tvar", "TVaR {level} %"))


def _est(row: dict[str, Any], name: str) -> dict[str, Any]:
    return {"value": row[name], "se": row[f"{name}_se"]}


def _share(row: dict[str, Any]) -> str:
    value, se = row["defaults_caught_share"], row["defaults_caught_share_se"]
    return f"{pct(value)} ± {pct(se)}" if se == se else pct(value)


def print_monitor_tables(out: Console, frame: pl.DataFrame, ccy: str) -> None:
    """The effect on EL, VaR and TVaR (ground-up and gross, with − without monitoring on the
    same years, ± paired standard errors), what monitoring avoids and costs, and the sweep."""
    off = frame.filter(pl.col("run") == "off").row(0, named=True)
    on = frame.filter(pl.col("run") == "on").row(0, named=True)
    level = f"{on['level']:g}"
    cols = [("measure", "left")]
    for p in ("ground-up", "gross"):
        cols += [(f"{p} off", "right"), (f"{p} on", "right"), (f"{p} Δ ± se", "right")]
    t = table(
        f"Dynamic limit management on {on['sims']:,} simulated years: with − without monitoring "
        "(same years, paired standard errors)",
        cols,
    )
    for key, label in _MEASURES:
        cells = [label.format(level=level)]
        for p in ("ground_up", "gross"):
            name = f"{key}_{p}"
            cells += [
                money(off[name], ccy),
                money(on[name], ccy),
                plus_minus(_est(on, f"delta_{name}"), ccy),
            ]
        t.add_row(*cells)
    out.print(t)
    turnover = on["turnover"]
    out.print(
        f"loss avoided (ground-up): {plus_minus(_est(on, 'loss_avoided'), ccy)} a year; defaults "
        f"caught: {_share(on)} of {on['n_defaults']:,.1f} a year; insured turnover lost: "
        f"{plus_minus(_est(on, 'turnover_lost'), ccy)} a year"
        + (
            f" ({pct(on['turnover_lost'] / turnover)} of {money(turnover, ccy)})"
            if turnover
            else ""
        )
    )
    sweep = frame.filter(pl.col("run") == "sweep").sort("value")
    if sweep.height:
        key = sweep["key"][0]
        cols = [(key, "right"), ("loss avoided", "right"), ("defaults caught", "right")]
        cols += [("turnover lost", "right"), ("Δ gross EL", "right")]
        cols += [(f"Δ gross VaR {level} %", "right"), (f"Δ gross TVaR {level} %", "right")]
        ts = table(f"Sweep of {key}: each point on the same years (± standard errors)", cols)
        for r in sweep.iter_rows(named=True):
            ts.add_row(
                term(r["value"]),
                plus_minus(_est(r, "loss_avoided"), ccy),
                _share(r),
                plus_minus(_est(r, "turnover_lost"), ccy),
                plus_minus(_est(r, "delta_el_gross"), ccy),
                plus_minus(_est(r, "delta_var_gross"), ccy),
                plus_minus(_est(r, "delta_tvar_gross"), ccy),
            )
        out.print(ts)


@app.command(short_help="Dynamic limit management: monitoring off against on, and a sweep.")
def monitor(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.", metavar="DIR")] = Path(
        "monitor-out"
    ),
    book: BookOption = None,
    sims: SimsOption = None,
    seed: SeedOption = None,
    sweep: Annotated[
        str | None,
        typer.Option(
            "--sweep",
            help="KEY=START:STOP:N (or KEY=V1,V2,…): one monitoring key over a grid; KEY is "
            "trigger_pd, trigger_multiple, signal_noise, cut_to, notice_days or reviews_per_year.",
            metavar="KEY=START:STOP:N",
        ),
    ] = None,
    block_size: BlockSizeOption = None,
    scheduler: SchedulerOption = None,
) -> None:
    """Simulate the scenario with its `monitoring` block on and off (and at each value of
    --sweep), every run on the same seed, so that defaults and LGDs are the same year by year;
    print the effect on EL, VaR and TVaR with paired standard errors, the loss avoided, the
    defaults caught and the insured turnover lost; write the run with monitoring (its files and
    report), monitor.parquet and, with --sweep, monitor_sweep.png into --out."""
    from ..jobs import simulate as run_job
    from ..jobs import write_outputs
    from ..monitoring import monitoring_scenario, parse_monitor_sweep, run_monitoring

    con = console()
    grid = parse_monitor_sweep(sweep) if sweep is not None else None
    sc, bk = load_inputs(scenario, book)
    sc = sc.with_simulation(sims=sims, seed=seed, block_size=block_size, source="command line")
    bar = Progress(con, "monitoring on")
    try:
        on = run_job(bk, monitoring_scenario(sc), progress=bar, scheduler=scheduler)
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
        run = run_monitoring(bk, sc, grid, progress=progress, on=on, scheduler=scheduler)
    finally:
        for b in bars.values():
            b.close()
    with con.status("writing results"):
        written: dict[str, Any] = dict(run.write(out))  # first: the report shows the sweep
        written.update(write_outputs(on, out))
    print_monitor_tables(con, run.table, run.reporting_currency)
    con.print(
        Text("✓ wrote ", style="bold green") + Text(", ".join(str(p) for p in written.values()))
    )
