"""Stress tests: the base run and named stresses on common random numbers (:mod:`.runner`), and
the differences they make with their standard errors (:mod:`.table`). The transforms themselves
apply to the resolved book (``portfolio.stress``)."""

from .runner import StressRun, run_stresses
from .table import STRESS_SCHEMA, stress_table

__all__ = ["STRESS_SCHEMA", "StressRun", "run_stresses", "stress_table"]
