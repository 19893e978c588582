"""The report's derived figures: loss-ratio exceedance and the book's concentration.

Plain functions of arrays (amounts in the reporting currency, shares as fractions): no model
logic, no results internals. :mod:`riskengine.report.data` provides the inputs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from ..measures import mean_se, var_se
from .data import BookData

__all__ = [
    "Exceedance",
    "exceedance",
    "LossRatio",
    "loss_ratio",
    "Concentration",
    "concentration",
    "top_share",
]


@dataclass(frozen=True)
class Exceedance:
    """How often a yearly quantity exceeded its threshold.

    ``p`` is the share of simulated years, ``se`` its Monte Carlo standard error,
    ``count`` the number of years out of ``n``; ``upper95`` is a one-sided 95 % upper bound on
    the probability when no year exceeded (3 / n, the rule of three), else ``nan``.
    """

    p: float
    se: float
    count: int
    n: int

    @property
    def upper95(self) -> float:
        return 3.0 / self.n if self.count == 0 and self.n > 0 else math.nan


def exceedance(
    values: np.ndarray, threshold: float | np.ndarray, weights: np.ndarray | None = None
) -> Exceedance:
    """P(value > threshold) over simulated years, with its standard error.

    Parameters
    ----------
    values : numpy.ndarray
        One value per simulated year (e.g. the gross loss, reporting currency).
    threshold : float or numpy.ndarray
        The threshold, one for all years or one per year (same unit).
    weights : numpy.ndarray, optional
        The years' likelihood ratios (importance sampling): the probability is then Σ w·1{…}/n;
        ``count`` stays the number of simulated years above the threshold.
    """
    hit = (np.asarray(values, dtype=np.float64) > threshold).astype(np.float64)
    est = mean_se(hit, weights)
    return Exceedance(est.value, est.se, int(hit.sum()), len(hit))


@dataclass(frozen=True)
class LossRatio:
    """A loss ratio's distribution over simulated years (fractions: 1.0 is 100 %).

    ``expected`` is E[claims] / E[premium]; ``var995`` and ``var995_se`` the 1-in-200 year's
    ratio (VaR 99.5 % of claims / premium, year by year) and its standard error; ``over_100``
    the probability that a year's claims exceed its premium.
    """

    expected: float
    var995: float
    var995_se: float
    over_100: Exceedance


def loss_ratio(
    claims: np.ndarray, premium: float | np.ndarray, weights: np.ndarray | None = None
) -> LossRatio:
    """The loss ratio claims / premium, year by year.

    Parameters
    ----------
    claims : numpy.ndarray
        Claims of each simulated year (reporting currency).
    premium : float or numpy.ndarray
        Premium earned, one for all years or one per year (reporting currency). Where it is not
        positive, the ratio is undefined (``nan``) but the exceedance still counts the years
        whose claims exceed it.
    weights : numpy.ndarray, optional
        The years' likelihood ratios (importance sampling): every figure is then weighted
        (expected claims Σ w·claims / n, as the measures' EL).
    """
    x = np.asarray(claims, dtype=np.float64)
    prem = np.broadcast_to(np.asarray(premium, dtype=np.float64), x.shape)
    over = exceedance(x, prem, weights)
    # the expected premium: self-normalised (Σ w·premium / Σ w), so a premium that is the same
    # every year is its own mean, whatever the weights
    if not len(x):
        mean_prem = math.nan
    elif weights is None:
        mean_prem = float(prem.mean())
    else:
        mean_prem = float(np.dot(weights, prem) / np.sum(weights))
    if not (mean_prem > 0) or np.any(prem <= 0):
        return LossRatio(math.nan, math.nan, math.nan, over)
    ratio = x / prem
    order = np.argsort(ratio, kind="stable")
    v = var_se(ratio[order], 0.995, None if weights is None else weights[order])
    return LossRatio(mean_se(x, weights).value / mean_prem, v.value, v.se, over)


def top_share(ead_desc: np.ndarray, k: int) -> float:
    """Share of the total held by the ``k`` largest values of ``ead_desc`` (sorted descending)."""
    total = float(ead_desc.sum())
    return float(ead_desc[:k].sum()) / total if total > 0 else math.nan


@dataclass(frozen=True)
class Concentration:
    """How concentrated the book's exposure at default (EAD) is.

    Attributes
    ----------
    total_ead : float
        Σ EAD over the book (reporting currency).
    top_shares : dict of int to float
        Share of the total EAD held by the k largest buyers, for each k asked (k ≤ buyers).
    hhi_buyers, hhi_obligors : float
        Herfindahl index Σ sᵢ² of the buyers' EAD shares, and of the obligors' (a buyer group
        counted as one obligor, a buyer without a group as its own); 1 / HHI is the
        effective number of equal-sized buyers (obligors).
    grouped_share : float
        Share of the EAD on buyers that belong to a group.
    top_buyers : polars.DataFrame
        rank, buyer_id, group_id, country, region, sector, ead, share, cum_share.
    top_groups : polars.DataFrame
        rank, group_id, buyers, countries (distinct), ead, share.
    by_country, by_sector : polars.DataFrame
        country (region) / sector, buyers, ead, share; descending by EAD.
    n_groups : int
    buyers_desc, obligors_desc : numpy.ndarray
        The buyers' and the obligors' EAD, largest first (obligors with no EAD left out).
    """

    total_ead: float
    top_shares: dict[int, float]
    hhi_buyers: float
    hhi_obligors: float
    grouped_share: float
    top_buyers: pl.DataFrame
    top_groups: pl.DataFrame
    by_country: pl.DataFrame
    by_sector: pl.DataFrame
    n_groups: int
    buyers_desc: np.ndarray
    obligors_desc: np.ndarray


def _hhi(x: np.ndarray) -> float:
    total = float(x.sum())
    return float(np.sum((x / total) ** 2)) if total > 0 else math.nan


def _labels(codes: np.ndarray, labels: np.ndarray) -> list[str]:
    return [str(labels[c]) for c in codes]


def _by(codes: np.ndarray, labels: np.ndarray, ead: np.ndarray, name: str) -> pl.DataFrame:
    n = len(labels)
    sums = np.bincount(codes, weights=ead, minlength=n)
    counts = np.bincount(codes, minlength=n)
    total = float(sums.sum())
    df = pl.DataFrame(
        {
            name: [str(x) for x in labels],
            "buyers": counts.astype(np.int64),
            "ead": sums,
            "share": sums / total if total > 0 else np.full(n, math.nan),
        }
    )
    return df.filter(pl.col("buyers") > 0).sort(["ead", name], descending=[True, False])


def concentration(
    book: BookData, *, top: int = 15, top_groups: int = 10, ks: Sequence[int] = (1, 10, 100)
) -> Concentration:
    """The concentration tables of ``book`` (see :class:`Concentration`).

    Parameters
    ----------
    book : BookData
    top, top_groups : int
        Rows of the largest-buyers and largest-groups tables.
    ks : sequence of int
        The k of the "k largest buyers' share" figures (those above the number of buyers are
        left out).
    """
    ead = np.asarray(book.ead, dtype=np.float64)
    n_b, n_g = len(ead), len(book.group_ids)
    total = float(ead.sum())
    # largest first; among equal EADs, the buyer listed first in the compiled order
    order = np.argsort(-ead, kind="stable")
    desc = ead[order]
    shares = {k: top_share(desc, k) for k in ks if k <= n_b}
    grouped = book.group >= 0
    obligor = np.where(grouped, book.group, n_g + np.arange(n_b))
    obligor_ead = np.bincount(obligor, weights=ead, minlength=n_g + n_b)

    k = min(top, n_b)
    sel = order[:k]
    group_label = [str(book.group_ids[g]) if g >= 0 else "" for g in book.group[sel]]
    cum = np.cumsum(desc[:k])
    top_buyers = pl.DataFrame(
        {
            "rank": np.arange(1, k + 1),
            "buyer_id": _labels(sel, book.buyer_ids),
            "group_id": group_label,
            "country": _labels(book.country[sel], book.country_codes),
            "region": _labels(book.country[sel], book.country_region),
            "sector": _labels(book.sector[sel], book.sector_codes),
            "ead": desc[:k],
            "share": desc[:k] / total if total > 0 else np.full(k, math.nan),
            "cum_share": cum / total if total > 0 else np.full(k, math.nan),
        }
    )

    g_ead = obligor_ead[:n_g]
    g_members = np.bincount(book.group[grouped], minlength=n_g)
    g_order = np.argsort(-g_ead, kind="stable")[: min(top_groups, n_g)]
    g_countries = [len(np.unique(book.country[grouped][book.group[grouped] == g])) for g in g_order]
    groups = pl.DataFrame(
        {
            "rank": np.arange(1, len(g_order) + 1),
            "group_id": _labels(g_order, book.group_ids),
            "buyers": g_members[g_order].astype(np.int64),
            "countries": np.asarray(g_countries, dtype=np.int64),
            "ead": g_ead[g_order],
            "share": g_ead[g_order] / total if total > 0 else np.full(len(g_order), math.nan),
        },
        schema={
            "rank": pl.Int64,
            "group_id": pl.String,
            "buyers": pl.Int64,
            "countries": pl.Int64,
            "ead": pl.Float64,
            "share": pl.Float64,
        },
    )
    by_country = _by(book.country, book.country_codes, ead, "country").with_columns(
        pl.col("country")
        .replace_strict(
            [str(c) for c in book.country_codes],
            [str(r) for r in book.country_region],
            return_dtype=pl.String,
        )
        .alias("region")
    )
    return Concentration(
        total_ead=total,
        top_shares=shares,
        hhi_buyers=_hhi(ead),
        hhi_obligors=_hhi(obligor_ead),
        grouped_share=float(ead[grouped].sum()) / total if total > 0 else math.nan,
        top_buyers=top_buyers,
        top_groups=groups,
        by_country=by_country,
        by_sector=_by(book.sector, book.sector_codes, ead, "sector"),
        n_groups=n_g,
        buyers_desc=desc,
        obligors_desc=np.sort(obligor_ead[obligor_ead > 0])[::-1],
    )
