"""Atomic output files: written under a temporary name, synced, then renamed into place.

Every file riskengine writes goes through here, so a failed or interrupted run never leaves a
half-written file that looks complete: a file that exists under its final name is whole.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import OutputError, Problem

__all__ = ["atomic_path", "atomic_write", "atomic_write_bytes", "write_parquet", "prepare_folder"]


def prepare_folder(folder: str | os.PathLike, last: str) -> Path:
    """Create ``folder`` and remove ``last``, the file its writer writes last: while the others
    are written the folder does not look complete.

    Raises
    ------
    OutputError
        When the folder cannot be created.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        rule = f"cannot create the output folder: {exc.strerror or exc}"
        raise OutputError([Problem(str(folder), None, rule)], str(folder)) from None
    (folder / last).unlink(missing_ok=True)
    return folder


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_path(target: Path) -> Path:
    """A temporary sibling of ``target`` to write to before renaming it into place.

    It gets the permissions a new file would get (0666 less the umask), not mkstemp's 0600.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.fchmod(fd, 0o666 & ~_umask())
    os.close(fd)
    return Path(name)


def atomic_write(target: str | os.PathLike[str], write: Callable[[Path], Any]) -> Path:
    """Call ``write(tmp)`` to fill a temporary sibling of ``target``, then rename it into place.

    The temporary file is removed if ``write`` fails (or is interrupted).
    """
    target = Path(target)
    tmp = atomic_path(target)
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically."""
    return atomic_write(target, lambda tmp: Path(tmp).write_bytes(data))


def write_parquet(target: str | os.PathLike[str], df: Any) -> Path:
    """Write a Polars frame to ``target`` as Parquet (zstd, with statistics), atomically."""
    return atomic_write(
        target, lambda tmp: df.write_parquet(tmp, compression="zstd", statistics=True)
    )
