"""``report.html``: a self-contained page of a run's results (DESIGN.md §6).

One HTML file with inline CSS and inline SVG plots: no scripts, fonts, stylesheets or images
from anywhere, so it reads the same offline, attached to an e-mail or archived with the run.
Every string that comes from the user (scenario name and description, book path, ids, sector
names, treaty names and metric keys) is HTML-escaped.

Each section is rendered on its own: if one fails (for instance the treaty metrics, which
:meth:`Results.summary` computes only when the reinsurance module provides them), the page
shows what went wrong in that section and renders the others.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import __version__
from .format import DASH, esc, fmt_amount, fmt_count, fmt_number, fmt_pct, fmt_se
from .plots import (
    CEDED,
    GROSS,
    NET,
    OEP,
    TVAR,
    EPCurve,
    bar_plot,
    ep_plot,
    ep_points,
    histogram_plot,
    return_period_grid,
)

if TYPE_CHECKING:
    from ..results import Results

__all__ = ["render_report", "TOP_N"]

log = logging.getLogger("riskengine")

#: Rows of the top-countries and top-sectors tables (and bars of the country chart).
TOP_N = 15


# ---------------------------------------------------------------------------------------------
# What the sections read, gathered once
# ---------------------------------------------------------------------------------------------
@dataclasses.dataclass
class _Run:
    results: Results
    currency: str
    n: int
    summary: dict[str, Any]
    measures: dict[str, dict[str, Any]]
    treaty_error: str | None
    sorted: dict[str, np.ndarray]

    @property
    def treaties(self) -> list[str]:
        return self.results.treaty_names

    def xs(self, column: str) -> np.ndarray:
        """Ascending-sorted values of a YLT column (cached)."""
        if column not in self.sorted:
            self.sorted[column] = np.sort(
                self.results.ylt[column].to_numpy().astype(np.float64, copy=False)
            )
        return self.sorted[column]

    def money(self, x: Any) -> str:
        return fmt_amount(x, self.currency)


def _gather(results: Results) -> _Run:
    treaty_error = None
    try:
        summary = results.summary()
    except Exception as exc:
        if not results.treaty_names:
            raise
        # Treaty metrics failed: summarise the rest without them, and say so on the page.
        treaty_error = f"{type(exc).__name__}: {exc}"
        log.warning("report: treaty metrics unavailable (%s)", treaty_error)
        bare = dataclasses.replace(
            results, compiled=dataclasses.replace(results.compiled, treaty_names=[])
        )
        summary = bare.summary()
    measures = dict(summary.get("measures") or {})
    for p in results.perspectives():
        if p not in measures:
            measures[p] = results.measures(p)
    return _Run(
        results,
        results.compiled.reporting_currency,
        results.n_sims,
        summary,
        measures,
        treaty_error,
        {},
    )


# ---------------------------------------------------------------------------------------------
# HTML helpers
# ---------------------------------------------------------------------------------------------
def _table(
    head: list[str],
    rows: list[list[str]],
    *,
    cls: str = "",
    numeric_from: int = 1,
    row_cls: list[str] | None = None,
) -> str:
    """A table; cells are HTML already. Columns from ``numeric_from`` on are right-aligned."""

    def cells(tag: str, values: list[str]) -> str:
        num = ' class="num"'
        return "".join(
            f"<{tag}{num if i >= numeric_from else ''}>{v}</{tag}>" for i, v in enumerate(values)
        )

    body = []
    for i, r in enumerate(rows):
        rc = row_cls[i] if row_cls and row_cls[i] else ""
        attr = f' class="{rc}"' if rc else ""
        body.append(f"<tr{attr}>{cells('td', r)}</tr>")
    return (
        f'<div class="table-wrap"><table class="{cls}"><thead><tr>{cells("th", head)}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{caption}</figcaption></figure>"


def _value_se(value: Any, se: Any, currency: str) -> str:
    s = fmt_se(se, value)
    se_html = f'<span class="se">{s}</span>' if s else ""
    return f'<span class="v">{fmt_amount(value, currency)}</span>{se_html}'


def _wall(seconds: Any) -> str:
    if not isinstance(seconds, int | float) or not math.isfinite(seconds):
        return DASH
    if seconds < 60:
        return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"
    m, s = divmod(round(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min {s:02d} s" if h else f"{m} min {s:02d} s"


def _z(z: Any) -> str:
    return (
        f"{z:+.2f}".replace("-", "\u2212")
        if isinstance(z, int | float) and math.isfinite(z)
        else DASH
    )


def _country_name(code: str) -> str:
    import pycountry

    from ..book.schema import ISO_COUNTRY_ALLOW_LIST

    try:
        c = pycountry.countries.get(alpha_2=code)
    except (KeyError, LookupError):
        c = None
    if c is None:
        return ISO_COUNTRY_ALLOW_LIST.get(code, "")
    return str(getattr(c, "common_name", None) or c.name)


# ---------------------------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------------------------
def _header(run: _Run) -> str:
    r = run.results
    sc, meta = r.scenario, r.meta
    copula = sc.model.copula + (
        f" (ν = {sc.model.dof:g})" if sc.model.copula == "student_t" else ""
    )
    when = meta.get("finished_at") or meta.get("started_at")
    when_label = "Run date"
    if not when:
        when, when_label = datetime.now(UTC).isoformat(timespec="seconds"), "Report date"
    executor = meta.get("executor")
    if executor and meta.get("workers"):
        executor = f"{executor}, {meta['workers']} workers"
    facts = [
        ("Book", esc(meta.get("book_path") or "in-memory book")),
        ("Reporting currency", esc(run.currency)),
        ("Simulations", fmt_count(run.n)),
        ("Seed", esc(sc.simulation.seed)),
        ("Copula", esc(copula)),
        (when_label, esc(str(when).replace("T", " ").replace("+00:00", " UTC"))),
        ("Wall time", _wall(meta.get("wall_time_s"))),
        ("Executor", esc(executor or DASH)),
        ("riskengine", esc(run.summary.get("riskengine_version") or __version__)),
        (
            "Scenario hash",
            f'<code title="{esc(meta.get("scenario_hash"))}">{esc(str(meta.get("scenario_hash") or DASH)[:12])}</code>',
        ),
        (
            "Book hash",
            f'<code title="{esc(meta.get("book_hash"))}">{esc(str(meta.get("book_hash") or DASH)[:12])}</code>',
        ),
    ]
    dl = "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in facts)
    desc = f'<p class="lead">{esc(sc.description)}</p>' if sc.description else ""
    return (
        '<header class="top"><p class="kicker">riskengine · Monte Carlo portfolio risk report</p>'
        f'<h1>{esc(sc.name)}</h1>{desc}<dl class="facts">{dl}</dl></header>'
    )


def _nav(run: _Run) -> str:
    items = [
        ("key-figures", "Key figures"),
        ("ep-curve", "EP curve"),
        ("distribution", "Loss distribution"),
        ("segments", "Countries &amp; sectors"),
        ("book", "Book"),
    ]
    if run.treaties:
        items.append(("reinsurance", "Reinsurance"))
    return '<nav class="toc">' + "".join(f'<a href="#{a}">{t}</a>' for a, t in items) + "</nav>"


def _key_figures(run: _Run) -> str:
    persp = [("gross", "Gross"), ("net", "Net")]
    ms = {p: run.measures[p] for p, _ in persp}
    g = ms["gross"]
    rows: list[list[str]] = []
    row_cls: list[str] = []

    def add(label: str, cls: str, get: Callable[[dict[str, Any]], tuple[Any, Any]]) -> None:
        rows.append([label, *[_value_se(*get(ms[p]), run.currency) for p, _ in persp]])
        row_cls.append(cls)

    add("Expected loss (EL)", "key", lambda m: (m["EL"]["value"], m["EL"]["se"]))
    add("Standard deviation", "", lambda m: (m["SD"]["value"], m["SD"]["se"]))
    for kind, label in (("VaR", "VaR"), ("TVaR", "TVaR")):
        for lvl in g[kind]:
            add(
                f"{label} {lvl} %",
                "key" if lvl == "99.5" else "",
                lambda m, k=kind, q=lvl: (m[k][q]["value"], m[k][q]["se"]),
            )
    rows.append(
        [
            "Capital (VaR 99.5 % − EL)",
            *[f'<span class="v">{run.money(ms[p]["capital"])}</span>' for p, _ in persp],
        ]
    )
    row_cls.append("key total")
    premium = run.results.compiled.book_premium
    if premium and premium > 0:
        rows.append(
            ["EL / book premium", *[fmt_pct(ms[p]["EL"]["value"] / premium) for p, _ in persp]]
        )
        row_cls.append("")
    note = (
        "No reinsurance treaties in this scenario: net equals gross."
        if not run.treaties
        else f"Net of {len(run.treaties)} treaties ({esc(', '.join(run.treaties))}), applied in programme order."
    )
    if run.treaties and "relief" in run.summary.get("capital", {}):
        note += f" Capital relief from reinsurance: <strong>{run.money(run.summary['capital']['relief'])}</strong>."
    return (
        '<section id="key-figures"><h2>Key figures</h2>'
        f"{_table(['Measure', 'Gross', 'Net'], rows, cls='figures', row_cls=row_cls)}"
        f'<p class="note">{note} ± is one Monte Carlo standard error over {fmt_count(run.n)} simulated years. '
        "VaR<sub>q</sub> is the loss not exceeded in a share q of years; TVaR<sub>q</sub> the average loss in the "
        "worst 1 − q of years; capital is the 1-in-200 unexpected loss (Solvency II).</p></section>"
    )


def _ep_section(run: _Run) -> str:
    n = run.n
    rps = return_period_grid(n)
    gross = run.xs("gross")
    curves = [EPCurve("AEP gross", rps, ep_points(gross, rps), GROSS, width=2.4)]
    if run.treaties:
        curves.append(EPCurve("AEP net", rps, ep_points(run.xs("net"), rps), NET, width=2.2))
    curves.append(
        EPCurve(
            "OEP gross", rps, ep_points(run.xs("max_occurrence"), rps), OEP, style="--", width=1.8
        )
    )
    curves.append(
        EPCurve("TVaR-AEP gross", rps, ep_points(gross, rps, "TVaR"), TVAR, style=":", width=2.0)
    )
    v995 = run.measures["gross"]["VaR"].get("99.5", {}).get("value", math.nan)
    svg = ep_plot(
        curves,
        run.currency,
        "ep",
        "Exceedance probability curves",
        n_sims=n,
        mark=(200.0, v995, "1-in-200 (VaR 99.5 %)"),
    )
    caption = (
        "<strong>AEP</strong>: annual aggregate loss exceeded once every T years (probability 1/T a year). "
        "<strong>OEP</strong>: the year's largest single occurrence (one buyer's claims, or one country's political event) "
        "exceeded once every T years. <strong>TVaR-AEP</strong>: average annual loss in the years beyond the T-year loss. "
        f"Return periods run from 1 to {fmt_count(n)} years, the number of simulated years"
        + (
            "; the circle marks the 1-in-200 loss."
            if n >= 200
            else "; too few years to show the 1-in-200 loss."
        )
    )
    # Table at the scenario's return periods, from Results.ep_curve() (the numbers of ept.parquet).
    table = ""
    ep = run.results.ep_curve()
    cols = [
        ("gross", "AEP", "AEP gross"),
        ("gross", "OEP", "OEP gross"),
        ("gross", "TVaR_AEP", "TVaR-AEP gross"),
    ]
    if run.treaties:
        cols.append(("net", "AEP", "AEP net"))
    values: dict[tuple[str, str], dict[float, float]] = {}
    for p, t, _ in cols:
        sub = ep.filter((ep["perspective"] == p) & (ep["ep_type"] == t))
        values[(p, t)] = dict(
            zip(sub["return_period"].to_list(), sub["loss"].to_list(), strict=True)
        )
    rp_list = sorted({rp for d in values.values() for rp in d})
    rows, row_cls = [], []
    for rp in rp_list:
        rows.append(
            [
                f"{rp:,.6g}",
                fmt_pct(1 / rp),
                *[run.money(values[(p, t)].get(rp)) for p, t, _ in cols],
            ]
        )
        row_cls.append("beyond" if rp > n else ("key" if rp == 200 else ""))
    if rows:
        table = _table(
            ["Return period (years)", "Annual probability", *[c[2] for c in cols]],
            rows,
            cls="ep",
            row_cls=row_cls,
        )
        if any(rp > n for rp in rp_list):
            table += '<p class="note">Greyed rows lie beyond the number of simulated years: the value is the largest simulated loss, not an estimate.</p>'
    return f'<section id="ep-curve"><h2>Exceedance probability (EP) curve</h2>{_figure(svg, caption)}{table}</section>'


def _distribution(run: _Run) -> str:
    g = run.measures["gross"]
    x = run.results.ylt["gross"].to_numpy()
    lines = [
        ("EL", g["EL"]["value"], "#1f2933", "-"),
        ("VaR 99.5 %", g["VaR"].get("99.5", {}).get("value", math.nan), "#d55e00", "--"),
        ("TVaR 99.5 %", g["TVaR"].get("99.5", {}).get("value", math.nan), "#7b3294", ":"),
    ]
    svg = histogram_plot(x, lines, run.currency, "hist", "Histogram of the annual gross loss")
    p0 = float(np.mean(x <= 0)) if len(x) else math.nan
    caption = (
        f"How often each annual gross loss occurred in the {fmt_count(run.n)} simulated years; counts on a log scale "
        f"so the tail stays visible. The largest simulated year lost {run.money(float(x.max()) if len(x) else math.nan)}; "
        f"years with no gross loss: {fmt_pct(p0)}. Vertical lines: expected loss, and the 1-in-200 VaR and TVaR."
    )
    stats = [
        ["Gross: commercial", run.money(float(run.results.ylt["commercial"].mean() or 0.0))],
        ["Gross: political", run.money(float(run.results.ylt["political"].mean() or 0.0))],
        [
            "Defaulted buyers a year (mean)",
            fmt_number(float(run.results.ylt["n_defaults"].mean() or 0.0)),
        ],
        [
            "Political events a year (mean)",
            fmt_number(float(run.results.ylt["n_political_events"].mean() or 0.0)),
        ],
    ]
    return (
        f'<section id="distribution"><h2>Annual loss distribution</h2>{_figure(svg, caption)}'
        f"<h3>Expected loss by cause</h3>{_table(['', 'Expected a year'], stats, cls='compact')}</section>"
    )


def _segment_table(run: _Run, dim: str, df: Any, total: float) -> str:
    k = min(TOP_N, df.height)
    top = df.head(k)
    rows, row_cls = [], []
    country = dim == "country"
    regions: dict[str, str] = {}
    if country:
        cp = run.results.compiled
        regions = dict(
            zip(
                cp.country_codes.astype(str),
                cp.region_names[cp.kernel.country_region].astype(str),
                strict=True,
            )
        )

    def share(x: float) -> str:
        return fmt_pct(x / total if total > 0 else math.nan)

    for i, (seg, el) in enumerate(
        zip(top["segment"].to_list(), top["el"].to_list(), strict=True), start=1
    ):
        if country:
            name = _country_name(seg)
            label = f"<b>{esc(seg)}</b> {esc(name)}" if name else f"<b>{esc(seg)}</b>"
            rows.append([str(i), label, esc(regions.get(seg, "")), run.money(el), share(el)])
        else:
            rows.append([str(i), esc(seg), run.money(el), share(el)])
        row_cls.append("")
    pad = [""] if country else []  # the region column
    if df.height > k:
        rel = float(df.tail(df.height - k)["el"].sum())
        rows.append(["", f"Other ({fmt_count(df.height - k)})", *pad, run.money(rel), share(rel)])
        row_cls.append("muted")
    rows.append(["", "Total", *pad, run.money(total), share(total)])
    row_cls.append("total")
    head = (
        ["#", "Country", "Region", "Expected loss", "Share"]
        if country
        else ["#", "Sector", "Expected loss", "Share"]
    )
    return _table(head, rows, cls="segments", numeric_from=3 if country else 2, row_cls=row_cls)


def _segments(run: _Run) -> str:
    r = run.results
    c = r.segment_el("country")
    s = r.segment_el("sector")
    total_c = float(c["el"].sum()) if c.height else 0.0
    total_s = float(s["el"].sum()) if s.height else 0.0
    gross_el = run.measures["gross"]["EL"]["value"]
    if total_c <= 0 and gross_el > 0:
        return (
            '<section id="segments"><h2>Top countries and sectors</h2><p class="note">Losses by segment were not '
            "recorded in this run (set <code>outputs.segments</code> or <code>outputs.report</code> in the scenario).</p></section>"
        )
    top = c.head(TOP_N)
    top = top.filter(top["el"] > 0)
    chart = ""
    if top.height:
        labels = []
        for code in top["segment"].to_list():
            name = _country_name(code)
            if len(name) > 24:
                name = name[:23] + "…"
            labels.append(f"{code}  {name}".replace("$", r"\$").strip())
        vals = top["el"].to_list()
        svg = bar_plot(
            labels,
            vals,
            [v / total_c for v in vals],
            run.currency,
            "countries",
            f"Top {top.height} countries by expected loss",
        )
        chart = _figure(
            svg,
            f"Expected annual gross loss of the {top.height} countries with the largest expected loss, "
            "with each country's share of the portfolio's expected gross loss.",
        )
    return (
        '<section id="segments"><h2>Top countries and sectors by expected loss</h2>'
        f"{chart}"
        '<div class="grid2">'
        f"<div><h3>Countries</h3>{_segment_table(run, 'country', c, total_c)}</div>"
        f"<div><h3>Sectors</h3>{_segment_table(run, 'sector', s, total_s)}</div>"
        "</div>"
        '<p class="note">Expected gross claim (after policy terms, before reinsurance) per simulated year, '
        "and its share of the portfolio's expected gross loss.</p></section>"
    )


def _book(run: _Run) -> str:
    # book totals and the self-check as Results.summary() computes them (the numbers of summary.json)
    b = run.summary["book"]
    rows = [
        ["Buyers", fmt_count(b["buyers"])],
        ["Exposures", fmt_count(b["exposures"])],
        ["Policies", fmt_count(b["policies"])],
        ["Countries", fmt_count(b["countries"])],
        ["Sectors", fmt_count(len(run.results.compiled.sector_codes))],
        ["Total exposure at default (EAD)", run.money(b["total_ead"])],
        ["Annual premium", run.money(b["premium"])],
    ]
    el = run.measures["gross"]["EL"]["value"]
    ead = b["total_ead"] or 0.0
    if ead > 0:
        rows.append(["Expected gross loss / EAD", fmt_pct(el / ead)])
    gu = run.summary["checks"]["expected_ground_up"]
    badge = (
        '<span class="badge ok">OK</span>' if gu["ok"] else '<span class="badge bad">CHECK</span>'
    )
    check_rows = [
        ["Expected ground-up loss (exact, from the book)", run.money(gu["exact"])],
        ["Simulated ground-up loss (mean)", _value_se(gu["simulated"], gu["se"], run.currency)],
        ["Difference in standard errors (z)", f"{_z(gu['z'])} {badge}"],
    ]
    check_html = (
        "<h3>Self-check</h3>"
        + _table(["", ""], check_rows, cls="kv")
        + '<p class="note">The simulated mean ground-up loss (before policy terms) should lie within about 4 standard errors '
        "of the closed-form expectation Σ EAD × PD × LGD (with political events); a larger gap points at the model or the inputs.</p>"
    )
    return (
        f'<section id="book"><h2>Book</h2>{_table(["", ""], rows, cls="kv")}{check_html}</section>'
    )


_TREATY_LABELS: dict[str, tuple[str, str]] = {
    # key: (label, kind) with kind amount | pct | number | text
    "type": ("Type", "text"),
    "expected_ceded": ("Expected ceded loss", "amount"),
    "sd": ("Standard deviation of ceded loss", "amount"),
    "prob_attach": ("Probability of attachment", "pct"),
    "prob_exhaust": ("Probability of exhaustion", "pct"),
    "expected_reinstatement_premium": ("Expected reinstatement premium", "amount"),
    "share_of_gross_el": ("Share of gross EL", "pct"),
}
_PCT_HINTS = ("prob", "share", "ratio", "rate", "pct", "percent", "frequency")
_AMOUNT_HINTS = (
    "ceded",
    "premium",
    "loss",
    "el",
    "sd",
    "var",
    "tvar",
    "capital",
    "retention",
    "limit",
    "attachment",
    "amount",
    "relief",
    "cost",
    "margin",
    "commission",
)


def _metric_kind(key: str) -> str:
    k = key.lower()
    words = k.replace("-", "_").split("_")
    if any(h in k for h in _PCT_HINTS):
        return "pct"
    if any(h in words or k.startswith(h) for h in _AMOUNT_HINTS):
        return "amount"
    return "number"


def _metric_cell(value: Any, kind: str, currency: str) -> str:
    if isinstance(value, Mapping):
        if "value" in value:
            v = value["value"]
            if kind == "pct":
                se = value.get("se")
                return fmt_pct(v) + (
                    f'<span class="se">± {fmt_pct(se)}</span>'
                    if isinstance(se, int | float)
                    else ""
                )
            if kind == "amount":
                return _value_se(v, value.get("se"), currency)
            return fmt_number(v)
        return "<br>".join(
            f"{esc(k)}: {_metric_cell(v, _metric_kind(str(k)), currency)}" for k, v in value.items()
        )
    if isinstance(value, list | tuple):
        return ", ".join(_metric_cell(v, kind, currency) for v in value)
    if value is None:
        return DASH
    if isinstance(value, str):
        return esc(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool):
        return fmt_number(value)
    if not isinstance(value, int | float):
        return esc(value)
    if kind == "pct":
        return fmt_pct(value)
    if kind == "amount":
        return fmt_amount(value, currency)
    return fmt_number(value)


def _treaty_metrics_table(run: _Run) -> str:
    raw = run.summary.get("treaties")
    if isinstance(raw, list | tuple):
        raw = {
            str(t.get("name", i)) if isinstance(t, Mapping) else str(i): t
            for i, t in enumerate(raw)
        }
    note = ""
    if not isinstance(raw, Mapping) or not raw:
        # Fallback from the YLT's ceded columns, so the page still says what each treaty does.
        why = esc(run.treaty_error) if run.treaty_error else "the summary has no treaty metrics"
        note = f'<p class="note warn">Treaty metrics unavailable ({why}); the figures below come from the year loss table.</p>'
        gross_el = run.measures["gross"]["EL"]["value"]
        raw = {}
        for t in run.treaties:
            x = run.results.ylt[f"ceded_{t}"].to_numpy()
            m = run.measures.get(f"ceded_{t}") or run.results.measures(f"ceded_{t}")
            raw[t] = {
                "expected_ceded": m["EL"],
                "sd": m["SD"]["value"],
                "prob_attach": float(np.mean(x > 0)) if len(x) else math.nan,
                "share_of_gross_el": m["EL"]["value"] / gross_el if gross_el > 0 else math.nan,
            }
    names = list(raw)
    keys: list[str] = []
    for t in names:
        v = raw[t]
        items = v.keys() if isinstance(v, Mapping) else ["value"]
        keys.extend(k for k in items if k not in keys and k != "name")
    merged = {k for k in keys if k.endswith("_se") and k[:-3] in keys}
    rows = []
    for k in keys:
        if k in merged:
            continue
        label, kind = _TREATY_LABELS.get(k, (k.replace("_", " ").capitalize(), _metric_kind(k)))
        cells = []
        for t in names:
            v = raw[t]
            value = v.get(k) if isinstance(v, Mapping) else v
            if f"{k}_se" in merged and isinstance(v, Mapping) and not isinstance(value, Mapping):
                value = {"value": value, "se": v.get(f"{k}_se")}
            if k == "type" and isinstance(value, str):
                value = value.replace("_", " ")
            cells.append(_metric_cell(value, kind, run.currency))
        rows.append([esc(label), *cells])
    return note + _table(["Metric", *[esc(t) for t in names]], rows, cls="treaties")


def _programme_table(run: _Run) -> str:
    rows = []
    for t in run.results.scenario.treaties:
        d = t.model_dump(exclude_none=True)
        terms = []
        for k, v in d.items():
            if k in ("name", "type", "scope"):
                continue
            kind = (
                "pct"
                if k
                in ("share", "ceding_commission", "reinstatement_rate", "attachment_lr", "limit_lr")
                else _metric_kind(k)
            )
            if k == "reinstatements":
                kind = "number"
            if k in ("premium", "ceding_commission", "reinstatement_rate") and not v:
                continue
            label = {
                "attachment_lr": "attachment (loss ratio)",
                "limit_lr": "limit (loss ratio)",
            }.get(k, k.replace("_", " "))
            terms.append(f"{esc(label)} {_metric_cell(v, kind, run.currency)}")
        scope = d.get("scope")
        if scope:
            terms.append("scope " + esc(", ".join(f"{k}: {v}" for k, v in scope.items())))
        rows.append([f"<b>{esc(t.name)}</b>", esc(t.type.replace("_", " ")), "; ".join(terms)])
    return _table(["Treaty", "Type", "Terms"], rows, cls="programme", numeric_from=99)


def _reinsurance(run: _Run) -> str:
    if not run.treaties:
        return ""
    n = run.n
    rps = return_period_grid(n)
    ylt = run.results.ylt
    ceded_total = np.sort((ylt["gross"] - ylt["net"]).to_numpy())
    curves = [
        EPCurve("Gross", rps, ep_points(run.xs("gross"), rps), GROSS, width=2.4),
        EPCurve("Ceded (all treaties)", rps, ep_points(ceded_total, rps), CEDED, width=2.2),
        EPCurve("Net", rps, ep_points(run.xs("net"), rps), NET, width=2.4),
    ]
    palette = ["#cc79a7", "#56b4e9", "#999933", "#882255", "#44aa99", "#332288"]
    if 1 < len(run.treaties) <= len(palette):
        for t, col in zip(run.treaties, palette, strict=False):
            curves.append(
                EPCurve(
                    f"Ceded: {t}",
                    rps,
                    ep_points(run.xs(f"ceded_{t}"), rps),
                    col,
                    style="--",
                    width=1.4,
                )
            )
    svg = ep_plot(curves, run.currency, "ri-ep", "Gross, ceded and net AEP curves", n_sims=n)
    caption = (
        "Annual aggregate loss exceeded once every T years, before reinsurance (gross), recovered from the treaties "
        "(ceded) and retained (net). Each curve is the quantile of its own distribution, so at a given return period "
        "ceded and net need not add up to gross."
    )
    relief = run.summary.get("capital", {}).get("relief")
    if relief is None:
        relief = run.measures["gross"]["capital"] - run.measures["net"]["capital"]
    return (
        '<section id="reinsurance"><h2>Reinsurance</h2>'
        f"<h3>Programme</h3>{_programme_table(run)}"
        f"<h3>Treaty metrics</h3>{_treaty_metrics_table(run)}"
        f'<p class="note">Capital relief (gross capital − net capital at VaR 99.5 %): <strong>{run.money(relief)}</strong>.</p>'
        f"{_figure(svg, caption)}</section>"
    )


def _footer(run: _Run) -> str:
    now = (
        datetime.now(UTC).isoformat(timespec="seconds").replace("T", " ").replace("+00:00", " UTC")
    )
    return (
        f"<footer>Generated by riskengine {esc(__version__)} on {now}. Amounts in {esc(run.currency)} "
        "(k = thousand, m = million, bn = billion). VaR is the lower empirical quantile; TVaR the mean of the worst "
        "⌈(1 − q)·n⌉ simulated years; a return period of T years is the level q = 1 − 1/T.</footer>"
    )


def _safely(name: str, fn: Callable[[_Run], str], run: _Run) -> str:
    try:
        return fn(run)
    except Exception as exc:
        log.warning("report: the %s section could not be rendered", name, exc_info=True)
        return (
            f'<section class="error"><h2>{esc(name)}</h2><p>This section could not be rendered: '
            f"<code>{esc(type(exc).__name__)}: {esc(exc)}</code></p></section>"
        )


# ---------------------------------------------------------------------------------------------
CSS = """
:root{--ink:#1f2933;--muted:#5f6b7a;--line:#e3e7ec;--soft:#f5f7fa;--accent:#0b4f8a;--ok:#1a7f4b;--bad:#b42318}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:#eef1f5;color:var(--ink);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans","Liberation Sans",sans-serif}
main{max-width:1100px;margin:0 auto;padding:24px 32px 40px;background:#fff;min-height:100vh}
h1{font-size:28px;line-height:1.2;margin:4px 0 8px;word-break:break-word}
h2{font-size:20px;margin:0 0 14px;padding-top:8px;color:var(--accent)}
h3{font-size:15px;margin:22px 0 8px;color:var(--ink)}
section{padding:20px 0 8px;border-top:1px solid var(--line)}
.kicker{margin:0;color:var(--muted);font-size:13px;letter-spacing:.04em;text-transform:uppercase}
.lead{color:var(--muted);margin:0 0 10px}
.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:8px 20px;margin:16px 0 8px}
.facts div{background:var(--soft);border-radius:6px;padding:8px 12px}
.facts dt{font-size:12px;color:var(--muted)}
.facts dd{margin:0;font-weight:600;overflow-wrap:anywhere}
nav.toc{display:flex;flex-wrap:wrap;gap:6px 18px;margin:12px 0 8px;font-size:14px}
nav.toc a{color:var(--accent);text-decoration:none;border-bottom:1px solid transparent}
nav.toc a:hover{border-bottom-color:var(--accent)}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:14px;font-variant-numeric:tabular-nums}
th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-size:13px;color:var(--muted);font-weight:600;border-bottom:2px solid #cfd6de;white-space:nowrap}
.num{text-align:right;white-space:nowrap}
tr.key td{background:#f1f6fc}
tr.total td{font-weight:700;border-top:2px solid #cfd6de}
tr.muted td,tr.beyond td{color:var(--muted)}
table.figures td .v{font-weight:600}
td .se{display:block;font-size:12px;color:var(--muted);font-weight:400}
table.kv{max-width:640px}
table.kv thead{display:none}
table.compact{max-width:520px}
table.compact thead th:first-child{visibility:hidden}
figure{margin:8px 0 18px}
svg.plot{display:block;width:100%;height:auto}
figcaption{color:var(--muted);font-size:13px;margin-top:4px;max-width:900px}
.note{color:var(--muted);font-size:13px}
.note.warn{color:#8a4b00;background:#fff6e5;border-left:3px solid #e69f00;padding:6px 10px}
.grid2{display:grid;grid-template-columns:1.3fr 1fr;gap:28px}
.grid2>div{min-width:0}
@media (max-width:800px){main{padding:16px}.grid2{grid-template-columns:1fr}}
.badge{display:inline-block;font-size:11px;font-weight:700;padding:1px 7px;border-radius:9px;margin-left:6px;color:#fff}
.badge.ok{background:var(--ok)}.badge.bad{background:var(--bad)}
section.error{color:var(--bad)}
code{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--soft);padding:1px 4px;border-radius:3px}
footer{margin-top:24px;padding-top:12px;border-top:1px solid var(--line);color:var(--muted);font-size:12px}
@media print{body{background:#fff}main{max-width:none;padding:0}section{break-inside:avoid-page}nav.toc{display:none}}
"""

_SECTIONS: list[tuple[str, Callable[[_Run], str]]] = [
    ("Key figures", _key_figures),
    ("EP curve", _ep_section),
    ("Annual loss distribution", _distribution),
    ("Top countries and sectors", _segments),
    ("Book", _book),
    ("Reinsurance", _reinsurance),
]


def render_report(results: Results) -> str:
    """The HTML text of ``report.html`` for a run.

    Parameters
    ----------
    results : Results
        The outcome of :func:`riskengine.simulate`.

    Returns
    -------
    str
        A complete, self-contained HTML5 document (inline CSS and SVG, no scripts).
    """
    run = _gather(results)
    title = f"{results.scenario.name} · riskengine report"
    body = [
        _header(run),
        _nav(run),
        *[_safely(name, fn, run) for name, fn in _SECTIONS],
        _footer(run),
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="riskengine">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )
