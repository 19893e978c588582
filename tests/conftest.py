"""Shared fixtures. Keep each section small; add new sections below the existing ones."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from riskengine.book import Book, generate_book

# --------------------------------------------------------------------------------------------
# Books
# --------------------------------------------------------------------------------------------


def tiny_frames() -> dict[str, pl.DataFrame]:
    """A small valid book as raw frames (only some optional columns given), fresh on each call.

    Buyers B1..B5 in DE, FR, US, CN (CN grade 2); policies P1 (EUR), P2 (USD), P3 (GBP);
    exposures E1..E6; fx for USD and GBP (EUR is the reporting currency).
    """
    return {
        "buyers": pl.DataFrame(
            {
                "buyer_id": ["B1", "B2", "B3", "B4", "B5"],
                "country": ["DE", "FR", "US", "CN", "CN"],
                "sector": ["C", "G", "F", "C", "H"],
                "rating": [None, "BB", "B", "CCC", "BB"],
                "pd": [0.01, None, 0.02, None, None],
                "lgd": [None, None, 0.5, None, None],
                "lgd_sd": [None, None, 0.2, None, None],
                "group_id": [None, None, None, "G1", "G1"],
            }
        ),
        "exposures": pl.DataFrame(
            {
                "exposure_id": ["E1", "E2", "E3", "E4", "E5", "E6"],
                "policy_id": ["P1", "P1", "P2", "P2", "P3", "P3"],
                "buyer_id": ["B1", "B2", "B3", "B4", "B5", "B1"],
                "limit": [100_000.0, 50_000.0, 200_000.0, 80_000.0, 30_000.0, 20_000.0],
                "utilization": [None, 0.5, None, None, None, 1.0],
                "currency": [None, None, "USD", None, None, None],
                "political_cover": [True, True, True, True, False, None],
            }
        ),
        "policies": pl.DataFrame(
            {
                "policy_id": ["P1", "P2", "P3"],
                "currency": ["EUR", "USD", "GBP"],
                "indemnity": [None, 0.95, 0.9],
                "deductible": [0.0, 1_000.0, None],
                "premium": [2_000.0, 3_000.0, 500.0],
            }
        ),
        "countries": pl.DataFrame(
            {
                "country": ["DE", "FR", "US", "CN"],
                "region": [
                    "Western Europe",
                    "Western Europe",
                    "North America",
                    "East Asia & Pacific",
                ],
                "risk_grade": [0, 0, 0, 2],
            }
        ),
        "fx": pl.DataFrame({"currency": ["USD", "GBP", "EUR"], "rate": [0.86, 1.15, 1.0]}),
    }


def write_tables(folder: Path, frames: dict[str, pl.DataFrame], fmt: str = "csv") -> Path:
    """Write ``frames`` into ``folder`` as ``<table>.<fmt>``; returns ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in frames.items():
        if fmt == "csv":
            df.write_csv(folder / f"{name}.csv")
        else:
            df.write_parquet(folder / f"{name}.parquet")
    return folder


@pytest.fixture
def frames() -> dict[str, pl.DataFrame]:
    """Fresh :func:`tiny_frames` to modify in a test."""
    return tiny_frames()


@pytest.fixture
def tiny_book_dir(tmp_path: Path) -> Path:
    """The tiny valid book written as CSV files into a temporary folder."""
    return write_tables(tmp_path / "tiny", tiny_frames(), "csv")


@pytest.fixture
def book_dir(tmp_path: Path) -> Callable[..., Path]:
    """Factory: ``book_dir(frames, fmt="csv", name="book")`` writes frames to a fresh folder."""

    def make(frames: dict[str, pl.DataFrame], fmt: str = "csv", name: str = "book") -> Path:
        return write_tables(tmp_path / name, frames, fmt)

    return make


@pytest.fixture(scope="session")
def sample_book_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated 20,000-buyer sample book (seed 11) written as Parquet, shared by the session.

    Read-only: tests that modify a book copy it first.
    """
    out = tmp_path_factory.mktemp("sample") / "book"
    generate_book(20_000, seed=11, out=out)
    return out


@pytest.fixture(scope="session")
def sample_book_200k() -> Book:
    """A generated 200,000-buyer sample book (seed 2026), in memory, shared by the session."""
    return generate_book(200_000, seed=2026)
