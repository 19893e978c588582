"""Limits: credit-limit decisions and portfolio-wide limits (docs/limits.md).

Credit-limit decisions: :mod:`.requests` declares the requests file, :mod:`.decide` prices a
request on a run's tail store and :mod:`.job` loads a run and re-simulates large requests.
Portfolio-wide limits: :mod:`.portfolio` is the linear programme, :mod:`.inputs` reads a run's
segment claims, premiums and exposures, :mod:`.plan` puts them together with the frontier and
today's book, :mod:`.verify` re-simulates proposed limits and :mod:`.outputs` writes and reads
the files of ``riskengine limits``.
"""

from .decide import DECISION_SCHEMA, DecisionContext, Marginal, decision_context, marginal
from .inputs import (
    DIMENSIONS,
    UNGRADED,
    SegmentInputs,
    SegmentMap,
    needed_segments,
    read_segment_inputs,
    resolved_book,
    segment_inputs,
    segment_map,
)
from .job import decide, decide_loaded, load_decisions, resimulate_capital
from .outputs import LimitsOutputs, read_limits, write_limits
from .plan import LIMITS_SCHEMA, LimitsPlan, LimitsSettings, VerifyRound, plan_limits
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
from .verify import VERIFY_ROUNDS, VERIFY_RTOL, limit_stresses, verify_limits

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
    "DIMENSIONS",
    "FRONTIER_SCHEMA",
    "LIMITS_SCHEMA",
    "SEGMENT_SCHEMA",
    "UNGRADED",
    "VERIFY_ROUNDS",
    "VERIFY_RTOL",
    "LimitsError",
    "LimitsOutputs",
    "LimitsPlan",
    "LimitsProblem",
    "LimitsSettings",
    "LimitsSolution",
    "SegmentInputs",
    "SegmentMap",
    "VerifyRound",
    "efficient_frontier",
    "limit_stresses",
    "limits_problem",
    "needed_segments",
    "plan_limits",
    "read_limits",
    "read_segment_inputs",
    "resolved_book",
    "segment_inputs",
    "segment_map",
    "solve_limits",
    "verify_limits",
    "write_limits",
]
