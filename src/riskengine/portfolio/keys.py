"""Entity keys: stable 64-bit hashes of names, the random-number contract's entity ids.

A key depends only on the name's UTF-8 bytes and a salt for the entity kind, never on a position,
so adding an entity leaves every other entity's draws unchanged (docs/model.md §6). The salts
are part of that contract: never change them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..kernels.rng import fmix64_np, hash_all

__all__ = [
    "SALT_BUYER",
    "SALT_GROUP",
    "SALT_COUNTRY",
    "SALT_REGION",
    "SALT_SECTOR",
    "SALT_FACTOR",
    "SALT_GLOBAL",
    "hash_strings",
    "mix_keys",
    "float_bits",
]

SALT_BUYER = 0x62
SALT_GROUP = 0x67
SALT_COUNTRY = 0x63
SALT_REGION = 0x72
SALT_SECTOR = 0x73
SALT_FACTOR = 0x66
SALT_GLOBAL = 0x47


def hash_strings(values: Any, salt: int) -> np.ndarray:
    """Stable 64-bit keys of strings (a Polars Series, a list, or a NumPy array of str).

    FNV-1a over the UTF-8 bytes, then a SplitMix64 finaliser (``kernels.rng.hash_bytes``).
    """
    import pyarrow as pa

    arr = (
        values.to_arrow()
        if hasattr(values, "to_arrow")
        else pa.array(list(values), type=pa.large_string())
    )
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.large_string())
    if arr.null_count:
        raise ValueError("cannot hash null strings")
    _, offs, data = arr.buffers()
    offsets = np.frombuffer(offs, dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
    bytes_ = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    out = np.empty(len(arr), dtype=np.uint64)
    hash_all(offsets, bytes_, np.uint64(salt), out)
    return out


def mix_keys(*parts: np.ndarray) -> np.ndarray:
    """Combine uint64 key arrays into one key (order-sensitive)."""
    h = np.full(np.broadcast(*parts).shape, np.uint64(0x243F6A8885A308D3), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for p in parts:
            h = fmix64_np(h ^ np.asarray(p, dtype=np.uint64)) + np.uint64(0x9E3779B97F4A7C15)
    return fmix64_np(h)


def float_bits(x: np.ndarray) -> np.ndarray:
    """The IEEE bits of float64 values as uint64 (keys that differ for every distinct value)."""
    return np.ascontiguousarray(np.asarray(x, dtype=np.float64)).view(np.uint64)
