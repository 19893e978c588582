"""Book files as spreadsheets write them: CSV with other separators, decimal commas, workbooks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from polars.testing import assert_frame_equal

from riskengine.book import Book, generate_book, load_book
from riskengine.book import excel as book_excel
from riskengine.book.generate import WORKBOOK_NAME, write_book
from riskengine.book.load import separator
from riskengine.book.schema import TABLES
from riskengine.errors import BookError, OutputError, Problem

Frames = dict[str, pl.DataFrame]


def _books_equal(a: Book, b: Book) -> None:
    assert a.tables().keys() == b.tables().keys()
    for name, df in a.tables().items():
        assert_frame_equal(df, b.tables()[name])


def _problems(path: Path) -> list[Problem]:
    with pytest.raises(BookError) as info:
        load_book(path)
    return info.value.problems


def _with(frames: Frames, table: str, **columns: list[object]) -> Frames:
    return {
        **frames,
        table: frames[table].with_columns(pl.Series(k, v) for k, v in columns.items()),
    }


# --------------------------------------------------------------------------------------------
# CSV separators
# --------------------------------------------------------------------------------------------


def _write_csv(folder: Path, frames: Frames, sep: str, bom: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in frames.items():
        text = df.write_csv(separator=sep)
        (folder / f"{name}.csv").write_bytes(("\ufeff" if bom else "").encode() + text.encode())
    return folder


@pytest.mark.parametrize(("sep", "bom"), [(";", False), (";", True), ("\t", False), (",", True)])
def test_csv_separator_is_detected(
    tmp_path: Path, frames: Frames, book_dir: Callable[..., Path], sep: str, bom: bool
) -> None:
    expected = load_book(book_dir(frames, "parquet"))
    got = load_book(_write_csv(tmp_path / "sep", frames, sep, bom))
    _books_equal(got, expected)


def test_separator_is_chosen_by_the_declared_names(tmp_path: Path) -> None:
    f = tmp_path / "buyers.csv"
    f.write_text('"buyer_id";"country";"sector";"note, with comma";pd\nB1;DE;C;x, y;0.01\n')
    assert separator(f, TABLES["buyers"]) == ";"
    f.write_text("buyer_id,country,sector\n")
    assert separator(f, TABLES["buyers"]) == ","
    f.write_text("something else entirely\n")
    assert separator(f, TABLES["buyers"]) == ","  # no names found: the default


def test_semicolon_book_is_validated_like_any_other(tmp_path: Path, frames: Frames) -> None:
    frames = _with(frames, "buyers", pd=[0.01, None, 1.5, None, None])
    (problem,) = _problems(_write_csv(tmp_path / "sep", frames, ";"))
    assert (problem.file, problem.column, problem.examples) == ("buyers.csv", "pd", ("B3",))


# --------------------------------------------------------------------------------------------
# Decimal commas: one message that says how to fix them
# --------------------------------------------------------------------------------------------


def _decimal_comma_book(tmp_path: Path, frames: Frames) -> Path:
    """``frames`` as semicolon CSV files whose numbers use a decimal comma, as in Europe."""
    folder = tmp_path / "comma"
    folder.mkdir()
    for name, df in frames.items():
        text = df.with_columns(
            pl.col(c).cast(pl.String).str.replace(r"\.", ",")
            for c, dtype in df.schema.items()
            if dtype == pl.Float64
        ).write_csv(separator=";")
        (folder / f"{name}.csv").write_text(text)
    return folder


def test_decimal_commas_are_refused_with_one_message_per_file(
    tmp_path: Path, frames: Frames
) -> None:
    frames = _with(frames, "buyers", pd=[0.015, None, 0.02, None, None])
    problems = _problems(_decimal_comma_book(tmp_path, frames))
    by_file = {p.file: p for p in problems}
    assert len(by_file) == len(problems)  # one problem per file, none per column
    buyers = by_file["buyers.csv"]
    assert buyers.column is None and buyers.examples == ("B1", "B3")
    assert str(buyers) == (
        "buyers.csv: numbers are written with a decimal comma (pd: '0,015', '0,02'; lgd: '0,5';"
        " lgd_sd: '0,2'): riskengine reads numbers with a decimal point — 2 rows"
        " (first: B1, B3) — save the file with '.' as the decimal separator (the spreadsheet's"
        " or the system's number format), or give the book as an .xlsx workbook, whose numbers"
        " need no conversion"
    )
    # integral floats (limits "100000,0") have commas too; countries (no floats here) have none
    assert {"exposures.csv", "policies.csv", "fx.csv"} <= set(by_file)
    assert "countries.csv" not in by_file


def test_other_bad_numbers_are_still_type_problems(tmp_path: Path, frames: Frames) -> None:
    frames = _with(frames, "buyers", pd=["0,015", None, "n/a", None, None])
    problems = _problems(_write_csv(tmp_path / "mixed", frames, ";"))
    assert [(p.column, p.examples) for p in problems] == [(None, ("B1",)), ("pd", ("B3",))]
    assert "decimal comma (pd: '0,015')" in problems[0].rule
    assert problems[1].rule == "type: must be a number (found: 'n/a')"


# --------------------------------------------------------------------------------------------
# Excel workbooks
# --------------------------------------------------------------------------------------------


def _workbook(path: Path, frames: Frames) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    book_excel.write_workbook(frames, path)
    return path


def test_generated_workbook_loads_to_the_parquet_book(tmp_path: Path) -> None:
    xlsx = generate_book(3_000, seed=5, out=tmp_path / "xlsx", fmt="xlsx")
    assert xlsx.files["buyers"] == "book.xlsx[buyers]"
    written = sorted(p.name for p in (tmp_path / "xlsx").iterdir())
    assert written == [".riskengine-sample-book.json", WORKBOOK_NAME]
    generate_book(3_000, seed=5, out=tmp_path / "parquet")
    parquet = load_book(tmp_path / "parquet")
    for path in (tmp_path / "xlsx", tmp_path / "xlsx" / WORKBOOK_NAME):
        book = load_book(path)
        _books_equal(book, parquet)
        assert book.files == {name: f"book.xlsx[{name}]" for name in parquet.tables()}
        assert book.path == path


def test_workbook_numbers_keep_every_digit(tmp_path: Path, frames: Frames) -> None:
    values = [1 / 3, 2 / 3, 0.123456789012345, 1e-9, 0.015]  # ≤ 16 digits: xlsxwriter writes 16
    frames = _with(frames, "buyers", pd=values)
    book = load_book(_workbook(tmp_path / "b.xlsx", frames))
    assert book.buyers.get_column("pd").to_list() == values


def test_workbook_validated_like_csv(
    tmp_path: Path, frames: Frames, book_dir: Callable[..., Path]
) -> None:
    frames = _with(
        frames, "buyers", pd=[1.5, None, -0.1, None, None], country=["DE", "FR", "US", "XX", "CN"]
    )
    frames = _with(frames, "exposures", limit=["100", "abc", "2e5", "1e300", None, "5"])
    frames = _with(frames, "countries", risk_grade=[0.0, 0.0, 3.5, 2.0])
    csv = _problems(book_dir(frames))
    xlsx = _problems(_workbook(tmp_path / "book.xlsx", frames))
    assert len(csv) == len(xlsx) == 7
    for a, b in zip(csv, xlsx, strict=True):
        assert b.file == f"book.xlsx[{a.file.removesuffix('.csv')}]"
        rule = b.rule.replace("book.xlsx[countries]", "countries.csv")  # names the other table
        assert (b.column, rule, b.n_rows, b.examples, b.values, b.hint) == (
            a.column,
            a.rule,
            a.n_rows,
            a.examples,
            a.values,
            a.hint,
        )
    assert str(xlsx[0]) == (
        "book.xlsx[exposures]: column 'limit': type: must be a number (found: 'abc')"
        " — 1 row (first: E2)"
    )


def test_workbook_numbers_as_ids_and_whole_floats_as_integers(
    tmp_path: Path, frames: Frames
) -> None:
    ids = [1001, 1002, 1003, 1004, 1005]
    frames = _with(frames, "buyers", buyer_id=ids)
    frames = _with(frames, "exposures", buyer_id=[1001, 1002, 1003, 1004, 1005, 1001])
    frames = _with(frames, "countries", risk_grade=[0.0, 0.0, 0.0, 2.0])
    book = load_book(_workbook(tmp_path / "b.xlsx", frames))
    assert book.buyers.get_column("buyer_id").to_list() == [str(i) for i in ids]
    assert book.countries.get_column("risk_grade").to_list() == [0, 0, 0, 2]


def test_workbook_text_cells_read_like_csv_text(tmp_path: Path) -> None:
    path = tmp_path / "b.xlsx"
    frames = {name: pl.DataFrame() for name in ("buyers", "exposures", "policies", "countries")}
    _workbook(path, frames)
    with xlsxwriter.Workbook(path) as wb:  # cells typed by hand, as people do
        rows = {
            "buyers": [["buyer_id", "country", "sector", "pd"], ["B1", "DE", "C", "0.01"]],
            "exposures": [
                ["exposure_id", "policy_id", "buyer_id", "limit", "political_cover"],
                ["E1", "P1", "B1", " 1000 ", "no"],
                [],  # an empty row between
                ["E2", "P1", "B1", 2500.0, True],
            ],
            "policies": [["policy_id", "currency", "", "premium"], ["P1", "EUR", None, "7"]],
            "countries": [["country", "region"], ["DE", "Western Europe"]],
        }
        for name, cells in rows.items():
            ws = wb.add_worksheet(name)
            for r, row in enumerate(cells):
                ws.write_row(r, 0, row)
    book = load_book(path)
    assert book.buyers.get_column("pd").to_list() == [0.01]
    assert book.exposures.get_column("limit").to_list() == [1000.0, 2500.0]
    assert book.exposures.get_column("political_cover").to_list() == [False, True]
    assert book.policies.columns == TABLES["policies"].column_names  # no unnamed empty column
    assert book.policies.get_column("premium").to_list() == [7.0]


def test_workbook_sheets_missing_or_misnamed(tmp_path: Path, frames: Frames) -> None:
    frames["Countries"] = frames.pop("countries")
    problems = _problems(_workbook(tmp_path / "b.xlsx", frames))
    assert [str(p) for p in problems] == [
        "b.xlsx[countries]: missing table: expected a sheet named 'countries'"
        " (found 'Countries': names are case-sensitive)"
    ]


def test_folder_with_one_workbook_and_nothing_else(tmp_path: Path, frames: Frames) -> None:
    folder = tmp_path / "book"
    _workbook(folder / "acme.xlsx", frames)
    (folder / "~$acme.xlsx").write_bytes(b"lock")  # Excel's lock file while the book is open
    (folder / "notes.txt").write_text("kept")
    assert load_book(folder).files["fx"] == "acme.xlsx[fx]"
    frames["fx"].write_csv(folder / "fx.csv")
    (problem,) = _problems(folder)
    assert problem.rule == (
        "both the workbook acme.xlsx and table files (fx.csv) exist:"
        " a book is one workbook or one file per table, keep one"
    )
    (folder / "fx.csv").unlink()
    _workbook(folder / "other.xlsx", frames)
    (problem,) = _problems(folder)
    assert problem.rule == "2 workbooks (acme.xlsx, other.xlsx): keep one"


def test_unreadable_workbook_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "b.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    (problem,) = _problems(path)
    assert problem.file == "b.xlsx" and problem.rule.startswith("unreadable: ")
    (problem,) = _problems(tmp_path / "absent.xlsx")
    assert problem.rule == "the book workbook does not exist"


def test_workbook_refuses_tables_longer_than_a_sheet(
    tmp_path: Path, frames: Frames, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = load_book(_workbook(tmp_path / "in.xlsx", frames))
    monkeypatch.setattr(book_excel, "MAX_ROWS", 5)
    with pytest.raises(OutputError, match=r"exposures has 6 rows, an .xlsx sheet holds at most 5"):
        write_book(book, tmp_path / "out", fmt="xlsx")
    assert not (tmp_path / "out").exists()
