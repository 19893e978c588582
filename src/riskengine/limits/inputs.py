"""What portfolio-wide limits optimise: segment claims, premiums and exposures (docs/limits.md).

A segment is a country, a region, a sector or a country risk grade. For segments j and simulated
years s:

* ``losses[s, j]``: the year's gross claims of the segment's buyers, from the run's segment
  claims. Regions and risk grades are sums of their countries' claims (the kernels keep claims by
  country and by sector; a year's country claims add up to its gross loss);
* ``premium[j]``: each policy's premium split over its exposures in proportion to their EAD
  (limit × utilisation, in the reporting currency), summed over the exposures whose buyer is in
  the segment (a policy whose exposures all have an EAD of 0 is split by limit instead);
* ``exposure[j]``: Σ EAD of the segment's exposures: today's exposure, which the proposed
  scale multiplies;
* ``el[j]``: the simulated expected claims Σ_s w_s losses[s, j] / n (w: the years' importance
  sampling weights), the same years the linear programme sees.

:func:`segment_inputs` reads them from a :class:`~riskengine.results.Results`;
:func:`read_segment_inputs` from a finished run folder (``ylt.parquet``, ``segments.parquet``,
``summary.json``) and the resolved book the run simulated.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
from scipy import sparse

from ..errors import OutputError, Problem
from .portfolio import LimitsError, LimitsProblem, limits_problem

if TYPE_CHECKING:
    from ..book import Book
    from ..portfolio.resolve import Resolved
    from ..results import Results
    from ..scenario import Scenario

__all__ = [
    "DIMENSIONS",
    "UNGRADED",
    "SegmentInputs",
    "SegmentMap",
    "needed_segments",
    "read_segment_inputs",
    "resolved_book",
    "segment_inputs",
    "segment_map",
]

#: Dimensions portfolio-wide limits are set by.
DIMENSIONS = ("country", "region", "sector", "risk_grade")

#: The risk-grade segment of countries the book gives no risk grade.
UNGRADED = "ungraded"

#: The ``outputs.segments`` each dimension is read from in a run folder, in order of preference
#: (regions and risk grades are summed from countries when the folder has no rows of their own).
_SOURCES: dict[str, tuple[str, ...]] = {
    "country": ("country",),
    "region": ("region", "country"),
    "sector": ("sector",),
    "risk_grade": ("risk_grade", "country"),
}


#: Values of ``outputs.segments`` (segments.parquet's dimensions).
_OUTPUTS = ("country", "region", "sector", "policy")


def needed_segments(dimension: str) -> list[str]:
    """The ``outputs.segments`` that give limits by ``dimension``, the preferred one first."""
    return [s for s in _SOURCES[_check_dimension(dimension)] if s in _OUTPUTS]


def _check_dimension(dimension: str) -> str:
    if dimension not in DIMENSIONS:
        rule = f"one of {', '.join(DIMENSIONS)}, got {dimension!r}"
        raise LimitsError([Problem("limits", "by", rule, label="option")])
    return dimension


@dataclass(frozen=True)
class SegmentMap:
    """Which segment each country or sector of a resolved book belongs to.

    Attributes
    ----------
    dimension : str
        One of :data:`DIMENSIONS`.
    labels : numpy.ndarray of str
        Segment labels, sorted (risk grades as ``"0"`` … ``"7"``, then :data:`UNGRADED`).
    of_code : numpy.ndarray of int
        Segment of each country code (country, region, risk grade) or sector code (sector).
    by : str
        ``"country"`` or ``"sector"``: what ``of_code`` is indexed by.
    """

    dimension: str
    labels: np.ndarray
    of_code: np.ndarray
    by: str

    def of_buyer(self, r: Resolved) -> np.ndarray:
        """The segment of each buyer (book order)."""
        return self.of_code[r.b_country if self.by == "country" else r.b_sector]

    def countries(self, r: Resolved, segment: int) -> list[str]:
        """The countries of a segment by country, region or risk grade (book codes)."""
        return [str(c) for c in r.country_codes[self.of_code == segment]]


def _grades(r: Resolved) -> np.ndarray:
    """Each country's risk grade as a label: ``"0"`` … ``"7"``, or :data:`UNGRADED`."""
    g = np.asarray(r.c_grade, dtype=np.float64)
    return np.array([UNGRADED if np.isnan(v) else str(int(v)) for v in g], dtype=object)


def segment_map(r: Resolved, dimension: str) -> SegmentMap:
    """The segments of ``r`` by ``dimension`` (one of :data:`DIMENSIONS`)."""
    dimension = _check_dimension(dimension)
    if dimension == "sector":
        return SegmentMap(
            dimension, r.sector_codes.astype(str), np.arange(len(r.sector_codes)), "sector"
        )
    if dimension == "country":
        codes = r.country_codes.astype(str)
        return SegmentMap(dimension, codes, np.arange(len(codes)), "country")
    if dimension == "region":
        return SegmentMap(dimension, r.region_names.astype(str), np.asarray(r.c_region), "country")
    grade = _grades(r).tolist()
    labels = sorted(set(grade), key=lambda s: (s == UNGRADED, s))  # "0" … "7", then ungraded
    index = {s: i for i, s in enumerate(labels)}
    of_code = np.array([index[s] for s in grade], dtype=np.int64)
    return SegmentMap(dimension, np.asarray(labels, dtype=str), of_code, "country")


@dataclass(frozen=True)
class SegmentInputs:
    """Segment claims and economics of one run, by one dimension (amounts in the reporting
    currency).

    Attributes
    ----------
    dimension : str
        Country, region, sector or risk_grade.
    segments : tuple of str
        Segment labels, one per column of ``losses``.
    losses : scipy.sparse.csr_array, shape (n, m)
        Gross claims of segment j in simulated year s.
    weights : numpy.ndarray or None
        The years' importance-sampling weights (None: all 1).
    premium : numpy.ndarray, shape (m,)
        Annual premium of each segment at today's limits.
    exposure : numpy.ndarray, shape (m,)
        Today's exposure of each segment, Σ EAD.
    currency : str
        Reporting currency.
    """

    dimension: str
    segments: tuple[str, ...]
    losses: sparse.csr_array
    weights: np.ndarray | None
    premium: np.ndarray
    exposure: np.ndarray
    currency: str

    @property
    def n(self) -> int:
        """Simulated years."""
        return int(self.losses.shape[0])

    @property
    def el(self) -> np.ndarray:
        """Simulated expected annual claims of each segment, Σ_s w_s L[s, j] / n."""
        w = np.ones(self.n) if self.weights is None else self.weights
        return np.asarray(self.losses.T @ w, dtype=np.float64) / max(self.n, 1)

    def problem(
        self, *, expense_share: float, lower: float, upper: float, level: float
    ) -> LimitsProblem:
        """The linear programme's inputs (:func:`~riskengine.limits.limits_problem`).

        Parameters
        ----------
        expense_share : float
            Expenses plus commission as a share of premium (fraction).
        lower, upper : float
            Bounds on the scales (``limits.min_scale``, ``limits.max_scale``).
        level : float
            TVaR level q (fraction, 0.995).
        """
        return limits_problem(
            self.losses,
            self.premium,
            self.el,
            expense_share=expense_share,
            lower=lower,
            upper=upper,
            level=level,
            weights=self.weights,
            segments=self.segments,
            exposure=self.exposure,
        )


def _premium_exposure(r: Resolved, smap: SegmentMap) -> tuple[np.ndarray, np.ndarray]:
    """Premium (policies' split by EAD) and Σ EAD of each segment."""
    m = len(smap.labels)
    seg = smap.of_buyer(r)[r.e_buyer]
    ead = np.asarray(r.e_ead, dtype=np.float64)
    n_p = len(r.policy_ids)
    by_ead = np.bincount(r.e_policy, weights=ead, minlength=n_p)
    limit = np.asarray(r.e_limit, dtype=np.float64) * r.e_fx
    by_limit = np.bincount(r.e_policy, weights=limit, minlength=n_p)
    # the share of its policy's premium each exposure carries: by EAD, else by limit
    use_ead = by_ead[r.e_policy] > 0
    share = np.where(
        use_ead,
        ead / np.where(use_ead, by_ead[r.e_policy], 1.0),
        limit / np.where(by_limit[r.e_policy] > 0, by_limit[r.e_policy], 1.0),
    )
    premium = np.bincount(seg, weights=r.p_premium[r.e_policy] * share, minlength=m)
    exposure = np.bincount(seg, weights=ead, minlength=m)
    return premium, exposure


def _inputs(
    r: Resolved,
    smap: SegmentMap,
    rows: np.ndarray,
    cols: np.ndarray,
    values: np.ndarray,
    n: int,
    weights: np.ndarray | None,
) -> SegmentInputs:
    m = len(smap.labels)
    losses = sparse.csr_array(
        sparse.coo_array((values, (rows, cols)), shape=(n, m)), dtype=np.float64
    )
    losses.sum_duplicates()
    premium, exposure = _premium_exposure(r, smap)
    w = None if weights is None or np.all(weights == 1.0) else np.asarray(weights, np.float64)
    return SegmentInputs(
        dimension=smap.dimension,
        segments=tuple(str(s) for s in smap.labels),
        losses=losses,
        weights=w,
        premium=premium,
        exposure=exposure,
        currency=r.reporting_currency,
    )


def segment_inputs(res: Results, dimension: str) -> SegmentInputs:
    """The segment claims and economics of a run by ``dimension``.

    Parameters
    ----------
    res : Results
        A run that kept its segment claims (``outputs.segments`` not empty, or a report).
    dimension : {"country", "region", "sector", "risk_grade"}

    Raises
    ------
    LimitsError
        For an unknown dimension, or a run that kept no segment claims.
    """
    smap = segment_map(res.compiled.resolved, dimension)
    out = res.scenario.outputs
    if not (out.segments or out.report):
        rule = (
            "this run kept no segment claims: simulate with outputs.segments including "
            f"{needed_segments(dimension)[0]!r}"
        )
        raise LimitsError([Problem(res.scenario.source, "outputs.segments", rule, label="key")])
    cp = res.compiled
    mask, codes = cp.layout.select(res.seg_col, "sector" if smap.by == "sector" else "country")
    # resolved and kernel share the country and sector codes (both sorted by label)
    return _inputs(
        cp.resolved,
        smap,
        res.seg_sim[mask] - res.first_sim,
        smap.of_code[codes],
        res.seg_val[mask],
        res.n_sims,
        res.weights,
    )


# ---------------------------------------------------------------------------------------------
# A finished run folder
# ---------------------------------------------------------------------------------------------
def resolved_book(book: Book, scenario: Scenario) -> Resolved:
    """``book`` resolved under ``scenario`` and its ``stress:`` list, as a run compiles it: the
    premiums, exposures and labels :func:`read_segment_inputs` needs.

    Raises
    ------
    BookError, ScenarioError
        As :func:`~riskengine.portfolio.compile.compile_portfolio` would.
    """
    from ..portfolio.resolve import resolve
    from ..portfolio.stress import apply_stresses

    r = resolve(book, scenario)
    return apply_stresses(r, list(scenario.stress), scenario)[0] if scenario.stress else r


def _fail(path: Path, column: str | None, rule: str, folder: Path, **kw: Any) -> OutputError:
    return OutputError([Problem(str(path), column, rule, **kw)], str(folder))


def _run_meta(folder: Path) -> dict:
    path = folder / "summary.json"
    if not path.exists() or not (folder / "ylt.parquet").exists():
        rule = "not a finished run (no summary.json / ylt.parquet): run `riskengine simulate` first"
        raise _fail(folder, None, rule, folder)
    try:
        run = json.loads(path.read_text(encoding="utf-8"))["run"]
        if not isinstance(run, dict):
            raise TypeError("'run' is not a mapping")
        return run
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise _fail(path, None, f"cannot read it: {type(exc).__name__}: {exc}", folder) from None


def _source(folder: Path, dimension: str) -> tuple[Path, str]:
    """``segments.parquet`` and the dimension of its rows that ``dimension`` is read from."""
    path = folder / "segments.parquet"
    sources = _SOURCES[dimension]
    need = needed_segments(dimension)
    how = "" if "country" not in need or dimension == "country" else f" ({dimension} "
    how += "segments can be summed from countries)" if how else ""
    fix = f"simulate with outputs.segments including {' or '.join(map(repr, need))}{how}"
    if not path.exists():
        raise _fail(folder, None, f"no segments.parquet: {fix}", folder)
    try:
        have = set(
            pl.scan_parquet(path).select(pl.col("dimension").unique()).collect()["dimension"]
        )
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise _fail(path, None, f"cannot read it: {type(exc).__name__}: {exc}", folder) from None
    for s in sources:
        if s in have:
            return path, s
    listed = ", ".join(sorted(str(h) for h in have)) or "none"
    rule = f"has no {dimension} segments (it has: {listed}): {fix}"
    raise _fail(path, "dimension", rule, folder)


def _codes(path: Path, folder: Path, labels: pl.Series, known: np.ndarray, what: str) -> np.ndarray:
    """Codes of ``labels`` among the book's ``known`` labels (sorted); unknown ones refused."""
    order = np.argsort(known)
    values = labels.to_numpy().astype(str)
    pos = np.clip(np.searchsorted(known[order], values), 0, len(known) - 1)
    found = known[order][pos] == values
    if not found.all():
        bad = sorted(set(values[~found].tolist()))
        rule = (
            f"names {what} the book does not have: the run simulated another book (give the "
            "run's book with --book)"
        )
        raise _fail(path, "segment", rule, folder, n_rows=len(bad), examples=tuple(bad[:5]))
    return order[pos]


def read_segment_inputs(
    folder: str | os.PathLike,
    resolved: Resolved,
    dimension: str,
    *,
    book_hash: str | None = None,
) -> SegmentInputs:
    """The segment claims of a finished run folder, with the premiums and exposures of its book.

    Parameters
    ----------
    folder : path
        A folder ``riskengine simulate`` wrote: ``summary.json``, ``ylt.parquet`` and
        ``segments.parquet`` with the dimension's rows (regions and risk grades may be summed
        from countries).
    resolved : Resolved
        The book the run simulated, resolved under its scenario (premiums, EADs, labels).
    dimension : {"country", "region", "sector", "risk_grade"}
    book_hash : str, optional
        The book's content hash; a run of another book (``summary.json``) is refused.

    Raises
    ------
    OutputError
        Naming the file and what to do: not a finished run, no segments of the dimension (which
        ``outputs.segments`` to set), another book or reporting currency, unreadable files.
    LimitsError
        For an unknown dimension.
    """
    folder = Path(folder)
    smap = segment_map(resolved, dimension)
    run = _run_meta(folder)
    summary = folder / "summary.json"
    theirs = run.get("book_hash")
    if book_hash and theirs and theirs != book_hash:
        rule = (
            f"the run simulated another book (hash {str(theirs)[:12]}) than the one given "
            f"({book_hash[:12]}): give the run's book with --book"
        )
        raise _fail(summary, "run.book_hash", rule, folder, label="key")
    ccy = run.get("reporting_currency")
    if ccy != resolved.reporting_currency:
        rule = (
            f"the run is in {ccy}, the scenario's reporting currency is "
            f"{resolved.reporting_currency}: use the run's scenario"
        )
        raise _fail(summary, "run.reporting_currency", rule, folder, label="key")
    path, source = _source(folder, dimension)
    try:
        ylt = pl.read_parquet(folder / "ylt.parquet", columns=["sim_id", "weight"])
        seg = (
            pl.scan_parquet(path)
            .filter(pl.col("dimension") == source)
            .select("sim_id", "segment", "gross")
            .collect()
        )
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise _fail(
            folder, None, f"cannot read the run: {type(exc).__name__}: {exc}", folder
        ) from None
    sims = ylt["sim_id"].to_numpy()
    order = np.argsort(sims, kind="stable")
    row = np.searchsorted(sims[order], seg["sim_id"].to_numpy())
    row = np.clip(row, 0, max(len(sims) - 1, 0))
    ok = len(sims) > 0 and np.array_equal(sims[order][row], seg["sim_id"].to_numpy())
    if not ok:
        rule = "has years (sim_id) that ylt.parquet does not: the files are of different runs"
        raise _fail(path, "sim_id", rule, folder)
    if source == "country":
        codes = smap.of_code[
            _codes(path, folder, seg["segment"], resolved.country_codes.astype(str), "countries")
        ]
    else:
        codes = _codes(path, folder, seg["segment"], smap.labels, f"{source}s")
    weights = ylt["weight"].to_numpy()[order].astype(np.float64)
    return _inputs(resolved, smap, row, codes, seg["gross"].to_numpy(), len(sims), weights)
