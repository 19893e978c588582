"""The ``validate`` and ``generate-book`` commands, run through ``main`` as the console script does.

The Done-when corpus: each bad book exits with code 2, the message names the column and the
offending ids, and no traceback is printed.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import riskengine.book
from reference.testing import run_cli
from riskengine.book import load_book
from riskengine.book.summary import summarize

Frames = dict[str, pl.DataFrame]


def _with(frames: Frames, table: str, row_id: str, column: str, value: Any) -> Frames:
    df = frames[table]
    key = df.columns[0]
    frames[table] = df.with_columns(
        pl.when(pl.col(key) == row_id).then(pl.lit(value)).otherwise(pl.col(column)).alias(column)
    )
    return frames


def _corrupt_policies(frames: Frames) -> Frames:
    return frames  # the file is overwritten after writing (see test)


# (id, mutation, words the message must contain)
CORPUS: list[tuple[str, Callable[[Frames], Frames], list[str]]] = [
    (
        "pd 1.5",
        lambda f: _with(f, "buyers", "B2", "pd", 1.5),
        ["buyers.parquet", "'pd'", "0 < pd < 1", "B2"],
    ),
    (
        "negative limit",
        lambda f: _with(f, "exposures", "E3", "limit", -100.0),
        ["exposures.parquet", "'limit'", "0 < limit", "E3"],
    ),
    (
        "unknown country",
        lambda f: _with(f, "buyers", "B4", "country", "XX"),
        ["buyers.parquet", "'country'", "ISO 3166-1", "'XX'", "B4"],
    ),
    (
        "exposure to missing buyer",
        lambda f: _with(f, "exposures", "E4", "buyer_id", "B99"),
        ["exposures.parquet", "'buyer_id'", "'B99'", "E4"],
    ),
    (
        "duplicate id",
        lambda f: _with(f, "buyers", "B3", "buyer_id", "B2"),
        ["buyers.parquet", "'buyer_id'", "unique", "B2"],
    ),
    (
        "indemnity above 1",
        lambda f: _with(f, "policies", "P1", "indemnity", 1.2),
        ["policies.parquet", "'indemnity'", "indemnity ≤ 1", "P1"],
    ),
    (
        "currency without fx rate",
        lambda f: _with(f, "policies", "P3", "currency", "JPY"),
        ["policies.parquet", "'currency'", "'JPY'", "P3"],
    ),
    (
        "missing required column",
        lambda f: {**f, "buyers": f["buyers"].drop("sector")},
        ["buyers.parquet", "'sector'", "required column is missing"],
    ),
    ("corrupt parquet", _corrupt_policies, ["policies.parquet", "unreadable"]),
]


@pytest.mark.parametrize(("mutate", "words"), [pytest.param(*c[1:], id=c[0]) for c in CORPUS])
def test_bad_book_exits_2_naming_column_and_ids(
    frames: Frames,
    book_dir: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    mutate: Callable[[Frames], Frames],
    words: list[str],
) -> None:
    folder = book_dir(mutate(frames), "parquet")
    if mutate is _corrupt_policies:
        (folder / "policies.parquet").write_bytes((folder / "policies.parquet").read_bytes()[:40])
    code, out, err = run_cli(["validate", str(folder)], capsys)
    assert code == 2
    assert out == ""
    assert err.startswith("error: ")
    for word in words:
        assert word in err, err
    assert "Traceback" not in out + err


def test_console_script_exit_code_and_no_traceback(
    frames: Frames, book_dir: Callable[..., Path]
) -> None:
    """The real process: exit status 2, the message on stderr, no traceback."""
    folder = book_dir(_with(frames, "buyers", "B2", "pd", 1.5), "csv")
    proc = subprocess.run(
        [sys.executable, "-m", "riskengine.cli", "validate", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert "buyers.csv: column 'pd': 0 < pd < 1 — 1 row (first: B2 = 1.5)" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


def test_validate_good_book_prints_summary(
    tiny_book_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(["validate", str(tiny_book_dir)], capsys)
    assert (code, err) == (0, "")
    assert "valid book" in out
    assert "5 buyers, 6 exposures, 3 policies, 4 countries, 3 fx rates" in out
    # 150,000 EUR + 280,000 USD × 0.86 + 50,000 GBP × 1.15
    assert "total limit: 448,300 EUR" in out
    for heading in (
        "Limit by currency",
        "Limit by region",
        "Limit by country risk grade",
        "PD by rating",
    ):
        assert heading in out
    assert "East Asia & Pacific" in out and "CCC" in out


def test_validate_reporting_currency_option(
    tiny_book_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(["validate", str(tiny_book_dir), "--reporting-currency", "USD"], capsys)
    assert code == 2
    assert "fx.csv: column 'rate'" in err and "(first: USD = 0.86)" in err


def test_summary_figures(tiny_book_dir: Path) -> None:
    s = summarize(load_book(tiny_book_dir))
    assert s.total_limit == pytest.approx(448_300.0, rel=1e-12)
    by_ccy = dict(
        zip(s.by_currency.get_column("currency"), s.by_currency.get_column("limit"), strict=True)
    )
    assert by_ccy == pytest.approx({"EUR": 150_000.0, "USD": 240_800.0, "GBP": 57_500.0}, rel=1e-12)
    by_region = dict(
        zip(s.by_region.get_column("region"), s.by_region.get_column("limit"), strict=True)
    )
    assert by_region == pytest.approx(
        {
            "Western Europe": 150_000.0 + 23_000.0,
            "North America": 172_000.0,
            "East Asia & Pacific": 68_800.0 + 34_500.0,
        },
        rel=1e-12,
    )
    # grade 0: DE, FR and US (173,000 + 172,000); grade 2: CN (103,300)
    by_grade = dict(
        zip(
            s.by_risk_grade.get_column("risk_grade"),
            s.by_risk_grade.get_column("share"),
            strict=True,
        )
    )
    assert by_grade == pytest.approx(
        {0: 345_000.0 / 448_300.0, 2: 103_300.0 / 448_300.0}, rel=1e-12
    )
    rating = s.by_rating.filter(pl.col("rating").is_null())
    assert rating.get_column("buyers").to_list() == [1] and rating.get_column(
        "pd_mean"
    ).to_list() == [0.01]


def test_generate_book_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "sample"
    code, out, err = run_cli(
        [
            "generate-book",
            "--buyers",
            "300",
            "--out",
            str(out_dir),
            "--seed",
            "4",
            "--format",
            "csv",
        ],
        capsys,
    )
    assert (code, err) == (0, "")
    assert "wrote sample book" in out and "buyers.csv" in out and "300" in out
    assert load_book(out_dir).buyers.height == 300
    code, out, _ = run_cli(["validate", str(out_dir)], capsys)
    assert code == 0 and "300 buyers" in out


def test_generate_book_refuses_a_foreign_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    code, _, err = run_cli(["generate-book", "--buyers", "10", "--out", str(tmp_path)], capsys)
    assert code == 2
    assert "refusing to overwrite" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["generate-book", "--buyers", "10"],
        ["generate-book", "--buyers", "0", "--out", "x"],
        ["validate"],
        ["nonsense"],
    ],
)
def test_usage_errors_exit_2_without_traceback(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(argv, capsys)
    assert code == 2
    assert "Usage" in err and "Traceback" not in out + err


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["--help"], capsys)
    assert code == 0
    assert "validate" in out and "generate-book" in out


def test_interrupt_exits_130(
    monkeypatch: pytest.MonkeyPatch, tiny_book_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(riskengine.book, "load_book", interrupted)
    code, _, err = run_cli(["validate", str(tiny_book_dir)], capsys)
    assert code == 130
    assert err.strip() == "interrupted"
