"""Checkpoints of a run: finished blocks saved as they complete, so a run can be resumed.

Layout inside the run's output folder::

    .riskengine-run/
        manifest.json          fingerprint of the inputs, number of blocks
        blocks/block-000012.npz

Every file is written under a temporary name and renamed into place, so a block file that exists
is complete. The manifest's fingerprint (hash of book, scenario, sims, seed and block size) must
match for ``--resume`` to reuse blocks; otherwise the run refuses to resume and says why.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .errors import OutputError, Problem

__all__ = ["CheckpointStore", "atomic_write_bytes", "atomic_path"]

RUN_DIR = ".riskengine-run"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_path(target: Path) -> Path:
    """A temporary sibling of ``target`` to write to before renaming it into place.

    It gets the permissions a new file would get (0666 less the umask), not mkstemp's 0600.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.fchmod(fd, 0o666 & ~_umask())
    os.close(fd)
    return Path(name)


def atomic_write_bytes(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` atomically (temporary file, fsync, rename)."""
    tmp = atomic_path(target)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class CheckpointStore:
    """Saves and loads the finished blocks of one run."""

    def __init__(self, folder: Path, fingerprint: str, n_blocks: int):
        self.folder = Path(folder)
        self.root = self.folder / RUN_DIR
        self.blocks = self.root / "blocks"
        self.fingerprint = fingerprint
        self.n_blocks = n_blocks

    def open(self, resume: bool) -> None:
        """Prepare the store: on resume check the manifest, otherwise start afresh."""
        try:
            self._open(resume)
        except OSError as exc:
            raise OutputError(
                [
                    Problem(
                        str(self.folder),
                        None,
                        f"cannot write the run's checkpoints here: {exc.strerror or exc}",
                    )
                ],
                str(self.folder),
            ) from None

    def _open(self, resume: bool) -> None:
        manifest = self.root / "manifest.json"
        if resume:
            if not manifest.exists():
                raise OutputError(
                    [
                        Problem(
                            str(self.folder),
                            None,
                            "nothing to resume: no interrupted run in this folder",
                        )
                    ],
                    str(self.folder),
                )
            data = json.loads(manifest.read_text())
            if data.get("fingerprint") != self.fingerprint or data.get("n_blocks") != self.n_blocks:
                raise OutputError(
                    [
                        Problem(
                            str(self.folder),
                            None,
                            "cannot resume: the interrupted run used different inputs (book, scenario, sims, seed or block size)",
                        )
                    ],
                    str(self.folder),
                )
        else:
            if self.root.exists():
                shutil.rmtree(self.root)
        self.blocks.mkdir(parents=True, exist_ok=True)
        if not manifest.exists():
            atomic_write_bytes(
                manifest,
                json.dumps({"fingerprint": self.fingerprint, "n_blocks": self.n_blocks}).encode(),
            )

    def _path(self, index: int) -> Path:
        return self.blocks / f"block-{index:06d}.npz"

    def save(self, index: int, result) -> None:
        """Save one finished block (atomically)."""
        tmp = atomic_path(self._path(index))
        try:
            with open(tmp, "wb") as fh:
                np.savez(
                    fh,
                    start=np.int64(result.start),
                    **{f: getattr(result, f) for f in result.__dataclass_fields__ if f != "start"},
                )
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self._path(index))
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def load(self, index: int):
        """The saved block ``index``, or None."""
        from .engine import BlockResult

        p = self._path(index)
        if not p.exists():
            return None
        try:
            with np.load(p) as z:
                fields = {f: z[f] for f in BlockResult.__dataclass_fields__ if f != "start"}
                return BlockResult(start=int(z["start"]), **fields)
        except Exception:  # a damaged block is recomputed, never trusted
            p.unlink(missing_ok=True)
            return None

    def discard(self) -> None:
        """Remove the checkpoints (after the final outputs are written)."""
        shutil.rmtree(self.root, ignore_errors=True)
