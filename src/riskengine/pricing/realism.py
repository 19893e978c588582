"""Realism check of a rate card against the market's published ranges (docs/pricing.md §6).

Credit insurers charge roughly 0.1–0.5 % of insured turnover for developed markets and
0.3–1.2 % for emerging ones (the ranges pricing teams quote); on the OECD scale these are
grades 0–1 and 3–6. :func:`realism_check` reads the card at its most common rating and term band
and lists, by grade, the fitted rate beside the range it should fall in.
"""

from __future__ import annotations

import polars as pl

from .card import RateCard

__all__ = ["MARKET_RANGES", "most_common_cell", "realism_check"]

#: Market range of rates on insured turnover (fractions per year) by country risk grade; grades
#: 2 and 7 lie between or beyond the published ranges and have none.
MARKET_RANGES: dict[int, tuple[float, float]] = {
    0: (0.001, 0.005),
    1: (0.001, 0.005),
    3: (0.003, 0.012),
    4: (0.003, 0.012),
    5: (0.003, 0.012),
    6: (0.003, 0.012),
}


def realism_check(
    card: RateCard,
    *,
    rating: str | None = None,
    term_band: int | None = None,
    by: str = "turnover",
) -> pl.DataFrame:
    """The card's rates by grade for one rating and term band, against the market ranges.

    Parameters
    ----------
    card : RateCard
    rating : str, optional
        The rating to read (default: the most common).
    term_band : int, optional
        The term band to read (default: the most common).
    by : str
        What "most common" counts: ``"turnover"`` or ``"n_exposures"``.

    Returns
    -------
    polars.DataFrame
        One row per grade: ``risk_grade``, ``rating``, ``term_band``, ``turnover``,
        ``n_exposures``, ``technical_rate``, ``fitted_rate``, ``market_low``, ``market_high``
        (null for grades without a range), ``within`` (low ≤ fitted ≤ high; null without a
        range) and ``rising`` (the fitted rate is not below the previous grade's).
    """
    common_rating, common_band = most_common_cell(card, by)
    c = card.card
    rating = common_rating if rating is None else rating
    term_band = common_band if term_band is None else term_band
    ranges = pl.DataFrame(
        {
            "risk_grade": list(MARKET_RANGES),
            "market_low": [lo for lo, _ in MARKET_RANGES.values()],
            "market_high": [hi for _, hi in MARKET_RANGES.values()],
        },
        schema={"risk_grade": pl.Int64, "market_low": pl.Float64, "market_high": pl.Float64},
    )
    rows = (
        c.filter((pl.col("rating") == rating) & (pl.col("term_band") == term_band))
        .sort("risk_grade")
        .select(
            "risk_grade",
            "rating",
            "term_band",
            "turnover",
            "n_exposures",
            "technical_rate",
            "fitted_rate",
        )
    )
    return rows.join(ranges, on="risk_grade", how="left", maintain_order="left").with_columns(
        (
            (pl.col("fitted_rate") >= pl.col("market_low"))
            & (pl.col("fitted_rate") <= pl.col("market_high"))
        ).alias("within"),
        (pl.col("fitted_rate") >= pl.col("fitted_rate").shift(1)).fill_null(True).alias("rising"),
    )


def most_common_cell(card: RateCard, by: str = "turnover") -> tuple[str, int]:
    """The card's most common rating and term band (each on its own, by ``by``).

    Parameters
    ----------
    card : RateCard
    by : str
        ``"turnover"`` or ``"n_exposures"``.

    Returns
    -------
    (rating, term_band) : tuple of str and int
        The first in card order among ties.
    """
    if by not in ("turnover", "n_exposures"):
        raise ValueError(f"by must be 'turnover' or 'n_exposures', got {by!r}")
    c = card.card
    return str(_most_common(c, "rating", by)), int(_most_common(c, "term_band", by))


def _most_common(card: pl.DataFrame, column: str, by: str) -> str:
    """The level of ``column`` with the most ``by`` (the first in card order among ties)."""
    totals = card.group_by(column, maintain_order=True).agg(pl.col(by).sum())
    return totals.row(int(totals.get_column(by).arg_max()), named=True)[column]
