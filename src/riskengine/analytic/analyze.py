"""CreditRisk+ of a book under a scenario: inputs, distribution, contributions, timings.

:func:`analyze` is what ``riskengine analytic`` runs: it resolves the book under the scenario
(:func:`riskengine.portfolio.resolve.resolve`), builds the per-buyer inputs
(:mod:`.inputs`), computes the loss distribution with the scenario's ``analytic`` block
(:func:`.crplus.credit_risk_plus`) and the CSFB risk contributions by buyer and by country,
region and sector. Files are written by :mod:`.outputs`.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ..book.model import Book
from ..errors import Problem, ScenarioError
from ..measures import CAPITAL_LEVEL, LEVELS
from ..portfolio.resolve import resolve
from ..scenario.models import Scenario
from .crplus import Contributions, CreditRiskPlus, credit_risk_plus
from .inputs import DIMENSIONS, AnalyticInputs, analytic_inputs

__all__ = ["AnalyticRun", "analyze", "top_buyers"]


@dataclass(frozen=True)
class AnalyticRun:
    """CreditRisk+ applied to a book: its inputs, result, contributions and run metadata.

    Attributes
    ----------
    scenario : Scenario
    inputs : AnalyticInputs
    result : CreditRiskPlus
        The distribution and its measures (reporting currency).
    contributions : Contributions
        Per buyer (book order), to SD and to VaR at :data:`CAPITAL_LEVEL` (99.5 %).
    segments : dict of str to Contributions
        The same summed by country, region and sector (``labels`` set).
    meta : dict
        Run metadata: book path and hash, scenario hash, start and end, ``timings`` in seconds
        (``resolve``, ``inputs``, ``distribution``, ``contributions``) and ``wall_time_s``
        (those and hashing the book and scenario).
    """

    scenario: Scenario
    inputs: AnalyticInputs
    result: CreditRiskPlus
    contributions: Contributions
    segments: dict[str, Contributions]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def currency(self) -> str:
        return self.inputs.currency

    @property
    def compute_time_s(self) -> float:
        """Seconds from the resolved book to the contributions (no loading, no hashing)."""
        return float(sum(self.meta["timings"].values()))


def _in_scenario(err: ScenarioError, scenario: Scenario) -> ScenarioError:
    """``err`` (raised by the CreditRisk+ core about an ``analytic.*`` key) naming the file."""
    source = scenario.source
    problems = [Problem(source, p.column, p.rule, label="key", hint=p.hint) for p in err.problems]
    return ScenarioError(problems, source)


def _by(per_buyer: Contributions, inputs: AnalyticInputs, dimension: str) -> Contributions:
    """Contributions summed by ``dimension``, labelled (by integer code: no string sorting)."""
    by_code = per_buyer.by(inputs.codes[dimension])
    return dataclasses.replace(by_code, labels=inputs.names[dimension][by_code.labels])


def analyze(book: Book, scenario: Scenario) -> AnalyticRun:
    """The CreditRisk+ loss distribution of ``book`` under ``scenario``'s ``analytic`` block.

    Parameters
    ----------
    book : Book
    scenario : Scenario

    Returns
    -------
    AnalyticRun

    Raises
    ------
    BookError
        When the book cannot be resolved under the scenario (e.g. a rating missing from the
        scenario's ``ratings``, a currency without an fx rate).
    ScenarioError
        When the ``analytic`` block asks for a loss grid too large (a ``band`` too small).
    """
    t0 = time.perf_counter()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    timings: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        timings[name] = now - since
        return now

    resolved = resolve(book, scenario)
    t = lap("resolve", t0)
    cfg = scenario.analytic
    inputs = analytic_inputs(resolved, cfg)
    t = lap("inputs", t)
    try:
        result = credit_risk_plus(
            inputs.exposure,
            inputs.pd,
            sector=inputs.sector,
            specific_share=cfg.specific_share,
            pd_volatility=cfg.pd_volatility,
            band=cfg.band,
            levels=LEVELS,
            ids=inputs.buyer_ids,
        )
    except ScenarioError as err:
        raise _in_scenario(err, scenario) from None
    t = lap("distribution", t)
    per_buyer = result.contributions(CAPITAL_LEVEL)
    segments = {d: _by(per_buyer, inputs, d) for d in DIMENSIONS}
    lap("contributions", t)
    meta: dict[str, Any] = {
        "book_path": str(book.path) if book.path else None,
        "book_hash": book.content_hash(),
        "scenario_hash": scenario.content_hash(),
        "started_at": started_at,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "timings": timings,
        "wall_time_s": time.perf_counter() - t0,
    }
    return AnalyticRun(scenario, inputs, result, per_buyer, segments, meta)


def top_buyers(run: AnalyticRun, n: int) -> np.ndarray:
    """Indices of the ``n`` buyers with the largest contribution to VaR 99.5 %, largest first."""
    var = run.contributions.var
    n = min(n, len(var))
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    top = np.argpartition(-var, n - 1)[:n]
    return top[np.lexsort((run.inputs.buyer_ids[top].astype(str), -var[top]))]
