"""The in-memory book: Arrow-backed Polars frames, one per table of the book schema."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

__all__ = ["Book"]


@dataclass
class Book:
    """A validated book.

    Every table carries every column its :class:`~riskengine.book.schema.Table` declares, cast to
    the declared dtype; optional columns absent from the file are present, filled with the
    column's constant default or null (nulls are resolved from the scenario at compile time).

    Attributes
    ----------
    buyers, exposures, policies, countries : polars.DataFrame
        The required tables.
    fx, factor_loadings : polars.DataFrame or None
        The optional tables (``None`` when the book has no such file).
    path : pathlib.Path or None
        Folder (or workbook) the book was loaded from.
    files : dict of str to str
        File name each table was read from, or its sheet (``book.xlsx[buyers]``), for messages.
    """

    buyers: pl.DataFrame
    exposures: pl.DataFrame
    policies: pl.DataFrame
    countries: pl.DataFrame
    fx: pl.DataFrame | None = None
    factor_loadings: pl.DataFrame | None = None
    path: Path | None = None
    files: dict[str, str] = field(default_factory=dict)

    def tables(self) -> dict[str, pl.DataFrame]:
        """The tables present, by name."""
        out = {
            "buyers": self.buyers,
            "exposures": self.exposures,
            "policies": self.policies,
            "countries": self.countries,
        }
        if self.fx is not None:
            out["fx"] = self.fx
        if self.factor_loadings is not None:
            out["factor_loadings"] = self.factor_loadings
        return out

    def content_hash(self) -> str:
        """SHA-256 of the tables' contents (order-sensitive), for run metadata."""
        h = hashlib.sha256()
        for name, df in sorted(self.tables().items()):
            h.update(name.encode())
            buf = io.BytesIO()
            df.write_ipc(buf, compression="uncompressed")
            h.update(buf.getvalue())
        return h.hexdigest()
