"""Credit-limit decisions on a finished run folder: load once, decide many, re-simulate the
requests too large for the tail store."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from ..book.model import Book
from ..errors import OutputError, Problem
from ..measures import tail
from ..portfolio.resolve import resolve
from ..run.simulate import resolve_inputs, simulate
from ..scenario.models import Scenario
from ..tail.store import read_store
from .decide import (
    DecisionContext,
    acceptable,
    counter,
    decide_requests,
    decision_context,
    marginal,
    premium_rate,
    request_buyer,
    settle,
)
from .requests import read_requests

__all__ = ["load_decisions", "decide", "decide_loaded", "resimulate_capital"]


def load_decisions(
    scenario: Scenario | str | os.PathLike,
    results: str | os.PathLike,
    book: Book | str | os.PathLike | None = None,
) -> tuple[DecisionContext, Book]:
    """Load a run folder's tail store, YLT, allocation and rate card with the book and scenario.

    Raises
    ------
    OutputError
        When the folder is not a finished run with a tail store at ``limits.level``, or was run
        on another book.
    """
    folder = Path(results)
    if not (folder / "summary.json").exists():
        rule = (
            "not a finished run (no summary.json): run `riskengine simulate` with "
            "outputs.allocation"
        )
        raise OutputError([Problem(str(folder), None, rule)], str(folder))
    summary = json.loads((folder / "summary.json").read_text())
    if book is None:
        book = summary["run"].get("book")
        if book is None:
            raise OutputError(
                [Problem(str(folder), None, "the run names no book: give --book")], str(folder)
            )
    book, scenario = resolve_inputs(book, scenario)
    want = summary["run"].get("book_hash")
    if want and book.content_hash() != want:
        rule = "the run was simulated on another book (its book_hash differs): give the run's book"
        raise OutputError([Problem(str(folder), "book", rule, label="key")], str(folder))
    store = read_store(folder)
    ylt = pl.read_parquet(folder / "ylt.parquet")
    alloc = folder / "allocation.parquet"
    card = folder / "rate_card.parquet"
    try:
        ctx = decision_context(
            scenario,
            resolve(book, scenario),
            ylt,
            store,
            pl.read_parquet(alloc) if alloc.exists() else None,
            pl.read_parquet(card) if card.exists() else None,
        )
    except ValueError as exc:
        raise OutputError([Problem(str(folder), None, str(exc))], str(folder)) from None
    ctx.run_sims = int(summary["run"]["sims"])
    ctx.run_seed = int(summary["run"]["seed"])
    return ctx, book


def resimulate_capital(
    ctx: DecisionContext, book: Book, row: dict[str, Any]
) -> tuple[float, float]:
    """(ΔTVaR, ΔEL) of the gross loss from re-simulating the book with the request applied (the
    run's seed and years): for requests too large for the tail store."""

    sc = ctx.scenario.with_simulation(sims=ctx.run_sims, seed=ctx.run_seed)
    changed = _with_new_limit(book, row, ctx.scenario.reporting_currency)
    after = simulate(changed, sc)
    q = f"{100 * ctx.level:g}"
    m1 = after.measures("gross")
    if ctx.scenario.simulation.importance_sampling is None:
        # plain Monte Carlo: the run's own years are the base (the same seed reproduces them)
        w = ctx.weights
        t0 = tail(ctx.loss, ctx.level, w).mean(ctx.loss)
        el0 = float(np.mean(ctx.loss if w is None else ctx.loss * w))
    else:  # a re-simulated book draws its own mixture: compare like with like
        base = simulate(book, ctx.scenario.with_simulation(sims=ctx.run_sims, seed=ctx.run_seed))
        m0 = base.measures("gross")
        t0, el0 = m0["TVaR"][q]["value"], m0["EL"]["value"]
    return m1["TVaR"][q]["value"] - t0, m1["EL"]["value"] - el0


def _with_new_limit(book: Book, row: dict[str, Any], reporting_currency: str) -> Book:
    """The book with the request's buyer (added when new) holding its limit under the policy:
    its exposures under the policy scaled to it (their keys, hence the years' draws, unchanged),
    or one exposure added."""
    from ..book import from_frames

    ex = book.exposures
    mine = (pl.col("buyer_id") == row["buyer_id"]) & (pl.col("policy_id") == row["policy_id"])
    current = float(ex.filter(mine)["limit"].sum())
    buyers, exposures = book.buyers, ex
    if current > 0:
        scale = float(row["requested_limit"]) / current
        exposures = ex.with_columns(
            pl.when(mine).then(pl.col("limit") * scale).otherwise(pl.col("limit")).alias("limit")
        )
    else:
        if row["buyer_id"] not in set(buyers["buyer_id"].to_list()):
            new = {c: [None] for c in buyers.columns}
            new.update(
                {
                    "buyer_id": [row["buyer_id"]],
                    "country": [row["country"]],
                    "sector": [row["sector"]],
                    "pd": [row.get("pd")],
                    "rating": [row.get("rating") if row.get("pd") is None else None],
                }
            )
            buyers = pl.concat([buyers, pl.DataFrame(new, schema=buyers.schema)])
        exp = {c: [None] for c in ex.columns}
        exp.update(
            {
                "exposure_id": [f"request-{row['request_id']}"],
                "policy_id": [row["policy_id"]],
                "buyer_id": [row["buyer_id"]],
                "limit": [float(row["requested_limit"])],
                "utilization": [row.get("utilization")],
                "payment_term_days": [row.get("payment_term_days")],
            }
        )
        exposures = pl.concat([ex, pl.DataFrame(exp, schema=ex.schema)])
    return from_frames(
        buyers,
        exposures,
        book.policies,
        book.countries,
        book.fx,
        book.factor_loadings,
        reporting_currency=reporting_currency,
    )


def decide(
    scenario: Scenario | str | os.PathLike,
    requests: pl.DataFrame | str | os.PathLike,
    results: str | os.PathLike,
    book: Book | str | os.PathLike | None = None,
    *,
    resimulate: bool = True,
) -> pl.DataFrame:
    """Decide credit-limit requests against a finished run (docs/limits.md).

    Parameters
    ----------
    scenario : Scenario or path
        Its ``limits:`` block (hurdle, caps, level) and, when present, ``pricing:`` (expenses).
    requests : polars.DataFrame or path
        The requests (``limits.requests.REQUESTS``): a file is validated like a book's.
    results : path
        A run folder written with ``outputs.allocation`` at ``limits.level`` (its tail store).
    book : Book or path, optional
        The run's book (default: the one its summary names).
    resimulate : bool
        Re-simulate requests too large for the tail store (else they are flagged only).

    Returns
    -------
    polars.DataFrame
        ``decisions.parquet``'s rows.
    """
    ctx, bk = load_decisions(scenario, results, book)
    return decide_loaded(ctx, bk, requests, resimulate=resimulate)


def decide_loaded(
    ctx: DecisionContext,
    book: Book,
    requests: pl.DataFrame | str | os.PathLike,
    *,
    resimulate: bool = True,
) -> pl.DataFrame:
    """:func:`decide` on a run already loaded by :func:`load_decisions` (for many batches)."""
    requests = read_requests(requests, ctx.r, ctx.scenario.ratings)
    out = decide_requests(ctx, requests)
    if resimulate and (out["method"] == "resimulate").any():
        out = _resimulated(ctx, book, requests, out)
    return settle(ctx, out)


def _resimulated(
    ctx: DecisionContext, book: Book, requests: pl.DataFrame, out: pl.DataFrame
) -> pl.DataFrame:
    """Re-decide the requests the tail store cannot price exactly: the book re-simulated with
    each (the run's seed and years); when it fails, the largest limit the store prices exactly
    that passes."""
    rows = {r["request_id"]: r for r in requests.iter_rows(named=True)}
    pos = {str(x): i for i, x in enumerate(ctx.r.policy_ids)}
    fixed = []
    for d in out.iter_rows(named=True):
        if d["method"] != "resimulate":
            fixed.append(d)
            continue
        row = rows[d["request_id"]]
        p = pos[str(row["policy_id"])]
        b = request_buyer(ctx, row, p)
        rate = premium_rate(ctx, b, row)
        assert rate is not None
        m = marginal(ctx, b, p, float(row["requested_limit"]), rate)
        d_tvar, _ = resimulate_capital(ctx, book, row)
        m.tvar = m.tvar_linear = d_tvar
        m.capital = d_tvar - m.el
        m.capital_se = float("nan")
        profit = m.premium * (1 - ctx.expense - ctx.commission) - m.el
        m.raroc = profit / m.capital if m.capital > 0 else (np.inf if profit > 0 else -np.inf)
        ok, why = acceptable(ctx, b, m)
        d = {
            **d,
            "marginal_capital": m.capital,
            "marginal_capital_se": m.capital_se,
            "raroc": m.raroc,
            "method": "resimulated",
        }
        if ok:
            d.update(
                decision="approve",
                approved_limit=d["requested_limit"],
                reason=f"re-simulated (a large request): RAROC {m.raroc:.1%}",
            )
        else:
            best = counter(ctx, b, p, float(row["requested_limit"]), rate)
            if best is None:
                d.update(
                    decision="decline",
                    approved_limit=b.current_limit,
                    reason=f"re-simulated (a large request): {why}",
                )
            else:
                limit, mb = best
                d.update(
                    decision="counter",
                    approved_limit=limit,
                    marginal_el=mb.el,
                    marginal_capital=mb.capital,
                    marginal_capital_se=mb.capital_se,
                    premium=mb.premium,
                    raroc=mb.raroc,
                    method="tail store",
                    reason=f"re-simulated: {why}; {limit:,.0f} meets it (RAROC {mb.raroc:.1%})",
                )
        fixed.append(d)
    return pl.DataFrame(fixed, schema=out.schema)
