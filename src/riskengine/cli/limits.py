"""``riskengine limits``: portfolio-wide limits by segment under a risk appetite."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from ..errors import Problem, ScenarioError
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
)

#: Rows of the segment table printed (every segment is in limits.parquet).
TOP = 20

_AMOUNT = re.compile(
    r"^\s*([+-]?[0-9][0-9_,]*(?:\.[0-9]*)?(?:e[+-]?[0-9]+)?)\s*(k|m|bn)?\s*$", re.I
)
_SUFFIX = {None: 1.0, "k": 1e3, "m": 1e6, "bn": 1e9}


def parse_amount(text: str, option: str = "--appetite") -> float:
    """An amount as people type it: ``250000000``, ``250e6``, ``250_000_000``, ``250m``, ``1.2bn``.

    Raises
    ------
    ScenarioError
        When ``text`` is not an amount ≥ 0 (naming the option).
    """
    m = _AMOUNT.match(text)
    value = math.nan
    if m:
        try:
            value = float(m.group(1).replace("_", "").replace(",", ""))
        except ValueError:
            value = math.nan
        value *= _SUFFIX[m.group(2).lower() if m.group(2) else None]
    if not (math.isfinite(value) and value >= 0):
        rule = (
            "an amount ≥ 0 in the scenario's reporting currency (e.g. 250e6, 250_000_000 or "
            f"250m; k, m and bn allowed), got {text!r}"
        )
        raise ScenarioError([Problem(option, None, rule)], option)
    return value


def _check_by(by: str) -> str:
    from ..limits import DIMENSIONS

    if by not in DIMENSIONS:
        rule = f"one of {', '.join(DIMENSIONS)}, got {by!r}"
        raise ScenarioError([Problem("--by", None, rule)], "--by")
    return by


def expense_share(scenario: Any) -> float:
    """Expenses plus commission as a share of premium: the scenario's ``pricing`` block when it
    has one, else the pricing defaults (:class:`riskengine.pricing.premium.Loadings`)."""
    from ..pricing.premium import Loadings

    cfg = getattr(scenario, "pricing", None) or Loadings()
    return float(cfg.expense_ratio + cfg.commission)


def _run_settings(folder: Path) -> dict[str, Any]:
    """The run's identity in ``folder/summary.json`` (scenario, book, years, seed)."""
    run = json.loads((folder / "summary.json").read_text(encoding="utf-8"))["run"]
    keep = ("scenario", "scenario_hash", "book", "book_hash", "seed", "sims")
    return {k: run.get(k) for k in keep}


def _simulate(con: Console, bk: Any, sc: Any, by: str, out: Path, scheduler: str | None) -> Any:
    """Simulate the scenario with the segments ``by`` needs and write the run into ``out``."""
    from ..jobs import simulate as run_job
    from ..jobs import write_outputs
    from ..limits import needed_segments

    need = [s for s in needed_segments(by)[:1] if s not in sc.outputs.segments]
    outputs = sc.outputs.model_copy(update={"segments": [*sc.outputs.segments, *need]})
    sc = sc.model_copy(update={"outputs": outputs})
    bar = Progress(con, sc.name)
    try:
        res = run_job(bk, sc, progress=bar, scheduler=scheduler)
    finally:
        bar.close()
    with con.status("writing the run"):
        write_outputs(res, out)
    return res


def print_limits(out: Console, plan: Any, top: int = TOP) -> None:
    """The proposed limits of the largest segments, and the book today and as proposed."""
    ccy, sol, s = plan.currency, plan.solution, plan.settings
    frame = plan.frame().sort("exposure", descending=True)
    dim = plan.inputs.dimension.replace("_", " ")
    shown = min(top, frame.height)
    title = (
        f"limits by {dim} (largest {shown} of {frame.height} by exposure): gross TVaR "
        f"{s.level:g} % within {money(s.appetite, ccy)}, {plan.inputs.n:,} simulated years, "
        f"expenses and commission {pct(s.expense_share)} of premium"
    )
    cols = [(dim, "left"), ("exposure", "right"), ("scale", "right"), ("limit", "right")]
    cols += [("EL", "right"), ("premium", "right"), ("profit", "right")]
    cols += [("TVaR contribution", "right")]
    t = table(title, cols)
    for r in frame.head(top).iter_rows(named=True):
        t.add_row(
            r["segment"],
            money(r["exposure"], ccy),
            f"{r['scale']:.3f}",
            money(r["limit"], ccy),
            money(r["el"], ccy),
            money(r["premium"], ccy),
            money(r["profit"], ccy),
            money(r["tvar_contribution"], ccy),
        )
    out.print(t)
    b = table(
        None,
        [("book", "left"), ("exposure", "right"), (f"TVaR {s.level:g} %", "right")]
        + [("EL", "right"), ("premium", "right"), ("profit", "right")],
    )
    p = plan.problem
    b.add_row(
        "today",
        money(float(p.exposure.sum()), ccy),
        f"{money(plan.current.value, ccy)} ± {money(plan.current.se)}",
        money(float(p.el.sum()), ccy),
        money(float(p.premium.sum()), ccy),
        money(plan.current_profit, ccy),
    )
    b.add_row(
        "proposed",
        money(float(sol.scale @ p.exposure), ccy),
        f"{money(sol.tvar.value, ccy)} ± {money(sol.tvar.se)}",
        money(float(sol.scale @ p.el), ccy),
        money(float(sol.scale @ p.premium), ccy),
        money(sol.profit, ccy),
    )
    out.print(b)
    if sol.binding:
        price = "n/a" if math.isnan(sol.shadow_price) else f"{sol.shadow_price:.4f}"
        out.print(
            f"the appetite binds: one more {ccy} of TVaR appetite earns {price} {ccy} of expected "
            "profit a year (the shadow price)"
        )
    else:
        out.print("the appetite does not bind: every profitable segment is at max_scale")


def print_rounds(out: Console, plan: Any) -> None:
    """Each ``--verify`` re-simulation: linear against re-simulated TVaR and EL."""
    ccy, s = plan.currency, plan.settings
    t = table(
        "--verify: the book re-simulated with the limits applied "
        f"(appetite {money(s.appetite, ccy)})",
        [("round", "right"), ("LP appetite", "right"), (f"linear TVaR {s.level:g} %", "right")]
        + [("re-simulated TVaR ± se", "right"), ("linear EL", "right")]
        + [("re-simulated EL ± se", "right"), ("within", "left")],
    )
    for r in plan.rounds:
        t.add_row(
            str(r.round),
            money(r.lp_appetite, ccy),
            money(r.lp_tvar, ccy),
            f"{money(r.tvar, ccy)} ± {money(r.tvar_se)}",
            money(r.lp_el, ccy),
            f"{money(r.el, ccy)} ± {money(r.el_se)}",
            "yes" if r.within else "no",
        )
    out.print(t)
    if not plan.verified:
        out.print(
            Text(
                f"warning: after {len(plan.rounds)} re-simulations the TVaR is still above the "
                "appetite; limits.parquet holds the last limits simulated",
                style="bold yellow",
            )
        )


def _report(con: Console, folder: Path, plan: Any) -> None:
    """Show the limits in the report of the run in ``folder``, when it has one of this book."""
    from ..limits import LimitsOutputs
    from ..report import add_limits_to_report

    status = add_limits_to_report(folder, LimitsOutputs.of(plan))
    if status.added:
        con.print(Text("✓ added ", style="bold green") + Text(status.message))
    elif status.message:
        con.print(Text(f"note: {status.message}", style="yellow"))


@app.command(
    short_help="Portfolio-wide limits by segment that earn the most within a risk appetite."
)
def limits(
    scenario: Annotated[Path, typer.Argument(help="Scenario file (YAML).")],
    by: Annotated[
        str,
        typer.Option(
            "--by", help="Segments: country, region, sector or risk_grade.", metavar="DIM"
        ),
    ],
    appetite: Annotated[
        str,
        typer.Option(
            "--appetite",
            help="Bound on the gross TVaR at limits.level (reporting currency; 250e6 or 250m).",
            metavar="AMOUNT",
        ),
    ],
    results: Annotated[
        Path | None,
        typer.Option(
            "--results",
            help="A finished run folder to read the simulated years from (default: simulate).",
            metavar="DIR",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Output folder (default: the --results folder, else limits-out).",
            metavar="DIR",
        ),
    ] = None,
    book: BookOption = None,
    verify: Annotated[
        bool,
        typer.Option(
            "--verify",
            help="Re-simulate the book with the limits applied; tighten while TVaR exceeds the "
            "appetite.",
        ),
    ] = False,
    frontier: Annotated[
        int,
        typer.Option("--frontier", min=2, help="Appetites on the efficient frontier.", metavar="N"),
    ] = 21,
    top: Annotated[int, typer.Option("--top", min=1, help="Segments printed.", metavar="N")] = TOP,
    sims: SimsOption = None,
    seed: SeedOption = None,
    scheduler: SchedulerOption = None,
) -> None:
    """Scale each segment's limits to earn the most expected underwriting profit with the gross
    TVaR (at the scenario's limits.level) within --appetite: the Rockafellar–Uryasev linear
    programme on the simulated segment claims. Writes limits.parquet, frontier.parquet,
    frontier.png and limits.json (docs/limits.md)."""
    from ..limits import (
        LimitsSettings,
        plan_limits,
        read_segment_inputs,
        resolved_book,
        segment_inputs,
        verify_limits,
        write_limits,
    )
    from ..limits.outputs import LINEAR_NOTE

    con = console()
    by = _check_by(by)
    amount = parse_amount(appetite)
    sc, bk = load_inputs(scenario, book)
    sc = sc.with_simulation(sims=sims, seed=seed, source="command line")
    cfg = sc.limits
    settings = LimitsSettings(
        appetite=amount,
        expense_share=expense_share(sc),
        min_scale=cfg.min_scale,
        max_scale=cfg.max_scale,
        level=cfg.level,
    )
    folder = out or results or Path("limits-out")
    if results is not None:
        resolved = resolved_book(bk, sc)
        inputs = read_segment_inputs(results, resolved, by, book_hash=bk.content_hash())
        meta = {**_run_settings(results), "results": str(results)}
        # re-simulate on the run's years (common random numbers) unless told otherwise
        again = {
            "sims": sims or meta.get("sims"),
            "seed": seed if seed is not None else meta.get("seed"),
        }
    else:
        res = _simulate(con, bk, sc, by, folder, scheduler)
        resolved, inputs = res.compiled.resolved, segment_inputs(res, by)
        meta = {
            "scenario": sc.name,
            "scenario_hash": res.meta.get("scenario_hash"),
            "book": res.meta.get("book_path"),
            "book_hash": res.meta.get("book_hash"),
            "seed": sc.simulation.seed,
            "sims": res.n_sims,
            "results": str(folder),
        }
        again = {"sims": res.n_sims, "seed": sc.simulation.seed, "base": res.compiled}
    with con.status("optimising the limits"):
        plan = plan_limits(inputs, settings, frontier_points=frontier, meta=meta)
    if verify:
        bars: dict[int, Progress] = {}

        def progress(r: int, done: int, total: int) -> None:
            if r not in bars:
                for b in bars.values():
                    b.close()
                bars[r] = Progress(con, f"verify {r}")
            bars[r](done, total)

        try:
            plan = verify_limits(
                plan, bk, sc, resolved, progress=progress, scheduler=scheduler, **again
            )
        finally:
            for b in bars.values():
                b.close()
    written = write_limits(plan, folder)
    print_limits(con, plan, top)
    if plan.rounds:
        print_rounds(con, plan)
    con.print(Text(f"note: {LINEAR_NOTE}", style="yellow"))
    con.print(Text("✓ wrote ", style="bold green") + Text(", ".join(map(str, written.values()))))
    _report(con, folder, plan)
