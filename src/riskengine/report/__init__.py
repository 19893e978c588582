"""The run report: ``report.html``, one self-contained page of tables and plots.

``render_report(results)`` returns the HTML text; :meth:`riskengine.results.Results.write`
writes it. :mod:`riskengine.report.data` is the one module that reads a run's results; the
others render what it gathered. matplotlib is imported only when a report is rendered.
"""

from .data import ReportData, gather
from .format import fmt_amount, fmt_pct, fmt_se
from .render import (
    TOP_N,
    Added,
    add_limits_to_report,
    add_pricing_to_report,
    add_to_report,
    analytic_in,
    limits_in,
    monitoring_in,
    render_data,
    render_report,
)

__all__ = [
    "render_report",
    "add_to_report",
    "add_pricing_to_report",
    "add_limits_to_report",
    "analytic_in",
    "limits_in",
    "monitoring_in",
    "Added",
    "render_data",
    "gather",
    "ReportData",
    "fmt_amount",
    "fmt_pct",
    "fmt_se",
    "TOP_N",
]
