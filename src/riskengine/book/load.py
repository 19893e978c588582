"""Loading a book: files (Parquet, CSV or one workbook) or frames → a validated :class:`Book`.

Every table is read lazily with Polars and conformed to :mod:`riskengine.book.schema`: each
declared column is cast to its declared dtype (a value that does not convert is a *type*
problem naming the column and the rows, never a crash), optional columns that are absent are
added with their constant default or null, nulls in columns with a constant default are filled,
and unknown extra columns are kept after the declared ones. Then every rule of
:mod:`riskengine.book.validate` is checked and all problems are raised together in one
:class:`~riskengine.errors.BookError`.

CSV files are read with every column as text and converted here, so that a bad value is reported
with its row rather than aborting the read. The separator is detected from the header line
(``,``, ``;`` as spreadsheets write in much of Europe, or a tab). An empty CSV field is null.
Numbers may carry surrounding spaces and use ``.`` as the decimal point (a decimal comma is
refused with one message that says how to fix it); integers may be written ``3`` or ``3.0``;
booleans are ``true``/``false``, ``1``/``0``, ``yes``/``no`` or ``t``/``f`` in any case.

A workbook (``.xlsx``, one sheet per table, named as the table) is read through the same
conversion: each sheet is read as text (ids typed as numbers become ``"1001"``), and the cells
of numeric columns that hold numbers are replaced by the exact text of their value, so numbers
keep every digit and text in a numeric column is a type problem as in a CSV file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import polars as pl
from polars.datatypes import DataType

from ..errors import BookError, Problem
from . import excel
from .model import Book
from .schema import TABLES, Column, Table
from .validate import N_EXAMPLES, LoadedTable, find_problems, quote_values, row_ids

__all__ = ["FORMATS", "WORKBOOK", "SEPARATORS", "load_book", "from_frames", "conform"]

#: File formats a table may come in, by file extension.
FORMATS: tuple[str, ...] = ("parquet", "csv")
#: Extension of a workbook holding the whole book, one sheet per table.
WORKBOOK = "xlsx"
#: CSV separators recognised from a file's header line, the first being the default.
SEPARATORS: tuple[str, ...] = (",", ";", "\t")
#: A number written with a decimal comma (``0,015``, ``-3,5``, ``1.234,5``): a regex.
_DECIMAL_COMMA = r"^\s*[-+]?(\d{1,3}(\.\d{3})+|\d*),\d+\s*$"

_TRUE = ["true", "t", "yes", "y", "1"]
_FALSE = ["false", "f", "no", "n", "0"]

#: Errors that mean a file cannot be read (Polars panics on some corrupt inputs).
_READ_ERRORS: tuple[type[BaseException], ...] = (
    pl.exceptions.PolarsError,
    pl.exceptions.PanicException,
    OSError,
    UnicodeError,
)

_TYPE_TEXT = {
    pl.String: "text",
    pl.Float64: "a number",
    pl.Int64: "an integer",
    pl.Boolean: "true or false",
}


def _is_text(dtype: DataType) -> bool:
    return dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum)


def _caster(name: str, src: DataType, dst: Any) -> tuple[pl.Expr, pl.Expr | None]:
    """Expressions converting column ``name`` from ``src`` to ``dst``.

    Returns
    -------
    cast : polars.Expr
        The converted column (null where the value does not convert).
    bad : polars.Expr or None
        True on rows whose non-null value does not convert; ``None`` when none can fail.
    """
    x = pl.col(name)
    if src == dst or src == pl.Null:
        return x.cast(dst), None
    refuse = pl.when(x.is_null()).then(pl.lit(None, dtype=dst)), x.is_not_null()
    if dst == pl.String:
        return (x.cast(pl.String), None) if _is_text(src) or src.is_integer() else refuse
    if dst == pl.Boolean:
        if src.is_integer():
            return pl.when(x == 1).then(True).when(x == 0).then(False), x.is_not_null() & ~x.is_in(
                [0, 1]
            )
        if _is_text(src):
            s = x.cast(pl.String).str.strip_chars().str.to_lowercase()
            yes, no = s.is_in(_TRUE), s.is_in(_FALSE)
            return pl.when(yes).then(True).when(no).then(False), x.is_not_null() & ~(yes | no)
        return refuse
    if _is_text(src):
        f = x.cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
    elif src.is_numeric():
        f = x.cast(pl.Float64, strict=False)
    else:
        return refuse
    if dst == pl.Float64:
        return f, (x.is_not_null() & f.is_null()) if not src.is_numeric() else None
    if dst == pl.Int64:
        ok = f.is_finite() & (f == f.round(0)) & (f.abs() < 2.0**63)
        return pl.when(ok).then(f.cast(pl.Int64, strict=False)), x.is_not_null() & ~ok.fill_null(
            False
        )
    raise TypeError(f"no conversion to {dst}")  # pragma: no cover - schema uses only the above


def _fill(expr: pl.Expr, col: Column) -> pl.Expr:
    return expr if col.default is None else expr.fill_null(pl.lit(col.default, dtype=col.dtype))


def _plan(
    lf: pl.LazyFrame, src: pl.Schema, table: Table
) -> tuple[pl.LazyFrame, frozenset[str], list[str]]:
    """The conforming query of ``lf`` (schema ``src``).

    Declared columns cast and filled, bad-value flags, extra columns kept.
    """
    read: list[pl.Expr] = []
    added: list[pl.Expr] = []  # absent columns: constants, broadcast to the table's height
    flags: list[str] = []
    missing = []
    for col in table.columns:
        if col.name not in src:
            if col.required:
                missing.append(col.name)
            added.append(pl.lit(col.default, dtype=col.dtype).alias(col.name))
            continue
        cast, bad = _caster(col.name, src[col.name], col.dtype)
        read.append(_fill(cast, col).alias(col.name))
        if bad is not None:
            flags.append(f"__bad__{col.name}")
            read.append(bad.fill_null(False).alias(flags[-1]))
    extras = [c for c in src.names() if c not in table.column_names and not c.startswith("__bad__")]
    order = table.column_names + extras + flags
    plan = lf.select(read + [pl.col(c) for c in extras]).with_columns(added).select(order)
    return plan, frozenset(missing), [f.removeprefix("__bad__") for f in flags]


def _type_problems(lf: pl.LazyFrame, loaded: LoadedTable, src: pl.Schema) -> list[Problem]:
    """Problems with values that did not convert (second read, on the error path only).

    One problem per column, except that numbers written with a decimal comma, in whatever
    columns, make one problem for the file that says how to fix them.
    """
    ids = loaded.frame.select(row_ids(loaded)).to_series()
    text = [name for name in loaded.type_bad if not src[name].is_nested()]
    raw = (
        lf.select([pl.col(name).cast(pl.String, strict=False) for name in text]).collect()
        if text
        else None
    )
    problems = []
    comma = pl.repeat(False, loaded.frame.height, eager=True)  # rows with a decimal comma
    comma_found: list[str] = []
    for name, mask in loaded.type_bad.items():
        col = loaded.table.column(name)
        values = raw.get_column(name) if raw is not None and name in text else None
        if values is not None and col.dtype in (pl.Float64, pl.Int64):
            decimal = mask & values.str.contains(_DECIMAL_COMMA).fill_null(False)
            if decimal.any():
                comma = comma | decimal
                comma_found.append(f"{name}: {quote_values(values.filter(decimal))}")
                mask = mask & ~decimal
                if not mask.any():
                    continue
        none = f"<{src[name]}>"  # a value with no text form: the message names its type instead
        shown = none if values is None else quote_values(values.filter(mask), none=none)
        rule = f"type: must be {_TYPE_TEXT.get(col.dtype, str(col.dtype))} (found: {shown})"
        problems.append(
            Problem(
                loaded.file, name, rule, int(mask.sum()), tuple(ids.filter(mask).head(N_EXAMPLES))
            )
        )
    if comma_found:
        rule = (
            f"numbers are written with a decimal comma ({'; '.join(comma_found)}): "
            "riskengine reads numbers with a decimal point"
        )
        examples = tuple(ids.filter(comma).head(N_EXAMPLES))
        problems.insert(
            0, Problem(loaded.file, None, rule, int(comma.sum()), examples, hint=_COMMA_HINT)
        )
    return problems


#: How to fix numbers written with a decimal comma.
_COMMA_HINT = (
    "save the file with '.' as the decimal separator (the spreadsheet's or the system's "
    "number format), or give the book as an .xlsx workbook, whose numbers need no conversion"
)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    return first if len(first) <= 160 else first[:157] + "…"


def conform(lf: pl.LazyFrame, table: Table, file: str) -> tuple[LoadedTable | None, list[Problem]]:
    """Read ``lf`` conformed to ``table``'s declaration.

    Parameters
    ----------
    lf : polars.LazyFrame
        The table as scanned (or an in-memory frame made lazy).
    table : Table
        Its schema declaration.
    file : str
        Name used in messages.

    Returns
    -------
    loaded : LoadedTable or None
        ``None`` when the input cannot be read at all.
    problems : list of Problem
        Unreadable input, or values that do not convert to their column's type.
    """
    try:
        src = lf.collect_schema()
        plan, missing, flags = _plan(lf, src, table)
        df = plan.collect()
    except _READ_ERRORS as exc:
        return None, [Problem(file, None, f"unreadable: {_reason(exc)}")]
    type_bad = {}
    for name in flags:
        mask = df.get_column(f"__bad__{name}")
        if mask.any():
            type_bad[name] = mask
    df = df.drop([f"__bad__{n}" for n in flags])
    loaded = LoadedTable(table, file, df, missing, type_bad)
    if not type_bad:
        return loaded, []
    try:
        return loaded, _type_problems(lf, loaded, src)
    except _READ_ERRORS as exc:  # pragma: no cover - the file was readable a moment ago
        return loaded, [Problem(file, None, f"unreadable: {_reason(exc)}")]


def separator(path: Path, table: Table) -> str:
    """The separator of the CSV file at ``path``, from its header line.

    The one of :data:`SEPARATORS` that splits the header into the most of ``table``'s column
    names wins (then the one giving the most fields, then the first listed), so a
    semicolon-separated file is read as such even when its names contain commas.
    """
    try:
        with path.open("rb") as f:
            head = f.readline(1 << 16).decode("utf-8", errors="replace").removeprefix("\ufeff")
    except OSError:
        return SEPARATORS[0]  # reading the file will say what is wrong
    names = set(table.column_names)

    def score(sep: str) -> tuple[int, int]:
        fields = [x.strip().strip('"').strip() for x in head.rstrip("\r\n").split(sep)]
        return sum(x in names for x in fields), len(fields)

    return max(SEPARATORS, key=score)  # max keeps the first of equal scores


def _scan(path: Path, table: Table) -> pl.LazyFrame:
    if path.suffix == ".parquet":
        return pl.scan_parquet(path)
    sep = separator(path, table)
    return pl.scan_csv(path, separator=sep, infer_schema=False, encoding="utf8")


def _find(folder: Path, table: Table) -> tuple[Path | None, Problem | None]:
    """The file holding ``table`` in ``folder``, or the problem with finding it."""
    found = [p for p in (folder / f"{table.name}.{ext}" for ext in FORMATS) if p.exists()]
    if len(found) > 1:
        names = " and ".join(p.name for p in found)
        return None, Problem(table.name, None, f"both {names} exist: keep one")
    if not found:
        if table.required:
            expected = " or ".join(f"{table.name}.{ext}" for ext in FORMATS)
            return None, Problem(table.name, None, f"missing table: expected {expected}")
        return None, None
    return found[0], None


def _workbook_in(folder: Path) -> tuple[Path | None, list[Problem]]:
    """The workbook holding the book in ``folder`` (``None`` for a book of table files).

    A folder holds either one file per table or exactly one workbook; Excel's lock files
    (``~$book.xlsx``, present while the workbook is open) are not workbooks.
    """
    try:
        books = sorted(
            p
            for p in folder.iterdir()
            if p.suffix.lower() == f".{WORKBOOK}" and p.is_file() and not p.name.startswith("~$")
        )
    except OSError:
        return None, []  # reading the tables will say what is wrong
    if not books:
        return None, []
    if len(books) > 1:
        names = ", ".join(p.name for p in books)
        return None, [Problem(str(folder), None, f"{len(books)} workbooks ({names}): keep one")]
    tables = sorted(
        p.name for t in TABLES for p in (folder / f"{t}.{ext}" for ext in FORMATS) if p.exists()
    )
    if tables:
        rule = (
            f"both the workbook {books[0].name} and table files ({', '.join(tables)}) exist: "
            "a book is one workbook or one file per table, keep one"
        )
        return None, [Problem(str(folder), None, rule)]
    return books[0], []


def _load_files(folder: Path) -> tuple[dict[str, LoadedTable], list[Problem]]:
    """Read and conform the table files (Parquet or CSV) in ``folder``."""
    problems: list[Problem] = []
    loaded: dict[str, LoadedTable] = {}
    for table in TABLES.values():
        file, problem = _find(folder, table)
        if problem is not None:
            problems.append(problem)
        if file is None:
            continue
        t, found = conform(_scan(file, table), table, file.name)
        problems += found
        if t is not None:
            loaded[table.name] = t
    return loaded, problems


def _load_workbook(path: Path) -> tuple[dict[str, LoadedTable], list[Problem]]:
    """Read and conform the sheets of the workbook at ``path``, one per table."""
    errors = _READ_ERRORS + excel.read_errors()
    try:
        sheets = excel.sheet_names(path)
    except errors as exc:
        return {}, [Problem(path.name, None, f"unreadable: {_reason(exc)}")]
    problems: list[Problem] = []
    loaded: dict[str, LoadedTable] = {}
    for table in TABLES.values():
        label = excel.sheet_label(path, table.name)
        if table.name not in sheets:
            if table.required:
                similar = [n for n in sheets if n.strip().lower() == table.name]
                hint = f" (found {', '.join(map(repr, similar))}: names are case-sensitive)"
                rule = f"missing table: expected a sheet named {table.name!r}"
                problems.append(Problem(label, None, rule + (hint if similar else "")))
            continue
        try:
            frame = excel.read_sheet(path, table)
        except errors as exc:
            problems.append(Problem(label, None, f"unreadable: {_reason(exc)}"))
            continue
        t, found = conform(frame.lazy(), table, label)
        problems += found
        if t is not None:
            loaded[table.name] = t
    return loaded, problems


def _finish(
    loaded: dict[str, LoadedTable],
    problems: list[Problem],
    reporting_currency: str,
    source: str | None,
    path: Path | None,
) -> Book:
    problems = problems + find_problems(loaded, reporting_currency=reporting_currency)
    if problems:
        raise BookError(problems, source=source)
    frames = {name: t.frame for name, t in loaded.items()}
    return Book(**frames, path=path, files={name: t.file for name, t in loaded.items()})


def load_book(path: str | os.PathLike[str], *, reporting_currency: str = "EUR") -> Book:
    """Load and validate the book at ``path``: a folder of table files, or one workbook.

    Parameters
    ----------
    path : str or path-like
        Folder holding ``buyers``, ``exposures``, ``policies``, ``countries`` and optionally
        ``fx`` and ``factor_loadings``, each as ``<table>.parquet`` or ``<table>.csv``; or an
        ``.xlsx`` workbook with one sheet per table, named as the table (or a folder holding
        exactly one such workbook and no table files).
    reporting_currency : str
        ISO 4217 code results are reported in; every other currency used needs an fx rate
        (units of the reporting currency per unit).

    Returns
    -------
    Book
        Every table with every declared column at its declared dtype, defaults filled;
        ``files`` names each table's file (``buyers.csv``) or sheet (``book.xlsx[buyers]``).

    Raises
    ------
    BookError
        Listing every problem found (unreadable or missing files, missing columns, type errors,
        broken rules), each naming the file, the column, the rule and the first offending ids.
    """
    given = Path(path)
    if given.is_file() and given.suffix.lower() == f".{WORKBOOK}":
        loaded, problems = _load_workbook(given)
    elif given.is_dir():
        workbook, problems = _workbook_in(given)
        if problems:
            raise BookError(problems, source=str(given))
        loaded, problems = _load_workbook(workbook) if workbook else _load_files(given)
    else:
        if given.exists():
            what = f"the book is not a folder (nor an .{WORKBOOK} workbook)"
        elif given.suffix.lower() == f".{WORKBOOK}":
            what = "the book workbook does not exist"
        else:
            what = "the book folder does not exist"
        raise BookError([Problem(str(given), None, what)], source=str(given))
    return _finish(loaded, problems, reporting_currency, str(given), given)


def from_frames(
    buyers: pl.DataFrame | pl.LazyFrame,
    exposures: pl.DataFrame | pl.LazyFrame,
    policies: pl.DataFrame | pl.LazyFrame,
    countries: pl.DataFrame | pl.LazyFrame,
    fx: pl.DataFrame | pl.LazyFrame | None = None,
    factor_loadings: pl.DataFrame | pl.LazyFrame | None = None,
    *,
    reporting_currency: str = "EUR",
) -> Book:
    """Build a validated :class:`Book` from in-memory Polars frames.

    Applies exactly the casting, defaults and rules of :func:`load_book`; messages name the
    tables (``buyers``, …) instead of files.

    Parameters
    ----------
    buyers, exposures, policies, countries : polars.DataFrame or polars.LazyFrame
        The required tables.
    fx, factor_loadings : polars.DataFrame or polars.LazyFrame, optional
        The optional tables.
    reporting_currency : str
        ISO 4217 code results are reported in.

    Returns
    -------
    Book

    Raises
    ------
    BookError
        Listing every problem found.
    """
    given = {
        "buyers": buyers,
        "exposures": exposures,
        "policies": policies,
        "countries": countries,
        "fx": fx,
        "factor_loadings": factor_loadings,
    }
    problems: list[Problem] = []
    loaded: dict[str, LoadedTable] = {}
    for name, frame in given.items():
        if frame is None:
            continue
        t, found = conform(frame.lazy(), TABLES[name], name)
        problems += found
        if t is not None:
            loaded[name] = t
    return _finish(loaded, problems, reporting_currency, "in-memory book", None)


def read_table(
    path: str | os.PathLike[str] | pl.DataFrame, table: Table, name: str | None = None
) -> tuple[pl.DataFrame | None, list[Problem]]:
    """Read one file (Parquet, CSV of any supported separator) — or conform an in-memory frame
    (messages then call it ``name``) — as a table declared like a book's (``table``: a
    :class:`~riskengine.book.schema.Table`), checked by its single-table rules: the same casts
    and messages as a book's files.

    Returns
    -------
    frame : polars.DataFrame or None
        Every declared column at its type; None when the file cannot be read.
    problems : list of Problem
        Everything wrong with it (empty when the frame can be used).
    """
    from .validate import table_problems

    if isinstance(path, pl.DataFrame):
        file = name or table.name
        loaded, problems = conform(path.lazy(), table, file)
    else:
        path = Path(path)
        file = path.name
        if not path.is_file():
            return None, [Problem(str(path), None, "file not found")]
        if path.suffix not in (".parquet", ".csv"):
            return None, [Problem(str(path), None, "expected a .parquet or .csv file")]
        loaded, problems = conform(_scan(path, table), table, file)
    if loaded is None:
        return None, problems
    problems += table_problems(loaded)
    missing = sorted(loaded.missing)
    if missing:
        problems.append(Problem(file, None, f"missing required columns: {', '.join(missing)}"))
    return loaded.frame, problems
