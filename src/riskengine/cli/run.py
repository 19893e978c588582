"""Simulation commands: ``simulate``, ``demo``, ``replay``, ``warmup``, ``scenario-schema``."""

from __future__ import annotations

import shlex
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
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
    rate,
    table,
)

#: Size and seed of the sample book ``riskengine demo`` generates.
DEMO_BUYERS = 100_000
DEMO_SEED = 2026
#: Where ``riskengine demo`` writes the sample book: the book the example scenarios name.
DEMO_BOOK = Path("books/sample")


def print_results_summary(out: Console, results: Any) -> None:
    """The end-of-run table: EL, SD, VaR/TVaR (with Monte Carlo standard errors) and capital."""
    ccy = results.compiled.reporting_currency
    summ = results.summary()
    persp = ["gross", "net"] if results.treaty_names else ["gross"]
    title = f"{results.scenario.name}: {results.n_sims:,} simulated years"
    t = table(title, [("measure", "left"), ("ground-up", "right"), *[(p, "right") for p in persp]])
    m = summ["measures"]
    rows = [("EL", lambda d: d["EL"]), ("SD", lambda d: d["SD"])]
    for q in ("90", "95", "99", "99.5", "99.9"):
        rows.append((f"VaR {q} %", lambda d, q=q: d["VaR"][q]))
    for q in ("99", "99.5"):
        rows.append((f"TVaR {q} %", lambda d, q=q: d["TVaR"][q]))
    for label, get in rows:
        t.add_row(
            label,
            plus_minus(get(m["ground_up"]), ccy),
            *[plus_minus(get(m[p]), ccy) for p in persp],
        )
    t.add_row(
        Text("capital (VaR 99.5 − EL)", style="bold"),
        money(m["ground_up"]["capital"], ccy),
        *[Text(money(m[p]["capital"], ccy), style="bold") for p in persp],
    )
    out.print(t)
    chk = summ["checks"]["expected_ground_up"]
    text = (
        f"check: simulated ground-up EL {money(chk['simulated'], ccy)} vs exact "
        f"{money(chk['exact'], ccy)}"
    )
    if chk["ok"] is None:
        out.print(Text(f"{text}: not enough years to test it", style="yellow"))
    else:
        out.print(Text(f"{text} (z = {chk['z']:+.2f})", style="green" if chk["ok"] else "bold red"))
    for w in summ.get("warnings", []):
        out.print(Text(f"warning: {w}", style="yellow"))
    if results.treaty_names:
        _print_treaties(out, summ, ccy)
    if results.allocation_table is not None:
        from .allocate import print_allocation

        cfg = results.scenario.outputs.allocation
        first = results.allocation(perspective=cfg.perspective[0], level=cfg.levels[-1])
        print_allocation(out, first, ccy, top=5)
    isi = summ.get("importance_sampling")
    if isi:
        out.print(
            f"importance sampling ({isi['shift']}, level {isi['level']:g} %): "
            f"{len(isi.get('components', [])) or 1} shifted component(s), effective years "
            f"{isi['effective_sims']:,.0f} of {results.n_sims:,} (every estimate is weighted)"
        )
    run = summ["run"]
    seconds = run["simulate_time_s"]
    speed = rate(results.compiled.n_buyers * results.n_sims / seconds) if seconds > 0 else "—"
    out.print(
        f"[dim]{results.compiled.n_buyers:,} buyers × {results.n_sims:,} years in "
        f"{seconds:.2f} s ({speed} buyer-years/s, {run['executor']}, {run['workers']} "
        "threads)[/dim]"
    )


def _print_treaties(out: Console, summ: dict, ccy: str) -> None:
    cols = ("expected ceded", "SD", "P(attach)", "P(exhaust)", "share of gross EL")
    tt = table("Treaties", [("treaty", "left"), *[(c, "right") for c in cols]])
    for name, d in summ["treaties"].items():
        pe = d.get("prob_exhaust")
        tt.add_row(
            name,
            money(d["expected_ceded"], ccy),
            money(d["sd"], ccy),
            pct(d["prob_attach"]),
            "" if pe is None else pct(pe),
            pct(d["share_of_gross_el"]),
        )
    out.print(tt)
    out.print(f"capital relief (gross − net capital): {money(summ['capital']['relief'], ccy)}")


def _interrupted(out: Console, folder: Path, resume_command: str) -> None:
    """Say what an interrupted run saved and how to continue it."""
    from ..run.checkpoint import RUN_DIR

    saved = len(list((folder / RUN_DIR / "blocks").glob("block-*.npz")))
    if saved:
        out.print(
            Text(
                f"interrupted: {saved} finished block{'s' if saved != 1 else ''} saved in "
                f"{folder / RUN_DIR}; continue with `{resume_command} --resume`",
                style="yellow",
            )
        )


def _run_and_write(
    out: Console,
    scenario: Any,
    book: Any,
    folder: Path,
    *,
    resume_command: str = "riskengine simulate …",
    **options: Any,
) -> Any:
    from ..jobs import simulate as run_job
    from ..jobs import write_outputs

    if not options.get("resume"):  # a run in progress must not look complete
        (folder / "summary.json").unlink(missing_ok=True)
    bar = Progress(out, "simulating")
    try:
        results = run_job(book, scenario, progress=bar, checkpoint=folder, **options)
    except KeyboardInterrupt:
        bar.close()
        _interrupted(out, folder, resume_command)
        raise
    finally:
        bar.close()
    with out.status("writing results"):
        written = write_outputs(results, folder)
    print_results_summary(out, results)
    out.print(
        Text("✓ wrote ", style="bold green") + Text(", ".join(str(p) for p in written.values()))
    )
    return results


@app.command()
def simulate(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (created if needed).")],
    book: BookOption = None,
    sims: SimsOption = None,
    seed: SeedOption = None,
    block_size: BlockSizeOption = None,
    scheduler: SchedulerOption = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted run in --out.")
    ] = False,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Discard an interrupted run's saved blocks in --out and start afresh.",
        ),
    ] = False,
) -> None:
    """Simulate a book under a scenario; write ylt, segments, ept, summary and report into --out."""
    sc, bk = load_inputs(scenario, book)
    sc = sc.with_simulation(sims=sims, seed=seed, block_size=block_size, source="command line")
    import sys

    again = shlex.join(
        ["riskengine", *[a for a in sys.argv[1:] if a not in ("--resume", "--overwrite")]]
    )
    _run_and_write(
        console(),
        sc,
        bk,
        out,
        resume_command=shlex.join(again),
        scheduler=scheduler,
        resume=resume,
        overwrite=overwrite,
    )


@app.command()
def demo(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the results.", metavar="DIR")
    ] = Path("demo-out"),
    book: Annotated[
        Path,
        typer.Option(
            "--book",
            help="Folder for the sample book (the book scenarios/*.yaml name).",
            metavar="DIR",
        ),
    ] = DEMO_BOOK,
    buyers: Annotated[
        int, typer.Option("--buyers", min=10, help="Buyers in the sample book.", metavar="N")
    ] = DEMO_BUYERS,
    sims: Annotated[
        int | None,
        typer.Option(
            "--sims", help="Simulated years (default: the baseline's 20,000).", metavar="N"
        ),
    ] = None,
) -> None:
    """The embedded default: generate a sample book, run scenarios/baseline.yaml, write a report.

    The sample book goes to books/sample, where the example scenarios look for it, so that
    `riskengine simulate scenarios/baseline.yaml --out out/` works right after.
    """
    from ..book import generate_book, load_book
    from ..scenario import baseline_scenario_path, load_scenario

    con = console()
    path = baseline_scenario_path()
    sc = load_scenario(path).with_simulation(sims=sims, source="command line")
    t0 = time.perf_counter()
    with con.status(f"generating a sample book of {buyers:,} buyers"):
        generate_book(buyers, seed=DEMO_SEED, out=book)
        bk = load_book(book)
    elapsed = time.perf_counter() - t0
    con.print(
        Text("✓ sample book ", style="bold green")
        + Text(f"{book} ({buyers:,} buyers, validated) in {elapsed:.1f} s")
    )
    con.print(Text("✓ scenario ", style="bold green") + Text(f"{path} ({sc.name})"))
    _run_and_write(con, sc, bk, out / "results", overwrite=True)
    report = (out / "results" / "report.html").resolve()
    con.print(Text("open ", style="bold") + Text(str(report)) + Text(" in a browser"))


@app.command()
def warmup() -> None:
    """Compile and cache every kernel, so that first runs don't pay for compilation."""
    from ..run.warmup import warmup as run_warmup

    con = console()
    with con.status("compiling kernels (cached afterwards)"):
        timings = run_warmup()
    total = sum(timings.values())
    con.print(Text("✓ kernels ready ", style="bold green") + Text(f"in {total:.1f} s"))
    for name, sec in timings.items():
        con.print(f"  {name}: {sec:.2f} s")


def _replay_totals(row: dict[str, float], ccy: str) -> Table:
    t = Table(title_justify="left")
    cols = ("ground-up", "gross", "commercial", "political", "defaults", "political events")
    for c in (*cols, "largest occurrence", "net"):
        t.add_column(c, justify="right")
    t.add_row(
        money(row["ground_up"], ccy),
        money(row["gross"], ccy),
        money(row["commercial"], ccy),
        money(row["political"], ccy),
        f"{int(row['n_defaults']):,}",
        f"{int(row['n_political_events'])}",
        money(row["max_occurrence"], ccy),
        money(row["net"], ccy),
    )
    return t


@app.command()
def replay(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML).")],
    sim: Annotated[int, typer.Option("--sim", min=0, help="Simulation id (a row of ylt.parquet).")],
    book: BookOption = None,
    seed: SeedOption = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Rows to show per table.")] = 20,
) -> None:
    """Replay one simulated year alone: its defaults, political events and claims."""
    from ..portfolio.compile import compile_portfolio
    from ..run.replay import replay as run_replay

    con = console()
    sc, bk = load_inputs(scenario, book)
    sc = sc.with_simulation(seed=seed, source="command line")
    cp = compile_portfolio(bk, sc)
    r = run_replay(cp, sim)
    ccy = cp.reporting_currency
    con.print(Text(f"year {sim} of {sc.name} (seed {sc.simulation.seed})", style="bold"))
    con.print(_replay_totals(r.row, ccy))
    if r.events.height:
        con.print("political events: " + ", ".join(f"{c} ({g})" for c, g in r.events.iter_rows()))
    if r.ceded:
        con.print("ceded: " + ", ".join(f"{k} {money(v, ccy)}" for k, v in r.ceded.items()))
    bc = r.buyer_claims
    claims = bc.with_columns(claim=bc["commercial"] + bc["political"]).sort(
        "claim", descending=True
    )
    title = f"largest buyer claims (of {claims.height:,} buyers with a claim)"
    t = Table(title=title, title_justify="left")
    for c in ("buyer", "commercial", "political"):
        t.add_column(c, justify="left" if c == "buyer" else "right")
    for b, c, p, _ in claims.head(top).iter_rows():
        t.add_row(b, money(c, ccy), money(p, ccy))
    con.print(t)
    d = r.defaults.sort("buyer_id")
    t = Table(title=f"defaulted buyers ({d.height:,})", title_justify="left")
    for c in ("buyer", "country", "sector", "LGD"):
        t.add_column(c, justify="right" if c == "LGD" else "left")
    for b, c, s_, lgd in d.head(top).iter_rows():
        t.add_row(b, c, s_, f"{lgd:.3f}")
    con.print(t)
    pc = r.claims.sort("claim", descending=True)
    t = Table(title=f"policy claims ({pc.height:,} policies)", title_justify="left")
    t.add_column("policy")
    t.add_column("claim", justify="right")
    for p, c in pc.head(top).iter_rows():
        t.add_row(p, money(c, ccy))
    con.print(t)


@app.command("scenario-schema")
def scenario_schema(
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to this file instead of printing.")
    ] = None,
) -> None:
    """Print the JSON Schema of scenario files (for editors' YAML support)."""
    import json

    from ..files import atomic_write_bytes
    from ..scenario import scenario_json_schema

    text = json.dumps(scenario_json_schema(), indent=2)
    if out is None:
        typer.echo(text)
    else:
        atomic_write_bytes(out, (text + "\n").encode())
