"""``riskengine price``: technical premiums, premium adequacy and a calibrated rate card.

The command parses and prints; :mod:`riskengine.pricing.job` prices, and ``riskengine.jobs``
simulates (through the ``simulate`` command's runner, with its progress bar and checkpoints).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
from rich.console import Console
from rich.text import Text

from .app import app
from .common import BookOption, SeedOption, SimsOption, console, load_inputs, money, pct, table

#: Rows of the under- and over-priced tables.
TOP = 10


def _rate(x: float | None) -> str:
    """A rate on turnover: ``0.372 %``."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return ""
    return f"{100 * x:.3f} %"


def _ratio(x: float | None) -> str:
    return "" if x is None or not math.isfinite(x) else f"{x:.2f}"


def _book_line(out: Console, priced: Any) -> None:
    b, ccy = priced.book, priced.currency
    adequacy = b["premium"] / b["technical_premium"] if b["technical_premium"] > 0 else math.nan
    out.print(
        f"[bold]{priced.name}[/bold]: {priced.policies.height:,} policies priced on "
        f"{priced.n_sims:,} simulated years — gross EL {money(b['el'], ccy)} ± "
        f"{money(b['el_se'])}, capital ({priced.capital_label} − EL) {money(b['capital'], ccy)}"
    )
    out.print(
        f"technical premium {money(b['technical_premium'], ccy)}, actual "
        f"{money(b['premium'], ccy)} (adequacy {_ratio(adequacy)}; {pct(b['under_priced'])} of "
        f"policies under-priced); at the actual premiums: return on capital "
        f"{pct(b['return_on_capital'])}, combined ratio {pct(b['combined_ratio'])}"
    )


def _policies_table(out: Console, priced: Any, title: str, descending: bool, top: int) -> None:
    ccy = priced.currency
    rows = (
        priced.policies.filter(pl.col("adequacy").is_not_null())
        .sort("adequacy", descending=descending)
        .head(top)
    )
    t = table(
        title,
        [("policy", "left"), ("turnover", "right"), ("premium", "right")]
        + [("technical premium", "right"), ("± se", "right"), ("actual rate", "right")]
        + [("technical rate", "right"), ("adequacy", "right"), ("premium − technical", "right")],
    )
    for r in rows.iter_rows(named=True):
        t.add_row(
            r["policy_id"],
            money(r["turnover"], ccy),
            money(r["premium"], ccy),
            money(r["technical_premium"], ccy),
            money(r["technical_premium_se"]),
            _rate(r["actual_rate"]),
            _rate(r["technical_rate"]),
            _ratio(r["adequacy"]),
            money(r["premium"] - r["technical_premium"], ccy),
        )
    out.print(t)


def _card_table(out: Console, priced: Any) -> None:
    r = priced.realism
    rating, band = r["rating"][0], int(r["term_band"][0])
    t = table(
        f"rate card by country risk grade: {rating} buyers, terms up to {band} days (the most "
        "common cell by turnover), against the market's ranges",
        [("grade", "right"), ("exposures", "right"), ("turnover", "right")]
        + [("technical rate", "right"), ("card rate", "right"), ("market range", "right")]
        + [("within", "left")],
    )
    for row in r.iter_rows(named=True):
        lo, hi = row["market_low"], row["market_high"]
        within = row["within"]
        mark = "" if within is None else ("[green]yes[/green]" if within else "[red]no[/red]")
        t.add_row(
            str(row["risk_grade"]),
            f"{row['n_exposures']:,}",
            money(row["turnover"], priced.currency),
            _rate(row["technical_rate"]),
            _rate(row["fitted_rate"]),
            "" if lo is None else f"{_rate(lo)} – {_rate(hi)}",
            mark,
        )
    out.print(t)
    graded = r.filter(pl.col("within").is_not_null())
    inside = int(graded["within"].sum())
    rising = bool(r["rising"].all())
    style = "green" if inside == graded.height and rising else "yellow"
    out.print(
        Text(
            f"realism: {inside} of {graded.height} graded rates within the market's ranges; "
            f"rising with the grade: {'yes' if rising else 'no'}",
            style=style,
        )
    )


def _calibration_line(out: Console, priced: Any) -> None:
    cal, b, ccy = priced.calibration, priced.book, priced.currency
    if cal is None:
        return
    target = "return on capital" if cal.target == "return_on_capital" else "combined ratio"
    out.print(
        Text(
            f"calibrated to a {target} of {pct(cal.target_value)}: factor {cal.factor:.4f} ± "
            f"{cal.factor_se:.4f} on the technical card; the card charges the book "
            f"{money(cal.premium, ccy)} (return on capital {pct(cal.return_on_capital)}, combined "
            f"ratio {pct(cal.combined_ratio)}); actual premiums {money(b['premium'], ccy)} are "
            f"{_ratio(b['premium'] / cal.premium)} × that",
            style="bold",
        )
    )


def print_pricing(out: Console, priced: Any, top: int = TOP) -> None:
    """What ``riskengine price`` prints: the book, the most under- and over-priced policies, the
    card by grade at the most common rating and term with the realism check, the calibration."""
    _book_line(out, priced)
    _policies_table(out, priced, f"most under-priced policies (top {top})", False, top)
    _policies_table(out, priced, f"most over-priced policies (top {top})", True, top)
    _card_table(out, priced)
    _calibration_line(out, priced)


def _report(out: Console, folder: Path, priced: Any) -> None:
    from ..report import add_pricing_to_report

    status = add_pricing_to_report(folder, priced)
    if status.added:
        out.print(Text("✓ added ", style="bold green") + Text(status.message))
    elif status.message:
        out.print(Text(f"note: {status.message}", style="yellow"))


@app.command()
def price(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML); its `pricing:` block.")],
    book: BookOption = None,
    results: Annotated[
        Path | None,
        typer.Option(
            "--results",
            help=(
                "Price a finished run folder (its allocation.parquet: gross, by policy and "
                "exposure, at pricing.capital.level) instead of simulating."
            ),
            metavar="DIR",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help=(
                "Where the pricing files go (default: --results DIR); without --results the "
                "run is simulated and written there too."
            ),
            metavar="DIR",
        ),
    ] = None,
    target_roc: Annotated[
        float | None,
        typer.Option(
            "--target-roc", help="Calibrate the card to this return on capital (e.g. 0.12)."
        ),
    ] = None,
    target_combined_ratio: Annotated[
        float | None,
        typer.Option(
            "--target-combined-ratio",
            help="Calibrate the card to this combined ratio, commission included (e.g. 0.85).",
        ),
    ] = None,
    sims: SimsOption = None,
    seed: SeedOption = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted run in --out.")
    ] = False,
    top: Annotated[
        int, typer.Option("--top", min=1, help="Rows of the policy tables.", metavar="N")
    ] = TOP,
) -> None:
    """Price a book: technical premiums per policy (EL + cost of capital × allocated capital,
    grossed up for expenses and commission), adequacy of the actual premiums, a monotone,
    credible rate card (calibrated with --target-roc or --target-combined-ratio) and country
    rates; writes pricing.parquet, rate_card.parquet/.xlsx, rating_factors.parquet and
    country_rates.parquet (docs/pricing.md).
    """
    from ..pricing import RunFacts, price_book, read_run, with_pricing_allocation, write_pricing
    from ..pricing.job import check_same_book, with_targets

    if target_roc is not None and target_combined_ratio is not None:
        raise typer.BadParameter(
            "give one target: --target-roc or --target-combined-ratio", param_hint="--target-roc"
        )
    if results is None and out is None:
        raise typer.BadParameter(
            "without --results DIR the run is simulated: say where to write it", param_hint="--out"
        )
    if results is not None and (sims is not None or seed is not None or resume):
        raise typer.BadParameter(
            "--sims, --seed and --resume are for a new simulation: not with --results DIR",
            param_hint="--sims",
        )
    con = console()
    sc, bk = load_inputs(scenario, book)
    sc = with_targets(sc, target_roc, target_combined_ratio)
    resolved = None
    if results is None:
        import shlex
        import sys

        from .run import _run_and_write

        assert out is not None
        sim = with_pricing_allocation(sc).with_simulation(sims, seed, source="command line")
        again = shlex.join(["riskengine", *[a for a in sys.argv[1:] if a != "--resume"]])
        res = _run_and_write(con, sim, bk, out, resume_command=again, resume=resume)
        run = RunFacts.of_results(res)
        resolved = res.compiled.resolved
        run_folder = out
    else:
        run = read_run(results, sc.pricing)
        check_same_book(run, bk, sc)
        run_folder = results
    with con.status("pricing"):
        priced = price_book(bk, sc, run, resolved=resolved)
    dest = out if out is not None else results
    assert dest is not None
    with con.status("writing the pricing files"):
        written = write_pricing(priced, dest)
    print_pricing(con, priced, top)
    con.print(
        Text("✓ wrote ", style="bold green") + Text(", ".join(str(p) for p in written.values()))
    )
    if dest.resolve() == run_folder.resolve():
        _report(con, run_folder, priced)
    else:
        con.print(
            Text(
                f"note: {run_folder}/report.html not changed: the pricing files went to {dest}",
                style="yellow",
            )
        )
