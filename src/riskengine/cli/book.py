"""Commands on books: ``validate`` and ``generate-book``."""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .app import app
from .common import amount, console, pct

if TYPE_CHECKING:
    import polars as pl

    from ..book.summary import BookSummary


class BookFormat(StrEnum):
    """File format of a written book."""

    parquet = "parquet"
    csv = "csv"


def _breakdown_table(title: str, df: pl.DataFrame, key: str, ccy: str) -> Table:
    t = Table(title=title, title_justify="left")
    t.add_column(key)
    t.add_column("buyers", justify="right")
    t.add_column(f"limit ({ccy})", justify="right")
    t.add_column("share", justify="right")
    for row in df.iter_rows(named=True):
        t.add_row(str(row[key]), f"{row['buyers']:,}", amount(row["limit"]), pct(row["share"]))
    return t


def _print_summary(out: Console, book_path: Path, summary: BookSummary) -> None:
    ccy = summary.reporting_currency
    names = {"fx": "fx rates", "factor_loadings": "factor loadings"}
    counts = ", ".join(f"{n:,} {names.get(name, name)}" for name, n in summary.counts.items())
    out.print(Text("✓ valid book ", style="bold green") + Text(str(book_path)))
    out.print(counts)
    out.print(f"total limit: {amount(summary.total_limit)} {ccy}")
    t = Table(title="Limit by currency", title_justify="left")
    for name, justify in (
        ("currency", "left"),
        ("exposures", "right"),
        ("limit (local)", "right"),
        (f"limit ({ccy})", "right"),
        ("share", "right"),
    ):
        t.add_column(name, justify=justify)
    for r in summary.by_currency.iter_rows(named=True):
        t.add_row(
            r["currency"],
            f"{r['exposures']:,}",
            amount(r["limit_local"]),
            amount(r["limit"]),
            pct(r["share"]),
        )
    out.print(t)
    out.print(_breakdown_table("Limit by region", summary.by_region, "region", ccy))
    out.print(
        _breakdown_table("Limit by country risk grade", summary.by_risk_grade, "risk_grade", ccy)
    )
    t = Table(title="PD by rating", title_justify="left")
    for name in (
        "rating",
        "buyers",
        "share",
        "with pd",
        "pd min",
        "pd mean",
        "pd max",
        "limit share",
    ):
        t.add_column(name, justify="left" if name == "rating" else "right")
    for r in summary.by_rating.iter_rows(named=True):
        pds = [
            f"{100 * r[k]:.2f} %" if r[k] is not None else ""
            for k in ("pd_min", "pd_mean", "pd_max")
        ]
        t.add_row(
            r["rating"] or "(none)",
            f"{r['buyers']:,}",
            pct(r["buyers_share"]),
            f"{r['pd_given']:,}",
            *pds,
            pct(r["share"]),
        )
    out.print(t)


@app.command()
def validate(
    book: Annotated[
        Path,
        typer.Argument(
            help="Book folder (buyers, exposures, policies, countries, fx as .parquet or .csv)."
        ),
    ],
    reporting_currency: Annotated[
        str, typer.Option("--reporting-currency", help="ISO 4217 currency amounts are reported in.")
    ] = "EUR",
) -> None:
    """Check a book against the schema and print what it holds (exit 2 listing every problem)."""
    from ..book import load_book
    from ..book.summary import summarize

    loaded = load_book(book, reporting_currency=reporting_currency)
    _print_summary(console(), book, summarize(loaded, reporting_currency=reporting_currency))


@app.command("generate-book")
def generate_book(
    buyers: Annotated[int, typer.Option("--buyers", min=1, help="Number of buyers.")],
    out: Annotated[
        Path,
        typer.Option("--out", help="Folder to write (absent, empty, or a previous sample book)."),
    ],
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Seed: the same seed gives the same book.")
    ] = 0,
    fmt: Annotated[BookFormat, typer.Option("--format", help="File format.")] = BookFormat.parquet,
) -> None:
    """Write a realistic sample book (see docs/data-format.md)."""
    from ..book import generate_book as generate

    start = time.perf_counter()
    book = generate(buyers, seed=seed, out=out, fmt=fmt.value)
    elapsed = time.perf_counter() - start
    con = console()
    con.print(
        Text("✓ wrote sample book ", style="bold green")
        + Text(f"{out} ({fmt.value}, seed {seed}) in {elapsed:.2f} s")
    )
    t = Table(title_justify="left")
    t.add_column("file")
    t.add_column("rows", justify="right")
    t.add_column("size", justify="right")
    for name, df in book.tables().items():
        file = book.files[name]
        size = (out / file).stat().st_size
        t.add_row(file, f"{df.height:,}", f"{size / 1e6:,.1f} MB")
    con.print(t)
