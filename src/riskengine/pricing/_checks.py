"""Input checks shared by the pricing functions: every broken rule reported at once.

Amounts and days that come from a book are refused with a :class:`~riskengine.errors.BookError`
naming the table, the column, the rule, how many rows break it and the first ids; pricing
parameters (the scenario's ``pricing:`` block) with a :class:`~riskengine.errors.ScenarioError`
naming the key.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import BookError, Problem, ScenarioError

#: How many offending ids a problem quotes.
N_EXAMPLES = 5


def as_float(values: object, name: str) -> np.ndarray:
    """``values`` as a 1-D float64 array (a scalar becomes one value)."""
    a = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if a.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array, got shape {a.shape}")
    return a


def same_length(**arrays: np.ndarray) -> int:
    """The common length of ``arrays`` (ValueError naming them when they differ)."""
    sizes = {k: len(v) for k, v in arrays.items()}
    if len(set(sizes.values())) > 1:
        raise ValueError(f"arrays must have one length each, got {sizes}")
    return next(iter(sizes.values()), 0)


def row_problem(
    table: str,
    column: str,
    rule: str,
    bad: np.ndarray,
    ids: Sequence[object] | np.ndarray | None,
) -> Problem | None:
    """A :class:`Problem` for the rows where ``bad`` is true, or None when there are none.

    ``ids`` names the rows (e.g. exposure ids); without them the examples are row numbers.
    """
    rows = np.flatnonzero(bad)
    if len(rows) == 0:
        return None
    if ids is None:
        examples = tuple(f"row {int(r)}" for r in rows[:N_EXAMPLES])
    else:
        examples = tuple(str(ids[int(r)]) for r in rows[:N_EXAMPLES])
    return Problem(table, column, rule, len(rows), examples)


def raise_book(problems: list[Problem | None], source: str = "pricing inputs") -> None:
    """Raise one BookError listing every problem found (nothing when the list holds only None)."""
    found = [p for p in problems if p is not None]
    if found:
        raise BookError(found, source=source)


def check_parameter(key: str, value: float, ok: bool, rule: str) -> Problem | None:
    """A scenario-key problem when ``ok`` is false (NaN is never ok)."""
    if ok and np.isfinite(value):
        return None
    return Problem("scenario", key, f"{rule} (got {value!r})", label="key")


def raise_scenario(problems: list[Problem | None]) -> None:
    """Raise one ScenarioError listing every parameter problem (nothing when none)."""
    found = [p for p in problems if p is not None]
    if found:
        raise ScenarioError(found, source="pricing parameters")
