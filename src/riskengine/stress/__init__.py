"""Stress tests: the base run and named stresses on common random numbers (:mod:`.runner`), and
the differences they make with their standard errors (:mod:`.table`). The transforms themselves
apply to the resolved book (``portfolio.stress``)."""

from .runner import StressRun, check_stresses, run_stresses
from .table import BASE, STRESS_SCHEMA, stress_table

__all__ = ["BASE", "STRESS_SCHEMA", "StressRun", "check_stresses", "run_stresses", "stress_table"]
