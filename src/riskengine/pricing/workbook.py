"""``rate_card.xlsx``: the rate card as pricing teams publish and discuss it, in a workbook.

Four sheets, each with a title row, a line saying what the numbers are, readable column widths
and rates as percentages: **Rate card** (fitted rates, grade × rating by term band), **Cells**
(every cell: turnover, exposures, observed, model and published rates, credibility),
**Factors** (the relativities and the base) and **Country rates** (with the OECD benchmark).
Written with xlsxwriter through Polars ``write_excel``, atomically.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from ..files import atomic_write

if TYPE_CHECKING:
    from .job import PricedBook

__all__ = ["band_labels", "write_rate_card_workbook"]

#: Excel number formats.
_PCT = "0.000%"
_AMOUNT = "#,##0"
_FACTOR = "0.000"
#: Where a sheet's table starts (row, column; zero-based): below the title and the note.
_AT = (3, 0)
_TABLE_STYLE = "Table Style Light 9"


def band_labels(bands: Sequence[int]) -> list[str]:
    """Readable names of term bands (upper bounds in days, the last open above)."""
    b = list(bands)
    if len(b) == 1:
        return ["all terms"]
    out = [f"≤ {b[0]} days"]
    out += [f"{lo + 1}–{hi} days" for lo, hi in zip(b[:-2], b[1:-1], strict=True)]
    out.append(f"> {b[-2]} days")
    return out


def _title(wb: Any, ws: Any, title: str, note: str) -> None:
    ws.write(0, 0, title, wb.add_format({"bold": True, "font_size": 14}))
    ws.write(1, 0, note, wb.add_format({"italic": True, "font_color": "#5f6b7a"}))


def _table(
    frame: pl.DataFrame,
    wb: Any,
    ws: Any,
    formats: dict[str, str],
    widths: dict[str, int] | None = None,
) -> None:
    used = {k: v for k, v in formats.items() if k in frame.columns}
    frame.write_excel(
        workbook=wb,
        worksheet=ws,
        position=_AT,
        table_style=_TABLE_STYLE,
        column_formats=used,  # type: ignore[arg-type]
        header_format={"bold": True, "text_wrap": True, "valign": "top"},
        autofit=True,
        column_widths=widths,  # type: ignore[arg-type]
        freeze_panes=(_AT[0] + 1, 0),
    )


def _card_sheet(priced: PricedBook) -> pl.DataFrame:
    """Grade × rating rows, one column of fitted rates per term band."""
    bands = list(priced.config.term_bands)
    labels = dict(zip(bands, band_labels(bands), strict=True))
    return (
        priced.card.card.select("risk_grade", "rating", "term_band", "fitted_rate")
        .with_columns(pl.col("term_band").replace_strict(labels, return_dtype=pl.String))
        .pivot(on="term_band", index=["risk_grade", "rating"], values="fitted_rate")
        .rename({"risk_grade": "country risk grade", "rating": "buyer rating"})
    )


def _subtitle(priced: PricedBook) -> str:
    cfg, cal = priced.config, priced.calibration
    text = (
        f"Scenario {priced.name}, {priced.n_sims:,} simulated years, amounts in {priced.currency}. "
        f"Rates on insured turnover a year. Technical premium = (EL + {cfg.cost_of_capital:.0%} × "
        f"capital) / (1 − {cfg.expense_ratio:.0%} − {cfg.commission:.0%}), capital = "
        f"{priced.capital_label} contribution − EL (gross)."
    )
    if cal is not None:
        target = "return on capital" if cal.target == "return_on_capital" else "combined ratio"
        text += (
            f" Calibrated to a {target} of {cal.target_value:.1%}: every rate × {cal.factor:.4f}."
        )
    return text


def write_rate_card_workbook(path: str | os.PathLike, priced: PricedBook) -> Path:
    """Write ``priced``'s card, factors and country rates to the workbook ``path`` atomically.

    Parameters
    ----------
    path : path
        The ``.xlsx`` file to write (replaced if present).
    priced : PricedBook

    Returns
    -------
    pathlib.Path
    """
    from xlsxwriter import Workbook

    note = _subtitle(priced)
    rate_cols = ("technical_rate", "model_rate", "fitted_rate", "overall_technical_rate")
    formats = dict.fromkeys((*rate_cols, "overall_actual_rate", "oecd_mpr", "credibility"), _PCT)
    formats |= {"turnover": _AMOUNT, "cell_turnover": _AMOUNT, "relativity": _FACTOR}
    formats |= {"oecd_horizon_years": _FACTOR}

    def write(tmp: Path) -> None:
        with Workbook(str(tmp)) as wb:
            card = _card_sheet(priced)
            ws = wb.add_worksheet("Rate card")
            _title(wb, ws, "Rate card: fitted rate by country risk grade, rating and term", note)
            bands = dict.fromkeys(card.columns[2:], _PCT)
            _table(card, wb, ws, bands, dict.fromkeys(card.columns, 14))
            ws = wb.add_worksheet("Cells")
            _title(wb, ws, "Rate card cells: observed, model and published rates", note)
            _table(priced.card.card, wb, ws, formats)
            ws = wb.add_worksheet("Factors")
            base = (
                f"Base rate (grade {priced.card.card['risk_grade'].min()}, the best rating, the "
                f"shortest band): {priced.card.base:.4%} of turnover; model rate = base × "
                "relativities, each non-decreasing."
            )
            _title(wb, ws, "Rating factors (relativities)", base)
            _table(priced.card.factors, wb, ws, formats, {"factor": 14, "level": 10})
            ws = wb.add_worksheet("Country rates")
            oecd = (
                "oecd_mpr: the OECD Arrangement's minimum premium rate (sovereign-like buyer, 95 % "
                "cover, horizon = the term band) — an extrapolation below its two-year minimum "
                "horizon (oecd_extrapolated), an outside reference only."
            )
            _title(wb, ws, "Country rates at the most common rating and term", oecd)
            _table(priced.country_rates, wb, ws, formats)

    return atomic_write(path, write)
