"""Checkpoints of a run: finished blocks saved as they complete, so a run can be resumed.

Layout inside the run's output folder::

    .riskengine-run/
        manifest.json          fingerprint of the inputs, number of blocks
        blocks/block-000012.npz

Every file is written under a temporary name and renamed into place, so a block file that exists
is complete. The manifest's fingerprint (hashes of book and scenario, sims, seed, block size,
treaty sweep grid, riskengine and kernel versions) must match for ``--resume`` to reuse blocks;
otherwise the run refuses to resume and names what differs. A run that finds saved blocks and is
neither resumed nor told to ``--overwrite`` refuses to start: saved work is never discarded
silently.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from ..errors import OutputError, Problem
from ..files import atomic_write, atomic_write_bytes
from .blocks import BLOCK_ARRAYS, BlockResult

__all__ = ["CheckpointStore", "RUN_DIR"]

RUN_DIR = ".riskengine-run"


class CheckpointStore:
    """Saves and loads the finished blocks of one run.

    Nothing is written until the first block is saved, so a run that fails before any block
    finishes (an unreachable scheduler, bad input) leaves no checkpoint folder behind.
    """

    def __init__(self, folder: Path, fingerprint: dict[str, str], n_blocks: int):
        self.folder = Path(folder)
        self.root = self.folder / RUN_DIR
        self.blocks = self.root / "blocks"
        self.fingerprint = dict(fingerprint)
        self.n_blocks = n_blocks
        self._ready = False

    def _error(self, text: str) -> OutputError:
        return OutputError([Problem(str(self.folder), None, text)], str(self.folder))

    def saved(self) -> list[int]:
        """Indices of the blocks saved in the folder (by any run)."""
        if not self.blocks.is_dir():
            return []
        out = []
        for p in self.blocks.glob("block-*.npz"):
            try:
                out.append(int(p.stem.split("-")[1]))
            except (IndexError, ValueError):
                continue
        return sorted(out)

    def open(self, resume: bool, overwrite: bool = False) -> dict[int, BlockResult]:
        """Check the folder for an interrupted run; return the blocks to reuse.

        resume
            The saved blocks of an interrupted run with the same inputs are returned; a run with
            other inputs is refused, naming what differs.
        overwrite
            Saved blocks are discarded.
        neither
            Saved blocks are refused: saved work is never discarded silently.
        """
        try:
            return self._open(resume, overwrite)
        except OSError as exc:
            raise self._error(
                f"cannot use the run's checkpoints here: {exc.strerror or exc}"
            ) from None

    def _open(self, resume: bool, overwrite: bool) -> dict[int, BlockResult]:
        saved = self.saved()
        if not resume:
            if saved and not overwrite:
                raise self._error(
                    f"an interrupted run saved {len(saved)} block{'s' if len(saved) != 1 else ''} "
                    f"in {self.root}: continue it with --resume, or discard them and start "
                    "afresh with --overwrite"
                )
            if self.root.exists():
                shutil.rmtree(self.root)
            return {}
        manifest = self.root / "manifest.json"
        if not manifest.exists():
            raise self._error("nothing to resume: no interrupted run in this folder")
        data = json.loads(manifest.read_text())
        before = data.get("fingerprint")
        if not isinstance(before, dict):
            before = {}
        differ = [k for k, v in self.fingerprint.items() if before.get(k) != v]
        if data.get("n_blocks") != self.n_blocks and "block size" not in differ:
            differ.append("number of blocks")
        if differ:
            raise self._error(
                f"cannot resume: the interrupted run used a different {', '.join(differ)} "
                "(run again with the same inputs, or start afresh with --overwrite)"
            )
        self._ready = True
        loaded = {}
        for index in saved:
            r = self.load(index) if index < self.n_blocks else None
            if r is not None:
                loaded[index] = r
        return loaded

    def _prepare(self) -> None:
        self.blocks.mkdir(parents=True, exist_ok=True)
        manifest = self.root / "manifest.json"
        if not manifest.exists():
            text = json.dumps(
                {"fingerprint": self.fingerprint, "n_blocks": self.n_blocks}, indent=1
            )
            atomic_write_bytes(manifest, text.encode())
        self._ready = True

    def _path(self, index: int) -> Path:
        return self.blocks / f"block-{index:06d}.npz"

    def save(self, index: int, result: BlockResult) -> None:
        """Save one finished block (atomically)."""
        if not self._ready:
            self._prepare()
        arrays = {f: getattr(result, f) for f in BLOCK_ARRAYS}

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                np.savez(fh, start=np.int64(result.start), **arrays)

        atomic_write(self._path(index), write)

    def load(self, index: int) -> BlockResult | None:
        """The saved block ``index``, or None."""
        p = self._path(index)
        if not p.exists():
            return None
        try:
            with np.load(p) as z:
                fields = {f: z[f] for f in BLOCK_ARRAYS}
                return BlockResult(start=int(z["start"]), **fields)
        except Exception:  # a damaged block is recomputed, never trusted
            p.unlink(missing_ok=True)
            return None

    def discard(self) -> None:
        """Remove the checkpoints (after the final outputs are written)."""
        shutil.rmtree(self.root, ignore_errors=True)
