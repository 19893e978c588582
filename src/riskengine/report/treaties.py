"""The report's reinsurance section: the programme, each treaty's metrics, gross/ceded/net EP."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .data import ReportData
from .format import DASH, esc, fmt_amount, fmt_number, fmt_pct
from .html import figure, note, section, table, value_se
from .plots import CEDED, GROSS, NET, EPCurve, ep_plot, return_period_grid

__all__ = ["reinsurance"]

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
                return value_se(v, value.get("se"), currency)
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


def _fallback_metrics(d: ReportData) -> dict[str, dict[str, Any]]:
    """What the year loss table says of each treaty, when the treaty metrics are missing."""
    gross_el = d.measures["gross"]["EL"]["value"]
    out = {}
    for t in d.treaties:
        x = d.ylt[f"ceded_{t}"]
        m = d.measures[f"ceded_{t}"]
        out[t] = {
            "expected_ceded": m["EL"],
            "sd": m["SD"]["value"],
            "prob_attach": d.mean(x > 0),
            "share_of_gross_el": m["EL"]["value"] / gross_el if gross_el > 0 else math.nan,
        }
    return out


def _treaty_metrics_table(d: ReportData) -> str:
    raw = d.summary.get("treaties")
    if isinstance(raw, list | tuple):
        raw = {
            str(t.get("name", i)) if isinstance(t, Mapping) else str(i): t
            for i, t in enumerate(raw)
        }
    warn = ""
    if not isinstance(raw, Mapping) or not raw:
        # Fallback from the YLT's ceded columns, so the page still says what each treaty does.
        why = esc(d.treaty_error) if d.treaty_error else "the summary has no treaty metrics"
        warn = note(
            f"Treaty metrics unavailable ({why}); the figures below come from the year loss table.",
            "warn",
        )
        raw = _fallback_metrics(d)
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
            cells.append(_metric_cell(value, kind, d.currency))
        rows.append([esc(label), *cells])
    return warn + table(["Metric", *[esc(t) for t in names]], rows, cls="treaties")


_PCT_TERMS = ("share", "ceding_commission", "reinstatement_rate", "attachment_lr", "limit_lr")
_TERM_LABELS = {"attachment_lr": "attachment (loss ratio)", "limit_lr": "limit (loss ratio)"}


def _programme_table(d: ReportData) -> str:
    rows = []
    for terms_of in d.treaty_terms:
        terms = []
        for k, v in terms_of.items():
            if k in ("name", "type", "scope"):
                continue
            kind = "pct" if k in _PCT_TERMS else _metric_kind(k)
            if k == "reinstatements":
                kind = "number"
            if k in ("premium", "ceding_commission", "reinstatement_rate") and not v:
                continue
            label = _TERM_LABELS.get(k, k.replace("_", " "))
            terms.append(f"{esc(label)} {_metric_cell(v, kind, d.currency)}")
        scope = terms_of.get("scope")
        if scope:
            terms.append("scope " + esc(", ".join(f"{k}: {v}" for k, v in scope.items())))
        name, kind = str(terms_of["name"]), str(terms_of["type"]).replace("_", " ")
        rows.append([f"<b>{esc(name)}</b>", esc(kind), "; ".join(terms)])
    return table(["Treaty", "Type", "Terms"], rows, cls="programme", numeric_from=99)


#: Colours of the per-treaty ceded curves (up to six treaties are drawn one by one).
_PALETTE = ["#cc79a7", "#56b4e9", "#999933", "#882255", "#44aa99", "#332288"]


def reinsurance(d: ReportData) -> str:
    """The programme, the treaty metrics and the gross, ceded and net AEP curves."""
    if not d.treaties:
        return ""
    n = d.n
    rps = return_period_grid(n)
    ceded_total = d.ylt["gross"] - d.ylt["net"]
    curves = [
        EPCurve("Gross", rps, d.ep_points("gross", rps), GROSS, width=2.4),
        EPCurve("Ceded (all treaties)", rps, d.ep_points(ceded_total, rps), CEDED, width=2.2),
        EPCurve("Net", rps, d.ep_points("net", rps), NET, width=2.4),
    ]
    if 1 < len(d.treaties) <= len(_PALETTE):
        for t, col in zip(d.treaties, _PALETTE, strict=False):
            pts = d.ep_points(f"ceded_{t}", rps)
            curves.append(EPCurve(f"Ceded: {t}", rps, pts, col, "--", 1.4))
    svg = ep_plot(curves, d.currency, "ri-ep", "Gross, ceded and net AEP curves", n_sims=n)
    caption = (
        "Annual aggregate loss exceeded once every T years, before reinsurance (gross),"
        " recovered from the treaties (ceded) and retained (net). Each curve is the quantile of"
        " its own distribution, so at a given return period ceded and net need not add up to"
        " gross."
    )
    relief = d.summary.get("capital", {}).get("relief")
    if relief is None:
        relief = d.measures["gross"]["capital"] - d.measures["net"]["capital"]
    return section(
        "reinsurance",
        "Reinsurance",
        f"<h3>Programme</h3>{_programme_table(d)}"
        f"<h3>Treaty metrics</h3>{_treaty_metrics_table(d)}"
        + note(
            "Capital relief (gross capital − net capital at VaR 99.5 %):"
            f" <strong>{fmt_amount(relief, d.currency)}</strong>."
        )
        + figure(svg, caption),
    )
