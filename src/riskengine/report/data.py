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
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from .. import __version__

if TYPE_CHECKING:
    from ..analytic.outputs import AnalyticOutputs
    from ..results import Results

__all__ = [
    "RunInfo",
    "Assumptions",
    "BookData",
    "ReportData",
    "SimulatedGroundUp",
    "MonitoringData",
    "comparable",
    "gather",
    "simulated_ground_up",
    "read_simulated_ground_up",
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
    monitoring : MonitoringData or None
        Dynamic limit management, when the run had it on.
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
    monitoring: MonitoringData | None = None
    _sorted: dict[str, np.ndarray] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def ascending(self, column: str) -> np.ndarray:
        """Ascending-sorted values of a YLT column (sorted once)."""
        if column not in self._sorted:
            self._sorted[column] = np.sort(np.asarray(self.ylt[column], dtype=np.float64))
        return self._sorted[column]

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


def _weights(w: np.ndarray) -> np.ndarray | None:
    return None if np.all(w == 1.0) else w


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


# ---------------------------------------------------------------------------------------------
def gather(
    results: Results,
    analytic: AnalyticOutputs | None = None,
    monitor: pl.DataFrame | None = None,
) -> ReportData:
    """Read everything the report shows from ``results`` (the YLT is not copied).

    ``analytic``: CreditRisk+ outputs of the same book (:func:`riskengine.analytic.read_analytic`)
    to show beside the simulation. ``monitor``: a ``monitor.parquet`` table
    (``riskengine monitor``) found beside the run, used when it compares this run.
    """
    if analytic is not None:
        why = comparable(
            results.meta.get("book_hash"), results.compiled.reporting_currency, analytic
        )
        if why is not None:
            log.warning("report: CreditRisk+ left out: %s", why)
            analytic = None
    summary, treaty_error = _summary(results)
    measures = dict(summary.get("measures") or {})
    for p in results.perspectives():
        if p not in measures:
            measures[p] = results.measures(p)
    summary = {**summary, "measures": measures}
    ylt = {c: results.ylt[c].to_numpy() for c in results.ylt.columns}
    return ReportData(
        run=_run_info(results, summary),
        assumptions=_assumptions(results),
        book=_book(results),
        ylt=ylt,
        treaties=list(results.treaty_names),
        treaty_terms=[t.model_dump(exclude_none=True) for t in results.scenario.treaties],
        summary=summary,
        treaty_error=treaty_error,
        ep=results.ep_curve(),
        segment_el={d: results.segment_el(d) for d in ("country", "sector")},
        reinsurance_cost=_reinsurance_cost(results, summary.get("treaties")),
        analytic=analytic,
        monitoring=_monitoring(results, monitor),
    )


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
