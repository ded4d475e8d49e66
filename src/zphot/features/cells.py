"""Magnitude cells and the redshift heads they feed (Lin et al. 2022, Step 1).

The reference-band magnitude range is cut into R cells; K = ceil(R / cells_per_head) heads each
own consecutive cells. The last cell of a head also trains the next head ("interlacing"), so
neighbouring heads agree where they meet. Magnitudes outside the range (or missing) go to the
nearest end cell, so every galaxy has a head.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..exceptions import ParameterError

__all__ = ["MagnitudeCells"]


@dataclass(frozen=True)
class MagnitudeCells:
    """R equal-width cells on ``[m_min, m_max]`` and their assignment to K heads.

    Examples
    --------
    >>> cells = MagnitudeCells(12.5, 18.0, 11, cells_per_head=2)
    >>> cells.n_heads, cells.cell([12.0, 13.2, 17.9, np.nan]).tolist()
    (6, [0, 1, 10, 10])
    >>> cells.membership(np.array([1, 2])).astype(int).tolist()  # cell 1 ends head 0
    [[1, 1, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0]]
    """

    m_min: float
    m_max: float
    n_cells: int
    cells_per_head: int = 2

    def __post_init__(self) -> None:
        if not self.m_max > self.m_min or self.n_cells < 1 or self.cells_per_head < 1:
            raise ParameterError(
                f"magnitude cells need m_min < m_max, n_cells >= 1, cells_per_head >= 1; got "
                f"[{self.m_min}, {self.m_max}], {self.n_cells}, {self.cells_per_head}"
            )

    @classmethod
    def from_magnitudes(
        cls, mags: NDArray, width: float = 0.5, cells_per_head: int = 2, coverage: float = 0.99
    ) -> MagnitudeCells:
        """Cells of ``width`` mag spanning the central ``coverage`` of the data (defaults scale
        with the sample instead of fixing SDSS's [12.5, 18])."""
        m = np.asarray(mags, dtype=np.float64)
        m = m[np.isfinite(m)]
        lo, hi = np.quantile(m, [(1 - coverage) / 2, (1 + coverage) / 2])
        lo = np.floor(lo / width) * width
        n = max(1, int(np.ceil((hi - lo) / width)))
        return cls(float(lo), float(lo + n * width), n, cells_per_head)

    @property
    def n_heads(self) -> int:
        return int(np.ceil(self.n_cells / self.cells_per_head))

    @property
    def edges(self) -> NDArray[np.float64]:
        return np.linspace(self.m_min, self.m_max, self.n_cells + 1)

    def cell(self, mags: NDArray | list[float]) -> NDArray[np.int64]:
        """Cell index of each magnitude; missing magnitudes go to the faintest cell."""
        m = np.asarray(mags, dtype=np.float64)
        width = (self.m_max - self.m_min) / self.n_cells
        idx = np.floor((np.where(np.isfinite(m), m, self.m_max) - self.m_min) / width)
        return np.clip(idx, 0, self.n_cells - 1).astype(np.int64)

    def head(self, cells: NDArray[np.int64]) -> NDArray[np.int64]:
        """The head that owns each cell (the magnitude head's label)."""
        return np.minimum(np.asarray(cells) // self.cells_per_head, self.n_heads - 1)

    def membership(self, cells: NDArray[np.int64]) -> NDArray[np.bool_]:
        """(n, K) mask of the heads a galaxy trains: its own, plus the next at a border cell."""
        cells = np.asarray(cells)
        own = self.head(cells)
        out = np.zeros((len(cells), self.n_heads), dtype=bool)
        out[np.arange(len(cells)), own] = True
        border = ((cells + 1) % self.cells_per_head == 0) & (own + 1 < self.n_heads)
        out[np.flatnonzero(border), own[border] + 1] = True
        return out

    def to_dict(self) -> dict:
        return {
            "m_min": self.m_min,
            "m_max": self.m_max,
            "n_cells": self.n_cells,
            "cells_per_head": self.cells_per_head,
        }
