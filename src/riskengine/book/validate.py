"""Book validation: every rule of :mod:`riskengine.book.schema`, all problems reported at once.

The rules are vectorised Polars expressions evaluated table by table: one pass counts every
rule's offending rows, and only the rules that fail are queried again for their first few ids.
Nothing here loops over rows in Python, so a book of a million buyers validates in seconds.

The rules that need a scenario (a rating absent from the scenario's rating table, the variance
of an explicit factor model) are checked when the book is compiled against it, not here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache

import polars as pl
import pycountry

from ..errors import BookError, Problem
from . import schema
from .model import Book
from .schema import ISO_COUNTRY_ALLOW_LIST, REFERENCES, RULES, Column, Table

__all__ = [
    "LoadedTable",
    "N_EXAMPLES",
    "book_problems",
    "find_problems",
    "quote_values",
    "row_ids",
    "valid_codes",
    "validate_book",
]

#: How many offending ids a problem lists.
N_EXAMPLES = 5
#: How many offending values a rule's text quotes (unknown codes, missing references).
_N_VALUES = 3
#: Hint for a fraction column whose offending values all lie in (1, 100].
PERCENT_HINT = "did you type a percentage? (write 1.5 % as 0.015)"


@dataclass
class LoadedTable:
    """One table as read and cast by the loader, before its rules are checked.

    Attributes
    ----------
    table : Table
        Its declaration.
    file : str
        File name (or, for in-memory frames, the table name) used in messages.
    frame : polars.DataFrame
        Every declared column cast to its dtype, defaults filled; extra columns kept.
    missing : frozenset of str
        Required columns the input lacked (their rules are not checked: one problem is enough).
    type_bad : dict of str to polars.Series
        For columns with values that did not cast, a boolean mask of those rows (already
        reported as type problems; other rules skip them).
    """

    table: Table
    file: str
    frame: pl.DataFrame
    missing: frozenset[str] = frozenset()
    type_bad: dict[str, pl.Series] = field(default_factory=dict)

    def has(self, column: str) -> bool:
        """Whether ``column`` came with the input (or is optional and was added)."""
        return column not in self.missing

    def typed_ok(self, column: str) -> pl.Expr:
        """True on rows whose ``column`` value was not a type error."""
        bad = self.type_bad.get(column)
        return pl.lit(True) if bad is None else ~pl.lit(bad)


@dataclass(frozen=True)
class _Check:
    """A rule on one table: rows where ``mask`` is true break it."""

    column: str | None
    rule: str
    mask: pl.Expr
    examples: pl.Expr | None = None  # default: the rows' ids
    distinct: bool = False  # list distinct example values (duplicates)
    values: pl.Expr | None = None  # offending values to quote in the rule text
    label: str = "found"  # how the quoted values are introduced
    flag: pl.Expr | None = (
        None  # cheaper aggregate, > 0 iff some row breaks the rule (default: count)
    )
    shown: pl.Expr | None = None  # each example's offending value (``B0000004 = 1.5``)
    fraction: bool = False  # hint at percentages when every offending value is in (1, 100]


@cache
def valid_codes(kind: str) -> frozenset[str]:
    """The accepted codes of a ``Column.code`` kind (``"country"`` or ``"currency"``)."""
    if kind == "country":
        return frozenset(c.alpha_2 for c in pycountry.countries) | frozenset(ISO_COUNTRY_ALLOW_LIST)
    if kind == "currency":
        return frozenset(c.alpha_3 for c in pycountry.currencies)
    raise ValueError(f"unknown code kind {kind!r}")


def row_ids(t: LoadedTable) -> pl.Expr:
    """Expression giving each row's id for messages: its key, else ``row N`` (1-based)."""
    row = pl.format("row {}", pl.int_range(1, pl.len() + 1))
    cols = [c for c in t.table.id_columns if t.has(c) and c in t.frame.columns]
    if not cols or len(cols) != len(t.table.id_columns):
        return row
    ids = (
        pl.col(cols[0])
        if len(cols) == 1
        else pl.concat_str([pl.col(c) for c in cols], separator="/")
    )
    return pl.coalesce(ids, row)


def _quote(values: Iterable[object], none: str = "None") -> str:
    return ", ".join(
        none if v is None else repr(v) if isinstance(v, str) else str(v) for v in values
    )


def quote_values(values: pl.Series, *, none: str = "None") -> str:
    """The first few distinct ``values``, quoted for a rule's text (``, …`` when there are more).

    ``none`` stands for a null value.
    """
    shown = values.unique(maintain_order=True).head(_N_VALUES + 1).to_list()
    more = ", …" if len(shown) > _N_VALUES else ""
    return _quote(shown[:_N_VALUES], none) + more


def _evaluate(t: LoadedTable, checks: list[_Check]) -> list[Problem]:
    """Flag every check's offending rows in one pass, then fetch the failing ones' rows.

    A failing check's problem gets its count of rows and the first ids (and values).
    """
    if not checks or t.frame.height == 0:
        return []
    df = t.frame
    flags = [c.flag if c.flag is not None else c.mask.fill_null(False).sum() for c in checks]
    found = df.select([f.alias(f"c{i}") for i, f in enumerate(flags)]).row(0)
    ids = row_ids(t)
    problems = []
    for check, n in zip(checks, found, strict=True):  # n: count, or a flag for checks with one
        if not n:
            continue
        # ids and values are computed on the whole frame (row numbers), then filtered
        cols = [
            (check.examples if check.examples is not None else ids).cast(pl.String).alias("x"),
            check.mask.fill_null(False).alias("m"),
        ]
        if check.values is not None:
            cols.append(check.values.alias("v"))
        if check.shown is not None:
            cols.append(check.shown.alias("s"))
        bad = df.select(cols).filter(pl.col("m"))
        ex = bad.get_column("x")
        if check.distinct:
            ex = ex.unique(maintain_order=True)
        examples = tuple(str(v) for v in ex.head(N_EXAMPLES))
        rule = check.rule
        if check.values is not None:
            rule += f" ({check.label}: {quote_values(bad.get_column('v'))})"
        shown: tuple[str, ...] = ()
        hint = ""
        if check.shown is not None:
            s = bad.get_column("s")
            shown = tuple(_show(v) for v in s.head(len(examples)).to_list())
            if check.fraction and s.cast(pl.Float64).is_between(1.0, 100.0, closed="right").all():
                hint = PERCENT_HINT
        problems.append(
            Problem(t.file, check.column, rule, bad.height, examples, values=shown, hint=hint)
        )
    return problems


def _show(value: object) -> str:
    """A value as a message shows it (``1.5``, ``1e+300``, ``nan``)."""
    return "null" if value is None else repr(value) if isinstance(value, str) else str(value)


def _column_checks(t: LoadedTable, col: Column) -> list[_Check]:
    """The single-column rules the schema declares for ``col``."""
    x = pl.col(col.name)
    ok = t.typed_ok(col.name)
    checks = []
    if not col.nullable:
        checks.append(_Check(col.name, "not null: the value is missing", x.is_null() & ok))
    if col.range is not None:
        checks.append(
            _Check(
                col.name,
                col.range.text(col.name),
                col.range.violated(x),
                shown=x,
                fraction=col.fraction,
            )
        )
    if col.unique:
        checks.append(
            _Check(
                col.name,
                "unique: duplicated",
                x.is_not_null() & x.is_duplicated(),
                examples=x,
                distinct=True,
                flag=x.drop_nulls().len() - x.drop_nulls().n_unique(),  # cheaper than the mask
            )
        )
    if col.code is not None:
        codes = pl.Series(sorted(valid_codes(col.code)), dtype=pl.String).implode()
        checks.append(
            _Check(
                col.name,
                schema.CODE_RULES[col.code],
                x.is_not_null() & ~x.is_in(codes),
                values=x,
            )
        )
    return checks


def _table_checks(t: LoadedTable) -> list[_Check]:
    checks = []
    for col in t.table.columns:
        if t.has(col.name):
            checks += _column_checks(t, col)
    together = t.table.unique_together
    if together and all(t.has(c) for c in together):
        cols = [pl.col(c) for c in together]
        dup = pl.struct(cols).is_duplicated() & pl.all_horizontal([c.is_not_null() for c in cols])
        checks.append(
            _Check(
                "/".join(together),
                f"unique together ({', '.join(together)}): duplicated",
                dup,
                distinct=True,
            )
        )
    return checks


def _buyer_checks(t: LoadedTable) -> list[_Check]:
    """Rules across the buyers' columns."""
    checks = []
    if t.has("pd") and t.has("rating"):
        mask = pl.col("pd").is_null() & pl.col("rating").is_null() & t.typed_ok("pd")
        checks.append(_Check("pd", RULES["pd_or_rating"].text, mask))
    if t.has("lgd") and t.has("lgd_sd"):
        lgd, sd = pl.col("lgd"), pl.col("lgd_sd")
        mask = (sd > 0) & lgd.is_between(0.0, 1.0) & ~(sd * sd < lgd * (1.0 - lgd))
        checks.append(_Check("lgd_sd", RULES["lgd_sd_beta"].text, mask))
    return checks


def _reference_checks(tables: Mapping[str, LoadedTable]) -> dict[str, list[_Check]]:
    """Referential integrity (``schema.REFERENCES``), by the referring table."""
    out: dict[str, list[_Check]] = {}
    for ref in REFERENCES:
        src, dst = tables.get(ref.table), tables.get(ref.target)
        if src is None or dst is None or not src.has(ref.column) or not dst.has(ref.target_column):
            continue
        # an anti-join needs no distinct targets (and the keys a reference points at are ids)
        targets = dst.frame.select(pl.col(ref.target_column).alias("__key"))
        missing = src.frame.select(pl.col(ref.column).alias("__key")).join(
            targets, on="__key", how="anti"
        )
        n_missing = missing.get_column(
            "__key"
        ).count()  # an anti-join: faster than is_in on 10⁶ keys
        if not n_missing:
            continue
        x = pl.col(ref.column)
        label = f"not in {dst.file}"
        mask = x.is_not_null() & ~x.is_in(targets.get_column("__key").implode())
        check = _Check(ref.column, ref.rule, mask, values=x, label=label, flag=pl.lit(n_missing))
        out.setdefault(ref.table, []).append(check)
    return out


def _fx_checks(
    tables: Mapping[str, LoadedTable], reporting_currency: str
) -> dict[str, list[_Check]]:
    """Every currency used has a rate; the reporting currency's rate, if listed, is 1."""
    out: dict[str, list[_Check]] = {}
    fx = tables.get("fx")
    have: set[str] = {reporting_currency}
    if fx is not None and fx.has("currency"):
        have |= set(fx.frame.get_column("currency").drop_nulls().to_list())
    known = pl.Series(sorted(valid_codes("currency") - have), dtype=pl.String).implode()
    label = f"no rate in {fx.file}" if fx is not None else "no rate: the book has no fx table"
    rule = f"{RULES['fx_coverage'].text} ({reporting_currency})"
    for name in ("policies", "exposures"):
        t = tables.get(name)
        if t is not None and t.has("currency"):
            x = pl.col("currency")
            out.setdefault(name, []).append(
                _Check("currency", rule, x.is_in(known), values=x, label=label)
            )
    if fx is not None and fx.has("currency") and fx.has("rate"):
        mask = (pl.col("currency") == reporting_currency) & (pl.col("rate") != 1.0)
        text = f"{RULES['reporting_rate'].text} (reporting currency {reporting_currency})"
        out.setdefault("fx", []).append(_Check("rate", text, mask, shown=pl.col("rate")))
    return out


def find_problems(
    tables: Mapping[str, LoadedTable], *, reporting_currency: str = "EUR"
) -> list[Problem]:
    """Check every rule on loaded tables and return the problems (empty when the book is valid).

    Parameters
    ----------
    tables : mapping of str to LoadedTable
        The tables present, by table name (absent tables are reported by the loader).
    reporting_currency : str
        ISO 4217 code amounts are reported in; it needs no fx rate.

    Returns
    -------
    list of Problem
        In table order, then rule order.
    """
    problems: list[Problem] = []
    if reporting_currency not in valid_codes("currency"):
        problems.append(
            Problem(
                "reporting currency",
                None,
                f"{reporting_currency!r} is not an ISO 4217 currency code",
            )
        )
    extra: dict[str, list[_Check]] = {}
    for more in (_reference_checks(tables), _fx_checks(tables, reporting_currency)):
        for name, checks in more.items():
            extra.setdefault(name, []).extend(checks)
    for name, t in tables.items():
        if t.table.required and t.frame.height == 0:
            rows = RULES["rows"]
            problems.append(
                Problem(t.file, None, f"the table has no rows ({rows.table}: {rows.text})")
            )
            continue
        problems += [
            Problem(t.file, c, _missing_text(t, c))
            for c in t.table.required_columns
            if c in t.missing
        ]
        checks = (
            _table_checks(t) + (_buyer_checks(t) if name == "buyers" else []) + extra.get(name, [])
        )
        problems += _evaluate(t, checks)
    return problems


def _missing_text(t: LoadedTable, column: str) -> str:
    similar = [c for c in t.frame.columns if c.strip().lower() == column.lower() and c != column]
    hint = f" (found {_quote(similar)}: names are case-sensitive)" if similar else ""
    return f"required column is missing{hint}"


def book_problems(book: Book, *, reporting_currency: str = "EUR") -> list[Problem]:
    """Problems of an in-memory :class:`Book` (e.g. one modified after loading).

    Parameters
    ----------
    book : Book
        Tables already cast to the schema's dtypes.
    reporting_currency : str
        ISO 4217 code amounts are reported in.

    Returns
    -------
    list of Problem
    """
    tables = {
        name: LoadedTable(schema.table(name), book.files.get(name, name), df)
        for name, df in book.tables().items()
    }
    return find_problems(tables, reporting_currency=reporting_currency)


def validate_book(book: Book, *, reporting_currency: str = "EUR") -> None:
    """Raise :class:`~riskengine.errors.BookError` listing every problem of ``book``, if any.

    Parameters
    ----------
    book : Book
        Tables already cast to the schema's dtypes.
    reporting_currency : str
        ISO 4217 code amounts are reported in.

    Raises
    ------
    BookError
        With one :class:`~riskengine.errors.Problem` per broken rule.
    """
    problems = book_problems(book, reporting_currency=reporting_currency)
    if problems:
        raise BookError(problems, source=str(book.path) if book.path else None)


def table_problems(loaded: LoadedTable) -> list[Problem]:
    """The single-table rules (types aside: the loader reports those) a loaded table breaks:
    ranges, nulls, uniqueness and codes its :class:`Table` declares."""
    return _evaluate(loaded, _table_checks(loaded))
