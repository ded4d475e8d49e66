"""The redshift grid every estimator's PDF lives on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..exceptions import ParameterError

__all__ = ["RedshiftGrid"]


@dataclass(frozen=True)
class RedshiftGrid:
    """``n_bins`` equal bins on ``[z_min, z_max]``; probabilities are per bin.

    Examples
    --------
    >>> g = RedshiftGrid(0.0, 0.4, 4)
    >>> g.edges.tolist(), g.centres.round(2).tolist()
    ([0.0, 0.1, 0.2, 0.30000000000000004, 0.4], [0.05, 0.15, 0.25, 0.35])
    """

    z_min: float
    z_max: float
    n_bins: int

    def __post_init__(self) -> None:
        if not (np.isfinite(self.z_min) and np.isfinite(self.z_max)) or self.z_max <= self.z_min:
            raise ParameterError(f"grid needs z_min < z_max, got [{self.z_min}, {self.z_max}]")
        if int(self.n_bins) < 2:
            raise ParameterError(f"grid needs n_bins >= 2, got {self.n_bins}")

    @property
    def edges(self) -> NDArray[np.float64]:
        return np.linspace(self.z_min, self.z_max, int(self.n_bins) + 1)

    @property
    def centres(self) -> NDArray[np.float64]:
        e = self.edges
        return 0.5 * (e[1:] + e[:-1])

    @property
    def width(self) -> float:
        return (self.z_max - self.z_min) / int(self.n_bins)

    def bin_index(self, z: NDArray[np.float64]) -> NDArray[np.int64]:
        """Index of the bin holding each z (clipped to the grid)."""
        i = np.floor((np.asarray(z, dtype=np.float64) - self.z_min) / self.width)
        return np.clip(i, 0, int(self.n_bins) - 1).astype(np.int64)

    def extended(self, n_extra: int) -> RedshiftGrid:
        """The grid with ``n_extra`` more bins of equal width on each side (Lin et al. Step 3)."""
        w = self.width
        return RedshiftGrid(
            self.z_min - n_extra * w, self.z_max + n_extra * w, int(self.n_bins) + 2 * n_extra
        )

    @classmethod
    def for_redshifts(
        cls,
        z: NDArray[np.float64],
        bin_width: float = 0.002,
        margin: float = 0.05,
        max_bins: int = 400,
    ) -> RedshiftGrid:
        """A grid covering the training redshifts (0.1% to 99.9% range plus a margin).

        Bins are ``bin_width`` wide unless that would give more than ``max_bins``: then the
        range is cut into ``max_bins`` equal bins. A wide survey's grid stays fine enough for
        photo-z scatter of ~0.02 (1 + z) (DC2's 0 to 2.87: 400 bins of 0.0072) while every
        model's per-galaxy PDF work, which grows with the bin count, stays bounded; a
        low-redshift survey such as SDSS (0 to 0.6: 300 bins) keeps 0.002.

        Examples
        --------
        >>> RedshiftGrid.for_redshifts(np.array([0.01, 0.55])).n_bins
        300
        >>> g = RedshiftGrid.for_redshifts(np.array([0.05, 2.8]))
        >>> g.z_min, g.z_max, g.n_bins, g.width
        (0.0, 2.85, 400, 0.007125)
        """
        if int(max_bins) < 2:
            raise ParameterError(f"max_bins must be >= 2, got {max_bins}")
        lo, hi = np.quantile(z, [0.0, 0.999])
        z_min = max(0.0, np.floor((lo - margin) * 100) / 100) if lo >= 0 else float(lo) - margin
        z_max = np.ceil((hi + margin) * 100) / 100
        width = max(float(bin_width), (z_max - z_min) / int(max_bins))
        n = min(int(max_bins), max(2, int(round((z_max - z_min) / width))))
        return cls(float(z_min), float(z_max), n)

    def to_dict(self) -> dict:
        return {"z_min": self.z_min, "z_max": self.z_max, "n_bins": int(self.n_bins)}
