"""Interrupted runs: checkpoints, ``--resume`` and atomic outputs.

A run interrupted by SIGINT or SIGKILL leaves its finished blocks in ``<out>/.riskengine-run/``
and no ``summary.json``; ``riskengine simulate --resume`` recomputes only the missing blocks and
gives exactly the uninterrupted run's results. Outputs are written atomically: a failure while
writing leaves no partial file and no ``summary.json``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import psutil
import pytest
import yaml

from riskengine import cli
from riskengine.book import generate_book
from riskengine.jobs import simulate, write_outputs
from riskengine.results import Results
from riskengine.run.blocks import plan_blocks
from riskengine.run.checkpoint import RUN_DIR, CheckpointStore

ROOT = Path(__file__).resolve().parents[1]
SIMS, BLOCK, SEED = 12_000, 50, 5
N_BLOCKS = len(plan_blocks(SIMS, BLOCK))


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 2,000-buyer book and the baseline scenario with 240 blocks and no report."""
    folder = tmp_path_factory.mktemp("resume")
    generate_book(2_000, seed=5, out=folder / "book")
    d = yaml.safe_load((ROOT / "scenarios" / "baseline.yaml").read_text())
    d.pop("book", None)
    d["simulation"] = {"sims": SIMS, "seed": SEED, "block_size": BLOCK}
    d["outputs"]["report"] = False
    (folder / "scenario.yaml").write_text(yaml.safe_dump(d))
    return folder / "book", folder / "scenario.yaml"


@pytest.fixture(scope="module")
def uninterrupted(inputs: tuple[Path, Path]) -> Results:
    book, scenario = inputs
    return simulate(book, scenario)


def _args(inputs: tuple[Path, Path], out: Path, *extra: str) -> list[str]:
    book, scenario = inputs
    return ["simulate", str(scenario), "--book", str(book), "--out", str(out), *extra]


def _saved(out: Path) -> list[Path]:
    return sorted((out / RUN_DIR / "blocks").glob("block-*.npz"))


def _run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    return int(exc.value.code), capsys.readouterr().err


def _interrupt(argv: list[str], out: Path, sig: int, at_least: int = 5) -> tuple[int, str]:
    """Run the CLI in a subprocess; once ``at_least`` blocks are saved, send ``sig`` to its
    process group (as a terminal's Ctrl-C does). Returns the exit status and the output."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "riskengine.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while len(_saved(out)) < at_least:
            if proc.poll() is not None:
                pytest.fail(
                    f"the run ended before it could be interrupted (rc {proc.returncode}):\n"
                    f"{proc.stdout.read()}"
                )
            if time.monotonic() > deadline:
                pytest.fail("no checkpointed blocks within 120 s")
            time.sleep(0.005)
        os.killpg(proc.pid, sig)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    # nothing of the run is left behind (Dask workers included)
    end = time.monotonic() + 10
    while _live_in_group(proc.pid) and time.monotonic() < end:
        time.sleep(0.1)
    assert not _live_in_group(proc.pid)
    return proc.returncode, output


def _live_in_group(pgid: int) -> list[int]:
    live = []
    for p in psutil.process_iter(["status"]):
        with contextlib.suppress(psutil.Error, OSError):
            if os.getpgid(p.pid) == pgid and p.info["status"] != psutil.STATUS_ZOMBIE:
                live.append(p.pid)
    return live


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "rc", "extra"),
    [
        pytest.param(signal.SIGINT, 130, [], id="SIGINT"),
        pytest.param(signal.SIGKILL, -signal.SIGKILL, [], id="SIGKILL"),
        pytest.param(
            signal.SIGINT,
            130,
            ["--scheduler", "local"],
            id="SIGINT-dask",
            marks=pytest.mark.xdist_group("dask"),
        ),
    ],
)
def test_resume_after_interrupt(
    inputs, uninterrupted, tmp_path, capsys, caplog, monkeypatch, sig, rc, extra
) -> None:
    out = tmp_path / "out"
    code, output = _interrupt(_args(inputs, out, *extra), out, sig)
    assert code == rc, output
    if sig == signal.SIGINT:  # a clean stop: a message, no traceback (from the workers neither)
        assert "interrupted" in output and "Traceback" not in output, output
    # an interrupted run's folder never looks complete
    assert not (out / "summary.json").exists()
    before = {int(p.stem.split("-")[1]) for p in _saved(out)}
    assert 5 <= len(before) < N_BLOCKS

    resumed: list[int] = []
    save = CheckpointStore.save
    monkeypatch.setattr(
        CheckpointStore, "save", lambda self, i, r: (resumed.append(i), save(self, i, r))
    )
    with caplog.at_level(logging.INFO, logger="riskengine"):
        code, err = _run_cli(_args(inputs, out, "--resume"), capsys)
    assert code == 0, err
    # the saved blocks were reused, the others computed once
    assert f"resuming: {len(before)} of {N_BLOCKS} blocks already done" in caplog.text
    assert sorted(resumed) == sorted(set(range(N_BLOCKS)) - before)
    assert (out / "summary.json").exists() and not (out / RUN_DIR).exists()
    assert pl.read_parquet(out / "ylt.parquet").equals(uninterrupted.ylt)
    assert pl.read_parquet(out / "segments.parquet").equals(uninterrupted.segments())


def _interrupted_folder(inputs: tuple[Path, Path], out: Path) -> None:
    """A folder as an interrupted run leaves it: checkpoints, no outputs."""
    book, scenario = inputs
    simulate(book, scenario, sims=1_000, checkpoint=out)  # never written: the checkpoint stays
    assert len(_saved(out)) == len(plan_blocks(1_000, BLOCK))


def test_resume_with_other_inputs_is_refused(inputs, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    _interrupted_folder(inputs, out)
    saved = _saved(out)
    code, err = _run_cli(_args(inputs, out, "--sims", "1000", "--seed", "99", "--resume"), capsys)
    assert code == 2
    assert "cannot resume: the interrupted run used a different seed" in err
    assert "--overwrite" in err
    assert "Traceback" not in err
    assert _saved(out) == saved  # the refusal keeps the interrupted run's blocks


def test_resume_with_nothing_to_resume_is_refused(inputs, tmp_path, capsys) -> None:
    code, err = _run_cli(_args(inputs, tmp_path / "empty", "--sims", "100", "--resume"), capsys)
    assert code == 2
    assert "nothing to resume" in err and "Traceback" not in err


def _assert_no_partial_files(out: Path) -> None:
    assert not (out / "summary.json").exists()
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    for p in out.glob("*.parquet"):
        pl.read_parquet(p)  # complete, or it would not be there


@pytest.mark.parametrize("failure", ["report", "parquet"])
def test_write_is_atomic(inputs, tmp_path, monkeypatch, failure) -> None:
    book, scenario = inputs
    out = tmp_path / "out"
    simulate(book, scenario, sims=500, seed=1).write(out)  # a previous complete run
    assert (out / "summary.json").exists()

    res = simulate(book, scenario, sims=1_000, seed=2, checkpoint=out)
    if failure == "report":
        import riskengine.report

        def broken_report(results: Results, analytic: object = None) -> str:
            raise RuntimeError("report failed")

        monkeypatch.setattr(riskengine.report, "render_report", broken_report)
    else:
        write_parquet = pl.DataFrame.write_parquet

        def half_written(self: pl.DataFrame, file, **kw) -> None:
            if Path(file).name.startswith(".ept.parquet"):
                Path(file).write_bytes(b"PAR1 half a file")
                raise OSError(28, "No space left on device")
            write_parquet(self, file, **kw)

        monkeypatch.setattr(pl.DataFrame, "write_parquet", half_written)
    expected, message = (
        (RuntimeError, "report failed") if failure == "report" else (OSError, "No space left")
    )
    with pytest.raises(expected, match=message):
        write_outputs(res, out, report=True)
    _assert_no_partial_files(out)
    if failure == "parquet":  # the YLT is written first, so the new run's is complete in place
        assert pl.read_parquet(out / "ylt.parquet").equals(res.ylt)

    # the checkpoint survives a failed write, so the run can still be resumed and written
    monkeypatch.undo()
    again = simulate(book, scenario, sims=1_000, seed=2, checkpoint=out, resume=True)
    assert again.ylt.equals(res.ylt)
    write_outputs(again, out, report=False)
    assert (out / "summary.json").exists() and not (out / RUN_DIR).exists()
    assert pl.read_parquet(out / "ylt.parquet").equals(res.ylt)
