"""A book as one Excel workbook (``.xlsx``): one sheet per table, named as the table.

Reading turns each sheet into text columns for :func:`riskengine.book.load.conform`, so a
workbook is cast and validated exactly like a CSV file: Excel stores every number as a float,
so an id typed as a number (``1001``) must come back as the text ``"1001"``, and an integer
column may hold ``3.0`` but not ``3.5``. The text fastexcel gives for a number may drop digits
(``0.333333333`` for 1/3), so each numeric column is read a second time as floats and every
cell that holds a number takes the exact text of its float (Polars writes the shortest text
that reads back to the same float); a cell holding text keeps its text, which the conversion
refuses with its row, as in a CSV file.

Writing uses xlsxwriter through :meth:`polars.DataFrame.write_excel`. xlsxwriter writes numbers
with 16 significant digits, which is exact for the sample books (rounded amounts, tabulated
rates).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl

from .schema import Table

__all__ = ["MAX_ROWS", "read_errors", "read_sheet", "sheet_label", "sheet_names", "write_workbook"]

#: Data rows a worksheet holds under its header row (Excel's limit is 1,048,576 rows).
MAX_ROWS = 1_048_575

#: What fastexcel calls a column whose header cell is empty.
_UNNAMED = "__UNNAMED__"

#: Read every row and column as they are; empty rows and unnamed empty columns are dropped after
#: the two reads of a sheet are aligned row by row.
_READ = {
    "engine": "calamine",
    "drop_empty_rows": False,
    "drop_empty_cols": False,
    "raise_if_empty": False,
}


def sheet_label(path: Path, table: str) -> str:
    """How messages name a table's sheet: ``book.xlsx[buyers]``."""
    return f"{path.name}[{table}]"


def read_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean a workbook or sheet cannot be read."""
    import fastexcel

    return (fastexcel.FastExcelError, pl.exceptions.PolarsError, OSError, ValueError)


def sheet_names(path: Path) -> list[str]:
    """Names of the sheets of the workbook at ``path``, in workbook order."""
    import fastexcel

    return list(fastexcel.read_excel(path).sheet_names)


def read_sheet(path: Path, table: Table) -> pl.DataFrame:
    """The sheet named ``table.name`` as text columns, numbers written exactly.

    Parameters
    ----------
    path : pathlib.Path
        The workbook.
    table : Table
        The table the sheet holds; its numeric (float and integer) columns are read twice.

    Returns
    -------
    polars.DataFrame
        Every column as ``String``; empty cells are null; rows with no value at all and
        unnamed columns with no value are left out.

    Raises
    ------
    Exception
        One of :func:`read_errors` when the sheet cannot be read.
    """
    text = pl.read_excel(path, sheet_name=table.name, read_options={"dtypes": "string"}, **_READ)
    numeric = [
        c.name
        for c in table.columns
        if c.dtype in (pl.Float64, pl.Int64) and c.name in text.columns
    ]
    if numeric and text.height:
        floats = pl.read_excel(
            path,
            sheet_name=table.name,
            read_options={"use_columns": numeric},
            # declared, so that fastexcel reads floats and Polars keeps them floats
            schema_overrides=dict.fromkeys(numeric, pl.Float64),
            **_READ,
        )
        if floats.height != text.height:  # pragma: no cover - both reads span the used range
            raise ValueError(f"sheet {table.name!r} changed between two reads")
        exact = []
        for name in numeric:
            value = floats.get_column(name)
            is_number = pl.col(name).str.strip_chars().cast(pl.Float64, strict=False).is_not_null()
            exact.append(
                pl.when(is_number & pl.lit(value).is_not_null())
                .then(pl.lit(value).cast(pl.String))
                .otherwise(pl.col(name))
                .alias(name)
            )
        text = text.with_columns(exact)
    empty = [
        c for c in text.columns if c.startswith(_UNNAMED) and text.get_column(c).is_null().all()
    ]
    text = text.drop(empty)
    if text.width:
        text = text.filter(~pl.all_horizontal(pl.all().is_null()))
    return text


def write_workbook(tables: Mapping[str, pl.DataFrame], path: Path) -> None:
    """Write ``tables`` into a new workbook at ``path``, one sheet per table, named by its key.

    Numbers are stored as numbers (shown in Excel's General format), booleans as booleans, null
    as an empty cell.

    Raises
    ------
    ValueError
        If a table has more rows than a worksheet holds (:data:`MAX_ROWS`).
    """
    import xlsxwriter

    for name, df in tables.items():
        if df.height > MAX_ROWS:
            raise ValueError(
                f"table {name} has {df.height:,} rows: an .xlsx sheet holds at most {MAX_ROWS:,}"
            )
    general = {pl.Float64: "General", pl.Int64: "General"}
    with xlsxwriter.Workbook(path) as wb:
        for name, df in tables.items():
            df.write_excel(
                wb,
                worksheet=name,
                dtype_formats=general,
                table_style=None,
                autofilter=False,
                autofit=False,
            )
