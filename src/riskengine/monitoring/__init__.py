"""Dynamic limit management at portfolio level: what reviewing buyers during the year and
cutting their limits does to the losses, and what its false alarms cost in insured turnover.

The model runs in the kernels (``kernels.monitor``; docs/model.md §10) when a scenario's
``monitoring`` block is enabled. This package compares runs on common random numbers:
:func:`run_monitoring` simulates a scenario with monitoring off and on and at each point of a
sweep of one parameter (:func:`parse_monitor_sweep`), :mod:`.table` gives ``monitor.parquet``
(the effect on EL, VaR and TVaR with paired standard errors, loss avoided, defaults caught,
turnover lost) and :mod:`.plot` the sweep's curve of loss avoided against turnover lost, from
which a credit-limit committee chooses its trigger.
"""

from .runner import MONITOR_FILE, SWEEP_PLOT, MonitorRun, monitoring_scenario, run_monitoring
from .sweep import SWEEPABLE, MonitorSweep, parse_monitor_sweep
from .table import MONITOR_SCHEMA, caught_share, monitor_row, monitor_table

__all__ = [
    "MONITOR_FILE",
    "MONITOR_SCHEMA",
    "SWEEPABLE",
    "SWEEP_PLOT",
    "MonitorRun",
    "MonitorSweep",
    "caught_share",
    "monitor_row",
    "monitor_table",
    "monitoring_scenario",
    "parse_monitor_sweep",
    "run_monitoring",
]
