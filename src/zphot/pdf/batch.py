"""PDFBatch: what every estimator returns, with point estimates and widths derived from it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..exceptions import ParameterError
from .grid import RedshiftGrid

__all__ = ["PDFBatch", "POINT_KINDS"]

POINT_KINDS = ("mode", "mean", "median")


@dataclass(frozen=True)
class PDFBatch:
    """Probabilities per redshift bin for n objects (rows are finite, >= 0 and sum to 1).

    Examples
    --------
    >>> g = RedshiftGrid(0.0, 1.0, 4)
    >>> b = PDFBatch(np.array([[0.1, 0.6, 0.2, 0.1]]), g)
    >>> b.point("mode").tolist(), b.point("mean").round(3).tolist()
    ([0.375], [0.45])
    """

    probs: NDArray[np.float64]
    grid: RedshiftGrid

    def __post_init__(self) -> None:
        p = np.asarray(self.probs, dtype=np.float64)
        if p.ndim != 2 or p.shape[1] != self.grid.n_bins:
            raise ValueError(f"probs shape {p.shape} does not match {self.grid.n_bins} bins")
        object.__setattr__(self, "probs", p)

    @classmethod
    def normalised(cls, weights: NDArray, grid: RedshiftGrid) -> PDFBatch:
        """Normalise non-negative weights per row; an all-zero or non-finite row becomes flat."""
        w = np.nan_to_num(np.asarray(weights, dtype=np.float64), nan=0.0, posinf=0.0)
        w = np.clip(w, 0.0, None)
        s = w.sum(axis=1, keepdims=True)
        flat = np.full_like(w, 1.0 / w.shape[1]) if w.size else w
        with np.errstate(invalid="ignore", divide="ignore"):
            p = np.where(s > 0, w / np.where(s > 0, s, 1.0), flat)
        return cls(p, grid)

    def __len__(self) -> int:
        return self.probs.shape[0]

    @property
    def density(self) -> NDArray[np.float64]:
        """Probability density (per unit z) in each bin."""
        return self.probs / self.grid.width

    def cdf_at_edges(self) -> NDArray[np.float64]:
        c = np.cumsum(self.probs, axis=1)
        return np.concatenate([np.zeros((len(self), 1)), c / c[:, -1:]], axis=1)

    def quantiles(self, q: NDArray | list[float]) -> NDArray[np.float64]:
        """Quantiles (n, len(q)) of the piecewise-linear CDF."""
        q = np.atleast_1d(np.asarray(q, dtype=np.float64))
        cdf = self.cdf_at_edges()
        edges = self.grid.edges
        out = np.empty((len(self), len(q)))
        for j, qq in enumerate(q):
            # First edge index where CDF >= q, then interpolate inside that bin.
            k = np.clip((cdf < qq).sum(axis=1), 1, len(edges) - 1)
            rows = np.arange(len(self))
            c0, c1 = cdf[rows, k - 1], cdf[rows, k]
            frac = np.where(c1 > c0, (qq - c0) / np.where(c1 > c0, c1 - c0, 1.0), 0.5)
            out[:, j] = edges[k - 1] + np.clip(frac, 0, 1) * self.grid.width
        return out

    def point(self, kind: str = "mode") -> NDArray[np.float64]:
        """Point estimate: ``mode`` (centre of the most probable bin), ``mean`` or ``median``."""
        if kind == "mode":
            return self.grid.centres[np.argmax(self.probs, axis=1)]
        if kind == "mean":
            # Row by row (not a BLAS matrix product, whose rounding depends on the batch
            # size), so a galaxy's estimate never depends on its chunk.
            return (self.probs * self.grid.centres).sum(axis=1)
        if kind == "median":
            return self.quantiles([0.5])[:, 0]
        raise ParameterError(f"point must be one of {POINT_KINDS}, got {kind!r}")

    def std(self) -> NDArray[np.float64]:
        c = self.grid.centres
        mean = (self.probs * c).sum(axis=1)
        var = (self.probs * c**2).sum(axis=1) - mean**2 + self.grid.width**2 / 12.0
        return np.sqrt(np.clip(var, 0.0, None))

    def interval(self, level: float = 0.68) -> tuple[NDArray, NDArray]:
        """Central credible interval (lower, upper) holding ``level`` of the probability."""
        lo, hi = self.quantiles([(1 - level) / 2, (1 + level) / 2]).T
        return lo, hi

    def width(self, level: float = 0.68) -> NDArray[np.float64]:
        """Half the central ``level`` interval: a 1-sigma-like width robust to tails."""
        lo, hi = self.interval(level)
        return 0.5 * (hi - lo)

    def take(self, rows: NDArray) -> PDFBatch:
        return PDFBatch(self.probs[rows], self.grid)
