"""Numba kernels: counter-based random numbers, special functions, the simulation kernel.

Kernels import only numpy, numba and math. They are compiled with ``cache=True``; Numba's cache
checks only the source file of each function, not the files of the functions it calls, so a
change to ``rng.py`` would leave a stale ``simulate`` in the cache. :func:`_guard_cache` closes
that gap: it keeps a hash of every kernel source next to the cache and clears the kernels' cache
when any of them changed.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["KERNEL_DIGEST"]


def _cache_dirs(here: Path) -> list[Path]:
    dirs = [here / "__pycache__"]
    custom = os.environ.get("NUMBA_CACHE_DIR")
    if custom:
        # Numba mirrors the source path under NUMBA_CACHE_DIR
        dirs.append(Path(custom) / str(here.resolve()).lstrip(os.sep))
    return dirs


#: Kernels that simulate nothing and call no other kernel: Numba's own check of their source
#: keeps their cache fresh, and a change to them leaves every simulated year as it was.
_OUTSIDE_DIGEST = {"tailmerge.py"}


def _digest(here: Path) -> str:
    h = hashlib.sha256()
    for src in sorted(here.glob("*.py")):
        if src.name in _OUTSIDE_DIGEST:
            continue
        h.update(src.name.encode())
        h.update(src.read_bytes())
    return h.hexdigest()


def _guard_cache(digest: str) -> None:
    here = Path(__file__).resolve().parent
    for cache in _cache_dirs(here):
        stamp = cache / "riskengine-kernels.sha256"
        try:
            if stamp.exists() and stamp.read_text() == digest:
                continue
            if cache.exists():
                for f in list(cache.glob("*.nbi")) + list(cache.glob("*.nbc")):
                    f.unlink(missing_ok=True)
            cache.mkdir(parents=True, exist_ok=True)
            stamp.write_text(digest)
        except OSError:  # a read-only install: Numba then falls back to no caching by itself
            pass


#: SHA-256 of the kernels' sources: part of a run's checkpoint fingerprint, so that ``--resume``
#: never mixes blocks simulated by two versions of the kernels.
KERNEL_DIGEST = _digest(Path(__file__).resolve().parent)
_guard_cache(KERNEL_DIGEST)
