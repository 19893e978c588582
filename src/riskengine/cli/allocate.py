"""Capital allocation commands: ``allocate`` (from a finished run folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
from rich.console import Console
from rich.text import Text

from .app import app
from .common import console, money, pct, table


def print_allocation(out: Console, alloc: pl.DataFrame, ccy: str, top: int = 10) -> None:
    """The largest contributors to TVaR by country, sector and buyer, with shares of TVaR,
    EL and exposure, for each perspective and level."""
    for (p, lvl), sub in alloc.group_by(["perspective", "level"], maintain_order=True):
        for dim in ("country", "sector", "buyer"):
            d = sub.filter(pl.col("dimension") == dim)
            if d.is_empty():
                continue
            el_total, ead_total = float(d["el"].sum()), float(d["ead"].sum())
            tvar = float(d["tvar_contribution"].sum())
            title = f"capital by {dim}: {p} TVaR {lvl:g} % = {money(tvar, ccy)} (top {top})"
            cols = [(dim, "left"), ("TVaR contribution", "right"), ("± se", "right")]
            cols += [("share of TVaR", "right"), ("share of EL", "right")]
            cols += [("share of exposure", "right"), ("VaR contribution", "right")]
            t = table(title, cols)
            for r in d.sort("tvar_contribution", descending=True).head(top).iter_rows(named=True):
                t.add_row(
                    r["segment"],
                    money(r["tvar_contribution"], ccy),
                    money(r["tvar_contribution_se"]),
                    pct(r["share"]),
                    pct(r["el"] / el_total if el_total else None),
                    pct(r["ead"] / ead_total if ead_total else None),
                    money(r["var_contribution"], ccy),
                )
            out.print(t)


@app.command(short_help="Capital allocation of a finished run folder (no simulation).")
def allocate(
    results: Annotated[
        Path, typer.Argument(help="A run folder written with outputs.allocation set.")
    ],
    perspective: Annotated[
        list[str] | None,
        typer.Option(
            "--perspective", help="ground_up, gross or net (repeat; default: those recorded)."
        ),
    ] = None,
    level: Annotated[
        list[float] | None,
        typer.Option(
            "--level", help="Level in percent, e.g. 99.5 (repeat; default: those recorded)."
        ),
    ] = None,
    dimension: Annotated[
        list[str] | None,
        typer.Option(
            "--dimension",
            help=(
                "buyer, group, policy, exposure, country, region or sector (repeat; default: "
                "those recorded)."
            ),
        ),
    ] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Rows per table.")] = 10,
) -> None:
    """Compute Euler contributions to TVaR and VaR by segment from a run folder's tail store
    (tail/) and year loss table, and write allocation.parquet there."""
    import json

    from ..jobs import allocate_folder

    con = console()
    table_ = allocate_folder(results, perspectives=perspective, levels=level, dimensions=dimension)
    meta: dict[str, Any] = json.loads((results / "tail" / "meta.json").read_text())
    print_allocation(con, table_, meta.get("reporting_currency", ""), top)
    con.print(Text("✓ wrote ", style="bold green") + Text(str(results / "allocation.parquet")))
