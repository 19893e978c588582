"""Measure the sample book's technical rate card against the market's ranges (docs/pricing.md §6).

Generates the sample book, simulates it under ``scenarios/baseline.yaml`` with policy segments,
and prices it with the default loadings (cost of capital 0.10, expenses 0.20, commission 0.05;
capital = TVaR₉₉.₅ contribution − EL):

* each policy's EL (its mean gross claim over the years) and TVaR₉₉.₅ contribution (its mean
  claim over the tail years of the book's gross loss, :meth:`riskengine.measures.Tail.mean`),
  from the run's policy segments;
* each exposure's own EL and contribution from its claims in every simulated year, replayed
  (:func:`riskengine.run.replay.record`; they add up to the policies', which is checked), as the
  weights that split the policy's EL and capital (:func:`riskengine.pricing.price_exposures`);
* the rate card of the exposures' technical rates (:func:`~riskengine.pricing.rate_cells`,
  :func:`~riskengine.pricing.fit_rate_card`) read by :func:`~riskengine.pricing.realism_check`;
* the anchors: the gross loss ratio on the book's premium, claims and premiums as shares of
  insured turnover and of limits, and the spread of the policies' adequacy.

Usage: ``python benchmarks/pricing_realism.py [--buyers 100000] [--seed 2026] [--sims 20000]
[--book DIR]``. Not part of ``make bench``: a tool for whoever changes the sample book's
generator, with the book-level anchors and per-cell diagnostics the generator is tuned on;
``riskengine price`` is the user-facing path (tests/test_pricing.py checks that its card lands in
the same ranges). Terms missing from a book count as the
pricing default of 60 days, and a book written before ``policies.turnover`` existed has its
``insured_turnover`` read as the turnover.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

import riskengine
from riskengine.book import Book, generate_book
from riskengine.measures import Tail, tail
from riskengine.portfolio.compile import CompiledPortfolio
from riskengine.pricing import (
    Loadings,
    allocated_capital,
    buyer_ratings,
    exposure_turnover,
    fit_rate_card,
    price_exposures,
    price_policies,
    rate_cells,
    realism_check,
    term_band,
)
from riskengine.run.replay import record

ROOT = Path(__file__).resolve().parents[1]
#: The pricing default payment term (days) for exposures without one.
DEFAULT_TERM_DAYS = 60.0
#: The capital measure's level: TVaR₉₉.₅.
LEVEL = 0.995
_CHUNK = 1_000  # years replayed at a time


def baseline_scenario(sims: int) -> riskengine.Scenario:
    """``scenarios/baseline.yaml`` with ``sims`` years and claims by policy."""
    sc = riskengine.load_scenario(ROOT / "scenarios" / "baseline.yaml")
    outputs = sc.outputs.model_copy(update={"segments": ["policy"]})
    simulation = sc.simulation.model_copy(update={"sims": sims})
    return sc.model_copy(update={"outputs": outputs, "simulation": simulation})


def _policy_estimates(res: riskengine.Results, t: Tail) -> tuple[np.ndarray, ...]:
    """Per policy (book order): EL, its standard error and the TVaR contribution."""
    n, n_p = res.n_sims, len(res.compiled.policy_ids)
    m, code = res.compiled.layout.select(res.seg_col, "policy")
    sim, val = res.seg_sim[m], res.seg_val[m]
    el = np.bincount(code, val, minlength=n_p) / n
    second = np.bincount(code, val * val, minlength=n_p) / n
    el_se = np.sqrt(np.maximum(second - el * el, 0.0) / (n - 1))
    row_of = np.full(n, -1, dtype=np.int64)
    row_of[t.index] = np.arange(len(t.index))
    keep = row_of[sim] >= 0
    tail_claims = np.zeros((len(t.index), n_p))
    np.add.at(tail_claims, (row_of[sim[keep]], code[keep]), val[keep])
    contribution = replace(t, index=np.arange(len(t.index))).mean(tail_claims)
    return el, el_se, np.asarray(contribution)


def _exposure_estimates(cp: CompiledPortfolio, n: int, t: Tail) -> tuple[np.ndarray, ...]:
    """Per exposure (book order): EL, TVaR contribution and ground-up EL, from replayed years."""
    n_e = len(cp.exposure_perm)
    claims, in_tail, ground_up = np.zeros(n_e), np.zeros(n_e), np.zeros(n_e)
    mass = np.zeros(n)
    mass[t.index] = t.mass
    for start in range(0, n, _CHUNK):
        sims = np.arange(start, min(start + _CHUNK, n), dtype=np.int64)
        r = record(cp, sims)
        row = cp.exposure_perm[r.ent_exp]
        claims += np.bincount(row, r.ent_claim, minlength=n_e)
        in_tail += np.bincount(row, r.ent_claim * mass[sims[r.ent_year]], minlength=n_e)
        ground_up += np.bincount(row, r.ent_loss, minlength=n_e)
    return claims / n, in_tail / t.denominator, ground_up / n


def _exposures(book: Book, cp: CompiledPortfolio, scenario: riskengine.Scenario) -> pl.DataFrame:
    """The exposures with limits in the reporting currency, terms, ratings and risk grades."""
    r, ex = cp.resolved, book.exposures
    terms = (
        ex.get_column("payment_term_days").cast(pl.Float64)
        if "payment_term_days" in ex.columns
        else pl.Series("payment_term_days", [None] * ex.height, dtype=pl.Float64)
    )
    buyers = book.buyers.with_columns(buyer_ratings(book.buyers, scenario.ratings)).join(
        book.countries.select("country", "risk_grade"), on="country", how="left"
    )
    return pl.DataFrame(
        {
            "exposure_id": ex.get_column("exposure_id"),
            "policy_id": ex.get_column("policy_id"),
            "buyer_id": ex.get_column("buyer_id"),
            "limit": r.e_limit * r.e_fx,
            "utilization": r.e_utilization,
            "payment_term_days": terms,
        }
    ).join(
        buyers.select("buyer_id", "rating", "risk_grade"),
        on="buyer_id",
        how="left",
        maintain_order="left",
    )


def _declared_turnover(book: Book, cp: CompiledPortfolio) -> pl.DataFrame:
    p = book.policies
    col = "turnover" if "turnover" in p.columns else "insured_turnover"
    given = p.get_column(col).cast(pl.Float64).to_numpy() * cp.resolved.p_fx
    return pl.DataFrame({"policy_id": p.get_column("policy_id"), "turnover": given})


def _cells(exposures: pl.DataFrame) -> pl.DataFrame:
    """Per (grade, rating, band): EL and technical premium on turnover, capital over EL."""
    bands = term_band(exposures.get_column("payment_term_days").to_numpy())
    return (
        exposures.with_columns(pl.Series("term_band", bands))
        .group_by("risk_grade", "rating", "term_band")
        .agg(
            pl.len().alias("n_exposures"),
            (pl.col("el").sum() / pl.col("turnover").sum()).alias("el_rate"),
            (pl.col("capital").sum() / pl.col("el").sum()).alias("capital_over_el"),
            (pl.col("el").sum() / pl.col("ground_up").sum()).alias("gross_over_ground_up"),
            (pl.col("technical_premium").sum() / pl.col("turnover").sum()).alias("technical_rate"),
        )
        .sort("risk_grade", "rating", "term_band")
    )


def measure(
    n_buyers: int = 100_000, seed: int = 2026, sims: int = 20_000, book: Book | None = None
) -> dict[str, Any]:
    """Simulate and price the sample book (or ``book``).

    Returns
    -------
    dict
        ``realism`` (:func:`~riskengine.pricing.realism_check` of the fitted card), ``card``
        (the :class:`~riskengine.pricing.RateCard`), ``cells`` (per cell EL rate, capital / EL,
        gross / ground-up and technical rate), ``policies`` (priced policies) and ``anchors``
        (book-level figures: amounts in EUR, rates as fractions).
    """
    t0 = time.perf_counter()
    book = generate_book(n_buyers, seed=seed) if book is None else book
    scenario = baseline_scenario(sims)
    res = riskengine.simulate(book, scenario)
    cp, n = res.compiled, res.n_sims
    t = tail(res.ylt.get_column("gross").to_numpy(), LEVEL)
    el, el_se, contribution = _policy_estimates(res, t)
    capital, capital_se = allocated_capital(contribution, el)
    e_el, e_contribution, e_ground_up = _exposure_estimates(cp, n, t)
    p_of_e = cp.resolved.e_policy
    split_error = float(np.abs(np.bincount(p_of_e, e_el, minlength=len(el)) - el).max())
    ex = exposure_turnover(
        _exposures(book, cp, scenario),
        _declared_turnover(book, cp),
        default_utilization=scenario.model.utilization,
        default_payment_term_days=DEFAULT_TERM_DAYS,
    ).with_columns(
        pl.Series("exposure_el", e_el),
        pl.Series("exposure_capital", e_contribution - e_el),
        pl.Series("ground_up", e_ground_up),
    )
    turnover = np.bincount(p_of_e, ex.get_column("turnover").to_numpy(), minlength=len(el))
    loadings = Loadings()
    policies = price_policies(
        pl.DataFrame(
            {
                "policy_id": cp.resolved.policy_ids.astype(str),
                "turnover": turnover,
                "premium": cp.resolved.p_premium,
                "el": el,
                "el_se": el_se,
                "capital": capital,
                "capital_se": capital_se,
            }
        ),
        loadings,
    )
    priced = price_exposures(ex, policies, loadings)
    card = fit_rate_card(rate_cells(priced))
    gross = res.measures("gross")
    book_el, tvar = gross["EL"]["value"], gross["TVaR"]["99.5"]["value"]
    premium = float(cp.resolved.p_premium.sum())
    technical = float(policies.get_column("technical_premium").sum())
    total_turnover = float(turnover.sum())
    limits = float((cp.resolved.e_limit * cp.resolved.e_fx).sum())
    adequacy = policies.get_column("adequacy").drop_nulls().to_numpy()
    anchors = {
        "gross EL (EUR)": book_el,
        "gross TVaR 99.5 (EUR)": tvar,
        "premium (EUR)": premium,
        "gross loss ratio": book_el / premium,
        "claims / turnover": book_el / total_turnover,
        "premium / turnover": premium / total_turnover,
        "technical premium / turnover": technical / total_turnover,
        "claims / limits": book_el / limits,
        "premium / limits": premium / limits,
        "turnover / limits": total_turnover / limits,
        "(TVaR - EL) / EL": (tvar - book_el) / book_el,
        "premium / technical premium": premium / technical,
        "adequacy p10": float(np.quantile(adequacy, 0.1)),
        "adequacy median": float(np.median(adequacy)),
        "adequacy p90": float(np.quantile(adequacy, 0.9)),
        "policies under-priced (adequacy < 1)": float((adequacy < 1).mean()),
        "max |Σ exposure EL − policy EL| (EUR)": split_error,
        "seconds": time.perf_counter() - t0,
    }
    return {
        "realism": realism_check(card),
        "card": card,
        "cells": _cells(priced),
        "policies": policies,
        "anchors": anchors,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--buyers", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--sims", type=int, default=20_000)
    ap.add_argument("--book", type=Path, default=None, help="a book folder instead of generating")
    a = ap.parse_args()
    book = riskengine.load_book(a.book) if a.book is not None else None
    out = measure(a.buyers, a.seed, a.sims, book)
    realism = out["realism"]
    rating, band = realism.get_column("rating")[0], realism.get_column("term_band")[0]
    with pl.Config(tbl_rows=80, tbl_cols=20, tbl_width_chars=200, float_precision=5):
        print(realism.drop("rating", "term_band"))
        print(f"rating {rating}, term band {band}; the card's factors:")
        print(out["card"].factors)
        print("cells of that band:")
        print(out["cells"].filter(pl.col("term_band") == band))
    for k, v in out["anchors"].items():
        print(f"{k:40s} {v:.4g}")


if __name__ == "__main__":
    main()
