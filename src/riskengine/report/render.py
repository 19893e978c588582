"""``report.html``: a self-contained page of a run's results.

One HTML file with inline CSS and inline SVG plots: no scripts, fonts, stylesheets or images
from anywhere, so it reads the same offline, attached to an e-mail or archived with the run.
Every string that comes from the user (scenario name and description, book path, ids, sector
names, treaty names and metric keys) is HTML-escaped.

:func:`riskengine.report.data.gather` reads the run once; each section then renders from that
on its own: if one fails, the page shows what went wrong in that section and renders the others.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import OutputError
from ..files import atomic_write_bytes
from . import analytic as _analytic
from . import capital as _capital
from . import limits as _limits
from . import monitoring as _monitoring
from . import pricing as _pricing
from . import stress as _stress
from .assumptions import assumptions
from .data import (
    ReportData,
    comparable,
    gather,
    limits_comparable,
    priced_elsewhere,
    read_run,
    read_simulated_ground_up,
)
from .exposure import TOP_N, book_section, concentration_section, segments
from .format import DASH, esc, fmt_count
from .html import css, wall_time
from .losses import distribution, ep_section, key_figures
from .treaties import reinsurance

if TYPE_CHECKING:
    import polars as pl

    from ..analytic.outputs import AnalyticOutputs
    from ..limits.outputs import LimitsOutputs
    from ..pricing import PricedBook
    from ..results import Results
    from ..stress import StressRun

__all__ = [
    "render_report",
    "render_data",
    "add_to_report",
    "add_pricing_to_report",
    "add_limits_to_report",
    "analytic_in",
    "limits_in",
    "monitoring_in",
    "splice_section",
    "Added",
    "TOP_N",
]

log = logging.getLogger("riskengine")

#: (id, contents entry, title of the error box, renderer) of each section, in page order.
_SECTIONS: list[tuple[str, str, Callable[[ReportData], str]]] = [
    ("key-figures", "Key figures", key_figures),
    ("assumptions", "Model assumptions", assumptions),
    ("ep-curve", "EP curve", ep_section),
    ("distribution", "Loss distribution", distribution),
    (_analytic.IDENT, _analytic.TITLE, _analytic.analytic_section),
    (_monitoring.IDENT, _monitoring.TITLE, _monitoring.monitoring_section),
    ("concentration", "Concentration", concentration_section),
    ("segments", "Countries &amp; sectors", segments),
    (_capital.IDENT, _capital.TITLE, _capital.capital_section),
    ("book", "Book", book_section),
    ("reinsurance", "Reinsurance", reinsurance),
    (_stress.IDENT, _stress.TITLE, _stress.stress_section),
    (_pricing.IDENT, _pricing.TITLE, _pricing.pricing_section),
    (_limits.IDENT, _limits.TITLE, _limits.limits_section),
]


def _hash(value: str | None) -> str:
    return f'<code title="{esc(value)}">{esc(str(value or DASH)[:12])}</code>'


def _header(d: ReportData) -> str:
    r, a = d.run, d.assumptions
    copula = a.copula + (f" (ν = {a.dof:g})" if a.dof is not None else "")
    when = r.finished_at or r.started_at
    when_label = "Run date"
    if not when:
        when, when_label = datetime.now(UTC).isoformat(timespec="seconds"), "Report date"
    executor = r.executor
    if executor and r.workers:
        executor = f"{executor}, {r.workers} workers"
    facts = [
        ("Book", esc(r.book_path or "in-memory book")),
        ("Reporting currency", esc(r.currency)),
        ("Simulations", fmt_count(r.n_sims)),
        ("Seed", esc(r.seed)),
        ("Copula", esc(copula)),
        (when_label, esc(str(when).replace("T", " ").replace("+00:00", " UTC"))),
        ("Wall time", wall_time(r.wall_time_s)),
        ("Executor", esc(executor or DASH)),
        ("riskengine", esc(r.version)),
        ("Scenario hash", _hash(r.scenario_hash)),
        ("Book hash", _hash(r.book_hash)),
    ]
    dl = "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in facts)
    desc = f'<p class="lead">{esc(r.description)}</p>' if r.description else ""
    return (
        '<header class="top"><p class="kicker">riskengine · Monte Carlo portfolio risk report</p>'
        f'<h1>{esc(r.name)}</h1>{desc}<dl class="facts">{dl}</dl></header>'
    )


def _nav(d: ReportData) -> str:
    links = [f'<a href="#{ident}">{label}</a>' for ident, label, _ in _SECTIONS if _shown(ident, d)]
    return f'<nav class="toc">{"".join(links)}</nav>'


def _shown(ident: str, d: ReportData) -> bool:
    """Whether the section ``ident`` is on the page (optional sections need their data)."""
    if ident == "reinsurance":
        return bool(d.treaties)
    if ident == _analytic.IDENT:
        return d.analytic is not None
    if ident == _pricing.IDENT:
        return d.pricing is not None
    if ident == _capital.IDENT:
        return d.capital is not None and bool(d.capital.views)
    if ident == _limits.IDENT:
        return d.limits is not None
    if ident == _monitoring.IDENT:
        return d.monitoring is not None
    if ident == _stress.IDENT:
        return d.stress is not None
    return True


def _footer(d: ReportData) -> str:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    now = now.replace("T", " ").replace("+00:00", " UTC")
    return (
        f"<footer>Generated by riskengine {esc(d.run.version)} on {now}. Amounts in"
        f" {esc(d.currency)} (k = thousand, m = million, bn = billion). VaR is the lower"
        " empirical quantile; TVaR the mean of the worst ⌈(1 − q)·n⌉ simulated years"
        + (
            " (under importance sampling: of the worst years up to weighted mass (1 − q)·n)"
            if d.importance is not None and d.importance.weighted
            else ""
        )
        + "; a return period of T years is the level q = 1 − 1/T.</footer>"
    )


def _safely(ident: str, name: str, fn: Callable[[ReportData], str], d: ReportData) -> str:
    return _guarded(ident, name, lambda: fn(d))


def _guarded(ident: str, name: str, render: Callable[[], str]) -> str:
    """``render()``, or a box saying what went wrong: one failing section never stops the page."""
    try:
        return render()
    except Exception as exc:
        log.warning("report: the %s section could not be rendered", name, exc_info=True)
        return (
            f'<section id="{ident}" class="error"><h2>{name}</h2><p>This section could not be'
            f" rendered: <code>{esc(type(exc).__name__)}: {esc(exc)}</code></p></section>"
        )


def render_data(d: ReportData) -> str:
    """The HTML text of ``report.html`` for a run already gathered (see :func:`render_report`)."""
    body = [
        _header(d),
        _nav(d),
        *[_safely(ident, name, fn, d) for ident, name, fn in _SECTIONS],
        _footer(d),
    ]
    title = f"{d.run.name} · riskengine report"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="riskengine">'
        f"<title>{esc(title)}</title><style>{css()}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )


def render_report(
    results: Results,
    analytic: AnalyticOutputs | None = None,
    pricing: PricedBook | None = None,
    *,
    limits: LimitsOutputs | None = None,
    monitor: pl.DataFrame | None = None,
    stress: StressRun | None = None,
) -> str:
    """The HTML text of ``report.html`` for a run.

    Parameters
    ----------
    results : Results
        The outcome of :func:`riskengine.simulate`.
    analytic : AnalyticOutputs, optional
        CreditRisk+ of the same book (:func:`riskengine.analytic.read_analytic`): the page then
        has a section comparing it with the simulated ground-up loss.
    pricing : PricedBook, optional
        The run priced (:func:`riskengine.pricing.price_book`): the page then has a pricing
        section (premium adequacy, the rate card).
    limits : LimitsOutputs, optional
        Portfolio-wide limits proposed from this run (:func:`riskengine.limits.read_limits`):
        the page then has a Limits section.
    monitor : polars.DataFrame, optional
        ``monitor.parquet`` of ``riskengine monitor`` (:func:`monitoring_in`): with monitoring
        on, the dynamic limit management section then shows the gross effect and the sweep when
        the table compares this run.
    stress : StressRun, optional
        Stress tests whose base run is ``results`` (:func:`riskengine.stress.run_stresses`):
        the page then has a Stress tests section.

    Returns
    -------
    str
        A complete, self-contained HTML5 document (inline CSS and SVG, no scripts).
    """
    return render_data(
        gather(results, analytic, pricing, limits=limits, monitor=monitor, stress=stress)
    )


_SECTION_START = '<section id="{}"'
_NAV = re.compile(r'<nav class="toc">(.*?)</nav>', re.S)


def splice_section(html: str, ident: str, label: str, body: str) -> str:
    """``html`` (a report page) with section ``ident`` replaced by ``body``, or added.

    A new section goes where :func:`render_data` would put it: before the first section that
    follows it in page order (else before the footer), and its contents link likewise.
    """
    start = html.find(_SECTION_START.format(ident))
    if start >= 0:
        end = html.index("</section>", start) + len("</section>")
        return html[:start] + body + html[end:]
    order = [i for i, _, _ in _SECTIONS]
    later = order[order.index(ident) + 1 :] if ident in order else []
    at = next(
        (p for p in (html.find(_SECTION_START.format(i)) for i in later) if p >= 0),
        html.index("<footer"),
    )
    html = html[:at] + body + html[at:]
    nav = _NAV.search(html)
    if nav is None or f'href="#{ident}"' in nav.group(1):
        return html
    links = nav.group(1)
    link = f'<a href="#{ident}">{label}</a>'
    pos = next((links.find(f'href="#{i}"') for i in later if f'href="#{i}"' in links), -1)
    pos = links.rfind("<a ", 0, pos) if pos >= 0 else len(links)
    links = links[:pos] + link + links[pos:]
    return html[: nav.start(1)] + links + html[nav.end(1) :]


@dataclass(frozen=True)
class Added:
    """What :func:`add_to_report` did: ``added`` the section, or not and why (``message``)."""

    added: bool
    message: str


def _add_section(
    folder: str | os.PathLike,
    ident: str,
    title: str,
    what: str,
    read: Callable[[Path], tuple[str | None, Any]],
    body: Callable[[Any], str],
    done: Callable[[Path, Any], str],
) -> Added:
    """Splice section ``ident`` into the ``report.html`` of the finished run in ``folder``.

    ``read(folder)`` gives (why not, the run's data): a reason leaves the page alone and says
    so; else ``body(data)`` is the section and ``done(page, data)`` the message. The page is
    rewritten atomically. Nothing happens without a finished run (``summary.json``); a run
    without a report says so.
    """
    folder = Path(folder)
    page = folder / "report.html"
    if not (folder / "summary.json").exists():
        return Added(False, "")
    if not page.exists():
        return Added(False, f"{folder} holds a {what} without report.html: nothing to add to")
    try:
        why_not, data = read(folder)
    except OutputError as exc:
        why_not, data = exc.problems[0].rule, None
    if why_not is not None:
        return Added(False, f"{page} not changed: {why_not}")
    html = page.read_text(encoding="utf-8")
    section = _guarded(ident, title, lambda: body(data))
    atomic_write_bytes(page, splice_section(html, ident, title, section).encode())
    return Added(True, done(page, data))


def add_to_report(folder: str | os.PathLike, analytic: AnalyticOutputs) -> Added:
    """Show CreditRisk+ in the report of the simulation in ``folder``, if it is of that book.

    The folder's finished run (``summary.json``, ``ylt.parquet``) gives the simulated side; its
    ``report.html`` is rewritten atomically with the comparison section added (or replaced).
    Nothing happens without a finished run or a report; a run of another book (its hash) or
    another reporting currency is left alone and the message says so.
    """

    def read(folder: Path) -> tuple[str | None, Any]:
        sim = read_simulated_ground_up(folder)
        return comparable(sim.book_hash, sim.currency, analytic), sim

    return _add_section(
        folder,
        _analytic.IDENT,
        _analytic.TITLE,
        "simulation",
        read,
        lambda sim: _analytic.comparison(sim, analytic),
        lambda page, sim: f"the CreditRisk+ comparison to {page} (simulation {sim.name!r})",
    )


def add_pricing_to_report(folder: str | os.PathLike, priced: PricedBook) -> Added:
    """Show ``priced`` in the report of the run in ``folder`` (the run it priced).

    The folder's ``report.html`` is rewritten atomically with the pricing section added (or
    replaced). Nothing happens without a finished run or a report; a run of another book (its
    hash in ``summary.json``) is left alone and the message says so.
    """
    import json

    def read(folder: Path) -> tuple[str | None, Any]:
        try:
            run = json.loads((folder / "summary.json").read_text(encoding="utf-8"))["run"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            return f"cannot read summary.json ({exc})", None
        return priced_elsewhere(run.get("book_hash"), priced), None

    return _add_section(
        folder,
        _pricing.IDENT,
        _pricing.TITLE,
        "run",
        read,
        lambda _: _pricing.priced_section(priced),
        lambda page, _: f"the pricing section to {page}",
    )


def analytic_in(folder: str | os.PathLike) -> AnalyticOutputs | None:
    """The CreditRisk+ outputs in ``folder`` for its report (None when absent or unreadable)."""
    from ..analytic.outputs import read_analytic

    try:
        return read_analytic(folder)
    except OutputError as exc:
        log.warning("report: CreditRisk+ outputs left out: %s", exc)
        return None


def add_limits_to_report(folder: str | os.PathLike, limits: LimitsOutputs) -> Added:
    """Show portfolio-wide limits in the report of the run in ``folder``, if of that book.

    ``report.html`` is rewritten atomically with the Limits section added (or replaced). Nothing
    happens without a finished run (``summary.json``); a run without a report, of another book
    (its hash) or in another currency is left alone and the message says so.
    """

    def read(folder: Path) -> tuple[str | None, Any]:
        run = read_run(folder)
        why_not = limits_comparable(run.get("book_hash"), run["reporting_currency"], limits)
        return why_not, run

    return _add_section(
        folder,
        _limits.IDENT,
        _limits.TITLE,
        "run",
        read,
        lambda run: _limits.limits_body(limits, run["reporting_currency"]),
        lambda page, _: f"the Limits section to {page}",
    )


def limits_in(folder: str | os.PathLike) -> LimitsOutputs | None:
    """The limits outputs in ``folder`` for its report (None when absent or unreadable)."""
    from ..limits.outputs import read_limits

    try:
        return read_limits(folder)
    except OutputError as exc:
        log.warning("report: limits outputs left out: %s", exc)


def monitoring_in(folder: str | os.PathLike) -> pl.DataFrame | None:
    """``monitor.parquet`` in ``folder`` for its report (None when absent or unreadable)."""
    import polars as pl

    from ..monitoring import MONITOR_FILE

    path = Path(folder) / MONITOR_FILE
    if not path.exists():
        return None
    try:
        return pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        log.warning("report: %s left out: %s", path, exc)
        return None
