"""What a book holds, in the reporting currency: the figures ``riskengine validate`` prints."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from .model import Book

__all__ = ["BookSummary", "exposures_in", "summarize"]


@dataclass(frozen=True)
class BookSummary:
    """Counts and breakdowns of a book's total credit limit.

    Attributes
    ----------
    reporting_currency : str
        ISO 4217 code of every ``limit`` figure below.
    counts : dict of str to int
        Rows per table (``buyers``, ``exposures``, ``policies``, ``countries``, and ``fx``,
        ``factor_loadings`` when present).
    total_limit : float
        Sum of all exposures' limits, in the reporting currency.
    by_currency : polars.DataFrame
        ``currency``, ``exposures``, ``limit_local`` (in that currency), ``limit``, ``share``.
    by_region, by_risk_grade : polars.DataFrame
        ``region`` (resp. ``risk_grade``), ``buyers``, ``limit``, ``share``.
    by_rating : polars.DataFrame
        ``rating`` (null: none), ``buyers``, ``buyers_share``, ``pd_given`` (buyers with an
        explicit pd), ``pd_min``, ``pd_mean``, ``pd_max`` (of explicit pds), ``limit``, ``share``.
    """

    reporting_currency: str
    counts: dict[str, int]
    total_limit: float
    by_currency: pl.DataFrame
    by_region: pl.DataFrame
    by_risk_grade: pl.DataFrame
    by_rating: pl.DataFrame


def exposures_in(book: Book, reporting_currency: str = "EUR") -> pl.DataFrame:
    """The exposures with ``effective_currency`` (the exposure's, else its policy's) and
    ``limit_reporting`` (the limit converted with ``fx``; the reporting currency has rate 1).

    Parameters
    ----------
    book : Book
        A validated book (every currency used has a rate).
    reporting_currency : str
        ISO 4217 code to convert to.

    Returns
    -------
    polars.DataFrame
        The exposures' columns plus ``effective_currency`` and ``limit_reporting``.
    """
    rates = pl.DataFrame({"currency": [reporting_currency], "rate": [1.0]})
    if book.fx is not None:
        rates = pl.concat(
            [
                rates,
                book.fx.select("currency", "rate").filter(pl.col("currency") != reporting_currency),
            ]
        )
    policy_ccy = book.policies.select("policy_id", pl.col("currency").alias("__policy_currency"))
    return (
        book.exposures.join(policy_ccy, on="policy_id", how="left")
        .with_columns(effective_currency=pl.coalesce("currency", "__policy_currency"))
        .join(
            rates.rename({"currency": "effective_currency", "rate": "__rate"}),
            on="effective_currency",
            how="left",
        )
        .with_columns(limit_reporting=pl.col("limit") * pl.col("__rate"))
        .drop("__policy_currency", "__rate")
    )


def _breakdown(df: pl.DataFrame, by: str, total: float) -> pl.DataFrame:
    return (
        df.group_by(by)
        .agg(buyers=pl.col("buyer_id").n_unique(), limit=pl.col("limit_reporting").sum())
        .with_columns(share=pl.col("limit") / total)
        .sort("limit", descending=True)
    )


def summarize(book: Book, *, reporting_currency: str = "EUR") -> BookSummary:
    """Summarise a validated book: counts, and its total limit by currency, region, grade, rating.

    Parameters
    ----------
    book : Book
        A validated book.
    reporting_currency : str
        ISO 4217 code amounts are converted to.

    Returns
    -------
    BookSummary
    """
    exp = exposures_in(book, reporting_currency)
    total = float(exp.get_column("limit_reporting").sum())
    by_currency = (
        exp.group_by(pl.col("effective_currency").alias("currency"))
        .agg(
            exposures=pl.len(),
            limit_local=pl.col("limit").sum(),
            limit=pl.col("limit_reporting").sum(),
        )
        .with_columns(share=pl.col("limit") / total)
        .sort("limit", descending=True)
    )
    buyers = book.buyers.select("buyer_id", "country", "rating", "pd").join(
        book.countries.select("country", "region", "risk_grade"), on="country", how="left"
    )
    per_buyer = exp.group_by("buyer_id").agg(limit_reporting=pl.col("limit_reporting").sum())
    buyers = buyers.join(per_buyer, on="buyer_id", how="left").with_columns(
        pl.col("limit_reporting").fill_null(0.0)
    )
    n = book.buyers.height
    by_rating = (
        buyers.group_by("rating")
        .agg(
            buyers=pl.len(),
            pd_given=pl.col("pd").count(),
            pd_min=pl.col("pd").min(),
            pd_mean=pl.col("pd").mean(),
            pd_max=pl.col("pd").max(),
            limit=pl.col("limit_reporting").sum(),
        )
        .with_columns(buyers_share=pl.col("buyers") / n, share=pl.col("limit") / total)
        .sort(pl.col("pd_mean").fill_null(2.0), "rating", nulls_last=True)
        .select(
            "rating",
            "buyers",
            "buyers_share",
            "pd_given",
            "pd_min",
            "pd_mean",
            "pd_max",
            "limit",
            "share",
        )
    )
    return BookSummary(
        reporting_currency=reporting_currency,
        counts={name: df.height for name, df in book.tables().items()},
        total_limit=total,
        by_currency=by_currency,
        by_region=_breakdown(buyers, "region", total),
        by_risk_grade=_breakdown(buyers, "risk_grade", total).sort("risk_grade", nulls_last=True),
        by_rating=by_rating,
    )
