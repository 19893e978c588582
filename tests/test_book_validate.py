"""Every book rule with a bad book: the error names the file, the column, the rule and the ids.

Each case breaks one rule of the tiny valid book (``conftest.tiny_frames``) and checks that the
single :class:`BookError` holds a problem naming the file, the column, the rule and exactly the
offending ids. The valid tiny book itself loads (``test_tiny_book_is_valid``), so every problem
a case reports comes from its change.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from riskengine.book import from_frames, load_book, validate_book
from riskengine.book.schema import MAX_AMOUNT, MAX_FX_RATE, TABLES
from riskengine.book.validate import PERCENT_HINT, book_problems
from riskengine.errors import BookError, Problem

Frames = dict[str, pl.DataFrame]


def _set(frames: Frames, table: str, row_id: str, column: str, value: Any) -> Frames:
    """Set ``column`` of the row whose first (key) column is ``row_id``; a str value turns the
    column into text (as a CSV would carry it)."""
    df = frames[table]
    key = df.columns[0]
    values = df.get_column(column).to_list() if column in df.columns else [None] * df.height
    values[df.get_column(key).to_list().index(row_id)] = value
    if isinstance(value, str) and df.schema.get(column, pl.String) != pl.String:
        values = [None if v is None else str(v) for v in values]
    frames[table] = df.with_columns(pl.Series(column, values))
    return frames


def _problems(folder: Path, **kwargs: Any) -> list[Problem]:
    with pytest.raises(BookError) as info:
        load_book(folder, **kwargs)
    assert info.value.source == str(folder)
    return info.value.problems


def _find(problems: list[Problem], file: str, column: str | None, rule: str) -> Problem:
    hits = [p for p in problems if p.file == file and p.column == column and rule in p.rule]
    assert hits, f"no problem {file}/{column}/{rule!r} among:\n" + "\n".join(map(str, problems))
    return hits[0]


def test_tiny_book_is_valid(tiny_book_dir: Path) -> None:
    book = load_book(tiny_book_dir)
    assert book.buyers.height == 5
    validate_book(book)  # a loaded book passes validation again
    assert book_problems(book) == []


# (id, mutation, file, column, rule fragment, offending ids, values quoted in the rule)
CASES: list[tuple[str, Callable[[Frames], Frames], str, str | None, str, list[str], list[str]]] = [
    (
        "pd above 1",
        lambda f: _set(f, "buyers", "B2", "pd", 1.5),
        "buyers.csv",
        "pd",
        "0 < pd < 1",
        ["B2"],
        [],
    ),
    (
        "pd zero",
        lambda f: _set(f, "buyers", "B1", "pd", 0.0),
        "buyers.csv",
        "pd",
        "0 < pd < 1",
        ["B1"],
        [],
    ),
    (
        "pd NaN",
        lambda f: _set(f, "buyers", "B3", "pd", "NaN"),
        "buyers.csv",
        "pd",
        "0 < pd < 1",
        ["B3"],
        [],
    ),
    (
        "negative limit",
        lambda f: _set(f, "exposures", "E3", "limit", -5.0),
        "exposures.csv",
        "limit",
        "0 < limit",
        ["E3"],
        [],
    ),
    (
        "infinite limit",
        lambda f: _set(f, "exposures", "E2", "limit", "inf"),
        "exposures.csv",
        "limit",
        "0 < limit",
        ["E2"],
        [],
    ),
    (
        "indemnity above 1",
        lambda f: _set(f, "policies", "P1", "indemnity", 1.2),
        "policies.csv",
        "indemnity",
        "0 ≤ indemnity ≤ 1",
        ["P1"],
        [],
    ),
    (
        "utilization above 1",
        lambda f: _set(f, "exposures", "E4", "utilization", 1.5),
        "exposures.csv",
        "utilization",
        "utilization ≤ 1",
        ["E4"],
        [],
    ),
    (
        "payment term of zero days",
        lambda f: _set(f, "exposures", "E3", "payment_term_days", 0),
        "exposures.csv",
        "payment_term_days",
        "1 ≤ payment_term_days ≤ 720",
        ["E3"],
        [],
    ),
    (
        "payment term beyond two years",
        lambda f: _set(f, "exposures", "E6", "payment_term_days", 721),
        "exposures.csv",
        "payment_term_days",
        "1 ≤ payment_term_days ≤ 720",
        ["E6"],
        [],
    ),
    (
        "payment term not whole days",
        lambda f: _set(f, "exposures", "E1", "payment_term_days", "45.5"),
        "exposures.csv",
        "payment_term_days",
        "must be an integer",
        ["E1"],
        ["'45.5'"],
    ),
    (
        "payment term not a number",
        lambda f: _set(f, "exposures", "E2", "payment_term_days", "60 days"),
        "exposures.csv",
        "payment_term_days",
        "must be an integer",
        ["E2"],
        ["'60 days'"],
    ),
    (
        "negative turnover",
        lambda f: _set(f, "policies", "P3", "turnover", -5.0),
        "policies.csv",
        "turnover",
        "0 ≤ turnover ≤ 1e15",
        ["P3"],
        [],
    ),
    (
        "turnover not a number",
        lambda f: _set(f, "policies", "P1", "turnover", "n/a"),
        "policies.csv",
        "turnover",
        "type: must be a number",
        ["P1"],
        ["'n/a'"],
    ),
    (
        "negative deductible",
        lambda f: _set(f, "policies", "P2", "deductible", -1.0),
        "policies.csv",
        "deductible",
        "0 ≤ deductible",
        ["P2"],
        [],
    ),
    (
        "zero max liability",
        lambda f: _set(f, "policies", "P2", "max_liability", 0.0),
        "policies.csv",
        "max_liability",
        "0 < max_liability",
        ["P2"],
        [],
    ),
    (
        "risk grade 8",
        lambda f: _set(f, "countries", "CN", "risk_grade", 8),
        "countries.csv",
        "risk_grade",
        "0 ≤ risk_grade ≤ 7",
        ["CN"],
        [],
    ),
    (
        "asset correlation 1",
        lambda f: _set(f, "buyers", "B5", "asset_correlation", 1.0),
        "buyers.csv",
        "asset_correlation",
        "asset_correlation < 1",
        ["B5"],
        [],
    ),
    (
        "unknown country",
        lambda f: _set(f, "buyers", "B4", "country", "XX"),
        "buyers.csv",
        "country",
        "ISO 3166-1 alpha-2",
        ["B4"],
        ["'XX'"],
    ),
    (
        "lower-case country",
        lambda f: _set(f, "buyers", "B1", "country", "de"),
        "buyers.csv",
        "country",
        "ISO 3166-1 alpha-2",
        ["B1"],
        ["'de'"],
    ),
    (
        "unknown country in countries",
        lambda f: {
            **f,
            "countries": pl.concat(
                [
                    f["countries"],
                    pl.DataFrame({"country": ["ZZ"], "region": ["X"], "risk_grade": [1]}),
                ]
            ),
        },
        "countries.csv",
        "country",
        "ISO 3166-1 alpha-2",
        ["ZZ"],
        ["'ZZ'"],
    ),
    (
        "unknown policy currency",
        lambda f: _set(f, "policies", "P3", "currency", "EURO"),
        "policies.csv",
        "currency",
        "ISO 4217",
        ["P3"],
        ["'EURO'"],
    ),
    (
        "unknown exposure currency",
        lambda f: _set(f, "exposures", "E5", "currency", "XYZ"),
        "exposures.csv",
        "currency",
        "ISO 4217",
        ["E5"],
        ["'XYZ'"],
    ),
    (
        "unknown fx currency",
        lambda f: {
            **f,
            "fx": pl.concat([f["fx"], pl.DataFrame({"currency": ["ABC"], "rate": [2.0]})]),
        },
        "fx.csv",
        "currency",
        "ISO 4217",
        ["ABC"],
        ["'ABC'"],
    ),
    (
        "exposure to missing buyer",
        lambda f: _set(f, "exposures", "E4", "buyer_id", "B99"),
        "exposures.csv",
        "buyer_id",
        "every exposure's buyer is in buyers",
        ["E4"],
        ["'B99'"],
    ),
    (
        "exposure to missing policy",
        lambda f: _set(f, "exposures", "E1", "policy_id", "P9"),
        "exposures.csv",
        "policy_id",
        "every exposure's policy is in policies",
        ["E1"],
        ["'P9'"],
    ),
    (
        "buyer in missing country",
        lambda f: {**f, "countries": f["countries"].filter(pl.col("country") != "FR")},
        "buyers.csv",
        "country",
        "every buyer's country is in countries",
        ["B2"],
        ["'FR'"],
    ),
    (
        "duplicate buyer id",
        lambda f: _set(f, "buyers", "B3", "buyer_id", "B2"),
        "buyers.csv",
        "buyer_id",
        "unique",
        ["B2"],
        [],
    ),
    (
        "duplicate exposure id",
        lambda f: _set(f, "exposures", "E6", "exposure_id", "E1"),
        "exposures.csv",
        "exposure_id",
        "unique",
        ["E1"],
        [],
    ),
    (
        "null sector",
        lambda f: _set(f, "buyers", "B1", "sector", None),
        "buyers.csv",
        "sector",
        "not null",
        ["B1"],
        [],
    ),
    (
        "null key",
        lambda f: _set(f, "exposures", "E2", "exposure_id", None),
        "exposures.csv",
        "exposure_id",
        "not null",
        ["row 2"],
        [],
    ),
    (
        "currency without fx rate",
        lambda f: _set(f, "policies", "P3", "currency", "JPY"),
        "policies.csv",
        "currency",
        "no rate in fx.csv",
        ["P3"],
        ["'JPY'"],
    ),
    (
        "exposure currency without fx rate",
        lambda f: _set(f, "exposures", "E1", "currency", "CHF"),
        "exposures.csv",
        "currency",
        "no rate in fx.csv",
        ["E1"],
        ["'CHF'"],
    ),
    (
        "reporting currency rate not 1",
        lambda f: _set(f, "fx", "EUR", "rate", 1.1),
        "fx.csv",
        "rate",
        "has rate 1",
        ["EUR"],
        [],
    ),
    (
        "neither pd nor rating",
        lambda f: _set(f, "buyers", "B2", "rating", None),
        "buyers.csv",
        "pd",
        "a pd or a rating",
        ["B2"],
        [],
    ),
    (
        "lgd_sd too large",
        lambda f: _set(f, "buyers", "B3", "lgd_sd", 0.6),
        "buyers.csv",
        "lgd_sd",
        "lgd_sd² < lgd·(1 − lgd)",
        ["B3"],
        [],
    ),
    (
        "pd not a number",
        lambda f: _set(f, "buyers", "B1", "pd", "abc"),
        "buyers.csv",
        "pd",
        "type: must be a number",
        ["B1"],
        ["'abc'"],
    ),
    (
        "risk grade not an integer",
        lambda f: _set(f, "countries", "CN", "risk_grade", "2.5"),
        "countries.csv",
        "risk_grade",
        "must be an integer",
        ["CN"],
        ["'2.5'"],
    ),
    (
        "cover not a boolean",
        lambda f: _set(f, "exposures", "E5", "political_cover", "maybe"),
        "exposures.csv",
        "political_cover",
        "true or false",
        ["E5"],
        ["'maybe'"],
    ),
    (
        "missing required column",
        lambda f: {**f, "exposures": f["exposures"].drop("limit")},
        "exposures.csv",
        "limit",
        "required column is missing",
        [],
        [],
    ),
]


@pytest.mark.parametrize(
    ("mutate", "file", "column", "rule", "ids", "values"),
    [pytest.param(*c[1:], id=c[0]) for c in CASES],
)
def test_rule(
    frames: Frames,
    book_dir: Callable[..., Path],
    mutate: Callable[[Frames], Frames],
    file: str,
    column: str | None,
    rule: str,
    ids: list[str],
    values: list[str],
) -> None:
    folder = book_dir(mutate(frames))
    problem = _find(_problems(folder), file, column, rule)
    assert list(problem.examples) == ids
    assert problem.n_rows == (2 if rule == "unique" else len(ids))  # a duplicate id is on 2 rows
    for value in values:
        assert value in problem.rule
    text = str(problem)
    assert file in text and (column is None or repr(column) in text) and all(i in text for i in ids)


def test_message_format_matches_the_contract(frames: Frames, book_dir: Callable[..., Path]) -> None:
    problems = _problems(book_dir(_set(frames, "buyers", "B2", "pd", 1.5)))
    assert [str(p) for p in problems] == [
        "buyers.csv: column 'pd': 0 < pd < 1 — 1 row (first: B2 = 1.5)"
        " — did you type a percentage? (write 1.5 % as 0.015)"
    ]


def test_many_offending_rows_show_first_five_and_the_count(
    book_dir: Callable[..., Path], frames: Frames
) -> None:
    n = 12
    buyers = pl.DataFrame(
        {
            "buyer_id": [f"B{i}" for i in range(1, n + 1)],
            "country": ["DE"] * n,
            "sector": ["C"] * n,
            "pd": [0.01, 2.0] * (n // 2),
        }
    )
    exposures = pl.DataFrame(
        {
            "exposure_id": [f"E{i}" for i in range(1, n + 1)],
            "policy_id": ["P1"] * n,
            "buyer_id": [f"B{i}" for i in range(1, n + 1)],
            "limit": [1.0] * n,
        }
    )
    frames.update(buyers=buyers, exposures=exposures)
    (problem,) = _problems(book_dir(frames))
    assert problem.n_rows == 6
    assert problem.examples == ("B2", "B4", "B6", "B8", "B10")
    assert str(problem).endswith(
        "— 6 rows (first: B2 = 2.0, B4 = 2.0, B6 = 2.0, B8 = 2.0, B10 = 2.0, …) — " + PERCENT_HINT
    )


def test_duplicates_count_every_row_and_list_each_id_once(
    frames: Frames, book_dir: Callable[..., Path]
) -> None:
    frames = _set(frames, "buyers", "B3", "buyer_id", "B2")
    frames = _set(frames, "buyers", "B5", "buyer_id", "B2")
    problem = _find(_problems(book_dir(frames)), "buyers.csv", "buyer_id", "unique")
    assert problem.n_rows == 3
    assert problem.examples == ("B2",)


def test_missing_column_with_other_case_hints_at_it(
    frames: Frames, book_dir: Callable[..., Path]
) -> None:
    frames["exposures"] = frames["exposures"].rename({"limit": "Limit"})
    problem = _find(
        _problems(book_dir(frames)), "exposures.csv", "limit", "required column is missing"
    )
    assert "'Limit'" in problem.rule


def test_type_error_is_reported_once_not_also_as_null(
    frames: Frames, book_dir: Callable[..., Path]
) -> None:
    problems = _problems(book_dir(_set(frames, "exposures", "E2", "limit", "n/a")))
    assert [(p.column, p.examples) for p in problems] == [("limit", ("E2",))]
    assert "'n/a'" in problems[0].rule


def test_kosovo_is_accepted(frames: Frames, book_dir: Callable[..., Path]) -> None:
    frames = _set(frames, "buyers", "B1", "country", "XK")
    frames["countries"] = pl.concat(
        [
            frames["countries"],
            pl.DataFrame({"country": ["XK"], "region": ["Eastern Europe"], "risk_grade": [6]}),
        ]
    )
    assert load_book(book_dir(frames)).buyers.get_column("country")[0] == "XK"


def test_reporting_currency_needs_no_rate_and_others_do(
    frames: Frames, book_dir: Callable[..., Path]
) -> None:
    frames["fx"] = frames["fx"].filter(pl.col("currency") != "EUR")
    folder = book_dir(frames)
    assert load_book(folder).fx is not None  # EUR is the reporting currency: no rate needed
    problems = _problems(folder, reporting_currency="USD")  # now EUR needs a rate, USD's is not 1
    assert _find(problems, "policies.csv", "currency", "no rate in fx.csv").examples == ("P1",)
    assert "'EUR'" in _find(problems, "policies.csv", "currency", "no rate").rule
    assert _find(problems, "fx.csv", "rate", "has rate 1").examples == ("USD",)


def test_no_fx_table_with_foreign_currencies(frames: Frames, book_dir: Callable[..., Path]) -> None:
    del frames["fx"]
    problems = _problems(book_dir(frames))
    p = _find(problems, "policies.csv", "currency", "no rate: the book has no fx table")
    assert p.examples == ("P2", "P3")
    assert _find(
        problems, "exposures.csv", "currency", "no rate: the book has no fx table"
    ).examples == ("E3",)


def test_unknown_reporting_currency(tiny_book_dir: Path) -> None:
    problems = _problems(tiny_book_dir, reporting_currency="EURO")
    assert _find(problems, "reporting currency", None, "'EURO' is not an ISO 4217").n_rows == 0


@pytest.mark.parametrize(
    ("loadings", "column", "rule", "ids"),
    [
        pytest.param(
            {"buyer_id": ["B1", "B1"], "factor": ["global", "global"], "loading": [0.3, 0.4]},
            "buyer_id/factor",
            "unique together",
            ["B1/global"],
            id="duplicate",
        ),
        pytest.param(
            {"buyer_id": ["B1", "B9"], "factor": ["global", "global"], "loading": [0.3, 0.4]},
            "buyer_id",
            "every loading's buyer is in buyers",
            ["B9/global"],
            id="unknown buyer",
        ),
        pytest.param(
            {"buyer_id": ["B1", "B2"], "factor": ["global", "europe"], "loading": [0.3, 1.5]},
            "loading",
            "-1 ≤ loading ≤ 1",
            ["B2/europe"],
            id="out of range",
        ),
    ],
)
def test_factor_loadings(
    frames: Frames,
    book_dir: Callable[..., Path],
    loadings: dict[str, list[Any]],
    column: str,
    rule: str,
    ids: list[str],
) -> None:
    frames["factor_loadings"] = pl.DataFrame(loadings)
    problem = _find(_problems(book_dir(frames)), "factor_loadings.csv", column, rule)
    assert list(problem.examples) == ids


def test_valid_factor_loadings_load(frames: Frames, book_dir: Callable[..., Path]) -> None:
    frames["factor_loadings"] = pl.DataFrame(
        {"buyer_id": ["B1", "B1"], "factor": ["global", "europe"], "loading": [0.3, -0.2]}
    )
    book = load_book(book_dir(frames))
    assert book.factor_loadings is not None and book.factor_loadings.height == 2


def test_empty_required_table(frames: Frames, book_dir: Callable[..., Path]) -> None:
    frames["policies"] = frames["policies"].clear()
    problems = _problems(book_dir(frames))
    assert _find(problems, "policies.csv", None, "no rows").n_rows == 0
    # the exposures then point to missing policies: reported too, with all six ids (first five)
    assert _find(problems, "exposures.csv", "policy_id", "every exposure's policy").n_rows == 6


def test_corrupt_parquet_is_one_problem(frames: Frames, book_dir: Callable[..., Path]) -> None:
    folder = book_dir(frames, fmt="parquet")
    (folder / "policies.parquet").write_bytes(b"PAR1 this is not a parquet file")
    problems = _problems(folder)
    p = _find(problems, "policies.parquet", None, "unreadable")
    assert "Traceback" not in str(p)
    # the rest is still checked: nothing refers to policies any more, nothing else is wrong
    assert problems == [p]


def test_undecodable_csv_is_one_problem(frames: Frames, book_dir: Callable[..., Path]) -> None:
    folder = book_dir(frames)
    (folder / "countries.csv").write_bytes(b"country,region\nDE,\xff\xfe\n")
    _find(_problems(folder), "countries.csv", None, "unreadable")


def test_empty_csv_file_is_unreadable(frames: Frames, book_dir: Callable[..., Path]) -> None:
    folder = book_dir(frames)
    (folder / "fx.csv").write_bytes(b"")
    _find(_problems(folder), "fx.csv", None, "unreadable")


def test_missing_table(frames: Frames, book_dir: Callable[..., Path]) -> None:
    del frames["countries"]
    problems = _problems(book_dir(frames))
    assert str(_find(problems, "countries", None, "missing table")) == (
        "countries: missing table: expected countries.parquet or countries.csv"
    )


def test_table_in_both_formats(frames: Frames, book_dir: Callable[..., Path]) -> None:
    folder = book_dir(frames)
    frames["fx"].write_parquet(folder / "fx.parquet")
    _find(_problems(folder), "fx", None, "both fx.parquet and fx.csv exist")


@pytest.mark.parametrize("kind", ["absent", "file"])
def test_book_path_not_a_folder(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "book"
    if kind == "file":
        path.write_text("x")
    (problem,) = _problems(path)
    assert ("does not exist" if kind == "absent" else "is not a folder") in problem.rule


def test_all_problems_are_reported_together(frames: Frames, book_dir: Callable[..., Path]) -> None:
    frames = _set(frames, "buyers", "B2", "pd", 1.5)
    frames = _set(frames, "buyers", "B4", "country", "XX")
    frames = _set(frames, "exposures", "E3", "limit", -1.0)
    frames = _set(frames, "exposures", "E4", "buyer_id", "B99")
    frames = _set(frames, "policies", "P1", "indemnity", 1.2)
    frames = _set(frames, "policies", "P3", "currency", "JPY")
    frames["countries"] = frames["countries"].drop("region")
    with pytest.raises(BookError) as info:
        load_book(book_dir(frames))
    problems = info.value.problems
    expected = [
        ("buyers.csv", "pd", "0 < pd < 1"),
        ("buyers.csv", "country", "ISO 3166-1"),
        ("exposures.csv", "limit", "0 < limit"),
        ("exposures.csv", "buyer_id", "every exposure's buyer"),
        ("policies.csv", "indemnity", "indemnity ≤ 1"),
        ("policies.csv", "currency", "no rate"),
        ("countries.csv", "region", "required column is missing"),
    ]
    for file, column, rule in expected:
        _find(problems, file, column, rule)
    message = str(info.value)
    assert message.startswith(f"{len(problems)} problems in ")
    assert all(str(p) in message for p in problems)


def test_from_frames_applies_the_same_rules(frames: Frames) -> None:
    frames = _set(frames, "buyers", "B2", "pd", 1.5)
    with pytest.raises(BookError) as info:
        from_frames(**frames)
    (problem,) = info.value.problems
    assert str(problem) == (
        "buyers: column 'pd': 0 < pd < 1 — 1 row (first: B2 = 1.5) — " + PERCENT_HINT
    )


def test_validate_book_checks_a_modified_book(tiny_book_dir: Path) -> None:
    book = load_book(tiny_book_dir)
    book.exposures = book.exposures.with_columns(
        pl.when(pl.col("exposure_id") == "E1").then(-1.0).otherwise("limit").alias("limit")
    )
    with pytest.raises(BookError) as info:
        validate_book(book)
    assert [p.examples for p in info.value.problems] == [("E1",)]
    assert info.value.problems[0].file == "exposures.csv"


# --------------------------------------------------------------------------------------------
# Out-of-range values: the values shown, percentages recognised
# --------------------------------------------------------------------------------------------


def test_range_problem_shows_each_offending_value_and_the_percentage_hint(
    frames: Frames, book_dir: Callable[..., Path]
) -> None:
    for buyer, pd in (("B1", 1.5), ("B3", 2.0), ("B2", 100.0)):
        frames = _set(frames, "buyers", buyer, "pd", pd)
    (problem,) = _problems(book_dir(frames))
    assert str(problem) == (
        "buyers.csv: column 'pd': 0 < pd < 1 — 3 rows (first: B1 = 1.5, B2 = 100.0, B3 = 2.0)"
        " — did you type a percentage? (write 1.5 % as 0.015)"
    )
    assert (problem.examples, problem.values) == (("B1", "B2", "B3"), ("1.5", "100.0", "2.0"))


@pytest.mark.parametrize(
    ("table", "row", "column", "values", "hint"),
    [
        ("exposures", "E2", "utilization", [60.0], True),
        ("policies", "P2", "indemnity", [95.0], True),
        ("buyers", "B3", "lgd", [45.0], True),
        ("countries", "DE", "political_pd", [1.2], True),
        ("buyers", "B1", "pd", [1.0], False),  # 1 itself is no percentage (1 % is 0.01)
        ("buyers", "B1", "pd", [150.0], False),  # above 100: not a percentage either
        ("buyers", "B1", "pd", [-0.5], False),
        ("exposures", "E2", "limit", [50.0], False),  # an amount, not a fraction
    ],
)
def test_percentage_hint_only_for_fractions_typed_as_percentages(
    frames: Frames,
    book_dir: Callable[..., Path],
    table: str,
    row: str,
    column: str,
    values: list[float],
    hint: bool,
) -> None:
    if column == "limit":
        values = [-v for v in values]  # out of range below
    for v in values:
        frames = _set(frames, table, row, column, v)
    (problem,) = _problems(book_dir(frames))
    assert (problem.column, problem.examples, problem.values) == (column, (row,), (str(values[0]),))
    assert problem.hint == (PERCENT_HINT if hint else "")


def test_hint_needs_every_offending_value_to_look_like_a_percentage(
    frames: Frames, book_dir: Callable[..., Path]
) -> None:
    frames = _set(frames, "buyers", "B1", "pd", 1.5)
    frames = _set(frames, "buyers", "B3", "pd", -0.2)
    (problem,) = _problems(book_dir(frames))
    assert problem.values == ("1.5", "-0.2") and problem.hint == ""


# --------------------------------------------------------------------------------------------
# Amounts and fx rates that cannot be real are refused
# --------------------------------------------------------------------------------------------

AMOUNTS = {
    "exposures": ["limit"],
    "policies": ["deductible", "nql", "max_liability", "premium", "turnover"],
}


def test_every_amount_is_bounded_by_the_schema() -> None:
    for table, columns in AMOUNTS.items():
        for name in columns:
            col = TABLES[table].column(name)
            assert col.range is not None and col.range.hi == MAX_AMOUNT == 1e15, name
            assert col.range.text(name).endswith(f"{name} ≤ 1e15")
    rate = TABLES["fx"].column("rate").range
    assert rate is not None and (rate.lo, rate.lo_open, rate.hi) == (0.0, True, MAX_FX_RATE)


@pytest.mark.parametrize(
    ("table", "row", "column"),
    [("exposures", "E3", "limit")] + [("policies", "P2", c) for c in AMOUNTS["policies"]],
)
def test_amounts_beyond_the_bound_are_refused(
    frames: Frames, book_dir: Callable[..., Path], table: str, row: str, column: str
) -> None:
    assert load_book(book_dir(_set(frames, table, row, column, MAX_AMOUNT), name="at_bound"))
    (problem,) = _problems(book_dir(_set(frames, table, row, column, 1e300), name="beyond"))
    assert (problem.file, problem.column, problem.examples) == (f"{table}.csv", column, (row,))
    assert problem.rule.endswith(f"{column} ≤ 1e15") and problem.values == ("1e+300",)


def test_fx_rates_beyond_the_bound_are_refused(
    frames: Frames, book_dir: Callable[..., Path]
) -> None:
    (problem,) = _problems(book_dir(_set(frames, "fx", "USD", "rate", 2e6)))
    assert str(problem) == "fx.csv: column 'rate': 0 < rate ≤ 1e6 — 1 row (first: USD = 2000000.0)"


# --------------------------------------------------------------------------------------------
# Pricing inputs: payment terms and declared turnover
# --------------------------------------------------------------------------------------------


def test_pricing_inputs_are_optional_and_nulls_stay_null(tiny_book_dir: Path) -> None:
    """Absent, both columns are added as nulls: pricing then takes the scenario's payment term
    and the exposures' turnover (no constant default in the schema)."""
    book = load_book(tiny_book_dir)
    assert book.exposures.schema["payment_term_days"] == pl.Int64
    assert book.policies.schema["turnover"] == pl.Float64
    assert book.exposures.get_column("payment_term_days").null_count() == 6
    assert book.policies.get_column("turnover").null_count() == 3
    for table, name in (("exposures", "payment_term_days"), ("policies", "turnover")):
        col = TABLES[table].column(name)
        assert not col.required and col.nullable and col.default is None
        assert col.fill_from


def test_pricing_inputs_at_their_bounds_load(frames: Frames, book_dir: Callable[..., Path]) -> None:
    frames["exposures"] = frames["exposures"].with_columns(
        pl.Series("payment_term_days", ["1", "720", None, "30", "90.0", "180"])
    )
    frames["policies"] = frames["policies"].with_columns(pl.Series("turnover", [0.0, None, 2.5e6]))
    book = load_book(book_dir(frames))
    assert book.exposures.get_column("payment_term_days").to_list() == [1, 720, None, 30, 90, 180]
    assert book.policies.get_column("turnover").to_list() == [0.0, None, 2.5e6]


def test_old_insured_turnover_column_is_kept_but_not_read(
    frames: Frames, book_dir: Callable[..., Path]
) -> None:
    """Books from earlier sample-book generators carry ``insured_turnover``: they still load."""
    frames["policies"] = frames["policies"].with_columns(
        pl.Series("insured_turnover", [1e6, 2e6, 3e6])
    )
    book = load_book(book_dir(frames))
    kept = book.policies.get_column("insured_turnover")  # undeclared: as read (CSV text)
    assert kept.cast(pl.Float64).to_list() == [1e6, 2e6, 3e6]
    assert book.policies.get_column("turnover").null_count() == 3
