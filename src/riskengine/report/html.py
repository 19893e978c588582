"""HTML building blocks of the report: tables, figures, sections, values with their errors.

Cells and captions passed in are HTML already: callers escape what comes from the user with
:func:`riskengine.report.format.esc`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from .format import DASH, fmt_amount, fmt_se

__all__ = [
    "Card",
    "cards",
    "table",
    "figure",
    "section",
    "value_se",
    "note",
    "wall_time",
    "z_score",
    "css",
]


@dataclass(frozen=True)
class Card:
    """One figure of a :func:`cards` grid: a label, the value and a line that qualifies it."""

    label: str
    value: str
    sub: str = ""
    wide: bool = False


def cards(items: list[Card]) -> str:
    """Figures in a grid of cards (a ``wide`` card spans two columns)."""
    out = []
    for c in items:
        cls = ' class="wide"' if c.wide else ""
        sub = f"<small>{c.sub}</small>" if c.sub else ""
        out.append(f"<div{cls}><dt>{c.label}</dt><dd>{c.value}{sub}</dd></div>")
    return f'<dl class="cards">{"".join(out)}</dl>'


def table(
    head: list[str],
    rows: list[list[str]],
    *,
    cls: str = "",
    numeric_from: int = 1,
    row_cls: list[str] | None = None,
    caption: str = "",
) -> str:
    """A table in a horizontally scrolling wrapper; columns from ``numeric_from`` on are numbers.

    ``row_cls`` gives each row a class (``key``, ``total``, ``muted``, ``beyond``) or ``""``.
    """

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
    cap = f"<caption>{caption}</caption>" if caption else ""
    return (
        f'<div class="table-wrap"><table class="{cls}">{cap}<thead><tr>{cells("th", head)}'
        f"</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def figure(svg: str, caption: str) -> str:
    """A plot (inline SVG) and its caption; the plot scrolls sideways on narrow screens."""
    return f'<figure><div class="plot-wrap">{svg}</div><figcaption>{caption}</figcaption></figure>'


def section(ident: str, title: str, body: str) -> str:
    """A top-level section of the page, the target of the contents' link ``#ident``."""
    return f'<section id="{ident}"><h2>{title}</h2>{body}</section>'


def note(text: str, cls: str = "") -> str:
    """A muted paragraph of explanation (``cls="warn"`` for a warning)."""
    return f'<p class="note{" " + cls if cls else ""}">{text}</p>'


def value_se(value: Any, se: Any, currency: str) -> str:
    """An amount with its standard error below it, in the amount's unit."""
    s = fmt_se(se, value)
    se_html = f'<span class="se">{s}</span>' if s else ""
    return f'<span class="v">{fmt_amount(value, currency)}</span>{se_html}'


def wall_time(seconds: Any) -> str:
    """A duration: ``4.21 s``, ``12.3 s``, ``3 min 05 s``, ``1 h 02 min 03 s``."""
    if not isinstance(seconds, int | float) or not math.isfinite(seconds):
        return DASH
    if seconds < 60:
        return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"
    m, s = divmod(round(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min {s:02d} s" if h else f"{m} min {s:02d} s"


def z_score(z: Any) -> str:
    """A z-score with its sign: ``+1.49``, ``−0.20``."""
    if isinstance(z, int | float) and math.isfinite(z):
        return f"{z:+.2f}".replace("-", "\u2212")
    return DASH


@cache
def css() -> str:
    """The page's style sheet (``report.css`` beside this module), without comments."""
    text = files(__package__).joinpath("report.css").read_text("utf-8")
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())
