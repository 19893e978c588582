"""Credit-limit decisions: ``decide`` (requests against a finished run's tail store)."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console
from rich.text import Text

from .app import app
from .common import BookOption, console, money, table


def print_decisions(out: Console, frame: pl.DataFrame, ccy: str, top: int) -> None:
    """The decisions' counts, then the first ``top`` requests with their figures and reasons."""
    counts = frame["decision"].value_counts().sort("decision")
    summary = ", ".join(f"{n:,} {d}" for d, n in counts.iter_rows())
    if "settled" in frame.columns:
        unsettled = int(frame["settled"].not_().sum())  # nulls (not assessable) do not count
        if unsettled:
            summary += f"; {unsettled:,} not settled by the run's years"
    t = table(
        f"credit-limit decisions ({summary}; first {min(top, frame.height)} of {frame.height:,})",
        [
            ("request", "left"),
            ("buyer", "left"),
            ("decision", "left"),
            ("requested", "right"),
            ("approved", "right"),
            ("Δ EL", "right"),
            ("Δ capital ± se", "right"),
            ("premium", "right"),
            ("RAROC", "right"),
            ("reason", "left"),
        ],
    )
    style = {"approve": "green", "counter": "yellow", "decline": "red"}
    for r in frame.head(top).iter_rows(named=True):
        raroc = r["raroc"]
        se = r["marginal_capital_se"]
        cap = money(r["marginal_capital"], "")
        if se is not None and not math.isnan(se):
            cap += f" ± {money(se)}"
        t.add_row(
            r["request_id"],
            r["buyer_id"],
            Text(r["decision"], style=style.get(r["decision"], "")),
            money(r["requested_limit"]),
            money(r["approved_limit"]),
            money(r["marginal_el"], ""),
            cap,
            money(r["premium"], ""),
            _raroc(raroc),
            r["reason"],
        )
    out.print(t)
    out.print(f"amounts in {ccy}; capital = Δ TVaR − Δ EL of the gross loss")


def _raroc(x: float | None) -> str:
    if x is None or math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "no capital" if x > 0 else "loss, no capital"
    return f"{x:.1%}"


@app.command(short_help="Decide credit-limit requests against a finished run.")
def decide(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML): its `limits:` block.")],
    requests: Annotated[
        Path,
        typer.Option(
            "--requests",
            help="Requests file (Parquet or CSV; docs/limits.md).",
            metavar="FILE",
        ),
    ],
    results: Annotated[
        Path,
        typer.Option(
            "--results",
            help="Run folder written with outputs.allocation (its tail store).",
            metavar="DIR",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Output folder.", metavar="DIR")] = Path(
        "decisions-out"
    ),
    book: BookOption = None,
    resimulate: Annotated[
        bool,
        typer.Option(
            "--resimulate/--no-resimulate",
            help="Re-simulate the book for requests too large for the tail store.",
        ),
    ] = True,
    top: Annotated[int, typer.Option("--top", min=0, help="Requests to print.", metavar="N")] = 20,
) -> None:
    """Decide each request of FILE against the run in --results: marginal EL and capital,
    premium, RAROC and approve / counter / decline; write decisions.parquet and decisions.csv
    into --out and print the first requests."""
    from ..files import atomic_write, write_parquet
    from ..limits import decide_loaded, load_decisions

    con = console()
    t0 = time.perf_counter()
    with con.status("loading the run's tail store"):
        ctx, bk = load_decisions(scenario, results, book)
    with con.status("deciding"):
        frame = decide_loaded(ctx, bk, requests, resimulate=resimulate)
    seconds = time.perf_counter() - t0
    out.mkdir(parents=True, exist_ok=True)
    written = [
        write_parquet(out / "decisions.parquet", frame),
        atomic_write(out / "decisions.csv", frame.write_csv),
    ]
    print_decisions(con, frame, ctx.scenario.reporting_currency, top)
    con.print(
        f"{frame.height:,} requests in {seconds:.2f} s (gross TVaR {ctx.level:.1%} of the run: "
        f"{money(ctx.tvar, ctx.scenario.reporting_currency)}; hurdle RAROC "
        f"{ctx.scenario.limits.hurdle_raroc:.0%})"
    )
    con.print(Text("✓ wrote ", style="bold green") + Text(", ".join(str(p) for p in written)))
