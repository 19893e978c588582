"""Portfolio-wide limits of a run: the optimum at the appetite, the frontier, today's book.

:func:`plan_limits` puts the pieces together for one run and one dimension: the segment inputs
(:mod:`.inputs`), the linear programme and its solution at the appetite, the efficient frontier
(:mod:`.portfolio`), and today's book (every scale 1) to compare with. ``riskengine limits``
writes what it returns (:mod:`.outputs`); ``--verify`` re-simulates it (:mod:`.verify`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from ..errors import Problem
from ..measures import Estimate
from .inputs import SegmentInputs
from .portfolio import (
    SEGMENT_SCHEMA,
    LimitsError,
    LimitsProblem,
    LimitsSolution,
    efficient_frontier,
    solve_limits,
)

__all__ = [
    "FRONTIER_POINTS",
    "LIMITS_SCHEMA",
    "LimitsPlan",
    "LimitsSettings",
    "VerifyRound",
    "plan_limits",
]

#: Appetites of the efficient frontier by default.
FRONTIER_POINTS = 21

#: Columns of ``limits.parquet``, one row per segment (amounts in the reporting currency a year;
#: ``current_*`` at today's limits, the others at the proposed ones).
LIMITS_SCHEMA = {
    "dimension": pl.String,
    **SEGMENT_SCHEMA,
    "current_el": pl.Float64,
    "current_premium": pl.Float64,
    "current_profit": pl.Float64,
}


@dataclass(frozen=True)
class LimitsSettings:
    """What the optimisation is asked: the appetite, the economics, the bounds.

    Attributes
    ----------
    appetite : float
        Bound on the gross TVaR at ``level`` (reporting currency).
    expense_share : float
        Expenses plus commission as a share of premium (fraction).
    min_scale, max_scale : float
        Bounds on each segment's scale (``limits.min_scale``, ``limits.max_scale``).
    level : float
        TVaR level in percent (``limits.level``, 99.5).
    """

    appetite: float
    expense_share: float
    min_scale: float = 0.0
    max_scale: float = 1.5
    level: float = 99.5

    def __post_init__(self) -> None:
        a = self.appetite
        if not (isinstance(a, int | float) and math.isfinite(a) and a >= 0):
            rule = f"a risk appetite is an amount ≥ 0 in the reporting currency, got {a!r}"
            raise LimitsError([Problem("limits", "appetite", rule, label="option")])


@dataclass(frozen=True)
class VerifyRound:
    """One re-simulation of proposed limits (``--verify``).

    Attributes
    ----------
    round : int
        1, 2, …
    lp_appetite : float
        The appetite the linear programme was given (lowered by the excess of the round before).
    lp_tvar : float
        TVaR of the proposed limits on the run's years, claims scaled linearly.
    tvar, tvar_se : float
        Gross TVaR of the re-simulated book with the limits applied, ± its standard error.
    lp_el, el, el_se : float
        Expected claims: linear, and re-simulated ± se.
    within : bool
        Whether the re-simulated TVaR is within the appetite.
    """

    round: int
    lp_appetite: float
    lp_tvar: float
    tvar: float
    tvar_se: float
    lp_el: float
    el: float
    el_se: float
    within: bool


@dataclass(frozen=True)
class LimitsPlan:
    """Proposed limits of one run by one dimension, and what they are compared with.

    Attributes
    ----------
    inputs : SegmentInputs
        The run's segment claims and economics.
    problem : LimitsProblem
        The linear programme's inputs.
    settings : LimitsSettings
    solution : LimitsSolution
        The optimum at ``lp_appetite``.
    lp_appetite : float
        The appetite the linear programme was solved at: ``settings.appetite``, lower after a
        ``--verify`` round found the re-simulated TVaR above it.
    frontier : polars.DataFrame
        The efficient frontier (:data:`~riskengine.limits.FRONTIER_SCHEMA`).
    current : Estimate
        Gross TVaR of today's book (every scale 1) on the run's years ± se.
    rounds : tuple of VerifyRound
        The ``--verify`` re-simulations (empty without).
    meta : dict
        Where the run came from (scenario, book hash, years, seed, folder), for ``limits.json``.
    """

    inputs: SegmentInputs
    problem: LimitsProblem
    settings: LimitsSettings
    solution: LimitsSolution
    lp_appetite: float
    frontier: pl.DataFrame
    current: Estimate
    rounds: tuple[VerifyRound, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def currency(self) -> str:
        return self.inputs.currency

    @property
    def current_profit(self) -> float:
        """Expected underwriting profit of today's book, Σ_j P_j (1 − e) − EL_j."""
        return float(self.problem.margin.sum())

    @property
    def verified(self) -> bool | None:
        """Whether the last re-simulation was within the appetite (None: not verified)."""
        return self.rounds[-1].within if self.rounds else None

    def frame(self) -> pl.DataFrame:
        """``limits.parquet``: one row per segment (:data:`LIMITS_SCHEMA`)."""
        p = self.problem
        return (
            self.solution.frame.with_columns(
                pl.col("profit") + 0.0,  # a closed loss-making segment: 0, not −0
                pl.lit(self.inputs.dimension).alias("dimension"),
                pl.Series("current_el", p.el),
                pl.Series("current_premium", p.premium),
                pl.Series("current_profit", p.margin),
            )
            .select(list(LIMITS_SCHEMA))
            .cast(LIMITS_SCHEMA)
        )

    def resolved_at(self, lp_appetite: float) -> LimitsPlan:
        """The plan solved again at another appetite of the linear programme (same frontier)."""
        sol = solve_limits(self.problem, lp_appetite)
        return dataclasses.replace(self, solution=sol, lp_appetite=float(lp_appetite))


def plan_limits(
    inputs: SegmentInputs,
    settings: LimitsSettings,
    *,
    frontier_points: int = FRONTIER_POINTS,
    meta: dict[str, Any] | None = None,
) -> LimitsPlan:
    """Optimal segment limits of a run under an appetite, the efficient frontier and today's book.

    Parameters
    ----------
    inputs : SegmentInputs
        From :func:`~riskengine.limits.segment_inputs` or
        :func:`~riskengine.limits.read_segment_inputs`.
    settings : LimitsSettings
        Appetite, expense share, bounds and level.
    frontier_points : int
        Appetites of the frontier, from the TVaR at the lower bounds to that of every profitable
        segment at its upper bound (at least 2).
    meta : dict, optional
        Where the run came from, kept for ``limits.json``.

    Raises
    ------
    LimitsError
        An appetite below the TVaR of the book with every segment at ``min_scale`` (nothing meets
        it), or inputs that break a rule of :func:`~riskengine.limits.limits_problem`.
    """
    problem = inputs.problem(
        expense_share=settings.expense_share,
        lower=settings.min_scale,
        upper=settings.max_scale,
        level=settings.level / 100.0,
    )
    solution = solve_limits(problem, settings.appetite)
    frontier = efficient_frontier(problem, points=max(int(frontier_points), 2))
    return LimitsPlan(
        inputs=inputs,
        problem=problem,
        settings=settings,
        solution=solution,
        lp_appetite=float(settings.appetite),
        frontier=frontier,
        current=problem.tvar(np.ones(problem.m)),
        meta=dict(meta or {}),
    )
