"""Number formatting for the report: amounts with a scale word, standard errors, percentages.

Amounts are shown to three significant digits with a scale (``k``, ``m``, ``bn``, ``tn``):
``12.3 m EUR``. A standard error is shown in the unit of the value it belongs to, so the two
compare at a glance: ``12.3 m EUR ± 0.41 m``.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

__all__ = ["unit_of", "fmt_amount", "fmt_se", "fmt_pct", "fmt_count", "fmt_number", "esc"]

_UNITS = ((1e12, "tn"), (1e9, "bn"), (1e6, "m"), (1e3, "k"))
DASH = "—"


def esc(x: Any) -> str:
    """HTML-escape ``str(x)`` (quotes included)."""
    return escape("" if x is None else str(x), quote=True)


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def unit_of(x: float) -> tuple[float, str]:
    """(scale, word) that shows ``|x|`` as a number in [1, 1000) to three significant digits."""
    a = abs(float(x)) if _finite(x) else 0.0
    if a > 0:
        a = float(f"{a:.3g}")  # 999,960 rounds to 1.00 m, not 1000 k
    for scale, word in _UNITS:
        if a >= scale:
            return scale, word
    return 1.0, ""


def _fixed(v: float, sig: int) -> str:
    """``v`` with ``sig`` significant digits in fixed notation (no exponent)."""
    v = float(f"{v:.{sig}g}")  # round first: 0.99996 -> 1.00, not 1.000
    if v == 0:
        return "0"
    decimals = max(0, sig - 1 - math.floor(math.log10(abs(v))))
    return f"{v:.{min(decimals, 6)}f}"


def _join(number: str, word: str, currency: str | None) -> str:
    parts = [number, word, currency or ""]
    return " ".join(p for p in parts if p)


def fmt_amount(x: Any, currency: str | None = None, *, sig: int = 3) -> str:
    """An amount to ``sig`` significant digits with a scale word: ``12.3 m EUR``; ``—`` if none."""
    if not _finite(x):
        return DASH
    x = float(x)
    if x == 0:
        return _join("0", "", currency)
    scale, word = unit_of(x)
    v = x / scale
    # beyond the largest scale word, show all the digits
    text = f"{v:,.0f}" if abs(v) >= 10**sig else _fixed(v, sig)
    return _join(text.replace("-", "\u2212"), word, currency)


def fmt_se(se: Any, like: Any, currency: str | None = None) -> str:
    """A standard error in the unit of the value ``like``, two significant digits: ``± 0.41 m``."""
    if not _finite(se):
        return ""
    scale, word = unit_of(like if _finite(like) and like != 0 else se)
    v = float(se) / scale
    if v < 5e-7:
        return "± 0"
    return "± " + _join(_fixed(v, 2), word, currency)


def fmt_pct(p: Any, *, digits: int = 3) -> str:
    """A probability or share as a percentage: ``12.3 %``, ``0.052 %``, ``< 0.001 %``."""
    if not _finite(p):
        return DASH
    v = 100 * float(p)
    if v == 0:
        return "0 %"
    if 0 < abs(v) < 0.001:
        return "< 0.001 %" if v > 0 else "> −0.001 %"
    if abs(v) >= 10 ** (digits - 1):
        return f"{v:.{max(0, digits - 3)}f} %"
    return _fixed(v, digits) + " %"


def fmt_count(n: Any) -> str:
    """An integer count with thousands separators: ``12,345``."""
    if (
        isinstance(n, bool)
        or not isinstance(n, int | float)
        or (isinstance(n, float) and not math.isfinite(n))
    ):
        return DASH
    return f"{int(n):,}"


def fmt_number(x: Any) -> str:
    """Any other number, to four significant digits."""
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return fmt_count(x)
    if not _finite(x):
        return DASH
    x = float(x)
    if x != 0 and (abs(x) >= 1e6 or abs(x) < 1e-4):
        return f"{x:.4g}"
    return _fixed(x, 4)
