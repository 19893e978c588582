"""Rate cards: technical rates by country risk grade × buyer rating × payment-term band.

* **Cells** (:func:`rate_cells`): the exposures' technical premiums and insured turnovers summed
  per cell; the cell's observed ``technical_rate`` = Σ technical premium / Σ turnover (the
  turnover-weighted mean of its exposures' rates); every cell of the grid is listed, empty ones
  with turnover 0.
* **Model** (:func:`fit_rate_card`): ``model_rate`` = base × f_grade × f_rating × f_term, fitted
  to the cells weighted by turnover, each factor's relativities non-decreasing (grade 0 → 7,
  AAA → CCC, shortest → longest term), by constrained Poisson quasi-likelihood
  (:mod:`riskengine.pricing.fit`). It fills empty cells and charges the observed cells exactly
  their total technical premium.
* **Credibility**: a cell's own rate gets the weight Z = n / (n + k), n its number of exposures
  (Bühlmann: k is the ratio of the within-cell variance of exposures' rates to the variance of
  true cell rates around the model; a parameter, ``credibility_k``). The credibility estimate
  Z × technical_rate + (1 − Z) × model_rate of every cell (the model alone where a cell is
  empty) is then projected, by weighted least squares with weights n + k, onto the cards that
  never charge less for more risk; that projection is the published ``fitted_rate``. Where the
  credibility estimates are already monotone the projection changes nothing.

Ratings run from best to worst in the rating table's PD order; a buyer given only a PD takes
the rating nearest in log PD (:func:`rating_from_pd`). Term bands are upper bounds in days: a
term falls in the first band whose bound it does not exceed, and terms above the last bound fall
in the last band (it is open above); a band is named by its bound.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from ..scenario.models import DEFAULT_CREDIBILITY_K, DEFAULT_TERM_BANDS
from ._checks import raise_book, row_problem
from .fit import fit_monotone_multiplicative, monotone_projection

__all__ = [
    "CELL_KEYS",
    "RATINGS",
    "RISK_GRADES",
    "TERM_BANDS",
    "RateCard",
    "buyer_ratings",
    "fit_rate_card",
    "rate_cells",
    "rating_from_pd",
    "rating_order",
    "term_band",
]

#: Buyer ratings from best to worst (the scenario's rating table uses these names).
RATINGS: tuple[str, ...] = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC")

#: Country risk grades (OECD scale, 0 = lowest risk).
RISK_GRADES: tuple[int, ...] = tuple(range(8))

#: Default payment-term bands: upper bounds in days, the last open above (``pricing.term_bands``).
TERM_BANDS: tuple[int, ...] = DEFAULT_TERM_BANDS

#: Default Bühlmann k: a cell of k exposures gets credibility ½ (``pricing.credibility_k``).
CREDIBILITY_K = DEFAULT_CREDIBILITY_K

#: The columns that name a cell.
CELL_KEYS = ("risk_grade", "rating", "term_band")


def rating_from_pd(pd: np.ndarray, ratings: Mapping[str, float]) -> np.ndarray:
    """The rating whose PD is nearest in log PD to each ``pd`` (ties: the worse rating).

    Parameters
    ----------
    pd : ndarray
        Annual probabilities of default (0 < pd < 1).
    ratings : mapping of str to float
        The rating table (rating → PD), e.g. the scenario's ``ratings``.

    Returns
    -------
    ndarray of str
        One rating per PD. The boundaries are the geometric means of neighbouring PDs.
    """
    names, pds = _ordered(ratings)
    p = np.atleast_1d(np.asarray(pd, dtype=np.float64))
    with np.errstate(invalid="ignore"):
        bad = ~((p > 0) & (p < 1))
    raise_book([row_problem("buyers", "pd", "0 < pd < 1", bad, None)])
    bounds = np.sqrt(pds[:-1] * pds[1:])
    return np.asarray(names, dtype=object)[np.searchsorted(bounds, p, side="right")]


def rating_order(ratings: Mapping[str, float]) -> list[str]:
    """Rating names from best (lowest PD) to worst: the order the card's relativities rise in.

    Parameters
    ----------
    ratings : mapping of str to float
        The rating table (rating → PD), e.g. the scenario's ``ratings``.
    """
    return _ordered(ratings)[0]


def _ordered(ratings: Mapping[str, float]) -> tuple[list[str], np.ndarray]:
    """Rating names and PDs sorted from best (lowest PD) to worst."""
    if not ratings:
        raise ValueError("the rating table is empty")
    items = sorted(ratings.items(), key=lambda kv: kv[1])
    return [k for k, _ in items], np.array([v for _, v in items], dtype=np.float64)


def buyer_ratings(buyers: pl.DataFrame, ratings: Mapping[str, float]) -> pl.Series:
    """Each buyer's rating: its ``rating`` where given, else the nearest to its ``pd``.

    Parameters
    ----------
    buyers : polars.DataFrame
        ``buyer_id`` and ``rating`` and/or ``pd``.
    ratings : mapping of str to float
        The rating table (rating → PD).

    Returns
    -------
    polars.Series
        ``rating`` (String), in the buyers' order.
    """
    n = buyers.height
    given = (
        buyers.get_column("rating").cast(pl.String)
        if "rating" in buyers.columns
        else pl.Series("rating", [None] * n, dtype=pl.String)
    )
    pd_col = (
        buyers.get_column("pd").cast(pl.Float64)
        if "pd" in buyers.columns
        else pl.Series("pd", [None] * n, dtype=pl.Float64)
    )
    need = given.is_null().to_numpy()
    ids = buyers.get_column("buyer_id").cast(pl.String).to_numpy()
    no_pd = need & pd_col.is_null().to_numpy()
    unknown = ~need & ~given.is_in(list(ratings)).fill_null(False).to_numpy()
    raise_book(
        [
            row_problem("buyers", "rating", "a rating or a pd is given", no_pd, ids),
            row_problem("buyers", "rating", "listed in the scenario's ratings", unknown, ids),
        ]
    )
    out = given.to_numpy().astype(object)
    if need.any():
        out[need] = rating_from_pd(pd_col.to_numpy()[need], ratings)
    return pl.Series("rating", out.tolist(), dtype=pl.String)


def term_band(payment_term_days: np.ndarray, bands: Sequence[int] = TERM_BANDS) -> np.ndarray:
    """The band (its upper bound, days) of each payment term; terms above the last in the last.

    Parameters
    ----------
    payment_term_days : ndarray
        Payment terms (days, ≥ 1).
    bands : sequence of int
        Increasing upper bounds (days).

    Returns
    -------
    ndarray of int64
        The bound of the first band with term ≤ bound (the last band for longer terms).
    """
    b = np.asarray(bands, dtype=np.int64)
    if len(b) == 0 or np.any(np.diff(b) <= 0) or b[0] < 1:
        raise ValueError(f"term bands must be increasing positive day counts, got {list(bands)}")
    d = np.atleast_1d(np.asarray(payment_term_days, dtype=np.float64))
    with np.errstate(invalid="ignore"):
        bad = ~(d >= 1) | np.isinf(d)
    raise_book([row_problem("exposures", "payment_term_days", "1 ≤ payment_term_days", bad, None)])
    return b[np.minimum(np.searchsorted(b, d, side="left"), len(b) - 1)]


#: Columns :func:`rate_cells` reads from the exposures.
CELL_INPUTS = ("risk_grade", "rating", "payment_term_days", "turnover", "technical_premium")


def rate_cells(
    exposures: pl.DataFrame,
    *,
    ratings: Sequence[str] = RATINGS,
    term_bands: Sequence[int] = TERM_BANDS,
    risk_grades: Sequence[int] = RISK_GRADES,
) -> pl.DataFrame:
    """Turnover, number of exposures and observed technical rate of every cell of the grid.

    Parameters
    ----------
    exposures : polars.DataFrame
        One row per exposure: ``risk_grade`` (its buyer's country), ``rating`` (its buyer's),
        ``payment_term_days``, ``turnover`` (currency per year) and ``technical_premium``
        (currency per year, e.g. from :func:`~riskengine.pricing.price_exposures`).
    ratings : sequence of str
        Ratings from best to worst.
    term_bands : sequence of int
        Term bands' upper bounds (days).
    risk_grades : sequence of int
        Country risk grades, lowest risk first.

    Returns
    -------
    polars.DataFrame
        ``risk_grade`` (Int64), ``rating`` (String), ``term_band`` (Int64), ``turnover``,
        ``technical_premium``, ``n_exposures`` (Int64) and ``technical_rate`` (null where the
        turnover is 0), one row per cell in grade, rating, band order.
    """
    missing = [c for c in CELL_INPUTS if c not in exposures.columns]
    if missing:
        raise ValueError(f"exposures: missing columns {missing} (needs {list(CELL_INPUTS)})")
    ex = exposures.select(
        pl.col("risk_grade").cast(pl.Int64),
        pl.col("rating").cast(pl.String),
        pl.Series(
            "term_band",
            term_band(exposures.get_column("payment_term_days").to_numpy(), term_bands),
        ),
        pl.col("turnover").cast(pl.Float64),
        pl.col("technical_premium").cast(pl.Float64),
    )
    ids = (
        exposures.get_column("exposure_id").cast(pl.String).to_numpy()
        if "exposure_id" in exposures.columns
        else None
    )
    raise_book(
        [
            row_problem(
                "exposures",
                "risk_grade",
                f"one of the grades {list(risk_grades)}",
                ~ex.get_column("risk_grade").is_in(list(risk_grades)).fill_null(False).to_numpy(),
                ids,
            ),
            row_problem(
                "exposures",
                "rating",
                f"one of the ratings {list(ratings)}",
                ~ex.get_column("rating").is_in(list(ratings)).fill_null(False).to_numpy(),
                ids,
            ),
        ]
    )
    with np.errstate(invalid="ignore"):
        turnover = ex.get_column("turnover").fill_null(np.nan).to_numpy()
        premium = ex.get_column("technical_premium").fill_null(np.nan).to_numpy()
        raise_book(
            [
                row_problem(
                    "exposures",
                    "turnover",
                    "0 ≤ turnover",
                    ~(turnover >= 0) | np.isinf(turnover),
                    ids,
                ),
                row_problem(
                    "exposures", "technical_premium", "0 ≤ technical_premium", ~(premium >= 0), ids
                ),
            ]
        )
    sums = ex.group_by(CELL_KEYS).agg(
        pl.col("turnover").sum(),
        pl.col("technical_premium").sum(),
        pl.len().cast(pl.Int64).alias("n_exposures"),
    )
    return (
        _grid(ratings, term_bands, risk_grades)
        .join(sums, on=list(CELL_KEYS), how="left", maintain_order="left")
        .with_columns(
            pl.col("turnover", "technical_premium").fill_null(0.0),
            pl.col("n_exposures").fill_null(0),
        )
        .with_columns(
            pl.when(pl.col("turnover") > 0)
            .then(pl.col("technical_premium") / pl.col("turnover"))
            .alias("technical_rate")
        )
    )


def _grid(
    ratings: Sequence[str], term_bands: Sequence[int], risk_grades: Sequence[int]
) -> pl.DataFrame:
    """Every cell, in grade, rating, band order."""
    g, r, t = np.meshgrid(
        np.arange(len(risk_grades)),
        np.arange(len(ratings)),
        np.arange(len(term_bands)),
        indexing="ij",
    )
    return pl.DataFrame(
        {
            "risk_grade": np.asarray(risk_grades, dtype=np.int64)[g.ravel()],
            "rating": np.asarray(ratings, dtype=object)[r.ravel()].tolist(),
            "term_band": np.asarray(term_bands, dtype=np.int64)[t.ravel()],
        },
        schema={"risk_grade": pl.Int64, "rating": pl.String, "term_band": pl.Int64},
    )


@dataclass(frozen=True)
class RateCard:
    """A fitted rate card.

    Attributes
    ----------
    card : polars.DataFrame
        One row per cell: ``risk_grade``, ``rating``, ``term_band``, ``turnover``,
        ``n_exposures``, ``technical_rate`` (observed; null in empty cells), ``model_rate``
        (base × relativities), ``credibility`` (Z), ``fitted_rate`` (published). Rates are
        fractions of insured turnover per year.
    factors : polars.DataFrame
        ``factor`` (risk_grade, rating, term_band), ``level`` (String) and ``relativity``
        (1 at the first level, non-decreasing).
    base : float
        The model rate of the first level of every factor (grade 0, the best rating, the
        shortest band).
    credibility_k : float
        Bühlmann k used.
    iterations : int
        Newton steps of the fit.
    """

    card: pl.DataFrame
    factors: pl.DataFrame
    base: float
    credibility_k: float
    iterations: int

    def scaled(self, factor: float) -> RateCard:
        """This card with every rate and the base multiplied by ``factor`` (relativities kept)."""
        rates = ("technical_rate", "model_rate", "fitted_rate")
        return replace(
            self,
            card=self.card.with_columns(pl.col(rates) * factor),
            base=self.base * factor,
        )

    def lookup(
        self, risk_grade: np.ndarray, rating: np.ndarray, payment_term_days: np.ndarray
    ) -> np.ndarray:
        """The card's ``fitted_rate`` for each (grade, rating, payment term), e.g. per exposure.

        Terms are banded with the card's bands; a combination not on the card gives NaN.
        """
        bands = np.unique(self.card.get_column("term_band").to_numpy())
        query = pl.DataFrame(
            {
                "risk_grade": np.atleast_1d(np.asarray(risk_grade, dtype=np.int64)),
                "rating": pl.Series(np.atleast_1d(np.asarray(rating, dtype=object)).tolist()),
                "term_band": term_band(payment_term_days, bands.tolist()),
            },
            schema={"risk_grade": pl.Int64, "rating": pl.String, "term_band": pl.Int64},
        )
        rates = self.card.select(*CELL_KEYS, "fitted_rate")
        out = query.join(rates, on=list(CELL_KEYS), how="left", maintain_order="left")
        return out.get_column("fitted_rate").fill_null(np.nan).to_numpy()

    def premium(self) -> float:
        """What the card charges the book: Σ fitted_rate × turnover over the cells (currency)."""
        return float(self.card.select((pl.col("fitted_rate") * pl.col("turnover")).sum()).item())


def fit_rate_card(
    cells: pl.DataFrame,
    *,
    credibility_k: float = CREDIBILITY_K,
    ratings: Sequence[str] = RATINGS,
    term_bands: Sequence[int] = TERM_BANDS,
    risk_grades: Sequence[int] = RISK_GRADES,
) -> RateCard:
    """Fit the monotone multiplicative model to the cells and publish a credible, monotone card.

    Parameters
    ----------
    cells : polars.DataFrame
        One row per cell (as :func:`rate_cells` returns): ``risk_grade``, ``rating``,
        ``term_band``, ``turnover``, ``n_exposures``, ``technical_rate``.
    credibility_k : float
        Bühlmann k (> 0, in exposures): a cell's credibility is n / (n + k).
    ratings, term_bands, risk_grades : sequence
        The levels of each factor, in the order the relativities must not decrease.

    Returns
    -------
    RateCard
    """
    if not credibility_k > 0:
        raise ValueError(f"credibility_k must be > 0 (exposures), got {credibility_k!r}")
    grid = _grid(ratings, term_bands, risk_grades)
    keys = list(CELL_KEYS)
    given = cells.select(
        pl.col("risk_grade").cast(pl.Int64),
        pl.col("rating").cast(pl.String),
        pl.col("term_band").cast(pl.Int64),
        pl.col("turnover").cast(pl.Float64),
        pl.col("n_exposures").cast(pl.Int64),
        pl.col("technical_rate").cast(pl.Float64),
    )
    data = grid.join(given, on=keys, how="left", maintain_order="left").with_columns(
        pl.col("turnover").fill_null(0.0), pl.col("n_exposures").fill_null(0)
    )
    if data.height != grid.height or given.join(grid, on=keys, how="anti").height:
        raise ValueError("cells must be unique and lie on the grid of grades, ratings and bands")
    levels = (risk_grades, ratings, term_bands)
    codes = [_codes(data.get_column(k).to_list(), lv) for k, lv in zip(keys, levels, strict=True)]
    turnover = data.get_column("turnover").to_numpy()
    observed = data.get_column("technical_rate").fill_null(np.nan).to_numpy()
    has = (turnover > 0) & np.isfinite(observed)
    fit = fit_monotone_multiplicative(
        codes,
        [len(lv) for lv in levels],
        np.where(has, observed, 0.0),
        np.where(has, turnover, 0.0),
    )
    model = fit.predict(codes)
    n = data.get_column("n_exposures").to_numpy().astype(np.float64)
    z = np.where(has, n / (n + credibility_k), 0.0)
    blend = np.where(has, z * np.where(has, observed, 0.0) + (1.0 - z) * model, model)
    shape = tuple(len(lv) for lv in levels)
    fitted = monotone_projection(blend.reshape(shape), (n + credibility_k).reshape(shape))
    card = data.with_columns(
        pl.Series("model_rate", model),
        pl.Series("credibility", z),
        pl.Series("fitted_rate", fitted.ravel()),
    )
    factors = pl.DataFrame(
        {
            "factor": [k for k, lv in zip(keys, levels, strict=True) for _ in lv],
            "level": [str(v) for lv in levels for v in lv],
            "relativity": np.concatenate(fit.relativities),
        },
        schema={"factor": pl.String, "level": pl.String, "relativity": pl.Float64},
    )
    return RateCard(card, factors, fit.base, float(credibility_k), fit.iterations)


def _codes(values: list[object], levels: Sequence[object]) -> np.ndarray:
    """Level index of each value (values are known to lie in ``levels``)."""
    index = {v: i for i, v in enumerate(levels)}
    return np.array([index[v] for v in values], dtype=np.int64)
