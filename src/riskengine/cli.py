"""The ``riskengine`` command line: parses options, calls the library, prints with rich.

Errors riskengine reports to users (:class:`~riskengine.errors.RiskEngineError`) are printed
without a traceback and exit with code 2; an interrupt exits with code 130. The commands'
logic lives in the library (e.g. :mod:`riskengine.book`); this module only parses and prints.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .errors import Problem, RiskEngineError

if TYPE_CHECKING:
    import polars as pl

    from .book.summary import BookSummary

__all__ = ["app", "main"]

#: Exit code for errors in the user's input (bad book, bad scenario, unwritable output).
EXIT_INPUT = 2
#: Exit code after an interrupt (128 + SIGINT).
EXIT_INTERRUPT = 130

app = typer.Typer(
    name="riskengine",
    help="Monte Carlo portfolio risk engine for trade and export credit insurers.",
    pretty_exceptions_enable=False,
    no_args_is_help=True,
    add_completion=False,
)


class BookFormat(StrEnum):
    """File format of a written book."""

    parquet = "parquet"
    csv = "csv"


def _out() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _pct(x: float | None) -> str:
    return "" if x is None else f"{100 * x:.1f} %"


def _amount(x: float | None) -> str:
    return "" if x is None else f"{x:,.0f}"


def _breakdown_table(title: str, df: pl.DataFrame, key: str, ccy: str) -> Table:
    t = Table(title=title, title_justify="left")
    t.add_column(key)
    t.add_column("buyers", justify="right")
    t.add_column(f"limit ({ccy})", justify="right")
    t.add_column("share", justify="right")
    for row in df.iter_rows(named=True):
        t.add_row(str(row[key]), f"{row['buyers']:,}", _amount(row["limit"]), _pct(row["share"]))
    return t


def _print_summary(console: Console, book_path: Path, summary: BookSummary) -> None:
    ccy = summary.reporting_currency
    names = {"fx": "fx rates", "factor_loadings": "factor loadings"}
    counts = ", ".join(f"{n:,} {names.get(name, name)}" for name, n in summary.counts.items())
    console.print(Text("✓ valid book ", style="bold green") + Text(str(book_path)))
    console.print(counts)
    console.print(f"total limit: {_amount(summary.total_limit)} {ccy}")
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
            _amount(r["limit_local"]),
            _amount(r["limit"]),
            _pct(r["share"]),
        )
    console.print(t)
    console.print(_breakdown_table("Limit by region", summary.by_region, "region", ccy))
    console.print(
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
            _pct(r["buyers_share"]),
            f"{r['pd_given']:,}",
            *pds,
            _pct(r["share"]),
        )
    console.print(t)


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
    from .book import load_book
    from .book.summary import summarize

    loaded = load_book(book, reporting_currency=reporting_currency)
    _print_summary(_out(), book, summarize(loaded, reporting_currency=reporting_currency))


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
    from .book import generate_book as generate

    start = time.perf_counter()
    book = generate(buyers, seed=seed, out=out, fmt=fmt.value)
    elapsed = time.perf_counter() - start
    console = _out()
    console.print(
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
    console.print(t)


# ---------------------------------------------------------------------------------------------
# Simulation commands
# ---------------------------------------------------------------------------------------------


def _money(x: float, ccy: str) -> str:
    ax = abs(x)
    for scale, suffix in ((1e9, " bn"), (1e6, " m"), (1e3, " k")):
        if ax >= scale:
            return f"{x / scale:,.2f}{suffix} {ccy}"
    return f"{x:,.0f} {ccy}"


def _pm(est: dict, ccy: str) -> str:
    v, se = est["value"], est["se"]
    if se is None or se != se:
        return _money(v, ccy)
    return f"{_money(v, ccy)} ± {_money(se, '').strip()}"


def print_results_summary(console: Console, results: Any) -> None:
    """The end-of-run table: EL, SD, VaR/TVaR (with Monte Carlo standard errors) and capital."""
    ccy = results.compiled.reporting_currency
    summ = results.summary()
    persp = ["gross", "net"] if results.treaty_names else ["gross"]
    t = Table(
        title=f"{results.scenario.name}: {results.n_sims:,} simulated years", title_justify="left"
    )
    t.add_column("measure")
    t.add_column("ground-up", justify="right")
    for p in persp:
        t.add_column(p, justify="right")
    m = summ["measures"]
    rows = [("EL", lambda d: d["EL"]), ("SD", lambda d: d["SD"])]
    for q in ("90", "95", "99", "99.5", "99.9"):
        rows.append((f"VaR {q} %", lambda d, q=q: d["VaR"][q]))
    for q in ("99", "99.5"):
        rows.append((f"TVaR {q} %", lambda d, q=q: d["TVaR"][q]))
    for label, get in rows:
        t.add_row(label, _pm(get(m["ground_up"]), ccy), *[_pm(get(m[p]), ccy) for p in persp])
    t.add_row(
        Text("capital (VaR 99.5 − EL)", style="bold"),
        _money(m["ground_up"]["capital"], ccy),
        *[Text(_money(m[p]["capital"], ccy), style="bold") for p in persp],
    )
    console.print(t)
    chk = summ["checks"]["expected_ground_up"]
    style = "green" if chk["ok"] else "bold red"
    console.print(
        Text(
            f"check: simulated ground-up EL {_money(chk['simulated'], ccy)} vs exact {_money(chk['exact'], ccy)} "
            f"(z = {chk['z']:+.2f})",
            style=style,
        )
    )
    if results.treaty_names:
        tt = Table(title="Treaties", title_justify="left")
        for c in ("treaty", "expected ceded", "SD", "P(attach)", "P(exhaust)", "share of gross EL"):
            tt.add_column(c, justify="left" if c == "treaty" else "right")
        for name, d in summ["treaties"].items():
            pe = d.get("prob_exhaust")
            tt.add_row(
                name,
                _money(d["expected_ceded"], ccy),
                _money(d["sd"], ccy),
                _pct(d["prob_attach"]),
                "" if pe is None else _pct(pe),
                _pct(d["share_of_gross_el"]),
            )
        console.print(tt)
        console.print(
            f"capital relief (gross − net capital): {_money(summ['capital']['relief'], ccy)}"
        )
    run = summ["run"]
    console.print(
        f"[dim]{results.compiled.n_buyers:,} buyers × {results.n_sims:,} years in {run['simulate_time_s']:.1f} s "
        f"({results.compiled.n_buyers * results.n_sims / max(run['simulate_time_s'], 1e-9) / 1e6:,.0f} M buyer-years/s, "
        f"{run['executor']}, {run['workers']} threads)[/dim]"
    )


class _Progress:
    """A rich progress bar for simulation runs (it appears only on runs longer than a second)."""

    def __init__(self, console: Console, label: str):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("years"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self.label = label
        self.task = None
        self.t0 = time.perf_counter()
        self.started = False

    def __call__(self, done: int, total: int) -> None:
        if not self.started and (time.perf_counter() - self.t0 > 1.0 or done == 0):
            self.progress.start()
            self.task = self.progress.add_task(self.label, total=total)
            self.started = True
        if self.started:
            self.progress.update(self.task, completed=done, total=total)

    def close(self) -> None:
        if self.started:
            self.progress.stop()


def _run_and_write(
    console: Console,
    scenario: Any,
    book: Any,
    out: Path,
    *,
    sims: int | None,
    seed: int | None,
    block_size: int | None,
    scheduler: str | None,
    resume: bool,
) -> Any:
    from .engine import simulate

    if (
        not resume
    ):  # a run in progress must not look complete (a refused --resume keeps a finished run intact)
        (out / "summary.json").unlink(missing_ok=True)
    bar = _Progress(console, "simulating")
    try:
        results = simulate(
            book,
            scenario,
            progress=bar,
            sims=sims,
            seed=seed,
            block_size=block_size,
            scheduler=scheduler,
            checkpoint=out,
            resume=resume,
        )
    finally:
        bar.close()
    with console.status("writing results"):
        written = results.write(out)
    print_results_summary(console, results)
    console.print(
        Text("✓ wrote ", style="bold green") + Text(", ".join(str(p) for p in written.values()))
    )
    return results


def _load_inputs(scenario_path: Path, book_dir: Path | None) -> tuple[Any, Any]:
    from .book import load_book
    from .errors import ScenarioError
    from .scenario import load_scenario

    scenario = load_scenario(scenario_path)
    book_path = book_dir or (Path(scenario.book) if scenario.book else None)
    if book_path is None:
        raise ScenarioError(
            [
                Problem(
                    str(scenario_path),
                    "book",
                    "no book: give --book DIR or a `book:` key in the scenario",
                    label="key",
                )
            ],
            str(scenario_path),
        )
    return scenario, load_book(book_path, reporting_currency=scenario.reporting_currency)


@app.command()
def simulate(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (created if needed).")],
    book: Annotated[
        Path | None, typer.Option("--book", help="Book folder (overrides the scenario's `book:`).")
    ] = None,
    sims: Annotated[
        int | None, typer.Option("--sims", min=1, help="Simulated years (overrides the scenario).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", min=0, help="Seed (overrides the scenario).")
    ] = None,
    block_size: Annotated[
        int | None, typer.Option("--block-size", min=1, help="Simulations per block.")
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler", help="Run on Dask: 'local' starts a LocalCluster, or tcp://host:port."
        ),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted run in --out.")
    ] = False,
) -> None:
    """Simulate a book under a scenario; write ylt, segments, ept, summary and report into --out."""
    console = _out()
    sc, bk = _load_inputs(scenario, book)
    _run_and_write(
        console,
        sc,
        bk,
        out,
        sims=sims,
        seed=seed,
        block_size=block_size,
        scheduler=scheduler,
        resume=resume,
    )


#: Size of the sample book ``riskengine demo`` generates.
DEMO_BUYERS = 100_000
DEMO_SEED = 2026


@app.command()
def demo(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the sample book and results.")
    ] = Path("demo-out"),
    buyers: Annotated[
        int, typer.Option("--buyers", min=10, help="Buyers in the sample book.")
    ] = DEMO_BUYERS,
    sims: Annotated[
        int | None, typer.Option("--sims", min=1, help="Simulated years (default: the baseline's).")
    ] = None,
) -> None:
    """The embedded default: generate a sample book, run scenarios/baseline.yaml, write a report."""
    from .book import generate_book as generate
    from .book import load_book
    from .scenario import baseline_scenario_path, load_scenario

    console = _out()
    book_dir = out / "book"
    t0 = time.perf_counter()
    with console.status(f"generating a sample book of {buyers:,} buyers"):
        generate(buyers, seed=DEMO_SEED, out=book_dir)
        bk = load_book(book_dir)
    console.print(
        Text("✓ sample book ", style="bold green")
        + Text(f"{book_dir} ({buyers:,} buyers, validated) in {time.perf_counter() - t0:.1f} s")
    )
    path = baseline_scenario_path()
    sc = load_scenario(path)
    console.print(Text("✓ scenario ", style="bold green") + Text(f"{path} ({sc.name})"))
    _run_and_write(
        console,
        sc,
        bk,
        out / "results",
        sims=sims,
        seed=None,
        block_size=None,
        scheduler=None,
        resume=False,
    )
    console.print(
        Text("open ", style="bold")
        + Text(str((out / "results" / "report.html").resolve()))
        + Text(" in a browser")
    )


@app.command()
def warmup() -> None:
    """Compile and cache every kernel, so that first runs don't pay for compilation."""
    from .warmup import warmup as run_warmup

    console = _out()
    with console.status("compiling kernels (cached afterwards)"):
        timings = run_warmup()
    total = sum(timings.values())
    console.print(Text("✓ kernels ready ", style="bold green") + Text(f"in {total:.1f} s"))
    for name, sec in timings.items():
        console.print(f"  {name}: {sec:.2f} s")


@app.command()
def replay(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML).")],
    sim: Annotated[int, typer.Option("--sim", min=0, help="Simulation id (a row of ylt.parquet).")],
    book: Annotated[
        Path | None, typer.Option("--book", help="Book folder (overrides the scenario's `book:`).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", min=0, help="Seed (overrides the scenario).")
    ] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Rows to show per table.")] = 20,
) -> None:
    """Replay one simulated year alone: its defaults, political events and claims."""
    from .compile import compile_portfolio
    from .engine import replay as run_replay

    console = _out()
    sc, bk = _load_inputs(scenario, book)
    sc = sc.with_simulation(seed=seed)
    cp = compile_portfolio(bk, sc)
    r = run_replay(cp, sim)
    ccy = cp.reporting_currency
    row = r.row
    console.print(Text(f"year {sim} of {sc.name} (seed {sc.simulation.seed})", style="bold"))
    t = Table(title_justify="left")
    t.add_column("ground-up", justify="right")
    t.add_column("gross", justify="right")
    t.add_column("commercial", justify="right")
    t.add_column("political", justify="right")
    t.add_column("defaults", justify="right")
    t.add_column("political events", justify="right")
    t.add_column("largest occurrence", justify="right")
    t.add_column("net", justify="right")
    t.add_row(
        _money(row["ground_up"], ccy),
        _money(row["gross"], ccy),
        _money(row["commercial"], ccy),
        _money(row["political"], ccy),
        f"{int(row['n_defaults']):,}",
        f"{int(row['n_political_events'])}",
        _money(row["max_occurrence"], ccy),
        _money(row["net"], ccy),
    )
    console.print(t)
    if r.events.height:
        console.print(
            "political events: " + ", ".join(f"{c} ({g})" for c, g in r.events.iter_rows())
        )
    if r.ceded:
        console.print("ceded: " + ", ".join(f"{k} {_money(v, ccy)}" for k, v in r.ceded.items()))
    claims = r.buyer_claims.with_columns(
        claim=r.buyer_claims["commercial"] + r.buyer_claims["political"]
    ).sort("claim", descending=True)
    t = Table(
        title=f"largest buyer claims (of {claims.height:,} buyers with a claim)",
        title_justify="left",
    )
    for c in ("buyer", "commercial", "political"):
        t.add_column(c, justify="left" if c == "buyer" else "right")
    for b, c, p, _ in claims.head(top).iter_rows():
        t.add_row(b, _money(c, ccy), _money(p, ccy))
    console.print(t)
    d = r.defaults.sort("buyer_id")
    t = Table(title=f"defaulted buyers ({d.height:,})", title_justify="left")
    for c in ("buyer", "country", "sector", "LGD"):
        t.add_column(c, justify="right" if c == "LGD" else "left")
    for b, c, s_, lgd in d.head(top).iter_rows():
        t.add_row(b, c, s_, f"{lgd:.3f}")
    console.print(t)
    pc = r.claims.sort("claim", descending=True)
    t = Table(title=f"policy claims ({pc.height:,} policies)", title_justify="left")
    t.add_column("policy")
    t.add_column("claim", justify="right")
    for p, c in pc.head(top).iter_rows():
        t.add_row(p, _money(c, ccy))
    console.print(t)


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
    book: Annotated[
        Path | None, typer.Option("--book", help="Book folder (overrides the scenario's `book:`).")
    ] = None,
    sims: Annotated[
        int | None, typer.Option("--sims", min=1, help="Simulated years (overrides the scenario).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", min=0, help="Seed (overrides the scenario).")
    ] = None,
    loading: Annotated[
        float, typer.Option("--loading", min=0.0, help="Premium loading on expected ceded loss.")
    ] = 0.3,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Run on Dask: 'local' or tcp://host:port.")
    ] = None,
) -> None:
    """Size a layer: a retention / limit grid for one treaty, evaluated on one set of simulated years."""
    from .reinsurance.sweep import parse_sweep, sweep_treaty

    console = _out()
    sweeps = [parse_sweep(s_) for s_ in sweep]
    sc, bk = _load_inputs(scenario, book)
    sc = sc.with_simulation(sims=sims, seed=seed)
    bar = _Progress(console, "simulating")
    try:
        res = sweep_treaty(bk, sc, sweeps, loading=loading, progress=bar, scheduler=scheduler)
    finally:
        bar.close()
    written = res.write(out)
    ccy = res.reporting_currency
    t = Table(
        title=f"{res.treaty}: {len(res.table)} grid points on {res.sims:,} simulated years, amounts in {ccy} "
        f"(gross capital {_money(res.gross_capital, ccy)}, premium loading {loading:.0%})",
        title_justify="left",
    )
    for k in res.keys:
        t.add_column(k, justify="right")
    for c in (
        "E\\[ceded]",
        "P(attach)",
        "premium",
        "ROL",
        "net capital",
        "relief",
        "relief/margin",
    ):
        t.add_column(c, justify="right")
    for r in res.table.iter_rows(named=True):
        t.add_row(
            *[f"{r[k]:,.4g}" for k in res.keys],
            _money(r["expected_ceded"], "").strip(),
            _pct(r["prob_attach"]),
            _money(r["premium"], "").strip(),
            "" if r["rol"] is None else _pct(r["rol"]),
            _money(r["net_capital"], "").strip(),
            _money(r["capital_relief"], "").strip(),
            "" if r["relief_per_margin"] is None else f"{r['relief_per_margin']:.1f}",
        )
    console.print(t)
    console.print(
        Text("✓ wrote ", style="bold green") + Text(", ".join(str(p) for p in written.values()))
    )


@app.command("scenario-schema")
def scenario_schema(
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to this file instead of printing.")
    ] = None,
) -> None:
    """Print the JSON Schema of scenario files (for editors' YAML support)."""
    import json

    from .scenario import scenario_json_schema

    text = json.dumps(scenario_json_schema(), indent=2)
    if out is None:
        typer.echo(text)
    else:
        from .checkpoint import atomic_write_bytes

        atomic_write_bytes(out, (text + "\n").encode())


def _print_error(console: Console, error: RiskEngineError) -> None:
    head, _, rest = str(error).partition("\n")
    console.print(Text("error: ", style="bold red") + Text(head, style="red"))
    if rest:
        console.print(Text(rest))


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Console-script entry point: run :data:`app`, turning user errors into messages.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Raises
    ------
    SystemExit
        Always: 0 on success, 2 for a :class:`~riskengine.errors.RiskEngineError` (printed to
        stderr without a traceback) or a usage error, 130 on interrupt.
    """
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    args = list(argv) if argv is not None else None
    try:
        # typer turns KeyboardInterrupt into Exit(130), returned as the code when not standalone
        rv = app(args=args, prog_name="riskengine", standalone_mode=False)
        code = rv if isinstance(rv, int) else 0
    except RiskEngineError as exc:
        _print_error(err, exc)
        code = EXIT_INPUT
    except KeyboardInterrupt:
        code = EXIT_INTERRUPT
    except (
        OSError
    ) as exc:  # the file system refused (no space, not a folder, permissions): not a bug
        where = f"{exc.filename}: " if exc.filename else ""
        err.print(
            Text("error: ", style="bold red") + Text(f"{where}{exc.strerror or exc}", style="red")
        )
        code = EXIT_INPUT
    except typer.Abort:
        code = 1
    except typer.TyperException as exc:  # usage errors: typer's (vendored click) exceptions
        show = getattr(exc, "show", None)
        if show is not None:
            show()
        else:  # pragma: no cover - every typer exception raised today has show()
            err.print(Text(f"error: {exc.format_message()}"))
        code = exc.exit_code
    if code == EXIT_INTERRUPT:
        err.print(Text("interrupted", style="bold red"))
    raise SystemExit(code)


if __name__ == "__main__":  # pragma: no cover - `python -m riskengine.cli`
    main()
