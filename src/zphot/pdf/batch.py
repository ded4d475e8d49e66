"""PDFBatch: what every estimator returns, with point estimates and widths derived from it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..exceptions import ParameterError
from .grid import RedshiftGrid

__all__ = ["PDFBatch", "POINT_KINDS"]

POINT_KINDS = ("mode", "mean", "median")
_REPR_MODES = 3  # modes shown by repr


@dataclass(frozen=True, repr=False)
class PDFBatch:
    """Probabilities per redshift bin for n objects (rows are finite, >= 0 and sum to 1).

    Examples
    --------
    >>> g = RedshiftGrid(0.0, 1.0, 4)
    >>> b = PDFBatch(np.array([[0.1, 0.6, 0.2, 0.1]]), g)
    >>> b.point("mode").tolist(), b.point("mean").round(3).tolist()
    ([0.375], [0.45])
    >>> b
    <PDFBatch: 1 object, z in [0, 1] in 4 bins of 0.25; modes [0.375]>
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

    def __repr__(self) -> str:
        g = self.grid
        modes = ", ".join(f"{z:.3f}" for z in self.take(slice(0, _REPR_MODES)).point("mode"))
        more = ", ..." if len(self) > _REPR_MODES else ""
        shown = f"; modes [{modes}{more}]" if len(self) else ""
        objects = f"{len(self)} object{'' if len(self) == 1 else 's'}"
        return (
            f"<PDFBatch: {objects}, z in [{g.z_min:g}, {g.z_max:g}] "
            f"in {g.n_bins} bins of {g.width:.4g}{shown}>"
        )

    # --- qp and plots (optional libraries, imported when used) ---------------------------

    def to_qp(self, kind: str = "hist", ancil: Mapping[str, NDArray] | None = None) -> Any:
        """These PDFs as a qp Ensemble (``hist``: exact; ``interp``: densities at the bin
        centres), with optional per-object ``ancil`` columns; see :func:`zphot.pdf.qp.to_qp`.

        Needs the ``qp-prob`` package (``pip install 'zphot[qp]'``).
        """
        from .qp import to_qp

        return to_qp(self, kind, ancil)

    @classmethod
    def from_qp(cls, ensemble: Any, grid: RedshiftGrid | None = None) -> PDFBatch:
        """The PDFs of a qp Ensemble on a zphot grid (``grid`` needed unless the ensemble is an
        equal-width ``hist``); see :func:`zphot.pdf.qp.from_qp`."""
        from .qp import from_qp

        return from_qp(ensemble, grid)

    def _plot_range(self, rows: NDArray, truth: NDArray | Sequence[float] | None) -> list[float]:
        """Where the drawn PDFs hold 99.8% of their probability, with their truths, padded:
        the whole grid would squeeze narrow PDFs into a few pixels."""
        ends = self.take(rows).quantiles([0.001, 0.999])
        lo, hi = float(ends[:, 0].min()), float(ends[:, 1].max())
        if truth is not None:
            z = np.asarray(truth, dtype=np.float64)[rows]
            lo, hi = min(lo, float(np.nanmin(z))), max(hi, float(np.nanmax(z)))
        pad = max(0.05 * (hi - lo), self.grid.width)
        return [max(lo - pad, self.grid.z_min), min(hi + pad, self.grid.z_max)]

    def plot(
        self,
        indices: Sequence[int] | NDArray | None = None,
        truth: NDArray | Sequence[float] | None = None,
        ax: Any = None,
    ) -> Any:
        """Draw a few PDFs (density per unit z), each with its true redshift as a dashed line.

        Parameters
        ----------
        indices : sequence of int, optional
            Which objects; the first five by default.
        truth : array of float, optional
            True redshift of every object of the batch (length n); those at ``indices`` are
            drawn in the colour of their PDF.
        ax : matplotlib Axes, optional
            Where to draw; a new Figure (not registered with pyplot) otherwise.

        Returns
        -------
        matplotlib.figure.Figure
            The figure holding ``ax``: one line per PDF, then one per truth marker.
        """
        rows = np.arange(min(len(self), 5)) if indices is None else np.asarray(indices, int)
        if rows.size and (rows.min() < -len(self) or rows.max() >= len(self)):
            raise ParameterError(f"indices must be in [0, {len(self)}), got {rows.tolist()}")
        if truth is not None and len(truth) != len(self):
            raise ParameterError(
                f"truth must hold one redshift per object ({len(self)}), got {len(truth)}"
            )
        if ax is None:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure

            fig = Figure(figsize=(6.0, 3.5), layout="constrained")
            FigureCanvasAgg(fig)
            ax = fig.add_subplot()
        density = self.density
        colours = []
        for i in rows:
            (line,) = ax.plot(
                self.grid.centres, density[i], drawstyle="steps-mid", label=f"object {i}"
            )
            colours.append(line.get_color())
        if truth is not None:
            for i, colour in zip(rows, colours, strict=True):
                ax.axvline(float(truth[i]), color=colour, linestyle="--", label="_truth")
        ax.set_xlabel("redshift")
        ax.set_ylabel("probability density")
        if len(rows):
            ax.set_xlim(*self._plot_range(rows, truth))
        if len(rows):
            ax.legend(fontsize="small", title="dashed: truth" if truth is not None else None)
        return ax.figure
