"""Where each segment lives in the kernels' segment matrix, declared once.

A simulated year's gross claims are summed into one row of a segment matrix: the countries'
columns first, then the sectors', then (when asked) the policies'. Regions are summed from
countries after the run. When capital is allocated on the net perspective, a second block with
the same layout holds the year's claims net of the reinsurance programme. Everything that
writes or reads the matrix — the kernel through its portfolio's offsets, results when labelling
segments — takes the offsets from :class:`SegmentLayout`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SegmentLayout", "DIMENSIONS"]

#: Dimensions of segment outputs (regions are summed from countries).
DIMENSIONS = ("country", "region", "sector", "policy")


@dataclass(frozen=True)
class SegmentLayout:
    """Column offsets of the segment matrix.

    Attributes
    ----------
    n_countries, n_sectors, n_policies : int
        Sizes of the blocks (``n_policies`` 0 when policy segments are off).
    net : bool
        Whether a second block, with the same layout, holds net claims.
    """

    n_countries: int
    n_sectors: int
    n_policies: int
    net: bool = False

    @property
    def sector0(self) -> int:
        """Column of sector 0."""
        return self.n_countries

    @property
    def policy0(self) -> int:
        """Column of policy 0 (−1 when policy segments are off)."""
        return self.n_countries + self.n_sectors if self.n_policies else -1

    @property
    def block(self) -> int:
        """Columns of one perspective's block."""
        return self.n_countries + self.n_sectors + self.n_policies

    @property
    def net0(self) -> int:
        """Column where the net block starts (−1 without one)."""
        return self.block if self.net else -1

    @property
    def width(self) -> int:
        """Columns of the matrix."""
        return self.block * (2 if self.net else 1)

    def columns(self, dimension: str, perspective: str = "gross") -> tuple[int, int]:
        """The half-open column range ``[start, stop)`` of ``country``, ``sector`` or ``policy``
        in the ``gross`` or ``net`` block."""
        if perspective == "net":
            if not self.net:
                raise ValueError("net segments were not simulated")
            offset = self.block
        elif perspective == "gross":
            offset = 0
        else:
            raise ValueError(f"no segment block for perspective {perspective!r}")
        if dimension == "country":
            return offset, offset + self.n_countries
        if dimension == "sector":
            return offset + self.sector0, offset + self.sector0 + self.n_sectors
        if dimension == "policy":
            if not self.n_policies:
                raise ValueError(
                    "policy segments were not simulated (add 'policy' to outputs.segments)"
                )
            return offset + self.policy0, offset + self.policy0 + self.n_policies
        raise ValueError(f"no columns for segment dimension {dimension!r}")

    def select(
        self, cols: np.ndarray, dimension: str, perspective: str = "gross"
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mask of ``cols`` in ``dimension``'s range, and their codes within the dimension."""
        start, stop = self.columns(dimension, perspective)
        mask = (cols >= start) & (cols < stop)
        return mask, cols[mask] - start
