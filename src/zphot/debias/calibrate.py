"""Step 4 (residual calibration in magnitude x z_photo cells) and PDF recalibration.

Both are fitted on out-of-fold predictions of the training set: in-sample predictions are
optimistic (smaller residuals, too-narrow PDFs) and would under-correct.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..pdf.batch import PDFBatch

__all__ = ["ResidualCalibration", "PITRecalibration"]


class ResidualCalibration:
    """Mean residual z_photo - z_spec per (magnitude cell, z_photo bin), subtracted on apply.

    This makes the mean residual flat in bins of z_photo: the view a user who bins galaxies by
    their estimate (weak lensing tomography) needs. Sparse cells borrow from their z_photo bin
    pooled over magnitude cells, then from nothing (no correction).

    Parameters
    ----------
    bin_width : float
        Width of the z_photo bins (the paper: 0.01).
    min_count : int
        Galaxies a cell needs for its own mean.
    """

    def __init__(self, bin_width: float = 0.01, min_count: int = 20) -> None:
        self.bin_width = bin_width
        self.min_count = min_count

    def _bin(self, z_photo: NDArray) -> NDArray[np.int64]:
        i = np.floor((np.asarray(z_photo) - self.z0_) / self.bin_width).astype(np.int64)
        return np.clip(i, 0, self.n_bins_ - 1)

    def fit(
        self, z_photo: NDArray, z_spec: NDArray, cell: NDArray, n_cells: int
    ) -> ResidualCalibration:
        z_photo, z_spec, cell = map(np.asarray, (z_photo, z_spec, cell))
        self.z0_ = float(np.floor(z_photo.min() / self.bin_width) * self.bin_width)
        self.n_bins_ = int(np.ceil((z_photo.max() - self.z0_) / self.bin_width)) + 1
        b = self._bin(z_photo)
        resid = z_photo - z_spec
        shape = (n_cells, self.n_bins_)
        counts = np.zeros(shape)
        sums = np.zeros(shape)
        np.add.at(counts, (cell, b), 1)
        np.add.at(sums, (cell, b), resid)
        pooled_n, pooled_s = counts.sum(axis=0), sums.sum(axis=0)
        pooled = np.where(pooled_n >= self.min_count, pooled_s / np.maximum(pooled_n, 1), 0.0)
        own = sums / np.maximum(counts, 1)
        self.table_ = np.where(counts >= self.min_count, own, pooled[None, :])
        self.counts_ = counts
        return self

    def apply(self, z_photo: NDArray, cell: NDArray) -> NDArray[np.float64]:
        """The bulk-view estimate: z_photo minus its cell's mean residual."""
        z_photo = np.asarray(z_photo, dtype=np.float64)
        return z_photo - self.table_[np.asarray(cell), self._bin(z_photo)]

    def get_state(self) -> tuple[dict, dict[str, NDArray]]:
        meta = {
            "bin_width": self.bin_width,
            "min_count": self.min_count,
            "z0": self.z0_,
            "n_bins": self.n_bins_,
        }
        return meta, {"table": self.table_, "counts": self.counts_}

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, NDArray]) -> ResidualCalibration:
        c = cls(meta["bin_width"], meta["min_count"])
        c.z0_, c.n_bins_ = float(meta["z0"]), int(meta["n_bins"])
        c.table_, c.counts_ = arrays["table"], arrays["counts"]
        return c


class PITRecalibration:
    """Monotone remapping of each PDF's CDF so that PIT values become uniform.

    With G the empirical CDF of out-of-fold PIT values, the recalibrated CDF is G(F(z)): if
    PITs pile up in the middle (PDFs too wide) G steepens F there, and conversely. Point
    estimates are taken before recalibration and are not moved by it.
    """

    def __init__(self, n_knots: int = 101) -> None:
        self.n_knots = n_knots

    def fit(self, pit_values: NDArray) -> PITRecalibration:
        u = np.sort(np.clip(np.asarray(pit_values, dtype=np.float64), 0, 1))
        levels = np.linspace(0, 1, self.n_knots)
        # Knots (x = PIT quantile, y = level), pinned to (0, 0) and (1, 1), strictly increasing.
        x = np.quantile(u, levels)
        x[0], x[-1] = 0.0, 1.0
        x = np.maximum.accumulate(x + 1e-9 * np.arange(len(x)))
        x /= x[-1]
        self.knots_x_, self.knots_y_ = x, levels
        return self

    def apply(self, pdf: PDFBatch) -> PDFBatch:
        cdf = pdf.cdf_at_edges()
        new = np.interp(cdf, self.knots_x_, self.knots_y_)
        return PDFBatch.normalised(np.diff(new, axis=1), pdf.grid)

    def get_state(self) -> tuple[dict, dict[str, NDArray]]:
        return {"n_knots": self.n_knots}, {"x": self.knots_x_, "y": self.knots_y_}

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, NDArray]) -> PITRecalibration:
        c = cls(int(meta["n_knots"]))
        c.knots_x_, c.knots_y_ = arrays["x"], arrays["y"]
        return c
