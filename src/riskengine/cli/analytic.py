"""``riskengine analytic``: the CreditRisk+ loss distribution of a book, in closed form."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from .app import app
from .common import BookOption, console, load_inputs, money, pct, table

#: Rows of the contributions tables printed (and buyers listed in analytic.json).
TOP = 10


def _measures_table(out: Console, run: Any) -> None:
    ccy, res = run.currency, run.result
    cfg = run.scenario.analytic
    title = (
        f"{run.scenario.name}: CreditRisk+ ground-up loss ({run.inputs.n_buyers:,} buyers, "
        f"sector_by {cfg.sector_by}, pd_volatility {cfg.pd_volatility:g}, loss unit "
        f"{money(res.unit, ccy)})"
    )
    t = table(title, [("measure", "left"), ("ground-up", "right")])
    t.add_row("EL", money(res.el, ccy))
    t.add_row("SD", money(res.sd, ccy))
    for q, v in res.var.items():
        t.add_row(f"VaR {100 * q:g} %", money(v, ccy))
    for q, v in res.tvar.items():
        t.add_row(f"TVaR {100 * q:g} %", money(v, ccy))
    t.add_row(
        Text("capital (VaR 99.5 − EL)", style="bold"), money(res.quantile(0.995) - res.el, ccy)
    )
    out.print(t)


def _contributions_tables(out: Console, doc: dict, ccy: str, top: int) -> None:
    c = doc["contributions"]
    var = doc["measures"]["ground_up"]["VaR"]["99.5"]["value"]
    cols = [("EL", "right"), ("to SD", "right"), ("to VaR 99.5", "right"), ("share", "right")]

    def cells(row: dict) -> list[str]:
        share = row["var"] / var if var > 0 else None
        return [money(row["el"], ccy), money(row["sd"], ccy), money(row["var"], ccy), pct(share)]

    buyers = c["buyers"]
    shown = min(top, len(buyers["rows"]))
    title = f"largest risk contributions: buyers (top {shown} of {buyers['of']:,})"
    t = table(
        title,
        [("buyer", "left"), ("country", "left"), ("sector", "left"), ("exposure", "right")]
        + [("PD", "right"), *cols],
    )
    for r in buyers["rows"][:top]:
        pd = f"{100 * r['pd']:.2f} %"
        t.add_row(
            r["buyer_id"], r["country"], r["sector"], money(r["exposure"], ccy), pd, *cells(r)
        )
    out.print(t)
    dim = doc["model"]["sector_by"]
    dim = "country" if dim == "none" else dim
    rows = c[dim]
    t = table(
        f"largest risk contributions: by {dim} (top {min(top, len(rows))} of {len(rows):,})",
        [(dim, "left"), ("exposure", "right"), *cols],
    )
    for r in rows[:top]:
        t.add_row(r["segment"], money(r["exposure"], ccy), *cells(r))
    out.print(t)


def _timings(out: Console, run: Any, total: float) -> None:
    t = run.meta["timings"]
    parts = ", ".join(f"{k} {v:.3f} s" for k, v in t.items())
    grid = len(run.result.probabilities)
    out.print(
        f"[dim]{run.inputs.n_buyers:,} buyers in {run.compute_time_s:.2f} s ({parts}; a grid of "
        f"{grid:,} points); {total:.2f} s with loading the book[/dim]"
    )


def _compare(out: Console, folder: Path, outputs: Any) -> None:
    """Show CreditRisk+ in the folder's simulation report, if the folder has one of this book."""
    from ..report import add_to_report

    status = add_to_report(folder, outputs)
    if status.added:
        out.print(Text("✓ added ", style="bold green") + Text(status.message))
    elif status.message:
        out.print(Text(f"note: {status.message}", style="yellow"))


@app.command()
def analytic(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML).")],
    book: BookOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help=(
                "Write analytic.json and analytic_distribution.parquet here; a simulation's "
                "report.html there (same book) gets a CreditRisk+ comparison."
            ),
            metavar="DIR",
        ),
    ] = None,
    top: Annotated[
        int, typer.Option("--top", min=1, help="Rows of the contribution tables.", metavar="N")
    ] = TOP,
) -> None:
    """CreditRisk+ (closed form, no simulation): EL, SD, VaR/TVaR and risk contributions.

    Ground-up commercial losses (EAD × mean LGD), no policy terms, no political events or
    contagion; the scenario's `analytic:` block sets the loss unit, pd_volatility, sector_by
    and specific_share (docs/analytic.md).
    """
    from ..analytic import analyze
    from ..analytic.outputs import AnalyticOutputs, write_analytic

    t0 = time.perf_counter()
    con = console()
    sc, bk = load_inputs(scenario, book)
    run = analyze(bk, sc)
    total = time.perf_counter() - t0
    listed = max(top, TOP)
    outputs = AnalyticOutputs.of(run, listed)
    _measures_table(con, run)
    _contributions_tables(con, outputs.document, run.currency, top)
    _timings(con, run, total)
    if out is not None:
        written = write_analytic(run, out, top=listed)
        con.print(
            Text("✓ wrote ", style="bold green") + Text(", ".join(str(p) for p in written.values()))
        )
        _compare(con, out, outputs)
