"""The simulation commands end to end: demo, simulate, replay, warmup, scenario-schema.

Real files, real processes' worth of work (through ``riskengine.cli.main``), small sizes.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from reference.testing import run_cli
from riskengine.book import generate_book


@pytest.fixture(scope="module")
def book_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "book"
    generate_book(800, seed=5, out=out)
    return out


def scenario_file(tmp_path: Path, **extra: object) -> Path:
    data = {"name": "cli-test", "simulation": {"sims": 400, "seed": 11, "block_size": 150}}
    data.update(extra)
    f = tmp_path / "sc.yaml"
    f.write_text(json.dumps(data))  # JSON is YAML
    return f


def test_simulate_writes_every_output(
    tmp_path: Path, book_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code, stdout, err = run_cli(
        ["simulate", str(scenario_file(tmp_path)), "--book", str(book_dir), "--out", str(out)],
        capsys,
    )
    assert code == 0, err
    for name in ("ylt.parquet", "segments.parquet", "ept.parquet", "summary.json", "report.html"):
        assert (out / name).is_file(), name
    assert not (out / ".riskengine-run").exists()  # checkpoints discarded once complete
    ylt = pl.read_parquet(out / "ylt.parquet")
    assert ylt.columns == [
        "sim_id",
        "weight",
        "ground_up",
        "gross",
        "commercial",
        "political",
        "n_defaults",
        "n_political_events",
        "max_occurrence",
        "net",
    ]
    assert ylt.height == 400 and ylt["sim_id"].to_list() == list(range(400))
    summary = json.loads((out / "summary.json").read_text())
    g = summary["measures"]["gross"]
    assert g["EL"]["value"] == pytest.approx(ylt["gross"].mean(), rel=1e-12)
    assert set(g["VaR"]) == {"90", "95", "99", "99.5", "99.9"}
    assert summary["capital"]["gross"] == pytest.approx(
        g["VaR"]["99.5"]["value"] - g["EL"]["value"], rel=1e-12
    )
    assert "VaR 99.5 %" in stdout and "capital" in stdout
    seg = pl.read_parquet(out / "segments.parquet")
    assert set(seg["dimension"].unique()) == {"country", "sector"}
    # each year's country and sector segments add up to its gross claims
    per = (
        seg.group_by("sim_id", "dimension")
        .agg(pl.col("gross").sum())
        .join(ylt.select("sim_id", "gross"), on="sim_id")
    )
    assert ((per["gross"] - per["gross_right"]).abs() <= 1e-9 * (1 + per["gross_right"])).all()
    assert (seg["gross"] != 0).all()


def test_overrides_and_bit_identical_block_sizes(
    tmp_path: Path, book_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sc = scenario_file(tmp_path)
    a, b = tmp_path / "a", tmp_path / "b"
    assert (
        run_cli(
            [
                "simulate",
                str(sc),
                "--book",
                str(book_dir),
                "--out",
                str(a),
                "--sims",
                "300",
                "--block-size",
                "7",
            ],
            capsys,
        )[0]
        == 0
    )
    assert (
        run_cli(
            [
                "simulate",
                str(sc),
                "--book",
                str(book_dir),
                "--out",
                str(b),
                "--sims",
                "300",
                "--block-size",
                "300",
            ],
            capsys,
        )[0]
        == 0
    )
    # the overrides were applied (the scenario says 400 sims in blocks of 150)
    for folder, block in ((a, 7), (b, 300)):
        run_info = json.loads((folder / "summary.json").read_text())["run"]
        assert (run_info["sims"], run_info["block_size"]) == (300, block)
    ylt = pl.read_parquet(a / "ylt.parquet")
    assert ylt.height == 300
    assert ylt.equals(pl.read_parquet(b / "ylt.parquet"))
    assert pl.read_parquet(a / "segments.parquet").equals(pl.read_parquet(b / "segments.parquet"))


def test_replay_prints_the_row_of_the_run(
    tmp_path: Path, book_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sc = scenario_file(tmp_path)
    out = tmp_path / "out"
    assert (
        run_cli(["simulate", str(sc), "--book", str(book_dir), "--out", str(out)], capsys)[0] == 0
    )
    ylt = pl.read_parquet(out / "ylt.parquet")
    worst = int(ylt.sort("gross", descending=True)["sim_id"][0])
    code, stdout, _ = run_cli(
        ["replay", str(sc), "--book", str(book_dir), "--sim", str(worst)], capsys
    )
    assert code == 0
    assert f"year {worst}" in stdout
    assert f"defaulted buyers ({int(ylt['n_defaults'][worst]):,})" in stdout


def test_bad_inputs_exit_2_without_traceback(
    tmp_path: Path, book_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sc = scenario_file(tmp_path)
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    for args, needle in (
        (
            ["simulate", str(sc), "--book", str(book_dir), "--out", str(blocker / "sub")],
            "Not a directory",
        ),
        (["simulate", str(sc), "--out", str(tmp_path / "o")], "no book"),
        (
            ["simulate", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "o")],
            "file not found",
        ),
        (
            ["simulate", str(sc), "--book", str(tmp_path / "nobook"), "--out", str(tmp_path / "o")],
            "nobook",
        ),
        (["replay", str(sc), "--book", str(book_dir)], "--sim"),
    ):
        code, stdout, err = run_cli(args, capsys)
        assert code == 2, args
        assert needle in err + stdout, (args, err)
        assert "Traceback" not in err + stdout


def test_rating_missing_from_scenario_is_refused(
    tmp_path: Path, book_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sc = scenario_file(tmp_path, ratings={"AAA": 0.0001})
    book = tmp_path / "nopd"
    b = generate_book(50, seed=1)
    from riskengine.book.generate import write_book
    from riskengine.book.load import from_frames

    write_book(
        from_frames(
            b.buyers.with_columns(pl.lit(None, pl.Float64).alias("pd")),
            b.exposures,
            b.policies,
            b.countries,
            b.fx,
        ),
        book,
    )
    code, _, err = run_cli(
        ["simulate", str(sc), "--book", str(book), "--out", str(tmp_path / "o")], capsys
    )
    assert code == 2
    assert "rating" in err and f"not in the ratings table of {sc}" in err  # names the file


def test_scenario_schema_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = run_cli(["scenario-schema"], capsys)
    assert code == 0 and json.loads(stdout)["title"] == "riskengine scenario"


@pytest.mark.slow
def test_demo_runs_small(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the demo's book goes to ./books/sample, as the scenarios expect
    code, stdout, err = run_cli(["demo", "--buyers", "2000", "--sims", "500"], capsys)
    assert code == 0, err
    assert (tmp_path / "demo-out" / "results" / "report.html").is_file()
    assert (tmp_path / "books" / "sample" / "buyers.parquet").is_file()
    assert "TVaR 99.5 %" in stdout and "capital" in stdout
    # the README's next command works as written: the scenario's `book:` is the demo's book
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    text = (Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml").read_text()
    (scenarios / "baseline.yaml").write_text(text)
    code, stdout, err = run_cli(
        ["simulate", "scenarios/baseline.yaml", "--out", "out/", "--sims", "300"], capsys
    )
    assert code == 0, err
    assert (tmp_path / "out" / "summary.json").is_file()


def test_missing_scenario_book_says_how_to_create_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sc = tmp_path / "s.yaml"
    sc.write_text("book: books/none\n")
    code, _, err = run_cli(["simulate", str(sc), "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "Traceback" not in err
    assert "does not exist" in err and "riskengine generate-book" in err and "--book" in err


def test_warmup_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = run_cli(["warmup"], capsys)
    assert code == 0 and "kernels ready" in stdout
