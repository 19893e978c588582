"""The Dask executor (riskengine.run.dask) on real LocalClusters over loopback: no mocks.

Every run is compared with the in-process executor for the same inputs: results must be
bit-identical whatever the executor, the number of workers, the block size, the order in which
blocks finish, and whether a worker died on the way.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml

distributed = pytest.importorskip("distributed")

from riskengine.book import Book, generate_book  # noqa: E402
from riskengine.errors import RiskEngineError  # noqa: E402
from riskengine.results import Results  # noqa: E402
from riskengine.run.blocks import plan_blocks  # noqa: E402
from riskengine.run.inprocess import run_block  # noqa: E402
from riskengine.run.simulate import simulate  # noqa: E402
from riskengine.scenario import Scenario, load_scenario  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SIMS = 2_000
SEED = 7

pytestmark = pytest.mark.xdist_group("dask")


def _local_cluster(n_workers: int, threads: int = 1) -> distributed.LocalCluster:
    return distributed.LocalCluster(
        n_workers=n_workers,
        threads_per_worker=threads,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
    )


@pytest.fixture(scope="module")
def book() -> Book:
    return generate_book(2_000, seed=3)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """The baseline with three treaties and occurrences, so that every output is exercised."""
    d = yaml.safe_load((ROOT / "scenarios" / "baseline.yaml").read_text())
    d.pop("book", None)
    d["treaties"] = [
        {"name": "qs", "type": "quota_share", "share": 0.3},
        {"name": "xl", "type": "per_risk_xl", "retention": 2e5, "limit": 1e6, "reinstatements": 1},
        {"name": "sl", "type": "stop_loss", "attachment_lr": 0.6, "limit_lr": 1.0},
    ]
    d["outputs"].update({"occurrence_threshold": 1e5, "report": False})
    path = tmp_path_factory.mktemp("scenario") / "treaties.yaml"
    path.write_text(yaml.safe_dump(d))
    return load_scenario(path)


@pytest.fixture(scope="module")
def reference(book: Book, scenario: Scenario) -> Results:
    """The in-process run every Dask run must reproduce exactly."""
    return simulate(book, scenario, sims=SIMS, seed=SEED, block_size=SIMS)


@pytest.fixture(scope="module")
def client2() -> Iterator[distributed.Client]:
    with _local_cluster(2) as cluster, distributed.Client(cluster, set_as_default=False) as client:
        yield client


@pytest.fixture(scope="module")
def client1() -> Iterator[distributed.Client]:
    """One worker with two threads: its blocks run one at a time, each on two Numba threads."""
    with (
        _local_cluster(1, threads=2) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        yield client


def assert_identical(got: Results, ref: Results) -> None:
    assert got.ylt.equals(ref.ylt)
    assert got.segments().equals(ref.segments())
    assert got.occurrences().equals(ref.occurrences())
    assert got.occurrences().height > 0 and ref.ylt["ceded_xl"].sum() > 0  # not vacuous


def _block_keys(client: distributed.Client) -> list[str]:
    return client.run_on_scheduler(
        lambda dask_scheduler: [
            str(k) for k in dask_scheduler.tasks if "riskengine-block" in str(k)
        ]
    )


def _wait_until(cond, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def test_import_does_not_import_dask() -> None:
    code = (
        "import sys, riskengine, riskengine.run.simulate, riskengine.cli\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')"
        " or m == 'riskengine.run.dask')\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


@pytest.mark.parametrize("block_size", [97, 500, 2_000])
def test_two_workers_identical(client2, book, scenario, reference, block_size) -> None:
    seen: list[tuple[int, int]] = []
    res = simulate(
        book,
        scenario,
        client=client2,
        progress=lambda d, t: seen.append((d, t)),
        sims=SIMS,
        seed=SEED,
        block_size=block_size,
    )
    assert_identical(res, reference)
    assert res.meta["executor"] == "dask" and res.meta["workers"] == 2
    # progress: from 0 to all, one call per block
    assert seen[0] == (0, SIMS) and seen[-1] == (SIMS, SIMS)
    assert len(seen) == 1 + len(plan_blocks(SIMS, block_size))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    # every future was released: nothing of the run is left on the cluster
    assert _wait_until(lambda: not _block_keys(client2))


@pytest.mark.parametrize("block_size", [300, 1_024])
def test_one_worker_identical(client1, book, scenario, reference, block_size) -> None:
    res = simulate(book, scenario, client=client1, sims=SIMS, seed=SEED, block_size=block_size)
    assert_identical(res, reference)
    assert res.meta["workers"] == 2


def test_portfolio_shared_between_local_workers(client2, book, scenario, reference) -> None:
    """Workers on this machine map one copy of the portfolio (shared memory) instead of a
    pickled copy each; blocks are bit-identical to in-process ones; the block is removed after
    the run and the workers let go of it."""
    from riskengine.run.dask import _attached, _probe, run_blocks_dask

    port = reference.compiled.kernel
    blocks = plan_blocks(SIMS, 500)
    stream, _, _ = run_blocks_dask(port, blocks, True, client=client2)
    assert stream.sharing == "shared memory"
    name = stream._shared.name
    got = {}
    for b, r in stream:
        got[b.index] = r
        if len(got) == 1:  # the run is on: the worker that ran it maps the block
            assert any(name in names for names in client2.run(_attached).values())
    for b in blocks:
        want = run_block(port, b.start, b.size, segments=True)
        np.testing.assert_array_equal(got[b.index].ylt, want.ylt)
        np.testing.assert_array_equal(got[b.index].seg_val, want.seg_val)
    assert not _probe(name, b"")  # unlinked: nobody can open it any more
    assert _wait_until(lambda: all(name not in v for v in client2.run(_attached).values()))


def test_tasks_use_the_workers_threads(client1, client2) -> None:
    from riskengine.run.dask import _worker_threads

    def threads() -> int:
        return _worker_threads()

    assert client1.submit(threads, pure=False).result() == 2
    assert client2.submit(threads, pure=False).result() == 1


def test_scheduler_address_from_env(client2, book, scenario, reference, monkeypatch) -> None:
    address = client2.scheduler.address
    n_clients = len(client2.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.clients)))
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", address)
    res = simulate(book, scenario, sims=SIMS, seed=SEED, block_size=250)
    assert_identical(res, reference)
    assert res.meta["executor"] == "dask"
    # the client the run connected with is closed afterwards
    assert _wait_until(
        lambda: (
            len(client2.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.clients)))
            == n_clients
        )
    )


def test_scheduler_local(book, scenario, reference) -> None:
    res = simulate(book, scenario, scheduler="local", sims=SIMS, seed=SEED, block_size=400)
    assert_identical(res, reference)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert res.meta["executor"] == "dask" and res.meta["workers"] == cpus
    with pytest.raises(
        ValueError, match="No clients found"
    ):  # the run's own client was never made the default
        distributed.default_client()


def test_active_client_and_early_close(client2, book, scenario, reference) -> None:
    """With no address, the active client is used; closing the stream early cancels the rest."""
    from riskengine.portfolio.compile import compile_portfolio
    from riskengine.run.dask import run_blocks_dask

    sc = scenario.with_simulation(sims=SIMS, seed=SEED, block_size=50)
    port = compile_portfolio(book, sc).kernel
    blocks = plan_blocks(SIMS, 50)
    with client2.as_current():
        stream, name, workers = run_blocks_dask(port, blocks, True)
    assert (name, workers) == ("dask", 2)
    block, result = next(stream)
    alone = run_block(port, block.start, block.size, segments=True)
    for field in ("ylt", "ceded", "seg_sim", "seg_col", "seg_val", "occ_sim", "occ_val"):
        assert np.array_equal(getattr(result, field), getattr(alone, field))
    assert stream.outstanding == len(blocks) - 1
    stream.close()
    assert _wait_until(lambda: not _block_keys(client2))
    with pytest.raises(StopIteration):
        next(stream)


def test_no_client_is_an_error(book, scenario, monkeypatch) -> None:
    from riskengine.portfolio.compile import compile_portfolio
    from riskengine.run.dask import run_blocks_dask

    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    port = compile_portfolio(book, scenario).kernel
    with pytest.raises(RiskEngineError, match="no Dask client"):
        run_blocks_dask(port, plan_blocks(10, 10), True)


def test_unreachable_scheduler_is_a_clear_cli_error(tmp_path, capsys) -> None:
    import dask

    from riskengine import cli

    book_dir = tmp_path / "book"
    generate_book(50, seed=1, out=book_dir)
    with (
        dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
        pytest.raises(SystemExit) as exc,
    ):
        cli.main(
            [
                "simulate",
                str(ROOT / "scenarios" / "baseline.yaml"),
                "--book",
                str(book_dir),
                "--out",
                str(tmp_path / "out"),
                "--sims",
                "10",
                "--scheduler",
                "tcp://127.0.0.1:1",
            ]
        )
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "cannot use the Dask scheduler at 'tcp://127.0.0.1:1'" in err
    assert "nothing answers there" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()  # no empty checkpoint folder left behind


def test_mistyped_scheduler_fails_at_once_without_a_traceback(
    tmp_path, capsys, monkeypatch
) -> None:
    from riskengine import cli

    book_dir = tmp_path / "book"
    generate_book(50, seed=1, out=book_dir)
    argv = ["simulate", str(ROOT / "scenarios" / "baseline.yaml"), "--book", str(book_dir)]
    argv += ["--out", str(tmp_path / "out"), "--sims", "10", "--scheduler", "lokal"]
    made = []
    real_init = distributed.Client.__init__
    monkeypatch.setattr(
        distributed.Client,
        "__init__",
        lambda self, *a, **k: (made.append(a), real_init(self, *a, **k)),
    )
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2
    # refused before any Client exists: a Client that fails to connect hangs a minute in __del__
    assert made == []
    err = capsys.readouterr().err
    assert "expected 'local', tcp://HOST:PORT or HOST:PORT" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_worker_killed_mid_run(book, scenario, reference) -> None:
    """SIGKILL one of two workers after the first results: only its blocks are recomputed."""
    sims, block = SIMS, 20  # 100 blocks
    with _local_cluster(2) as cluster, distributed.Client(cluster, set_as_default=False) as client:
        victim = sorted(client.run(os.getpid).values())[0]
        killed_at: list[int] = []

        def progress(done: int, total: int) -> None:
            if done >= 3 * block and not killed_at:
                killed_at.append(done)
                os.kill(victim, signal.SIGKILL)

        res = simulate(
            book, scenario, client=client, progress=progress, sims=sims, seed=SEED, block_size=block
        )
        assert killed_at and killed_at[0] < sims // 2, "the worker must die mid-run"
        assert_identical(res, reference)
        # the nanny restarted the dead worker: two workers again, one of them new
        client.wait_for_workers(2, timeout=60)
        assert _wait_until(lambda: victim not in client.run(os.getpid).values(), timeout=30)
