"""Limits: credit-limit decisions and portfolio-wide limits (docs/limits.md)."""

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

__all__ = [
    "FRONTIER_SCHEMA",
    "SEGMENT_SCHEMA",
    "LimitsError",
    "LimitsProblem",
    "LimitsSolution",
    "efficient_frontier",
    "limits_problem",
    "solve_limits",
]
