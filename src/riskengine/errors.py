"""Errors riskengine raises for bad input.

Each carries a list of :class:`Problem` records so that every problem is reported at once, each
naming the file, the column (or key), the rule, how many rows break it and the first few ids.
The CLI prints ``str(error)`` and exits non-zero without a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Problem", "RiskEngineError", "BookError", "ScenarioError", "OutputError"]


@dataclass(frozen=True)
class Problem:
    """One broken rule.

    Parameters
    ----------
    file : str
        File (or table) name the problem is in, e.g. ``"buyers.parquet"``.
    column : str or None
        Column (or scenario key path) concerned; ``None`` for whole-file problems.
    rule : str
        The rule, as a user reads it (``"0 < pd < 1"``).
    n_rows : int
        How many rows break it (0 for whole-file problems).
    examples : tuple of str
        Ids of the first few offending rows.
    label : str
        What ``column`` names: ``"column"`` for books, ``"key"`` for scenarios.
    values : tuple of str
        The offending value of each of ``examples`` (same order), when showing it helps
        (``B0000004 = 1.5``); empty otherwise.
    hint : str
        What the user probably meant or should do (``"did you type a percentage?"``), shown
        last; empty for none.
    """

    file: str
    column: str | None
    rule: str
    n_rows: int = 0
    examples: tuple[str, ...] = field(default_factory=tuple)
    label: str = "column"
    values: tuple[str, ...] = field(default_factory=tuple)
    hint: str = ""

    def __str__(self) -> str:
        where = self.file if self.column is None else f"{self.file}: {self.label} {self.column!r}"
        text = f"{where}: {self.rule}"
        if self.n_rows:
            text += f" — {self.n_rows} row{'s' if self.n_rows != 1 else ''}"
            if self.examples:
                shown = (
                    [f"{x} = {v}" for x, v in zip(self.examples, self.values, strict=True)]
                    if self.values
                    else list(self.examples)
                )
                more = ", …" if self.n_rows > len(self.examples) else ""
                text += f" (first: {', '.join(shown)}{more})"
        if self.hint:
            text += f" — {self.hint}"
        return text


class RiskEngineError(Exception):
    """Base class of the errors riskengine reports to users (never with a traceback)."""

    def __init__(self, problems: list[Problem] | str, source: str | None = None):
        if isinstance(problems, str):
            problems = [Problem(source or "input", None, problems)]
        self.problems: list[Problem] = list(problems)
        self.source = source
        super().__init__(self._message())

    def _message(self) -> str:
        head = f"{len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}"
        if self.source:
            head += f" in {self.source}"
        return head + ":\n" + "\n".join(f"  - {p}" for p in self.problems)


class BookError(RiskEngineError):
    """A book (input data folder) is unreadable or breaks the schema's rules."""


class ScenarioError(RiskEngineError):
    """A scenario file is unreadable or invalid."""


class OutputError(RiskEngineError):
    """Results cannot be written where asked."""
