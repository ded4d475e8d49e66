"""Step 4 (residual calibration in magnitude x z_photo cells), the individual view's z_spec
calibration, and PDF recalibration.

All are fitted on out-of-fold predictions of the training set: in-sample predictions are
optimistic (smaller residuals, too-narrow PDFs) and would under-correct.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..pdf.batch import PDFBatch

__all__ = ["ResidualCalibration", "SpecResidualCalibration", "PITRecalibration"]


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


class SpecResidualCalibration:
    """A smooth shift c(z_photo) that makes the mean residual flat in bins of z_spec.

    What an individual user needs is E[z_photo | z_spec] = z_spec. Steps 2-3 remove most of
    the pull toward dense redshifts, but an estimator of finite precision still regresses
    toward the middle of the range at both ends. No function of z_photo alone can undo that
    for free: removing it stretches the estimates, and a stretch where galaxies are dense
    costs sigma_NMAD. So c is piecewise linear on knots ``bin_width`` apart and minimises

        sum_b w_b (mean dz in z_spec bin b after the shift)^2
            + smoothing * sum_j n_j (c_{j+1} - c_j)^2,

    with w_b the fraction of galaxies in bin b and n_j the fraction near knot j: the penalty
    is the precision the stretch costs, so ``smoothing`` sets the trade. Both terms are
    quadratic in c: one linear solve. Hand-written because it is a small penalised least
    squares on a custom design (bin means of hat functions), not a model a library offers.

    Parameters
    ----------
    bin_width : float
        Width of the z_spec bins and the knot spacing.
    smoothing : float
        Weight of the stretch penalty (larger: a gentler correction, less precision lost).
    min_count : int
        Galaxies a z_spec bin needs to enter the fit.
    """

    def __init__(self, bin_width: float = 0.01, smoothing: float = 20.0, min_count: int = 30):
        self.bin_width = bin_width
        self.smoothing = smoothing
        self.min_count = min_count

    def _hat(self, z_photo: NDArray) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Left knot index and the weight of the right knot of each z_photo (clamped)."""
        x = (np.asarray(z_photo, dtype=np.float64) - self.z0_) / self.bin_width
        x = np.clip(x, 0.0, self.n_knots_ - 1.0)
        j = np.minimum(np.floor(x).astype(np.int64), self.n_knots_ - 2)
        return j, x - j

    def fit(self, z_photo: NDArray, z_spec: NDArray) -> SpecResidualCalibration:
        z_photo, z_spec = np.asarray(z_photo, float), np.asarray(z_spec, float)
        self.z0_ = float(np.floor(z_photo.min() / self.bin_width) * self.bin_width)
        self.n_knots_ = max(2, int(np.ceil((z_photo.max() - self.z0_) / self.bin_width)) + 1)
        j, t = self._hat(z_photo)
        inv = 1.0 / (1.0 + z_spec)
        b = np.floor((z_spec - z_spec.min()) / self.bin_width).astype(np.int64)
        n_b, k = int(b.max()) + 1, self.n_knots_
        # A[b, j]: mean over z_spec bin b of hat_j(z_photo) / (1 + z_spec), so that A @ c is
        # the shift of each bin's mean dz.
        A = np.zeros((n_b, k))
        np.add.at(A, (b, j), (1 - t) * inv)
        np.add.at(A, (b, j + 1), t * inv)
        count = np.bincount(b, minlength=n_b).astype(float)
        mean_dz = np.bincount(b, (z_photo - z_spec) * inv, minlength=n_b)
        keep = count >= self.min_count
        A, mean_dz, count = A[keep] / count[keep, None], mean_dz[keep] / count[keep], count[keep]
        w = count / len(z_photo)
        near = np.bincount(j, 1 - t, minlength=k) + np.bincount(j + 1, t, minlength=k)
        near /= len(z_photo)
        D = np.diff(np.eye(k), axis=0)
        # The tiny ridge keeps knots no galaxy touches determined (they take their neighbours').
        dens = 0.5 * (near[1:] + near[:-1]) + 1e-4
        H = A.T @ (w[:, None] * A) + self.smoothing * D.T @ (dens[:, None] * D)
        self.shift_ = np.linalg.solve(H + 1e-9 * np.eye(k), A.T @ (w * mean_dz))
        return self

    def apply(self, z_photo: NDArray) -> NDArray[np.float64]:
        """The individual-view estimate: z_photo minus the shift at z_photo."""
        z_photo = np.asarray(z_photo, dtype=np.float64)
        if len(z_photo) == 0:
            return z_photo
        j, t = self._hat(z_photo)
        return z_photo - ((1 - t) * self.shift_[j] + t * self.shift_[j + 1])

    def get_state(self) -> tuple[dict, dict[str, NDArray]]:
        meta = {
            "bin_width": self.bin_width,
            "smoothing": self.smoothing,
            "min_count": self.min_count,
            "z0": self.z0_,
            "n_knots": self.n_knots_,
        }
        return meta, {"shift": self.shift_}

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, NDArray]) -> SpecResidualCalibration:
        c = cls(meta["bin_width"], meta["smoothing"], meta["min_count"])
        c.z0_, c.n_knots_ = float(meta["z0"]), int(meta["n_knots"])
        c.shift_ = arrays["shift"]
        return c


class PITRecalibration:
    """Monotone remapping of each PDF's CDF so that PIT values become uniform.

    With G the empirical CDF of out-of-fold PIT values, the recalibrated CDF is G(F(z)): if
    PITs pile up in the middle (PDFs too wide) G steepens F there, and conversely. Point
    estimates are taken before recalibration and are not moved by it.
    """

    def __init__(self, n_knots: int = 101) -> None:
        self.n_knots = n_knots

    def fit(self, pit_values: NDArray, sample_weight: NDArray | None = None) -> PITRecalibration:
        """``sample_weight`` (optional) makes G the weighted empirical CDF, e.g. of training
        galaxies reweighted toward a fainter photometric sample."""
        u = np.clip(np.asarray(pit_values, dtype=np.float64), 0, 1)
        levels = np.linspace(0, 1, self.n_knots)
        # Knots (x = PIT quantile, y = level), pinned to (0, 0) and (1, 1), strictly increasing.
        if sample_weight is None:
            x = np.quantile(np.sort(u), levels)
        else:
            order = np.argsort(u)
            u, w = u[order], np.asarray(sample_weight, dtype=np.float64)[order]
            x = np.interp(levels, (np.cumsum(w) - 0.5 * w) / w.sum(), u)
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
