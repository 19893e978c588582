"""Everything the report reads from a run, gathered in one place.

This is the only module of :mod:`riskengine.report` that reads a
:class:`~riskengine.results.Results` — its year loss table, summary and EP table, and through it
the compiled portfolio and the scenario. :func:`gather` copies what the page shows into plain
containers (NumPy arrays, Polars frames, dicts and the dataclasses below), so the rendering
modules hold no model logic and never depend on how results are stored: when results change
shape, this module is the one to remap.

Amounts are in the reporting currency; probabilities and shares are fractions.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from .. import __version__

if TYPE_CHECKING:
    from ..analytic.outputs import AnalyticOutputs
    from ..limits.outputs import LimitsOutputs
    from ..pricing import PricedBook
    from ..results import Results
    from ..stress import StressRun

__all__ = [
    "RunInfo",
    "Assumptions",
    "BookData",
    "CapitalView",
    "CapitalData",
    "ImportanceInfo",
    "StressView",
    "StressData",
    "ReportData",
    "SimulatedGroundUp",
    "MonitoringData",
    "comparable",
    "limits_comparable",
    "stress_comparable",
    "gather",
    "priced_elsewhere",
    "simulated_ground_up",
    "stress_data",
    "read_simulated_ground_up",
    "read_run",
]

log = logging.getLogger("riskengine")


@dataclass(frozen=True)
class RunInfo:
    """What identifies a run: scenario, simulation settings, timings and hashes."""

    name: str
    description: str
    currency: str
    n_sims: int
    seed: int
    block_size: int
    book_path: str | None
    started_at: str | None
    finished_at: str | None
    wall_time_s: float | None
    executor: str | None
    workers: int | None
    version: str
    scenario_hash: str | None
    book_hash: str | None


@dataclass(frozen=True)
class Assumptions:
    """The model's settings (scenario values; a book's own values override the defaults).

    ``factor_weights`` (global, region, country, sector) apply to the structured factor model;
    with a ``factor_loadings`` table (``explicit``), the book's ``n_factors`` factors are named in
    ``factors`` when the scenario gives their correlation matrix.
    """

    copula: str
    dof: float | None
    explicit: bool
    factor_weights: dict[str, float]
    n_factors: int
    factors: list[str]
    asset_correlation: float
    lgd_mean: float
    lgd_sd: float
    utilization: float
    ratings: dict[str, float]
    political_enabled: bool
    political_correlation: float
    political_lgd: float
    grade_pd: list[float]
    pd_multiplier: float


@dataclass(frozen=True)
class BookData:
    """The book as the report needs it: one value per buyer, labels by integer code.

    ``ead[i]`` is buyer i's exposure at default (Σ over its exposures of limit × utilisation,
    converted into the reporting currency); ``country``, ``sector`` and ``group`` are codes into
    ``country_codes``, ``sector_codes`` and ``group_ids`` (``group`` is −1 for a buyer without a
    group); ``country_region[c]`` is the region of country code c.
    """

    buyer_ids: np.ndarray
    ead: np.ndarray
    country: np.ndarray
    sector: np.ndarray
    group: np.ndarray
    country_codes: np.ndarray
    country_region: np.ndarray
    sector_codes: np.ndarray
    group_ids: np.ndarray
    n_exposures: int
    n_policies: int
    premium: float

    @property
    def n_buyers(self) -> int:
        return len(self.buyer_ids)


#: Perspectives' names on the page, and the order the capital section shows them in.
PERSPECTIVE_NAMES = {"gross": "Gross", "net": "Net", "ground_up": "Ground-up"}
#: Dimensions of the allocation the capital section shows.
CAPITAL_DIMENSIONS = ("country", "sector", "buyer", "group")
#: The "largest buyers" of the capital key figures.
TOP_BUYERS = 10


@dataclass(frozen=True)
class CapitalView:
    """The capital allocated in one loss perspective at one level (``allocation.parquet``).

    Attributes
    ----------
    perspective : str
        ``gross``, ``net`` or ``ground_up``.
    level : float
        Level in percent (99.5).
    measures : dict
        ``EL``, ``VaR`` and ``TVaR`` of the perspective at ``level``, each ``{"value", "se"}``
        (reporting currency; weighted under importance sampling), from the year loss table.
    tail_years, window_years : int
        Simulated years TVaR averages over, and years in the window around VaR that the VaR
        contributions average over.
    segments : dict of str to polars.DataFrame
        By dimension (those of :data:`CAPITAL_DIMENSIONS` allocated), largest TVaR contribution
        first (ties by segment): ``segment``, ``el``, ``el_se``, ``tvar_contribution``,
        ``tvar_contribution_se``, ``var_contribution``, ``var_contribution_se`` (the allocation
        table's, reporting currency; standard errors NaN where unknown), ``capital`` = TVaR
        contribution − EL with ``capital_se`` (the two estimates taken as independent, which
        overstates it), ``ead``, and the shares (fractions) ``capital_share`` (of Σ capital),
        ``tvar_share`` (of TVaR), ``el_share`` (of Σ EL) and ``ead_share`` (of Σ EAD). Buyers
        add their ``country`` and ``sector``; groups (real ones only: the allocation counts a
        buyer without a group as its own group, see ``ungrouped``) add ``buyers`` (members).
    totals : dict of str to dict of str to float
        By dimension: Σ ``el``, ``tvar_contribution``, ``var_contribution``, ``capital``, ``ead``
        over all its segments (the contributions add up to TVaR and VaR).
    top_buyers : dict of str to float
        The :data:`TOP_BUYERS` largest contributors to TVaR: ``k`` (how many) and their
        ``capital_share``, ``tvar_share``, ``el_share`` and ``ead_share`` together; empty without
        the buyer dimension.
    ungrouped : dict of str to float
        The buyers without a group together: ``buyers`` (how many) and the sums of the amounts
        and shares of ``segments["group"]``; empty without the group dimension.
    """

    perspective: str
    level: float
    measures: dict[str, dict[str, float]]
    tail_years: int
    window_years: int
    segments: dict[str, pl.DataFrame]
    totals: dict[str, dict[str, float]]
    top_buyers: dict[str, float]
    ungrouped: dict[str, float]

    @property
    def name(self) -> str:
        """The perspective's name on the page (``Gross``)."""
        return PERSPECTIVE_NAMES.get(self.perspective, self.perspective)


@dataclass(frozen=True)
class CapitalData:
    """A run's capital allocation as the report shows it: one :class:`CapitalView` per allocated
    perspective (gross first) at the highest level allocated; ``levels`` lists them all."""

    views: list[CapitalView]
    levels: list[float]


@dataclass(frozen=True)
class ImportanceInfo:
    """How the years were sampled under importance sampling (``summary.json``).

    Attributes
    ----------
    shift : str
        ``auto`` (chosen from a pilot run) or ``given`` (the scenario's means).
    level : float
        Level in percent the automatic shift aims at.
    components : list of (str, float)
        Each shifted component of the mixture (``commercial downturn``, ``event in CN``, or
        ``given shift``) with the share of the years drawn from it.
    defensive : float
        Share of the years drawn without a shift.
    means : dict of str to float
        The given shift's non-zero means by draw name (empty for ``auto``).
    weighted : bool
        Whether any year's weight differs from 1 (False when no shift was needed).
    effective_years : float
        (Σ w)² / Σ w², the weights' effective sample size.
    n : int
        Simulated years.
    status : str or None
        The automatic choice's status (``ok``, ``no shift needed``).
    """

    shift: str
    level: float
    components: list[tuple[str, float]]
    defensive: float
    means: dict[str, float]
    weighted: bool
    effective_years: float
    n: int
    status: str | None


#: The level (percent) at which the stress section shows VaR and TVaR.
STRESS_LEVEL = 99.5
#: The measures of the stress section, as column prefixes of :attr:`StressView.rows`.
STRESS_MEASURES = ("el", "var", "tvar")


@dataclass(frozen=True)
class StressView:
    """The stress tests in one loss perspective (``stress.parquet``).

    Attributes
    ----------
    perspective : str
        ``gross`` or ``net``.
    rows : polars.DataFrame
        One row per run, the base first, then each stress in the order of its file:
        ``stress`` (name), ``description``, and for each measure m of :data:`STRESS_MEASURES`
        (EL; VaR and TVaR at :data:`STRESS_LEVEL`): ``m`` and ``m_se`` (the run's value and its
        Monte Carlo standard error, reporting currency), ``m_delta`` (stressed − base) and
        ``m_delta_se`` (its standard error on common random numbers; 0 for the base),
        ``m_change`` (``m_delta`` / the base's value, a fraction; NaN when that is 0) and
        ``m_vrf`` (the variance reduction factor of the difference: (se_base² + se²) /
        delta_se², the variance the difference of two independent runs would have over the
        paired one's; NaN for the base, infinite when the paired difference has no variance).
    """

    perspective: str
    rows: pl.DataFrame

    @property
    def name(self) -> str:
        """The perspective's name on the page (``Gross``)."""
        return PERSPECTIVE_NAMES.get(self.perspective, self.perspective)

    @property
    def stresses(self) -> pl.DataFrame:
        """The stressed runs' rows (the base left out)."""
        return self.rows.slice(1)


@dataclass(frozen=True)
class StressData:
    """The stress tests run on this run's years (``riskengine stress``).

    Attributes
    ----------
    views : list of StressView
        Gross, then net when the programme has treaties.
    level : float
        Level (percent) of the VaR and TVaR shown.
    notes : dict of str to list of str
        What each stress's transforms reported (PDs capped below 1, …), by stress name.
    n_sims : int
        Simulated years of every run (the base run's).
    bootstrap : int
        Paired bootstrap resamples behind the standard errors of Δ VaR and Δ TVaR.
    weighted : bool
        Whether the years carry importance-sampling weights (the base run's, shared).
    """

    views: list[StressView]
    level: float
    notes: dict[str, list[str]]
    n_sims: int
    bootstrap: int
    weighted: bool


@dataclass(frozen=True)
class MonitoringData:
    """Dynamic limit management in a run (docs/model.md §10).

    Attributes
    ----------
    parameters : dict
        The scenario's ``monitoring`` block.
    effect : polars.DataFrame
        Rows of ``monitor.parquet``'s schema (``riskengine.monitoring.MONITOR_SCHEMA``): ``off``
        and ``on`` (this run), then any sweep points. From the folder's ``monitor.parquet`` when
        it holds this run's comparison (gross and ground-up); otherwise computed from the run
        alone, where the ground-up loss without monitoring is ground-up + loss avoided, year by
        year, and the gross columns are null (policy terms need the other run).
    from_folder : bool
        Whether ``effect`` came from ``monitor.parquet``.
    left_out : str or None
        Why a ``monitor.parquet`` found beside the run was not used (another run's), if it was
        not.
    """

    parameters: dict[str, Any]
    effect: pl.DataFrame
    from_folder: bool
    left_out: str | None = None

    @property
    def on(self) -> dict[str, Any]:
        """This run's row of :attr:`effect`."""
        return self.effect.filter(pl.col("run") == "on").row(0, named=True)

    @property
    def sweep(self) -> pl.DataFrame:
        """The sweep's rows (none without a sweep), in order of the swept value."""
        return self.effect.filter(pl.col("run") == "sweep").sort("value")


@dataclass(frozen=True)
class ReportData:
    """A run as the report sees it.

    Attributes
    ----------
    run, assumptions, book
        See :class:`RunInfo`, :class:`Assumptions`, :class:`BookData`.
    ylt : dict of str to numpy.ndarray
        The year loss table's columns, one value per simulated year.
    treaties : list of str
        Treaty names in programme order (``ceded_<name>`` columns of ``ylt``).
    treaty_terms : list of dict
        Each treaty's terms as written in the scenario (``name``, ``type``, …; unset ones left out).
    summary : dict
        The numbers of ``summary.json``: ``measures`` by perspective, ``capital``, ``checks``,
        ``book`` and, when available, ``treaties`` (the treaty metrics).
    treaty_error : str or None
        Why the treaty metrics are missing from ``summary``, if they are.
    ep : polars.DataFrame
        The EP table of ``ept.parquet`` (perspective, ep_type, return_period, loss).
    segment_el : dict of str to polars.DataFrame
        Expected gross claim a year by ``country`` and ``sector`` (segment, el), descending.
    reinsurance_cost : numpy.ndarray or None
        Cost of the programme in each simulated year: premiums − ceding commissions +
        reinstatement premiums; ``None`` without treaties.
    analytic : AnalyticOutputs or None
        CreditRisk+ of the same book (``riskengine analytic``), shown beside the simulation.
    pricing : PricedBook or None
        The run priced (``riskengine price``): adequacy and the rate card.
    capital : CapitalData or None
        The capital allocation, when the run allocated capital (``outputs.allocation``).
    importance : ImportanceInfo or None
        How the years were sampled, under importance sampling.
    limits : LimitsOutputs or None
        Portfolio-wide limits proposed from this run (``riskengine limits``).
    monitoring : MonitoringData or None
        Dynamic limit management, when the run had it on.
    stress : StressData or None
        Stress tests run against this run (``riskengine stress``).
    """

    run: RunInfo
    assumptions: Assumptions
    book: BookData
    ylt: dict[str, np.ndarray]
    treaties: list[str]
    treaty_terms: list[dict[str, Any]]
    summary: dict[str, Any]
    treaty_error: str | None
    ep: pl.DataFrame
    segment_el: dict[str, pl.DataFrame]
    reinsurance_cost: np.ndarray | None
    analytic: AnalyticOutputs | None = None
    pricing: PricedBook | None = None
    capital: CapitalData | None = None
    importance: ImportanceInfo | None = None
    limits: LimitsOutputs | None = None
    monitoring: MonitoringData | None = None
    stress: StressData | None = None
    _sorted: dict[str, tuple[np.ndarray, np.ndarray | None]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def weights(self) -> np.ndarray | None:
        """The years' likelihood-ratio weights (importance sampling), or None when all are 1."""
        w = self.ylt.get("weight")
        return None if w is None else _weights(np.asarray(w, dtype=np.float64))

    def _ranked(self, column: str) -> tuple[np.ndarray, np.ndarray | None]:
        """A YLT column sorted ascending, with the weights in that order (sorted once)."""
        if column not in self._sorted:
            self._sorted[column] = _ascending(np.asarray(self.ylt[column]), self.weights)
        return self._sorted[column]

    def ascending(self, column: str) -> np.ndarray:
        """Ascending-sorted values of a YLT column (sorted once)."""
        return self._ranked(column)[0]

    def ep_points(
        self, values: str | np.ndarray, return_periods: np.ndarray, kind: str = "AEP"
    ) -> np.ndarray:
        """The loss exceeded once every T years (``kind`` ``AEP``: VaR, ``TVaR``) of a YLT
        column or of one value per year, weighted under importance sampling
        (:func:`riskengine.measures.ep_points`)."""
        from ..measures import ep_points

        xs, ws = (
            self._ranked(values) if isinstance(values, str) else _ascending(values, self.weights)
        )
        return ep_points(xs, return_periods, kind, weights=ws)

    def mean(self, values: str | np.ndarray) -> float:
        """The mean per simulated year, Σ w x / n (weighted under importance sampling), of a
        YLT column or of one value per year; NaN without years."""
        x = np.asarray(self.ylt[values] if isinstance(values, str) else values, dtype=np.float64)
        if len(x) == 0:
            return math.nan
        w = self.weights
        return float(np.mean(x) if w is None else np.dot(w, x) / len(x))

    @property
    def currency(self) -> str:
        return self.run.currency

    @property
    def n(self) -> int:
        return self.run.n_sims

    @property
    def measures(self) -> dict[str, dict[str, Any]]:
        return self.summary["measures"]


@dataclass(frozen=True)
class SimulatedGroundUp:
    """A simulation's ground-up loss, as the CreditRisk+ comparison needs it.

    Attributes
    ----------
    name : str
        Scenario name.
    currency : str
        Reporting currency.
    book_hash : str or None
        Hash of the book simulated.
    losses : numpy.ndarray
        Ground-up loss of each simulated year.
    weights : numpy.ndarray or None
        The years' likelihood-ratio weights (None when all are 1).
    measures : dict
        ``measures.ground_up`` of ``summary.json`` (values with standard errors).
    exact_el : float or None
        The exact expected ground-up loss of the simulated model (``checks.expected_ground_up``).
    political_years : int
        Simulated years with a political loss.
    """

    name: str
    currency: str
    book_hash: str | None
    losses: np.ndarray
    weights: np.ndarray | None
    measures: dict[str, Any]
    exact_el: float | None
    political_years: int

    @property
    def n(self) -> int:
        return len(self.losses)


def comparable(book_hash: str | None, currency: str, analytic: AnalyticOutputs) -> str | None:
    """Why ``analytic`` cannot be shown beside a simulation of ``book_hash`` in ``currency``
    (another book, another currency); None when it can."""
    other = analytic.book_hash
    if book_hash and other and book_hash != other:
        return (
            f"CreditRisk+ was computed on another book (hash {other[:12]}) than the simulation "
            f"({book_hash[:12]})"
        )
    if currency != analytic.currency:
        return (
            f"CreditRisk+ is in {analytic.currency}, the simulation in {currency}: rerun one in "
            "the other's reporting currency"
        )
    return None


def limits_comparable(book_hash: str | None, currency: str, limits: LimitsOutputs) -> str | None:
    """Why ``limits`` cannot be shown with a run of ``book_hash`` in ``currency`` (another book,
    another currency); None when it can."""
    other = limits.book_hash
    if book_hash and other and book_hash != other:
        return (
            f"the limits were computed on another book (hash {other[:12]}) than the run "
            f"({book_hash[:12]})"
        )
    if currency != limits.currency:
        return f"the limits are in {limits.currency}, the run in {currency}"
    return None


def stress_comparable(results: Results, run: StressRun) -> str | None:
    """Why the stress tests ``run`` cannot be shown with ``results`` (their base run is of
    another book, or on other years); None when they can."""
    base = run.base
    if base is results:
        return None
    mine, other = results.meta.get("book_hash"), base.meta.get("book_hash")
    if mine and other and mine != other:
        return f"their base run is of another book (hash {other[:12]}) than this run ({mine[:12]})"
    seeds = (base.scenario.simulation.seed, results.scenario.simulation.seed)
    if base.n_sims != results.n_sims or seeds[0] != seeds[1]:
        return (
            f"their base run simulated {base.n_sims:,} years with seed {seeds[0]}, this run "
            f"{results.n_sims:,} with seed {seeds[1]}"
        )
    return None


def _weights(w: np.ndarray) -> np.ndarray | None:
    return None if np.all(w == 1.0) else w


def _ascending(x: np.ndarray, weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """``x`` sorted ascending, and ``weights`` in the same order."""
    x = np.asarray(x, dtype=np.float64)
    if weights is None:
        return np.sort(x), None
    order = np.argsort(x, kind="stable")
    return x[order], weights[order]


def simulated_ground_up(d: ReportData) -> SimulatedGroundUp:
    """The ground-up side of a gathered run."""
    check = d.summary.get("checks", {}).get("expected_ground_up", {})
    return SimulatedGroundUp(
        name=d.run.name,
        currency=d.currency,
        book_hash=d.run.book_hash,
        losses=np.asarray(d.ylt["ground_up"], dtype=np.float64),
        weights=_weights(np.asarray(d.ylt["weight"], dtype=np.float64)),
        measures=d.measures["ground_up"],
        exact_el=check.get("exact"),
        political_years=int(np.count_nonzero(np.asarray(d.ylt["political"]) > 0)),
    )


def read_simulated_ground_up(folder: str | os.PathLike) -> SimulatedGroundUp:
    """The ground-up side of a finished run's files: ``summary.json`` and ``ylt.parquet``.

    Raises
    ------
    OutputError
        When the files are missing, unreadable or not a run's (naming the folder and why).
    """
    from ..errors import OutputError, Problem

    folder = Path(folder)
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        ylt = pl.read_parquet(folder / "ylt.parquet", columns=["ground_up", "weight", "political"])
        run = summary["run"]
        check = summary.get("checks", {}).get("expected_ground_up", {})
        return SimulatedGroundUp(
            name=str(run.get("scenario") or ""),
            currency=str(run["reporting_currency"]),
            book_hash=run.get("book_hash"),
            losses=ylt["ground_up"].to_numpy().astype(np.float64),
            weights=_weights(ylt["weight"].to_numpy().astype(np.float64)),
            measures=summary["measures"]["ground_up"],
            exact_el=check.get("exact"),
            political_years=int((ylt["political"] > 0).sum()),
        )
    except (
        OSError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        pl.exceptions.PolarsError,
    ) as exc:
        rule = f"cannot read the simulation: {type(exc).__name__}: {exc}"
        raise OutputError([Problem(str(folder), None, rule)], str(folder)) from None


def read_run(folder: str | os.PathLike) -> dict[str, Any]:
    """The ``run`` block of a finished run's ``summary.json`` (scenario, hashes, currency, …).

    Raises
    ------
    OutputError
        When the file is missing, unreadable or has no ``run`` block (naming the file).
    """
    from ..errors import OutputError, Problem

    path = Path(folder) / "summary.json"
    try:
        run = json.loads(path.read_text(encoding="utf-8"))["run"]
        if not isinstance(run, dict) or not isinstance(run.get("reporting_currency"), str):
            raise ValueError("no run block with a reporting_currency")
        return run
    except (OSError, ValueError, KeyError, TypeError) as exc:
        rule = f"cannot read the run: {type(exc).__name__}: {exc}"
        raise OutputError([Problem(str(path), None, rule)], str(folder)) from None


# ---------------------------------------------------------------------------------------------
def gather(
    results: Results,
    analytic: AnalyticOutputs | None = None,
    pricing: PricedBook | None = None,
    *,
    limits: LimitsOutputs | None = None,
    monitor: pl.DataFrame | None = None,
    stress: StressRun | None = None,
) -> ReportData:
    """Read everything the report shows from ``results`` (the YLT is not copied).

    ``analytic``: CreditRisk+ outputs of the same book (:func:`riskengine.analytic.read_analytic`)
    to show beside the simulation. ``pricing``: the run priced
    (:func:`riskengine.pricing.price_book`), left out when it priced another book. ``limits``:
    portfolio-wide limits proposed from this run (:func:`riskengine.limits.read_limits`); left
    out, with a warning, when of another book or currency. ``stress``: stress tests whose base
    run is ``results`` (:func:`riskengine.stress.run_stresses`); left out, with a warning, when
    their base run is of another book or on other years. ``monitor``: a
    ``monitor.parquet`` table (``riskengine monitor``) found beside the run, used when it
    compares this run.
    """
    if stress is not None:
        why = stress_comparable(results, stress)
        if why is not None:
            log.warning("report: stress tests left out: %s", why)
            stress = None
    if limits is not None:
        why = limits_comparable(
            results.meta.get("book_hash"), results.compiled.reporting_currency, limits
        )
        if why is not None:
            log.warning("report: limits left out: %s", why)
            limits = None
    if analytic is not None:
        why = comparable(
            results.meta.get("book_hash"), results.compiled.reporting_currency, analytic
        )
        if why is not None:
            log.warning("report: CreditRisk+ left out: %s", why)
            analytic = None
    if pricing is not None:
        why = priced_elsewhere(results.meta.get("book_hash"), pricing)
        if why is not None:
            log.warning("report: pricing left out: %s", why)
            pricing = None
    summary, treaty_error = _summary(results)
    measures = dict(summary.get("measures") or {})
    for p in results.perspectives():
        if p not in measures:
            measures[p] = results.measures(p)
    summary = {**summary, "measures": measures}
    ylt = {c: results.ylt[c].to_numpy() for c in results.ylt.columns}
    book = _book(results)
    return ReportData(
        run=_run_info(results, summary),
        assumptions=_assumptions(results),
        book=book,
        ylt=ylt,
        treaties=list(results.treaty_names),
        treaty_terms=[t.model_dump(exclude_none=True) for t in results.scenario.treaties],
        summary=summary,
        treaty_error=treaty_error,
        ep=results.ep_curve(),
        segment_el={d: results.segment_el(d) for d in ("country", "sector")},
        reinsurance_cost=_reinsurance_cost(results, summary.get("treaties")),
        analytic=analytic,
        pricing=pricing,
        capital=_capital(results, book),
        importance=_importance(results, summary),
        limits=limits,
        monitoring=_monitoring(results, monitor),
        stress=None if stress is None else stress_data(stress),
    )


def priced_elsewhere(book_hash: str | None, pricing: PricedBook) -> str | None:
    """Why ``pricing`` does not belong with a run of ``book_hash`` (another book); None if it
    does."""
    other = pricing.book_hash
    if book_hash and other and book_hash != other:
        return f"it priced another book (hash {other[:12]}) than the run's ({book_hash[:12]})"
    return None


def _summary(results: Results) -> tuple[dict[str, Any], str | None]:
    try:
        return results.summary(), None
    except Exception as exc:
        if not results.treaty_names:
            raise
        # Treaty metrics failed: summarise the rest without them, and say so on the page.
        why = f"{type(exc).__name__}: {exc}"
        log.warning("report: treaty metrics unavailable (%s)", why)
        bare = dataclasses.replace(
            results, compiled=dataclasses.replace(results.compiled, treaty_names=[])
        )
        return bare.summary(), why


def _run_info(results: Results, summary: dict[str, Any]) -> RunInfo:
    sc, meta = results.scenario, results.meta
    return RunInfo(
        name=sc.name,
        description=sc.description,
        currency=results.compiled.reporting_currency,
        n_sims=results.n_sims,
        seed=sc.simulation.seed,
        block_size=sc.simulation.block_size,
        book_path=meta.get("book_path"),
        started_at=meta.get("started_at"),
        finished_at=meta.get("finished_at"),
        wall_time_s=meta.get("wall_time_s"),
        executor=meta.get("executor"),
        workers=meta.get("workers"),
        version=str(summary.get("riskengine_version") or __version__),
        scenario_hash=meta.get("scenario_hash"),
        book_hash=meta.get("book_hash"),
    )


def _assumptions(results: Results) -> Assumptions:
    m, pol = results.scenario.model, results.scenario.political
    explicit = bool(results.compiled.kernel.explicit)
    w = m.factor_weights
    factors: list[str] = []
    if explicit and m.factor_correlation is not None:
        factors = list(m.factor_correlation.factors)
    return Assumptions(
        copula=m.copula,
        dof=float(m.dof) if m.copula == "student_t" else None,
        explicit=explicit,
        factor_weights={
            "global": w.global_,
            "region": w.region,
            "country": w.country,
            "sector": w.sector,
        },
        n_factors=len(results.compiled.kernel.factor_key),
        factors=factors,
        asset_correlation=m.asset_correlation,
        lgd_mean=m.lgd.mean,
        lgd_sd=m.lgd.sd,
        utilization=m.utilization,
        ratings=dict(results.scenario.ratings),
        political_enabled=pol.enabled,
        political_correlation=pol.correlation,
        political_lgd=pol.lgd,
        grade_pd=list(pol.grade_pd),
        pd_multiplier=pol.commercial_pd_multiplier,
    )


def _book(results: Results) -> BookData:
    cp = results.compiled
    r = cp.resolved  # book order
    return BookData(
        buyer_ids=r.buyer_ids,
        ead=np.bincount(r.e_buyer, weights=r.e_ead, minlength=r.n_buyers),
        country=r.b_country,
        sector=r.b_sector,
        group=r.b_group,
        country_codes=r.country_codes,
        country_region=r.region_names[r.c_region],
        sector_codes=r.sector_codes,
        group_ids=r.group_ids,
        n_exposures=cp.n_exposures,
        n_policies=len(r.policy_ids),
        premium=float(cp.book_premium),
    )


def _reinsurance_cost(results: Results, metrics: Any) -> np.ndarray | None:
    """Premiums − ceding commissions + reinstatement premiums of the programme, per year."""
    from ..results.treaties import reinsurance_cost

    if not results.treaty_names or not isinstance(metrics, dict):
        return None
    return reinsurance_cost(results)


# -- capital allocation and importance sampling ---------------------------------------------------
def _importance(results: Results, summary: dict[str, Any]) -> ImportanceInfo | None:
    """How the years were sampled (``summary["importance_sampling"]``), or None without it."""
    info = summary.get("importance_sampling")
    if not info:
        return None
    defensive = float(info.get("defensive") or 0.0)
    weighted = results.weights is not None
    means = {str(k): float(v) for k, v in (info.get("means") or {}).items()}
    if info.get("shift") == "given":
        components = [("given shift", 1.0 - defensive)] if means else []
    else:
        # each component's share of the shifted years; the defensive share is drawn unshifted
        components = [
            (str(c.get("mode")), (1.0 - defensive) * float(c.get("share") or 0.0))
            for c in info.get("components") or []
        ]
    return ImportanceInfo(
        shift=str(info.get("shift") or ""),
        level=float(info.get("level") or math.nan),
        components=components if weighted else [],
        defensive=defensive if weighted else 0.0,
        means=means,
        weighted=weighted,
        effective_years=float(info.get("effective_sims") or results.n_sims),
        n=results.n_sims,
        status=info.get("status"),
    )


def _capital(results: Results, book: BookData) -> CapitalData | None:
    """The allocation at its highest level, one view per perspective (gross first)."""
    table = results.allocation_table
    if table is None or table.is_empty():
        return None
    present = table["perspective"].unique(maintain_order=True).to_list()
    order = [*PERSPECTIVE_NAMES, *present]
    perspectives = sorted(present, key=order.index)
    levels = sorted(float(x) for x in table["level"].unique())
    level = levels[-1]
    labels = _buyer_labels(book)
    views = [
        _capital_view(results, table, p, level, labels)
        for p in perspectives
        if not table.filter((pl.col("perspective") == p) & (pl.col("level") == level)).is_empty()
    ]
    return CapitalData(views=views, levels=levels)


def _buyer_labels(book: BookData) -> dict[str, pl.DataFrame]:
    """Each buyer's country and sector, and each group's number of members."""
    buyers = pl.DataFrame(
        {
            "segment": book.buyer_ids.astype(str),
            "country": book.country_codes.astype(str)[book.country],
            "sector": book.sector_codes.astype(str)[book.sector],
        }
    )
    grouped = book.group >= 0
    members = np.bincount(book.group[grouped], minlength=len(book.group_ids))
    groups = pl.DataFrame(
        {"segment": book.group_ids.astype(str), "buyers": members.astype(np.int64)},
        schema={"segment": pl.String, "buyers": pl.Int64},
    )
    return {"buyer": buyers, "group": groups}


def _capital_view(
    results: Results,
    table: pl.DataFrame,
    perspective: str,
    level: float,
    labels: dict[str, pl.DataFrame],
) -> CapitalView:
    from ..measures import level_key, measures, tail

    q = level / 100.0
    x = results.ylt[perspective].to_numpy()
    w = results.weights
    m = measures(x, [q], w)
    key = level_key(q)
    t = tail(x, q, w)
    sub = table.filter((pl.col("perspective") == perspective) & (pl.col("level") == level))
    segments, totals = {}, {}
    ungrouped: dict[str, float] = {}
    for dim in CAPITAL_DIMENSIONS:
        rows = sub.filter(pl.col("dimension") == dim)
        if rows.is_empty():
            continue
        frame = _shares(rows)
        if dim == "buyer":
            frame = frame.join(labels["buyer"], on="segment", how="left")
        totals[dim] = {c: float(frame[c].sum()) for c in _AMOUNTS}
        if dim == "group":
            # the allocation counts a buyer without a group as its own group: apart here
            frame = frame.join(labels["group"], on="segment", how="left")
            alone = frame.filter(pl.col("buyers").is_null())
            ungrouped = {c: float(alone[c].sum()) for c in (*_AMOUNTS, *_SHARES)}
            ungrouped["buyers"] = float(alone.height)
            frame = frame.filter(pl.col("buyers").is_not_null())
        segments[dim] = frame
    top: dict[str, float] = {}
    if "buyer" in segments:
        head = segments["buyer"].head(TOP_BUYERS)
        top = {"k": float(head.height)}
        top.update({c: float(head[c].sum()) for c in _SHARES})
    return CapitalView(
        perspective=perspective,
        level=level,
        measures={
            "EL": m["EL"],
            "VaR": m["VaR"][key],
            "TVaR": m["TVaR"][key],
        },
        tail_years=len(t.index),
        window_years=len(t.window),
        segments=segments,
        totals=totals,
        top_buyers=top,
        ungrouped=ungrouped,
    )


_SHARES = ("capital_share", "tvar_share", "el_share", "ead_share")
_AMOUNTS = ("el", "tvar_contribution", "var_contribution", "capital", "ead")


def _shares(rows: pl.DataFrame) -> pl.DataFrame:
    """One dimension's allocation rows with capital (TVaR contribution − EL), its standard
    error and the shares of capital, TVaR, EL and EAD; largest TVaR contribution first."""
    from ..pricing.premium import allocated_capital

    capital, capital_se = allocated_capital(
        rows["tvar_contribution"].to_numpy(),
        rows["el"].to_numpy(),
        rows["tvar_contribution_se"].to_numpy(),
        rows["el_se"].to_numpy(),
    )
    frame = rows.with_columns(pl.Series("capital", capital), pl.Series("capital_se", capital_se))

    def share(col: str) -> pl.Expr:
        total = pl.col(col).sum()
        return pl.when(total != 0).then(pl.col(col) / total).otherwise(math.nan)

    return frame.select(
        "segment",
        "el",
        "el_se",
        "tvar_contribution",
        "tvar_contribution_se",
        "var_contribution",
        "var_contribution_se",
        "capital",
        "capital_se",
        "ead",
        share("capital").alias("capital_share"),
        pl.col("share").alias("tvar_share"),
        share("el").alias("el_share"),
        share("ead").alias("ead_share"),
    ).sort(["tvar_contribution", "segment"], descending=[True, False])


def _monitor_mismatch(results: Results, table: pl.DataFrame) -> str | None:
    """Why ``table`` (monitor.parquet) does not compare ``results``; None when it does."""
    from ..monitoring.table import MONITOR_SCHEMA, PARAMETERS

    missing = [c for c in MONITOR_SCHEMA if c not in table.columns]
    if missing:
        return f"monitor.parquet lacks the columns {missing}"
    on = table.filter(pl.col("run") == "on")
    if on.height != 1:
        return "monitor.parquet has no run with monitoring on"
    row = on.row(0, named=True)
    cfg = results.scenario.monitoring
    mine = {
        "book_hash": results.meta.get("book_hash"),
        "seed": results.scenario.simulation.seed,
        "sims": results.n_sims,
        **{k: getattr(cfg, k) for k in PARAMETERS},
    }
    differ = [k for k, v in mine.items() if v is not None and row[k] != v]
    return f"monitor.parquet is of another run (its {', '.join(differ)} differ)" if differ else None


def _monitoring(results: Results, table: pl.DataFrame | None) -> MonitoringData | None:
    """Dynamic limit management of a run that had it on (None otherwise): the comparison of
    ``table`` when it is this run's, else the ground-up comparison the run holds by itself."""
    from ..monitoring.table import MONITOR_SCHEMA, monitor_row

    if "loss_avoided" not in results.ylt.columns:
        return None
    params = results.scenario.monitoring.model_dump()
    why = None
    if table is not None:
        why = _monitor_mismatch(results, table)
        if why is None:
            return MonitoringData(params, table.select(list(MONITOR_SCHEMA)), True)
        log.warning("report: %s; the section shows the run alone", why)
    # the run without monitoring, ground-up: the same years with the avoided loss added back
    ylt = results.ylt
    off_ylt = ylt.with_columns(ground_up=pl.col("ground_up") + pl.col("loss_avoided")).drop(
        "loss_avoided", "turnover_lost", "n_caught"
    )
    off_cfg = results.scenario.monitoring.model_copy(update={"enabled": False})
    off = dataclasses.replace(
        results,
        ylt=off_ylt,
        scenario=results.scenario.model_copy(update={"monitoring": off_cfg}),
    )
    ground_up = ("ground_up",)
    rows = [
        monitor_row("off", None, None, off, off, perspectives=ground_up),
        monitor_row("on", None, None, results, off, perspectives=ground_up),
    ]
    return MonitoringData(
        params, pl.DataFrame(rows, schema=MONITOR_SCHEMA, orient="row"), False, why
    )


# -- stress tests ---------------------------------------------------------------------------------
def stress_data(run: StressRun) -> StressData:
    """Stress tests as the report shows them: the stress table at :data:`STRESS_LEVEL` (and EL),
    one view per perspective, with each stress's description and the variance reduction that
    common random numbers bought."""
    from ..stress.table import BOOTSTRAP

    t = run.table.filter(
        (pl.col("measure") == "EL") | ((pl.col("level") - STRESS_LEVEL).abs() < 1e-9)
    )
    names = t["stress"].unique(maintain_order=True).to_list()
    descriptions = {n: (s.description.strip() if (s := run.definition(n)) else "") for n in names}
    views = []
    for p in t["perspective"].unique(maintain_order=True).to_list():
        sub = t.filter(pl.col("perspective") == p)
        cols: dict[str, list[Any]] = {
            "stress": names,
            "description": [descriptions[n] for n in names],
        }
        for m, measure in zip(STRESS_MEASURES, ("EL", "VaR", "TVaR"), strict=True):
            by = {
                r["stress"]: r
                for r in sub.filter(pl.col("measure") == measure).iter_rows(named=True)
            }
            base = by[names[0]]
            value = [float(by[n]["value"]) for n in names]
            se = [float(by[n]["se"]) for n in names]
            delta = [float(by[n]["delta"]) for n in names]
            dse = [float(by[n]["delta_se"]) for n in names]
            cols[m], cols[f"{m}_se"], cols[f"{m}_delta"], cols[f"{m}_delta_se"] = (
                value,
                se,
                delta,
                dse,
            )
            cols[f"{m}_change"] = [d / base["value"] if base["value"] else math.nan for d in delta]
            cols[f"{m}_vrf"] = [math.nan] + [
                _reduction(float(base["se"]), se[i], dse[i]) for i in range(1, len(names))
            ]
        views.append(StressView(perspective=p, rows=pl.DataFrame(cols)))
    return StressData(
        views=views,
        level=STRESS_LEVEL,
        notes={n: run.notes(n) for n in run.stressed},
        n_sims=run.base.n_sims,
        bootstrap=BOOTSTRAP,
        weighted=run.base.weights is not None,
    )


def _reduction(se_base: float, se: float, delta_se: float) -> float:
    """(se_base² + se²) / delta_se²: how many times the variance of a difference of two
    independent runs exceeds that of the paired difference (infinite when that is 0)."""
    independent = se_base**2 + se**2
    if not math.isfinite(delta_se) or not math.isfinite(independent):
        return math.nan
    return independent / delta_se**2 if delta_se > 0 else math.inf
