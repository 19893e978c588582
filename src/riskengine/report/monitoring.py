"""The report's dynamic limit management section (a run with ``monitoring`` on).

What the insurer's reviews and limit cuts did in the run (docs/model.md §10): the expected
loss avoided, the share of defaults caught, the insured turnover lost to cuts on buyers that do
not default, and the effect on EL, VaR and TVaR against the same years without monitoring —
ground-up from the run itself (the loss without monitoring is the loss plus the loss avoided,
year by year), gross too when the folder holds ``riskengine monitor``'s comparison
(``monitor.parquet``), with its sweep: loss avoided against turnover lost, the curve a
credit-limit committee chooses its trigger from.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .data import MonitoringData, ReportData
from .format import esc, fmt_amount, fmt_count, fmt_number, fmt_pct, fmt_se
from .html import Card, cards, figure, note, section, table, value_se
from .plots import INK, _amount_axis, _figure, _style, svg_of

__all__ = ["IDENT", "TITLE", "monitoring_section"]

IDENT = "monitoring"
TITLE = "Dynamic limit management"

_MEASURES = (("el", "Expected loss (EL)"), ("var", "VaR {level} %"), ("tvar", "TVaR {level} %"))
_PERSPECTIVES = (("ground_up", "Ground-up"), ("gross", "Gross"))


def _signed(value: Any, ccy: str) -> str:
    text = fmt_amount(value, ccy)
    return "+" + text if isinstance(value, float) and value > 0 and math.isfinite(value) else text


def _minus(text: str) -> str:
    """A typographic minus for a leading hyphen."""
    return "\u2212" + text[1:] if text.startswith("-") else text


def _se_text(se: Any) -> str:
    return f"± {fmt_pct(se, digits=2)}" if isinstance(se, float) and math.isfinite(se) else ""


def _share_se(value: Any, se: Any) -> str:
    return f'<span class="v">{fmt_pct(value)}</span><span class="se">{_se_text(se)}</span>'


def _plain(value: Any, se: Any, ccy: str) -> str:
    """``12.3 m EUR ± 0.41 m`` (a card's value)."""
    return f"{fmt_amount(value, ccy)} {fmt_se(se, value)}".strip()


def _g(x: Any) -> str:
    return esc(f"{x:g}")


def _parameters(p: dict[str, Any]) -> str:
    reviews = int(p["reviews_per_year"])
    every = "monthly" if reviews == 12 else f"{reviews} times a year"
    cut = "cancels it" if p["cut_to"] == 0 else f"cuts it to {fmt_pct(p['cut_to'])}"
    return (
        f"Every buyer is reviewed {every}; the insurer sees its credit quality with an error of "
        f"{_g(p['signal_noise'])} (latent standard deviations) and, when its estimated PD for "
        f"the rest of the year reaches {fmt_pct(p['trigger_pd'])} or "
        f"{_g(p['trigger_multiple'])} × its PD, {cut} after {_g(p['notice_days'])} days' "
        "notice. Shipments after the cut are not covered; receivables already "
        "outstanding stay covered."
    )


def _cards(m: MonitoringData, ccy: str) -> str:
    on, off = m.on, m.effect.filter(m.effect["run"] == "off").row(0, named=True)
    base = off["el_ground_up"]
    turnover = on["turnover"]
    return cards(
        [
            Card(
                "Loss avoided a year (ground-up)",
                _plain(on["loss_avoided"], on["loss_avoided_se"], ccy),
                f"{fmt_pct(on['loss_avoided'] / base)} of the expected loss without monitoring"
                if base
                else "",
            ),
            Card(
                "Defaults caught",
                f"{fmt_pct(on['defaults_caught_share'])} "
                f"{_se_text(on['defaults_caught_share_se'])}".strip(),
                f"cut effective before year end, of {fmt_number(on['n_defaults'])} defaults a year",
            ),
            Card(
                "Insured turnover lost a year",
                _plain(on["turnover_lost"], on["turnover_lost_se"], ccy),
                f"{fmt_pct(on['turnover_lost'] / turnover)} of {fmt_amount(turnover, ccy)} "
                "insured: cuts on buyers that do not default"
                if turnover
                else "",
            ),
        ]
    )


def _effect_table(m: MonitoringData, ccy: str) -> str:
    on = m.on
    off = m.effect.filter(m.effect["run"] == "off").row(0, named=True)
    level = f"{on['level']:g}"
    rows, cls = [], []
    for p, heading in _PERSPECTIVES:
        if on[f"el_{p}"] is None:
            continue
        for key, label in _MEASURES:
            name = f"{key}_{p}"
            delta, se = on[f"delta_{name}"], on[f"delta_{name}_se"]
            base = off[name]
            rel = delta / base if base else math.nan
            unit = se if isinstance(se, float) and abs(delta) < se else delta
            rows.append(
                [
                    f"{heading}: {label.format(level=level)}",
                    value_se(base, off[f"{name}_se"], ccy),
                    value_se(on[name], on[f"{name}_se"], ccy),
                    f'<span class="v">{_signed(delta, ccy)}</span>'
                    f'<span class="se">{fmt_se(se, unit)} ({_minus(fmt_pct(rel))})</span>',
                ]
            )
            cls.append("key" if key == "el" else "")
    head = ["Measure", "Without monitoring", "With monitoring", "Change ± its standard error"]
    return table(head, rows, cls="figures", row_cls=cls)


def _sweep_plot(m: MonitoringData, ccy: str) -> str:
    from ..monitoring.plot import draw_sweep

    fig = _figure(4.4, left=0.95, right=0.35, bottom=0.65, top=0.2)
    ax = fig.add_subplot()
    _style(ax)
    key = draw_sweep(ax, m.effect, fontsize=8.5)
    sweep = m.sweep
    hi_x = float(np.nanmax(sweep["turnover_lost"].to_numpy())) if sweep.height else 1.0
    hi_y = float(np.nanmax(sweep["loss_avoided"].to_numpy())) if sweep.height else 1.0
    ux = _amount_axis(ax.xaxis, hi_x, ccy)
    uy = _amount_axis(ax.yaxis, hi_y, ccy)
    ax.set_xlabel(f"Insured turnover lost a year ({ux})", color=INK, fontsize=10)
    ax.set_ylabel(f"Loss avoided a year ({uy})", color=INK, fontsize=10)
    ax.legend(loc="lower right", frameon=False, fontsize=9)
    title = f"Loss avoided against turnover lost, {key} swept"
    svg = svg_of(fig, "monitoring-sweep", title)
    caption = (
        f"Each point is one value of <code>{esc(key)}</code> (its label), every run on the same "
        f"{fmt_count(int(m.on['sims']))} simulated years: expected ground-up loss avoided a year "
        "against insured turnover lost a year on buyers that do not default, ± 1 standard "
        "error. The diamond is the scenario's own parameters, the square monitoring off. "
        "Moving along the curve, a trigger is worth it while the loss it avoids exceeds the "
        "premium and margin of the turnover it costs."
    )
    return figure(svg, caption)


def _sweep_table(m: MonitoringData, ccy: str) -> str:
    sweep = m.sweep
    key = str(sweep["key"][0])
    level = f"{m.on['level']:g}"
    head = [
        esc(key),
        "Loss avoided",
        "Defaults caught",
        "Turnover lost",
        "Δ gross EL",
        f"Δ gross VaR {level} %",
    ]
    rows = []
    for r in sweep.iter_rows(named=True):
        rows.append(
            [
                _g(r["value"]),
                value_se(r["loss_avoided"], r["loss_avoided_se"], ccy),
                _share_se(r["defaults_caught_share"], r["defaults_caught_share_se"]),
                value_se(r["turnover_lost"], r["turnover_lost_se"], ccy),
                value_se(r["delta_el_gross"], r["delta_el_gross_se"], ccy),
                value_se(r["delta_var_gross"], r["delta_var_gross_se"], ccy),
            ]
        )
    return table(head, rows, cls="figures")


def monitoring_section(d: ReportData) -> str:
    """The section of a run with monitoring on (empty otherwise)."""
    m = d.monitoring
    if m is None:
        return ""
    ccy = d.currency
    body = [note(_parameters(m.parameters)), _cards(m, ccy), _effect_table(m, ccy)]
    if not m.from_folder:
        why = f" ({esc(m.left_out)})" if m.left_out else ""
        body.append(
            note(
                "The gross effect needs the same years simulated without monitoring (policy "
                "terms are not additive): <code>riskengine monitor SCENARIO --out DIR</code> "
                f"writes it beside the run, with a trigger sweep{why}."
            )
        )
    if m.sweep.height:
        body += [_sweep_plot(m, ccy), _sweep_table(m, ccy)]
    body.append(
        note(
            "In the model defaults happen at year end, so a cut has the whole rest of the year "
            "to take effect: the loss avoided is an upper estimate. Political losses are not "
            "changed by cuts. Turnover lost is estimated by sampling buyers in proportion to "
            "their insured turnover (docs/model.md §10)."
        )
    )
    return section(IDENT, TITLE, "".join(body))
