"""Loading: casting to the schema, defaults, extra columns, CSV = Parquet = in-memory frames."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import riskengine
from riskengine.book import Book, from_frames, generate_book, load_book
from riskengine.book.schema import TABLES
from riskengine.errors import BookError

Frames = dict[str, pl.DataFrame]


def _assert_conformed(book: Book) -> None:
    for name, df in book.tables().items():
        table = TABLES[name]
        assert df.columns[: len(table.columns)] == table.column_names
        assert {c: df.schema[c] for c in table.column_names} == table.polars_schema


def _assert_books_equal(a: Book, b: Book) -> None:
    assert a.tables().keys() == b.tables().keys()
    for name in a.tables():
        assert_frame_equal(a.tables()[name], b.tables()[name])


def test_tiny_book_conforms_with_defaults(tiny_book_dir: Path) -> None:
    book = load_book(tiny_book_dir)
    _assert_conformed(book)
    exp, pol = book.exposures, book.policies
    # absent column with a constant default: added, filled
    assert exp.get_column("commercial_cover").to_list() == [True] * 6
    assert pol.get_column("nql").to_list() == [0.0] * 3
    # present column with nulls and a constant default: nulls filled
    assert exp.get_column("political_cover").to_list() == [True, True, True, True, False, True]
    assert pol.get_column("indemnity").to_list() == [0.9, 0.95, 0.9]
    assert pol.get_column("deductible").to_list() == [0.0, 1000.0, 0.0]
    # no constant default: nulls stay (resolved from the scenario at compile time)
    assert exp.get_column("utilization").to_list() == [None, 0.5, None, None, None, 1.0]
    assert pol.get_column("max_liability").null_count() == 3
    assert book.countries.get_column("political_pd").null_count() == 4
    assert book.files == {
        n: f"{n}.csv" for n in ("buyers", "exposures", "policies", "countries", "fx")
    }
    assert book.path == tiny_book_dir
    assert book.factor_loadings is None


def test_csv_and_parquet_load_to_equal_frames(
    frames: Frames, book_dir: Callable[..., Path]
) -> None:
    csv = load_book(book_dir(frames, "csv", "as_csv"))
    parquet = load_book(book_dir(frames, "parquet", "as_parquet"))
    _assert_books_equal(csv, parquet)
    assert parquet.files["buyers"] == "buyers.parquet"


def test_generated_book_csv_and_parquet_load_equal(tmp_path: Path) -> None:
    generate_book(3_000, seed=5, out=tmp_path / "csv", fmt="csv")
    generate_book(3_000, seed=5, out=tmp_path / "parquet", fmt="parquet")
    csv, parquet = load_book(tmp_path / "csv"), load_book(tmp_path / "parquet")
    _assert_books_equal(csv, parquet)
    _assert_books_equal(parquet, generate_book(3_000, seed=5))


def test_from_frames_equals_load_book(frames: Frames, book_dir: Callable[..., Path]) -> None:
    loaded = load_book(book_dir(frames, "parquet"))
    built = from_frames(**frames)
    _assert_books_equal(built, loaded)
    assert built.path is None and built.files["buyers"] == "buyers"
    lazy = from_frames(**{k: v.lazy() for k, v in frames.items()})
    _assert_books_equal(lazy, loaded)


def test_extra_columns_are_kept_after_declared_ones(
    frames: Frames, book_dir: Callable[..., Path]
) -> None:
    frames["buyers"] = frames["buyers"].with_columns(note=pl.lit("x"), score=pl.lit(7))
    book = load_book(book_dir(frames))
    assert book.buyers.columns[-2:] == ["note", "score"]
    assert book.buyers.get_column("note").to_list() == ["x"] * 5
    _assert_conformed(book)


def test_csv_lenient_spellings(book_dir: Callable[..., Path], frames: Frames) -> None:
    folder = book_dir(frames)
    (folder / "countries.csv").write_text(
        "country,region,risk_grade,political_pd\nDE,Western Europe,0.0, 0.001\n"
        "FR,Western Europe,0,\nUS,North America,0,0\nCN,East Asia & Pacific, 2 ,0.0005\n"
    )
    (folder / "exposures.csv").write_text(
        "exposure_id,policy_id,buyer_id,limit,commercial_cover,political_cover\n"
        "E1,P1,B1, 1000 ,yes,T\nE2,P1,B2,2e3,NO,f\nE3,P2,B3,5,1,0\n"
        "E4,P2,B4,5,TRUE,False\nE5,P3,B5,5,,\n"
    )
    book = load_book(folder)
    assert book.countries.get_column("risk_grade").to_list() == [0, 0, 0, 2]
    assert book.countries.get_column("political_pd").to_list() == [0.001, None, 0.0, 0.0005]
    assert book.exposures.get_column("limit").to_list() == [1000.0, 2000.0, 5.0, 5.0, 5.0]
    assert book.exposures.get_column("commercial_cover").to_list() == [
        True,
        False,
        True,
        True,
        True,
    ]
    assert book.exposures.get_column("political_cover").to_list() == [
        True,
        False,
        False,
        False,
        True,
    ]


def test_parquet_compatible_dtypes_are_cast(frames: Frames, book_dir: Callable[..., Path]) -> None:
    frames["countries"] = frames["countries"].with_columns(
        pl.col("risk_grade").cast(pl.Int32),
        pl.col("country").cast(pl.Categorical),
        political_pd=pl.lit(None),  # an all-null column of the Null type
    )
    frames["exposures"] = frames["exposures"].with_columns(
        pl.col("limit").cast(pl.Int64),
        pl.col("political_cover").cast(pl.Int8),
    )
    frames["buyers"] = frames["buyers"].with_columns(pl.col("pd").cast(pl.Float32))
    book = load_book(book_dir(frames, "parquet"))
    _assert_conformed(book)
    assert book.exposures.get_column("limit").to_list()[0] == 100_000.0
    assert book.exposures.get_column("political_cover").to_list() == [
        True,
        True,
        True,
        True,
        False,
        True,
    ]
    assert book.buyers.get_column("pd").to_list()[0] == pytest.approx(0.01)


@pytest.mark.parametrize(
    ("table", "column", "values", "expected"),
    [
        pytest.param(
            "exposures",
            "limit",
            pl.Series(["1", "abc", "3", "4", "x", "6"]),
            ("E2", "E5"),
            id="text in a number",
        ),
        pytest.param(
            "countries",
            "risk_grade",
            pl.Series([0.0, 0.0, 0.5, 2.0]),
            ("US",),
            id="fraction in an integer",
        ),
        pytest.param(
            "exposures",
            "political_cover",
            pl.Series([1, 2, 0, 1, 1, 1]),
            ("E2",),
            id="2 as a boolean",
        ),
        pytest.param(
            "buyers",
            "sector",
            pl.Series([[1], [2], [3], [4], [5]]),
            ("B1", "B2", "B3", "B4", "B5"),
            id="nested",
        ),
        pytest.param(
            "buyers",
            "sector",
            pl.Series([1.5, 2.0, 3.0, 4.0, 5.0]),
            ("B1", "B2", "B3", "B4", "B5"),
            id="float as text",
        ),
    ],
)
def test_parquet_type_errors_name_rows(
    frames: Frames,
    book_dir: Callable[..., Path],
    table: str,
    column: str,
    values: pl.Series,
    expected: tuple[str, ...],
) -> None:
    frames[table] = frames[table].with_columns(values.alias(column))
    with pytest.raises(BookError) as info:
        load_book(book_dir(frames, "parquet"))
    problems = [p for p in info.value.problems if p.column == column]
    assert len(problems) == 1, info.value
    assert problems[0].file == f"{table}.parquet"
    assert problems[0].rule.startswith("type: must be")
    assert problems[0].examples == expected


def test_ids_fall_back_to_row_numbers_when_the_key_is_missing(
    frames: Frames, book_dir: Callable[..., Path]
) -> None:
    frames["exposures"] = (
        frames["exposures"]
        .drop("exposure_id")
        .with_columns(pl.Series("limit", [1.0, -1.0, 1.0, 1.0, 1.0, -2.0]))
    )
    with pytest.raises(BookError) as info:
        load_book(book_dir(frames))
    by_rule = {p.rule: p for p in info.value.problems}
    assert by_rule["required column is missing"].column == "exposure_id"
    assert by_rule["0 < limit ≤ 1e15"].examples == ("row 2", "row 6")


def test_public_exports() -> None:
    assert riskengine.load_book is load_book
    assert "load_book" in riskengine.__all__ and "__version__" in riskengine.__all__
    with pytest.raises(AttributeError):
        _ = riskengine.no_such_thing
