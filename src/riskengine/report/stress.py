"""The report's Stress tests section: what each stress of ``riskengine stress`` does to the loss.

Shown when the run was written with its stress tests (``jobs.write_outputs(res, folder,
stress=run)``, as ``riskengine stress`` does): the change in TVaR and EL of each stress against
the base as a tornado chart with ± 2 standard-error bars, a table per perspective (gross, and net
with treaties) of EL, VaR and TVaR with each change and its standard error, and what common
random numbers bought (the standard error of each difference against that of the measure).
Everything shown was gathered by :func:`riskengine.report.data.gather` from the stress table
(:mod:`riskengine.stress.table`); nothing here computes a measure.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from .data import ReportData, StressData, StressView, stress_data
from .format import DASH, esc, fmt_amount, fmt_count, fmt_pct, fmt_se
from .html import figure, note, section, table, value_se
from .plots import CEDED, GROSS, TornadoSeries, tornado_plot

if TYPE_CHECKING:
    from ..stress import StressRun

__all__ = ["IDENT", "TITLE", "stress_section", "stress_body", "tornado"]

IDENT = "stress"
TITLE = "Stress tests"
#: Half-width of the tornado's error bars, in standard errors.
ERROR_BARS = 2.0


def _level(s: StressData) -> str:
    return f"{s.level:g} %"


def _tornado(view: StressView, s: StressData, currency: str) -> str:
    """Δ TVaR and Δ EL of each stress, the largest |Δ TVaR| on top, ± 2 standard errors."""
    rows = view.stresses.with_columns(pl.col("tvar_delta").abs().alias("_size"))
    rows = rows.sort("_size", descending=True, maintain_order=True)
    series = [
        TornadoSeries(
            f"Δ TVaR {_level(s)}",
            rows["tvar_delta"].to_numpy(),
            ERROR_BARS * rows["tvar_delta_se"].to_numpy(),
            GROSS,
        ),
        TornadoSeries(
            "Δ EL", rows["el_delta"].to_numpy(), ERROR_BARS * rows["el_delta_se"].to_numpy(), CEDED
        ),
    ]
    return tornado_plot(
        rows["stress"].to_list(),
        series,
        currency,
        f"stress-tornado-{view.perspective}",
        f"{view.name} loss: change in TVaR {_level(s)} and EL of each stress against the base",
        xlabel=f"Change in the {view.name.lower()} loss against the base",
    )


def _delta_cell(value: float, se: float, change: float, currency: str) -> str:
    """A change with its standard error and its size relative to the base's value."""
    if not math.isfinite(value):
        return DASH
    sign = "+" if value > 0 else ""
    err = fmt_se(se, value if value else se) or "± —"
    rel = (
        f'<span class="se">{"+" if change > 0 else ""}{fmt_pct(change)}</span>'
        if math.isfinite(change)
        else ""
    )
    return (
        f'<span class="v">{sign}{fmt_amount(value, currency)}</span>'
        f'<span class="se">{err}</span>{rel.replace("-", "−")}'
    )


def _name(name: str) -> str:
    """A stress's name, breakable after its underscores (names are identifiers)."""
    return esc(name).replace("_", "_<wbr>")


def _name_cell(r: dict[str, Any]) -> str:
    what = r["description"] or ("the scenario as written" if r["stress"] == "base" else "")
    return f'<span class="v">{_name(r["stress"])}</span><span class="se">{esc(what)}</span>'


def _table(view: StressView, s: StressData, currency: str) -> str:
    rows, cls = [], []
    for i, r in enumerate(view.rows.iter_rows(named=True)):
        cells = [_name_cell(r)]
        for m in ("el", "var", "tvar"):
            cells.append(value_se(r[m], r[f"{m}_se"], currency))
            cells.append(
                ""
                if i == 0
                else _delta_cell(r[f"{m}_delta"], r[f"{m}_delta_se"], r[f"{m}_change"], currency)
            )
        rows.append(cells)
        cls.append("key" if i == 0 else "")
    level = _level(s)
    head = ["Stress", "EL", "Δ EL", f"VaR {level}", "Δ VaR", f"TVaR {level}", "Δ TVaR"]
    return table(head, rows, cls="figures", row_cls=cls)


def _factor(x: float) -> str:
    """A variance reduction factor: ``×37``, ``×2.4``, ``exact`` (no variance left)."""
    if math.isinf(x):
        return "exact"
    if not math.isfinite(x):
        return DASH
    return f"×{x:,.0f}" if x >= 10 else f"×{x:.2g}" if x < 1 else f"×{x:.1f}"


def _crn(view: StressView, s: StressData, currency: str) -> str:
    """Per stress: the standard errors of EL and TVaR against those of their changes."""
    level = _level(s)
    rows = []
    for r in view.stresses.iter_rows(named=True):
        cells = [_name(r["stress"])]
        for m in ("el", "tvar"):
            cells += [
                fmt_amount(r[f"{m}_se"], currency),
                fmt_amount(r[f"{m}_delta_se"], currency),
                _factor(r[f"{m}_vrf"]),
            ]
        rows.append(cells)
    head = ["Stress", "se of EL", "se of Δ EL", "Variance reduction"]
    head += [f"se of TVaR {level}", "se of Δ TVaR", "Variance reduction"]
    vrf = view.stresses["tvar_vrf"].to_numpy()
    finite = vrf[np.isfinite(vrf)]
    median = (
        f" For TVaR {level} the median factor is {_factor(float(np.median(finite)))}."
        if len(finite)
        else ""
    )
    intro = note(
        "Every stressed run drew the base run's years: the same seed, the same systematic and "
        "idiosyncratic random numbers wherever the stress leaves a cell of buyers whole"
        + (", the same importance-sampling mixture and weights" if s.weighted else "")
        + ". Each year's stressed loss is paired with its base loss, so a difference is far "
        "less noisy than either measure: the <em>variance reduction</em> is the variance the "
        "difference of two independent runs would have, se(base)² + se(stressed)², over the "
        "paired difference's se(Δ)² — how many times as many years independent runs would need "
        "for a difference this precise (docs/stress.md)." + median
    )
    return intro + table(head, rows, cls="figures")


def stress_body(s: StressData, currency: str) -> str:
    """The section of gathered stress tests (HTML)."""
    n = s.views[0].stresses.height if s.views else 0
    intro = note(
        f"{fmt_count(n)} stress{'es' if n != 1 else ''}, each simulated on the base run's "
        f"{fmt_count(s.n_sims)} years (common random numbers). Δ is the stressed run's measure "
        "minus the base's, with its standard error: for EL that of the mean yearly difference, "
        f"for VaR and TVaR a paired bootstrap of {fmt_count(s.bootstrap)} resamples of the "
        "years. Stresses and their keys: docs/stress.md."
    )
    parts = [intro]
    if n == 0:
        return section(IDENT, TITLE, intro + note("No stress was run.", "warn"))
    for view in s.views:
        parts.append(f"<h3>{esc(view.name)} loss</h3>")
        parts.append(
            figure(
                _tornado(view, s, currency),
                f"Change of the {esc(view.name.lower())} TVaR {_level(s)} and EL under each "
                f"stress against the base, the largest change in TVaR on top; the bars span "
                f"± {ERROR_BARS:g} standard errors of the change.",
            )
        )
        parts.append(_table(view, s, currency))
    parts.append("<h3>Common random numbers</h3>")
    parts.append(_crn(s.views[0], s, currency))
    for notes in s.notes.values():  # each names its stress
        parts += [note(esc(text), "warn") for text in notes]
    return section(IDENT, TITLE, "".join(parts))


def stress_section(d: ReportData) -> str:
    """The Stress tests section of a gathered run, or nothing without stress tests."""
    if d.stress is None:
        return ""
    return stress_body(d.stress, d.currency)


def tornado(run: StressRun, perspective: str = "gross") -> str:
    """The tornado chart of stress tests ``run`` in one perspective, as the report draws it
    (inline SVG: ``IPython.display.SVG(tornado(run))`` shows it in a notebook).

    Raises
    ------
    ValueError
        When ``run`` has no stress or no such perspective (``gross``, and ``net`` with treaties).
    """
    s = stress_data(run)
    views = {v.perspective: v for v in s.views}
    if perspective not in views or views[perspective].stresses.is_empty():
        raise ValueError(f"no stressed {perspective!r} loss in this run (have: {', '.join(views)})")
    return _tornado(views[perspective], s, run.base.compiled.reporting_currency)
