"""Pricing a run: its capital allocation and the book → priced policies, a published rate card,
country rates and the files ``riskengine price`` writes (docs/pricing.md §7).

The chain, for the scenario's ``pricing:`` block (gross perspective):

1. each exposure's insured turnover (limit × utilization × 365 / term, or its policy's declared
   turnover split in those proportions), in the reporting currency;
2. each policy's EL and capital (its TVaR or VaR contribution at the level, less its EL) from the
   run's allocation by policy, priced (:func:`~riskengine.pricing.price_policies`), and split over
   its exposures by their own EL and capital (the allocation by exposure);
3. the rate card fitted to the exposures' technical rates, calibrated to a target when one is
   given; country rates with the OECD benchmark; the realism check.

The run comes either as :class:`~riskengine.results.Results` (:meth:`RunFacts.of_results`) or as
a finished run folder (:func:`read_run`); this module never simulates (the caller runs the
job, with :func:`with_pricing_allocation` making the run allocate what pricing reads).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from ..errors import OutputError, Problem
from ..files import write_parquet
from ..measures import measures
from ..scenario.models import AllocationConfig, PricingConfig
from .calibrate import Calibration, calibrate, combined_ratio, return_on_capital
from .card import RateCard, buyer_ratings, fit_rate_card, rate_cells, rating_order, term_band
from .oecd import oecd_benchmark
from .premium import Loadings, allocated_capital, exposure_turnover, price_exposures, price_policies
from .realism import realism_check
from .workbook import write_rate_card_workbook

if TYPE_CHECKING:
    from ..book import Book
    from ..portfolio.resolve import Resolved
    from ..results import Results
    from ..scenario import Scenario

__all__ = [
    "FILES",
    "PERSPECTIVE",
    "DIMENSIONS",
    "SIZE_BANDS",
    "PricedBook",
    "RunFacts",
    "allocation_problems",
    "loadings_of",
    "price_book",
    "read_run",
    "check_same_book",
    "with_pricing_allocation",
    "with_targets",
    "write_pricing",
]

#: The loss perspective pricing reads: claims after policy terms, before reinsurance.
PERSPECTIVE = "gross"
#: The allocation dimensions pricing reads.
DIMENSIONS = ("policy", "exposure")
#: Upper bounds of the policy size bands (insured turnover a year, reporting currency).
SIZE_BANDS = (5e6, 2e7, 1e8, 5e8)
#: Files :func:`write_pricing` writes, by role.
FILES = {
    "pricing": "pricing.parquet",
    "rate_card": "rate_card.parquet",
    "workbook": "rate_card.xlsx",
    "factors": "rating_factors.parquet",
    "countries": "country_rates.parquet",
}
#: Relative tolerance of a level read back from allocation.parquet (stored as percent).
_LEVEL_TOL = 1e-9


def loadings_of(cfg: PricingConfig) -> Loadings:
    """The scenario's loadings (cost of capital, expense ratio, commission)."""
    return Loadings(cfg.cost_of_capital, cfg.expense_ratio, cfg.commission)


def with_pricing_allocation(scenario: Scenario) -> Scenario:
    """``scenario`` with ``outputs.allocation`` covering what pricing reads, added to what it
    already asks: the gross perspective, the dimensions policy and exposure, the pricing level."""
    have = scenario.outputs.allocation
    level = scenario.pricing.capital.level
    if have is None:
        cfg = AllocationConfig(perspective=[PERSPECTIVE], levels=[level], dimensions=[*DIMENSIONS])
    else:
        cfg = AllocationConfig(
            perspective=[*have.perspective, PERSPECTIVE],
            levels=[*have.levels, level],
            dimensions=[*have.dimensions, *DIMENSIONS],
        )
    outputs = scenario.outputs.model_copy(update={"allocation": cfg})
    return scenario.model_copy(update={"outputs": outputs})


# -- the run --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunFacts:
    """What pricing reads from a run besides the book.

    Attributes
    ----------
    allocation : polars.DataFrame
        allocation.parquet rows of the gross perspective at the pricing level, dimensions policy
        and exposure (``segment`` is the policy or exposure id).
    gross : numpy.ndarray
        The gross loss of every simulated year (reporting currency).
    weights : numpy.ndarray or None
        The years' likelihood-ratio weights (None when all are 1).
    name, currency : str
        Scenario name and reporting currency of the run.
    book_hash : str or None
        Hash of the book simulated.
    folder : str or None
        The run folder read (None for a run in memory).
    """

    allocation: pl.DataFrame
    gross: np.ndarray
    weights: np.ndarray | None
    name: str
    currency: str
    book_hash: str | None
    folder: str | None = None

    @property
    def n_sims(self) -> int:
        return len(self.gross)

    @classmethod
    def of_results(cls, res: Results) -> RunFacts:
        """A run in memory, simulated with :func:`with_pricing_allocation`'s outputs.

        Raises
        ------
        OutputError
            When the run did not allocate what pricing reads.
        """
        source = f"run {res.scenario.name!r}"
        if res.allocation_table is None:
            rule = "allocated no capital: simulate with with_pricing_allocation(scenario)"
            raise OutputError([Problem(source, "outputs.allocation", rule, label="key")], source)
        cfg = res.scenario.pricing
        _raise(allocation_problems(res.allocation_table, cfg, source), source)
        return cls(
            allocation=_pricing_rows(res.allocation_table, cfg),
            gross=res.ylt["gross"].to_numpy(),
            weights=res.weights,
            name=res.scenario.name,
            currency=res.compiled.reporting_currency,
            book_hash=res.meta.get("book_hash"),
        )


def _at_level(level: float) -> pl.Expr:
    return (pl.col("level") - level).abs() <= _LEVEL_TOL * level


def _pricing_rows(table: pl.DataFrame, cfg: PricingConfig) -> pl.DataFrame:
    return table.filter(
        (pl.col("perspective") == PERSPECTIVE)
        & _at_level(cfg.capital.level)
        & pl.col("dimension").is_in(list(DIMENSIONS))
    )


def allocation_problems(table: pl.DataFrame, cfg: PricingConfig, source: str) -> list[Problem]:
    """What ``table`` (allocation.parquet) lacks for pricing under ``cfg``: one problem naming
    the missing perspective, level or dimensions and how to get them (empty when complete)."""
    level = cfg.capital.level
    rows = _pricing_rows(table, cfg)
    missing = [d for d in DIMENSIONS if rows.filter(pl.col("dimension") == d).is_empty()]
    if not missing:
        return []
    have = (
        table.select("perspective", "level", "dimension")
        .unique()
        .sort("perspective", "level", "dimension")
        .group_by("perspective", "level", maintain_order=True)
        .agg(pl.col("dimension"))
    )
    held = "; ".join(
        f"{r['perspective']} at {r['level']:g} % by {', '.join(r['dimension'])}"
        for r in have.iter_rows(named=True)
    )
    dims = " ".join(f"--dimension {d}" for d in DIMENSIONS)
    rule = (
        f"no {PERSPECTIVE} allocation by {' and '.join(missing)} at {level:g} % (pricing."
        f"capital.level), which pricing reads (it holds: {held or 'nothing'})"
    )
    hint = (
        f"run `riskengine price SCENARIO --out DIR` (it simulates with that allocation), or, if "
        f"the run's tail store holds {PERSPECTIVE} at {level:g} %, `riskengine allocate FOLDER "
        f"--perspective {PERSPECTIVE} --level {level:g} {dims}`"
    )
    return [Problem(source, "dimension", rule, hint=hint)]


def _raise(problems: list[Problem], source: str) -> None:
    if problems:
        raise OutputError(problems, source)


def read_run(folder: str | os.PathLike, cfg: PricingConfig) -> RunFacts:
    """A finished run folder's allocation, yearly gross losses and metadata.

    Raises
    ------
    OutputError
        When the folder holds no finished run, no allocation.parquet, or one without the gross
        allocation by policy and exposure at ``cfg``'s level (saying how to get it), or a file
        cannot be read.
    """
    folder = Path(folder)
    name = str(folder)
    if not folder.is_dir():
        _raise([Problem(name, None, "no such folder")], name)
    if not (folder / "summary.json").exists() or not (folder / "ylt.parquet").exists():
        rule = "not a finished run (no summary.json / ylt.parquet): run `riskengine simulate` first"
        _raise([Problem(name, None, rule)], name)
    path = folder / "allocation.parquet"
    if not path.exists():
        rule = "no allocation.parquet: the run allocated no capital, which pricing reads"
        hint = (
            "run `riskengine price SCENARIO --out DIR` (it simulates with the allocation "
            "pricing needs) or simulate with outputs.allocation {perspective: gross, dimensions: "
            "[policy, exposure]} at pricing.capital.level"
        )
        _raise([Problem(name, None, rule, hint=hint)], name)
    try:
        table = pl.read_parquet(path)
        ylt = pl.read_parquet(folder / "ylt.parquet", columns=["gross", "weight"])
        run = json.loads((folder / "summary.json").read_text(encoding="utf-8"))["run"]
        _raise(allocation_problems(table, cfg, str(path)), name)
        weights = ylt["weight"].to_numpy()
        return RunFacts(
            allocation=_pricing_rows(table, cfg),
            gross=ylt["gross"].to_numpy(),
            weights=None if np.all(weights == 1.0) else weights,
            name=str(run.get("scenario") or ""),
            currency=str(run["reporting_currency"]),
            book_hash=run.get("book_hash"),
            folder=name,
        )
    except (OSError, ValueError, KeyError, TypeError, pl.exceptions.PolarsError) as exc:
        rule = f"cannot read the run: {type(exc).__name__}: {exc}"
        raise OutputError([Problem(name, None, rule)], name) from None


def check_same_book(run: RunFacts, book: Book, scenario: Scenario) -> None:
    """Refuse to price ``run`` with another book or reporting currency than it simulated.

    Raises
    ------
    OutputError
        Naming the run folder, the two hashes or currencies.
    """
    source = run.folder or f"run {run.name!r}"
    problems = []
    book_hash = book.content_hash()
    if run.book_hash and run.book_hash != book_hash:
        rule = (
            f"the run simulated another book (hash {run.book_hash[:12]}) than the one given "
            f"({book_hash[:12]}): price it with the book it simulated (--book)"
        )
        problems.append(Problem(source, None, rule))
    if run.currency != scenario.reporting_currency:
        rule = (
            f"the run is in {run.currency}, the scenario's reporting_currency is "
            f"{scenario.reporting_currency}"
        )
        problems.append(Problem(source, None, rule))
    _raise(problems, source)


# -- pricing --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PricedBook:
    """A priced book: what ``riskengine price`` writes and prints, and the report shows.

    Attributes
    ----------
    policies : polars.DataFrame
        pricing.parquet: one row per policy (docs/pricing.md §2) with ``card_premium``, what the
        published card charges it.
    exposures : polars.DataFrame
        One row per exposure: ``exposure_id``, ``policy_id``, ``buyer_id``, ``country``,
        ``region``, ``sector``, ``risk_grade``, ``rating``, ``payment_term_days``, ``term_band``,
        ``turnover``, ``premium`` (its policy's split by turnover), ``el``, ``capital``,
        ``technical_premium``, ``technical_rate``, ``card_rate``, ``card_premium``.
    card : RateCard
        The published card (calibrated when a target is given).
    technical_card : RateCard
        The card fitted to the technical rates (scale 1).
    calibration : Calibration or None
        The target met, when one is given.
    country_rates : polars.DataFrame
        country_rates.parquet (:func:`country_rates`).
    realism : polars.DataFrame
        :func:`~riskengine.pricing.realism_check` of the published card.
    book : dict
        Book-level figures on the simulated years: ``el``, ``el_se``, ``risk`` (TVaR or VaR at
        the level), ``risk_se``, ``capital`` (risk − EL), ``premium`` (actual),
        ``technical_premium``, ``card_premium``, ``turnover``, ``return_on_capital`` and
        ``combined_ratio`` at the actual premiums.
    config : PricingConfig
    name, currency : str
        Scenario name and reporting currency.
    n_sims : int
    book_hash : str or None
    """

    policies: pl.DataFrame
    exposures: pl.DataFrame
    card: RateCard
    technical_card: RateCard
    calibration: Calibration | None
    country_rates: pl.DataFrame
    realism: pl.DataFrame
    book: dict[str, float]
    config: PricingConfig
    name: str
    currency: str
    n_sims: int
    book_hash: str | None

    @property
    def loadings(self) -> Loadings:
        return loadings_of(self.config)

    @property
    def capital_label(self) -> str:
        """``TVaR 99.5 %`` or ``VaR 99.5 %``: what capital is measured with."""
        cap = self.config.capital
        return f"{'TVaR' if cap.measure == 'tvar' else 'VaR'} {cap.level:g} %"

    def adequacy(self, by: str) -> pl.DataFrame:
        """Premiums against technical premiums by ``risk_grade``, ``sector`` or ``size_band``.

        Grades and sectors sum the exposures (each policy's premium split over its exposures by
        turnover); size bands sum the policies, banded by turnover (:data:`SIZE_BANDS`).

        Returns
        -------
        polars.DataFrame
            ``by``, ``n`` (exposures or policies), ``turnover``, ``premium``,
            ``technical_premium``, ``el``, ``adequacy`` (premium / technical premium),
            ``actual_rate``, ``technical_rate`` (on turnover), sorted by ``by``.
        """
        if by == "size_band":
            frame = self.policies.with_columns(size_band(self.policies["turnover"]))
        elif by in ("risk_grade", "sector"):
            frame = self.exposures
        else:
            raise ValueError(f"by must be risk_grade, sector or size_band, got {by!r}")
        return (
            frame.group_by(by)
            .agg(
                pl.len().alias("n"),
                pl.col("turnover", "premium", "technical_premium", "el").sum(),
            )
            .with_columns(
                _safe_ratio("premium", "technical_premium").alias("adequacy"),
                _safe_ratio("premium", "turnover").alias("actual_rate"),
                _safe_ratio("technical_premium", "turnover").alias("technical_rate"),
            )
            .sort(by)
        )

    def card_by_grade(self) -> pl.DataFrame:
        """The published card at its most common term band: ``risk_grade`` by ``rating``."""
        band = int(self.realism["term_band"][0])
        return self.card.card.filter(pl.col("term_band") == band).select(
            "risk_grade", "rating", "term_band", "fitted_rate", "turnover"
        )


def _safe_ratio(num: str, den: str) -> pl.Expr:
    return pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den))


def size_band(turnover: pl.Series, bounds: Sequence[float] = SIZE_BANDS) -> pl.Series:
    """Each policy's size band by insured turnover: ``< 5 m``, ``5 m – 20 m``, …, ``≥ 500 m``
    (the labels sort in band order: each starts with its index)."""
    labels = [f"< {_short(bounds[0])}"]
    labels += [f"{_short(a)} – {_short(b)}" for a, b in zip(bounds, bounds[1:], strict=False)]
    labels.append(f"≥ {_short(bounds[-1])}")
    idx = np.searchsorted(np.asarray(bounds), turnover.to_numpy(), side="right")
    return pl.Series("size_band", [f"{i + 1}. {labels[i]}" for i in idx], dtype=pl.String)


def _short(x: float) -> str:
    for scale, word in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if x >= scale:
            return f"{x / scale:g} {word}"
    return f"{x:g}"


def _exposures(book: Book, r: Resolved, scenario: Scenario) -> pl.DataFrame:
    """Exposures with their buyer's country, region, sector, rating and risk grade, limits in the
    reporting currency, utilization resolved and terms as given (null: the pricing default)."""
    ex = book.exposures
    n = ex.height
    terms = (
        ex["payment_term_days"].cast(pl.Float64)
        if "payment_term_days" in ex.columns
        else pl.Series("payment_term_days", [None] * n, dtype=pl.Float64)
    )
    buyers = book.buyers.select("buyer_id", "country", "sector").with_columns(
        buyer_ratings(book.buyers, scenario.ratings)
    )
    buyers = buyers.join(
        book.countries.select("country", "region", pl.col("risk_grade").cast(pl.Int64)),
        on="country",
        how="left",
        maintain_order="left",
    )
    frame = pl.DataFrame(
        {
            "exposure_id": ex["exposure_id"].cast(pl.String),
            "policy_id": ex["policy_id"].cast(pl.String),
            "buyer_id": ex["buyer_id"].cast(pl.String),
            "limit": r.e_limit * r.e_fx,
            "utilization": r.e_utilization,
            "payment_term_days": terms,
        }
    )
    return frame.join(
        buyers.with_columns(pl.col("buyer_id").cast(pl.String)),
        on="buyer_id",
        how="left",
        maintain_order="left",
    )


def _declared(book: Book, r: Resolved) -> pl.DataFrame:
    """Each policy's declared turnover in the reporting currency (null: none declared)."""
    p = book.policies
    given = (
        p["turnover"].cast(pl.Float64) * r.p_fx
        if "turnover" in p.columns
        else pl.Series([None] * p.height, dtype=pl.Float64)
    )
    return pl.DataFrame({"policy_id": p["policy_id"].cast(pl.String), "turnover": given})


def _allocated(run: RunFacts, dimension: str, measure: str) -> pl.DataFrame:
    """``segment``, ``el``, ``el_se``, ``contribution``, ``contribution_se`` of one dimension."""
    col = "tvar_contribution" if measure == "tvar" else "var_contribution"
    return run.allocation.filter(pl.col("dimension") == dimension).select(
        "segment",
        "el",
        "el_se",
        pl.col(col).alias("contribution"),
        pl.col(f"{col}_se").alias("contribution_se"),
    )


def _price_policies(
    ex: pl.DataFrame, book: Book, r: Resolved, run: RunFacts, cfg: PricingConfig
) -> pl.DataFrame:
    """pricing.parquet's rows before the card: turnover, premium, EL, capital, technical premium."""
    alloc = _allocated(run, "policy", cfg.capital.measure)
    base = pl.DataFrame(
        {"policy_id": book.policies["policy_id"].cast(pl.String), "premium": r.p_premium}
    )
    turnover = ex.group_by("policy_id").agg(pl.col("turnover").sum())
    frame = (
        base.join(turnover, on="policy_id", how="left", maintain_order="left")
        .join(
            alloc.rename({"segment": "policy_id"}),
            on="policy_id",
            how="left",
            maintain_order="left",
        )
        .with_columns(
            pl.col("turnover", "el", "el_se", "contribution", "contribution_se").fill_null(0.0)
        )
    )
    capital, capital_se = allocated_capital(
        frame["contribution"].to_numpy(),
        frame["el"].to_numpy(),
        frame["contribution_se"].to_numpy(),
        frame["el_se"].to_numpy(),
    )
    frame = frame.drop("contribution", "contribution_se").with_columns(
        pl.Series("capital", capital), pl.Series("capital_se", capital_se)
    )
    cols = ("policy_id", "turnover", "premium", "el", "el_se", "capital", "capital_se")
    return price_policies(frame.select(cols), loadings_of(cfg))


def _price_exposures(
    ex: pl.DataFrame, policies: pl.DataFrame, run: RunFacts, cfg: PricingConfig
) -> pl.DataFrame:
    """Exposures with their share of their policy's EL, capital, technical and actual premium."""
    alloc = _allocated(run, "exposure", cfg.capital.measure).select(
        pl.col("segment").alias("exposure_id"),
        pl.col("el").alias("exposure_el"),
        (pl.col("contribution") - pl.col("el")).alias("exposure_capital"),
    )
    ex = ex.join(alloc, on="exposure_id", how="left", maintain_order="left").with_columns(
        pl.col("exposure_el", "exposure_capital").fill_null(0.0)
    )
    priced = price_exposures(ex, policies, loadings_of(cfg))
    premium = policies.select("policy_id", pl.col("premium").alias("_policy_premium"))
    share = (
        pl.when(pl.col("turnover").sum().over("policy_id") > 0)
        .then(pl.col("turnover") / pl.col("turnover").sum().over("policy_id"))
        .otherwise(1.0 / pl.len().over("policy_id"))
    )
    return (
        priced.join(premium, on="policy_id", how="left", maintain_order="left")
        .with_columns((pl.col("_policy_premium").fill_null(0.0) * share).alias("premium"))
        .drop("_policy_premium", "exposure_el", "exposure_capital")
    )


def _book_figures(run: RunFacts, cfg: PricingConfig) -> dict[str, float]:
    """EL and TVaR (or VaR) of the simulated years' gross loss at the level, with errors."""
    q = cfg.capital.level / 100.0
    m = measures(run.gross, [q], run.weights)
    key = next(iter(m["VaR"]))
    risk = m["TVaR" if cfg.capital.measure == "tvar" else "VaR"][key]
    el = m["EL"]
    return {
        "el": el["value"],
        "el_se": el["se"],
        "risk": risk["value"],
        "risk_se": risk["se"],
        "capital": risk["value"] - el["value"],
        # se of TVaR − EL, the two taken as independent (conservative: they correlate positively)
        "capital_se": math.sqrt(risk["se"] ** 2 + el["se"] ** 2),
    }


def price_book(
    book: Book,
    scenario: Scenario,
    run: RunFacts,
    *,
    resolved: Resolved | None = None,
    target_roc: float | None = None,
    target_combined_ratio: float | None = None,
) -> PricedBook:
    """Price ``book`` on ``run``'s allocation under ``scenario.pricing`` (docs/pricing.md §7).

    Parameters
    ----------
    book : Book
        The book the run simulated.
    scenario : Scenario
        Its ``pricing:`` block sets the loadings, capital, terms, bands, credibility and target;
        ``ratings`` rates buyers given only a PD; ``model.utilization`` fills utilizations.
    run : RunFacts
        The run's allocation and yearly gross losses (:meth:`RunFacts.of_results`,
        :func:`read_run`).
    resolved : Resolved, optional
        The book resolved under the scenario as the run simulated it (a run in memory has it:
        ``results.compiled.resolved``); default: resolved here, with the scenario's stresses.
    target_roc, target_combined_ratio : float, optional
        A target that replaces the scenario's (at most one).

    Returns
    -------
    PricedBook

    Raises
    ------
    BookError
        For pricing inputs out of range (terms, turnovers, ratings, risk grades).
    ScenarioError
        For two targets, or a target out of range.
    """
    cfg = with_targets(scenario, target_roc, target_combined_ratio).pricing
    r = resolved if resolved is not None else _resolve(book, scenario)
    ex = exposure_turnover(
        _exposures(book, r, scenario),
        _declared(book, r),
        default_utilization=scenario.model.utilization,
        default_payment_term_days=float(cfg.payment_term_days),
    )
    policies = _price_policies(ex, book, r, run, cfg)
    priced = _price_exposures(ex, policies, run, cfg)
    ratings = rating_order(scenario.ratings)
    bands = list(cfg.term_bands)
    cells = rate_cells(priced, ratings=ratings, term_bands=bands)
    technical = fit_rate_card(
        cells, credibility_k=cfg.credibility_k, ratings=ratings, term_bands=bands
    )
    figures = _book_figures(run, cfg)
    calibration = None
    card = technical
    if cfg.target_roc is not None or cfg.target_combined_ratio is not None:
        calibration = calibrate(
            technical.premium(),
            figures["el"],
            figures["capital"],
            loadings_of(cfg),
            target_roc=cfg.target_roc,
            target_combined_ratio=cfg.target_combined_ratio,
            el_se=figures["el_se"],
            capital_se=figures["capital_se"],
        )
        card = technical.scaled(calibration.factor)
    rate = card.lookup(
        priced["risk_grade"].to_numpy(),
        priced["rating"].to_numpy(),
        priced["payment_term_days"].to_numpy(),
    )
    priced = priced.with_columns(
        pl.Series("term_band", term_band(priced["payment_term_days"].to_numpy(), bands)),
        pl.Series("card_rate", rate),
        pl.Series("card_premium", rate * priced["turnover"].to_numpy()),
    )
    card_premium = priced.group_by("policy_id").agg(pl.col("card_premium").sum())
    policies = policies.join(card_premium, on="policy_id", how="left", maintain_order="left")
    policies = policies.with_columns(pl.col("card_premium").fill_null(0.0))
    realism = realism_check(card)
    return PricedBook(
        policies=policies,
        exposures=priced,
        card=card,
        technical_card=technical,
        calibration=calibration,
        country_rates=country_rates(priced, card, realism),
        realism=realism,
        book=_totals(figures, policies, cfg),
        config=cfg,
        name=scenario.name,
        currency=scenario.reporting_currency,
        n_sims=run.n_sims,
        book_hash=run.book_hash,
    )


def with_targets(
    scenario: Scenario, target_roc: float | None, target_combined_ratio: float | None
) -> Scenario:
    """``scenario`` with a target replacing its ``pricing`` block's (both None: unchanged).

    Raises
    ------
    ScenarioError
        For two targets or one out of range, naming ``pricing.target_roc`` (or
        ``pricing.target_combined_ratio``) and the command line, as a scenario file's would.
    """
    if target_roc is None and target_combined_ratio is None:
        return scenario
    from ..scenario import parse_scenario

    data = scenario.model_dump(by_alias=True)
    data["pricing"] = {
        **scenario.pricing.model_dump(),
        "target_roc": target_roc,
        "target_combined_ratio": target_combined_ratio,
    }
    return parse_scenario(data, "command line").with_source(scenario.source)


def _resolve(book: Book, scenario: Scenario) -> Resolved:
    from ..portfolio.resolve import resolve
    from ..portfolio.stress import apply_stresses

    r = resolve(book, scenario)
    if scenario.stress:
        r, _ = apply_stresses(r, list(scenario.stress), scenario)
    return r


def _totals(figures: dict[str, float], policies: pl.DataFrame, cfg: PricingConfig) -> dict:
    sums = policies.select(
        pl.col("premium", "technical_premium", "card_premium", "turnover", "el", "capital").sum()
    ).row(0, named=True)
    loads = loadings_of(cfg)
    premium = float(sums["premium"])
    out = {**figures}
    out.update(
        premium=premium,
        technical_premium=float(sums["technical_premium"]),
        card_premium=float(sums["card_premium"]),
        turnover=float(sums["turnover"]),
        policies_el=float(sums["el"]),
        policies_capital=float(sums["capital"]),
        under_priced=float(policies.select((pl.col("adequacy") < 1).mean()).item() or 0.0),
        return_on_capital=(
            return_on_capital(premium, figures["el"], figures["capital"], loads)
            if figures["capital"] > 0
            else math.nan
        ),
        combined_ratio=combined_ratio(premium, figures["el"], loads) if premium > 0 else math.nan,
    )
    return out


def country_rates(exposures: pl.DataFrame, card: RateCard, realism: pl.DataFrame) -> pl.DataFrame:
    """Per country: its grade, turnover and rates at the card's most common rating and term
    band, with the OECD benchmark at that term (country_rates.parquet).

    Returns
    -------
    polars.DataFrame
        ``country``, ``region``, ``risk_grade``, ``n_exposures``, ``turnover``,
        ``overall_technical_rate`` and ``overall_actual_rate`` (all its exposures), ``rating``,
        ``term_band``, ``cell_turnover``, ``technical_rate`` (its exposures of that rating and
        band; null without any), ``fitted_rate`` (the card at its grade, that rating and band),
        ``oecd_horizon_years``, ``oecd_mpr`` (fraction of each receivable; null for grade 0) and
        ``oecd_extrapolated`` (true below the Arrangement's two-year minimum horizon); sorted by
        turnover, largest first.
    """
    rating, band = str(realism["rating"][0]), int(realism["term_band"][0])
    in_cell = (pl.col("rating") == rating) & (pl.col("term_band") == band)
    frame = (
        exposures.group_by("country")
        .agg(
            pl.col("region").first(),
            pl.col("risk_grade").first(),
            pl.len().alias("n_exposures"),
            pl.col("turnover").sum(),
            pl.col("technical_premium").sum().alias("_tp"),
            pl.col("premium").sum().alias("_premium"),
            pl.col("turnover").filter(in_cell).sum().alias("cell_turnover"),
            pl.col("technical_premium").filter(in_cell).sum().alias("_cell_tp"),
        )
        .with_columns(
            _safe_ratio("_tp", "turnover").alias("overall_technical_rate"),
            _safe_ratio("_premium", "turnover").alias("overall_actual_rate"),
            pl.lit(rating).alias("rating"),
            pl.lit(band, dtype=pl.Int64).alias("term_band"),
            _safe_ratio("_cell_tp", "cell_turnover").alias("technical_rate"),
        )
        .drop("_tp", "_premium", "_cell_tp")
        .sort(["turnover", "country"], descending=[True, False])
    )
    grades = frame["risk_grade"].to_numpy()
    fitted = card.lookup(
        grades, np.full(frame.height, rating, dtype=object), np.full(frame.height, band)
    )
    oecd = oecd_benchmark(grades, np.full(frame.height, float(band)))
    return pl.concat(
        [frame.with_columns(pl.Series("fitted_rate", fitted).fill_nan(None)), oecd],
        how="horizontal",
    )


# -- files ----------------------------------------------------------------------------------------
def write_pricing(priced: PricedBook, folder: str | os.PathLike) -> dict[str, Path]:
    """Write pricing.parquet, rate_card.parquet, rate_card.xlsx, rating_factors.parquet and
    country_rates.parquet into ``folder`` (each atomically); return their paths by role."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {k: folder / v for k, v in FILES.items()}
    write_parquet(paths["pricing"], priced.policies)
    write_parquet(paths["rate_card"], priced.card.card)
    write_parquet(paths["factors"], priced.card.factors)
    write_parquet(paths["countries"], priced.country_rates)
    write_rate_card_workbook(paths["workbook"], priced)
    return paths
