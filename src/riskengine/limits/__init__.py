"""Limits: credit-limit decisions and portfolio-wide limits (docs/limits.md)."""

from .decide import DECISION_SCHEMA, DecisionContext, Marginal, decision_context, marginal
from .job import decide, decide_loaded, load_decisions, resimulate_capital
from .portfolio import (
    FRONTIER_SCHEMA,
    SEGMENT_SCHEMA,
    LimitsError,
    LimitsProblem,
    LimitsSolution,
    efficient_frontier,
    limits_problem,
    solve_limits,
)
from .requests import REQUESTS, read_requests

__all__ = [
    "DECISION_SCHEMA",
    "DecisionContext",
    "Marginal",
    "decision_context",
    "marginal",
    "decide",
    "decide_loaded",
    "load_decisions",
    "resimulate_capital",
    "REQUESTS",
    "read_requests",
    "FRONTIER_SCHEMA",
    "SEGMENT_SCHEMA",
    "LimitsError",
    "LimitsProblem",
    "LimitsSolution",
    "efficient_frontier",
    "limits_problem",
    "solve_limits",
]
