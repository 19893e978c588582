"""The run report: ``report.html``, one self-contained page of tables and plots (DESIGN.md §6).

``render_report(results)`` returns the HTML text; :meth:`riskengine.results.Results.write`
writes it. matplotlib is imported only when a report is rendered.
"""

from .format import fmt_amount, fmt_pct, fmt_se
from .render import TOP_N, render_report

__all__ = ["render_report", "fmt_amount", "fmt_pct", "fmt_se", "TOP_N"]
