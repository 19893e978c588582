"""Credit-limit requests: the file underwriters submit, declared once and validated like a book.

One row per request (docs/limits.md): an existing buyer's new limit under a policy, or a new
buyer given by its country, sector and PD or rating.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import polars as pl

from ..book.load import read_table
from ..book.schema import MAX_AMOUNT, MAX_TERM_DAYS, Column, Range, Table
from ..errors import BookError, Problem
from ..portfolio.resolve import Resolved

__all__ = ["REQUESTS", "read_requests", "request_problems"]

REQUESTS = Table(
    name="requests",
    key="request_id",
    description="One credit-limit request: a buyer's new limit under a policy.",
    columns=(
        Column("request_id", pl.String, True, "Request identifier.", nullable=False, unique=True),
        Column(
            "policy_id", pl.String, True, "The policy the limit is requested under.", nullable=False
        ),
        Column(
            "buyer_id",
            pl.String,
            True,
            "The buyer: one of the book's, or a new buyer (then country, sector and pd or rating).",
            nullable=False,
        ),
        Column(
            "requested_limit",
            pl.Float64,
            True,
            (
                "The buyer's new limit under the policy, in the currency of its limit there "
                "(the policy's currency for a buyer new to the policy)."
            ),
            nullable=False,
            range=Range(0.0, MAX_AMOUNT, lo_open=True),
        ),
        Column(
            "country",
            pl.String,
            False,
            "A new buyer's country (ISO 3166-1 alpha-2).",
            code="country",
        ),
        Column("sector", pl.String, False, "A new buyer's sector."),
        Column(
            "pd",
            pl.Float64,
            False,
            "A new buyer's annual probability of default.",
            range=Range(0.0, 1.0, lo_open=True, hi_open=True),
            fraction=True,
        ),
        Column("rating", pl.String, False, "A new buyer's rating (when no pd)."),
        Column(
            "premium_rate",
            pl.Float64,
            False,
            "Premium rate on the increment's insured turnover (else the rate card's).",
            range=Range(0.0, 1.0, hi_open=True),
            fraction=True,
        ),
        Column(
            "payment_term_days",
            pl.Int64,
            False,
            "Payment term of the new limit (days; else the buyer's or the scenario's).",
            range=Range(1, MAX_TERM_DAYS),
        ),
        Column(
            "utilization",
            pl.Float64,
            False,
            "Expected share of the limit outstanding at default (else the scenario's).",
            range=Range(0.0, 1.0),
            fraction=True,
        ),
    ),
)


def read_requests(
    path: str | os.PathLike | pl.DataFrame,
    r: Resolved | None = None,
    ratings: dict[str, float] | None = None,
) -> pl.DataFrame:
    """Read and validate a requests file (Parquet or CSV), or an in-memory frame of requests
    (optional columns may be left out), into every column of :data:`REQUESTS` at its type; with
    the resolved book ``r`` and the scenario's ``ratings`` also the rules that need the book
    (:func:`request_problems`), every problem of both reported at once.

    Raises
    ------
    BookError
        Listing every problem (file, column, rule, rows).
    """
    frame, problems = read_table(path, REQUESTS)
    source = "requests" if isinstance(path, pl.DataFrame) else str(path)
    if frame is not None and r is not None:  # named as read_table names the file's problems
        label = source if isinstance(path, pl.DataFrame) else os.path.basename(source)
        problems = [*problems, *request_problems(frame, r, ratings or {}, label)]
    if problems or frame is None:
        raise BookError(problems, source)
    return frame


def request_problems(
    requests: pl.DataFrame, r: Resolved, ratings: dict[str, float], file: str
) -> list[Problem]:
    """The rules that need the book: the policy exists; an existing buyer needs nothing more;
    a new buyer needs a country of the book, a sector and a pd or a known rating."""
    problems: list[Problem] = []
    ids = requests["request_id"]

    def flag(column: str, rule: str, mask: Any) -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            bad = ids.filter(pl.Series(mask))
            problems.append(Problem(file, column, rule, len(bad), tuple(bad.head(5).to_list())))

    policies = set(r.policy_ids.astype(str).tolist())
    buyers = set(r.buyer_ids.astype(str).tolist())
    countries = set(r.country_codes.astype(str).tolist())
    flag(
        "policy_id",
        "not a policy of the book",
        ~requests["policy_id"].is_in(list(policies)).to_numpy(),
    )
    new = ~requests["buyer_id"].is_in(list(buyers)).to_numpy()
    flag(
        "country",
        "a new buyer needs a country of the book",
        new & ~requests["country"].is_in(list(countries)).fill_null(False).to_numpy(),
    )
    flag("sector", "a new buyer needs a sector", new & requests["sector"].is_null().to_numpy())
    known = requests["rating"].is_in(list(ratings)).fill_null(False).to_numpy()
    flag(
        "pd",
        f"a new buyer needs a pd or a rating of the scenario's table ({', '.join(ratings)})",
        new & requests["pd"].is_null().to_numpy() & ~known,
    )
    return problems
