"""Writing a run's files: every file atomically, ``summary.json`` removed first and written last,
so a folder whose ``summary.json`` exists holds a complete, consistent set of outputs."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..files import atomic_write_bytes, prepare_folder, write_parquet

if TYPE_CHECKING:
    from .model import Results

__all__ = ["write_results", "jsonable"]


#: Files written at once (Polars builds and compresses them outside the GIL).
WRITE_THREADS = 4


def write_results(
    res: Results, folder: str | os.PathLike, *, extra_files: dict[str, bytes] | None = None
) -> dict[str, Path]:
    """Write ``ylt.parquet``, ``segments.parquet`` (when asked), ``ept.parquet``,
    ``occurrences.parquet`` (when asked), the ``extra_files`` (e.g. the rendered report) and
    finally ``summary.json`` into ``folder``; return the paths by file name.

    The files before ``summary.json`` are built and written concurrently, each atomically;
    ``summary.json`` is written only when all of them are (an error in any is raised, and
    leaves the folder without a summary: not a complete run).
    """
    from concurrent.futures import ThreadPoolExecutor

    folder = prepare_folder(folder, "summary.json")
    jobs: list[tuple[str, Callable[[], dict[str, Path]]]] = []

    def parquet(name: str, frame: Callable[[], Any]) -> None:
        jobs.append((name, lambda: {name: write_parquet(folder / name, frame())}))

    parquet("ylt.parquet", lambda: res.ylt)
    if res.scenario.outputs.segments:
        parquet("segments.parquet", res.segments)
    else:
        (folder / "segments.parquet").unlink(missing_ok=True)
    parquet("ept.parquet", res.ep_curve)
    if res.occurrences_raw is not None:
        parquet("occurrences.parquet", res.occurrences)
    if res.allocation_table is not None:
        parquet("allocation.parquet", lambda: res.allocation_table)
    if res.tail is not None:
        tail = res.tail
        jobs.append(("tail", lambda: tail.write(folder)))
    for name, data in (extra_files or {}).items():
        jobs.append((name, lambda n=name, d=data: {n: atomic_write_bytes(folder / n, d)}))
    with ThreadPoolExecutor(max_workers=WRITE_THREADS, thread_name_prefix="write") as pool:
        futures = [pool.submit(job) for _, job in jobs]
        summary = json.dumps(jsonable(res.summary()), indent=2).encode()
        written: dict[str, Path] = {}
        for f in futures:  # in the order above; the first error is raised
            written.update(f.result())
    written["summary.json"] = atomic_write_bytes(folder / "summary.json", summary)
    return written


def jsonable(x: Any) -> Any:
    """``x`` with NumPy scalars as Python numbers and non-finite floats as None (JSON null)."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x
