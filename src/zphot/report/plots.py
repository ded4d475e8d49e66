"""Figures of a comparison: each function returns a matplotlib Figure and draws nothing on screen.

The Agg backend is used through :class:`matplotlib.figure.Figure` directly (never pyplot), so
plots work on headless machines and no global figure state leaks between calls. Each model keeps
one colour in every figure.
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from numpy.typing import NDArray

from ..metrics import binned_residuals, dz

if TYPE_CHECKING:
    from .compare import Comparison, ModelResult

__all__ = [
    "all_figures",
    "density_plot",
    "loss_plot",
    "nz_plot",
    "pit_plot",
    "png_bytes",
    "residual_plot",
    "z_range",
]

#: |dz| beyond which a galaxy is a catastrophic outlier, drawn on the density plots.
OUTLIER_DZ = 0.15
#: Residual-curve bins with fewer galaxies are left out: their means are noise.
MIN_BIN_COUNT = 20
_DPI = 110


def _colour(i: int) -> str:
    return f"C{i % 10}"


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=_DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG bytes, for files and for embedding in HTML."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI)
    return buf.getvalue()


def z_range(z_spec: NDArray[np.float64]) -> tuple[float, float]:
    """Plot range of redshift axes: from 0 (or the minimum) to the 99.5% quantile, rounded up.

    Clipping the rare highest redshifts keeps the bulk of the sample readable.
    """
    lo = min(0.0, float(np.min(z_spec)))
    hi = math.ceil(float(np.quantile(z_spec, 0.995)) * 10) / 10
    return lo, max(hi, lo + 0.1)


def density_plot(result: ModelResult, limits: tuple[float, float] | None = None) -> Figure:
    """z_phot against z_spec as a 2-D histogram with a logarithmic colour scale.

    The 1:1 line is the ideal; the dotted lines at ``|dz| = 0.15`` bound the catastrophic
    outliers. Estimates beyond the axes are not drawn.
    """
    zs, zp = result.z_spec, result.z_phot
    lo, hi = limits or z_range(zs)
    fig = _new_figure(4.6, 4.0)
    ax = fig.add_subplot()
    hb = ax.hexbin(
        zs,
        zp,
        gridsize=70,
        extent=(lo, hi, lo, hi),
        mincnt=1,
        norm=LogNorm(),
        cmap="viridis",
        linewidths=0.0,
    )
    line = np.array([lo, hi])
    ax.plot(line, line, color="k", lw=1.0, ls="--", label="z_phot = z_spec")
    ax.plot(
        line,
        line + OUTLIER_DZ * (1 + line),
        color="C3",
        lw=1.0,
        ls=":",
        label=f"|dz| = {OUTLIER_DZ}",
    )
    ax.plot(line, line - OUTLIER_DZ * (1 + line), color="C3", lw=1.0, ls=":")
    ax.set(xlim=(lo, hi), ylim=(lo, hi), aspect="equal")
    ax.set_xlabel("z_spec (true redshift)")
    ax.set_ylabel("z_phot (estimated redshift)")
    m = result.metrics
    ax.set_title(
        f"{result.name}: σ_NMAD {m['sigma_nmad']:.4f}, outliers {m['outlier_015']:.1%}",
        fontsize=10,
    )
    ax.legend(loc="upper left", fontsize=8, framealpha=0.85)
    fig.colorbar(hb, ax=ax, label="galaxies per cell", shrink=0.85)
    return fig


def residual_plot(comparison: Comparison, n_bins: int = 15) -> Figure:
    """Mean dz with its standard error in redshift bins, against z_spec and against z_phot.

    Against z_spec the curves show each model's conditional bias (typically too high at low z,
    too low at high z: regression to the mean); against z_phot they show what a user selecting
    galaxies by their estimate gets. Models are shifted slightly sideways so their error bars
    do not hide each other.
    """
    lo, hi = z_range(comparison.results[0].z_spec)
    edges = np.linspace(lo, hi, n_bins + 1)
    width = edges[1] - edges[0]
    n = len(comparison.results)
    fig = _new_figure(11.0, 4.2)
    axes = fig.subplots(1, 2, sharey=True)
    for ax, by in zip(axes, ("z_spec", "z_phot"), strict=True):
        for i, r in enumerate(comparison.results):
            x = r.z_spec if by == "z_spec" else r.z_phot
            t = binned_residuals(x, dz(r.z_phot, r.z_spec), edges, min_count=MIN_BIN_COUNT)
            shift = 0.5 * width * (i - (n - 1) / 2) / max(n, 1)
            ax.errorbar(
                t["centre"] + shift,
                t["mean"],
                yerr=t["sem"],
                color=_colour(i),
                marker="o",
                ms=3.5,
                lw=1.2,
                capsize=2,
                label=r.name,
            )
        ax.axhline(0.0, color="k", lw=0.8)
        ax.set_xlim(lo, hi)
        ax.set_xlabel(f"{by} (binned, width {width:.2f})")
        ax.set_title(f"mean residual in bins of {by}", fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("mean dz = (z_phot − z_spec)/(1 + z_spec)")
    axes[1].legend(fontsize=8, loc="best")
    return fig


def nz_plot(comparison: Comparison, bin_width: float = 0.05) -> Figure:
    """The redshift distribution of each model's estimates over the true one (filled grey).

    Spikes or a narrowed distribution reveal mode collapse or shrinkage toward the mean that
    per-galaxy scatter metrics hide.
    """
    zs = comparison.results[0].z_spec
    lo, hi = z_range(zs)
    edges = np.arange(lo, hi + bin_width / 2, bin_width)
    fig = _new_figure(7.5, 4.2)
    ax = fig.add_subplot()
    ax.hist(zs, edges, density=True, color="0.8", label="z_spec (truth)")
    for i, r in enumerate(comparison.results):
        ax.hist(
            r.z_phot,
            edges,
            density=True,
            histtype="step",
            lw=1.5,
            color=_colour(i),
            label=f"{r.name} (TV {r.metrics['nz_fidelity']:.3f})",
        )
    ax.set_xlim(lo, hi)
    ax.set_xlabel("redshift z")
    ax.set_ylabel("n(z) (probability per unit z)")
    ax.set_title(f"redshift distributions of the test set (bins of {bin_width})", fontsize=10)
    ax.legend(fontsize=8)
    return fig


def _grid_axes(fig: Figure, n: int, ncols: int = 3) -> list:
    ncols = min(n, ncols)
    nrows = math.ceil(n / ncols)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False).ravel())
    for ax in axes[n:]:
        ax.set_visible(False)
    return list(axes[:n])


def pit_plot(comparison: Comparison, n_bins: int = 20) -> Figure:
    """Histograms of the PIT values, one panel per model; flat at 1 means calibrated PDFs.

    A U shape means the PDFs are too narrow (overconfident), a hump that they are too wide, a
    slope that they are biased.
    """
    n = len(comparison.results)
    ncols = min(n, 3)
    fig = _new_figure(3.7 * ncols, 2.9 * math.ceil(n / ncols))
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    for i, (ax, r) in enumerate(zip(_grid_axes(fig, n), comparison.results, strict=True)):
        ax.hist(np.clip(r.pit, 0.0, 1.0), edges, density=True, color=_colour(i), alpha=0.75)
        ax.axhline(1.0, color="k", ls="--", lw=1.0)
        ax.set_xlim(0.0, 1.0)
        ax.set_title(f"{r.name}: PIT KS {r.metrics['pit_ks']:.3f}", fontsize=10)
        ax.set_xlabel("PIT = CDF(z_spec)")
        ax.set_ylabel("density")
    fig.suptitle("PIT histograms (dashed: calibrated PDFs give a flat histogram at 1)", fontsize=10)
    return fig


def loss_plot(comparison: Comparison) -> Figure | None:
    """Training and validation loss per epoch of every model with loss curves; None if none.

    Each ensemble member is one line per curve (members share the curve's style); the best
    validation epoch of each member is marked, to show where early stopping kept the weights.
    """
    nets = [(i, r) for i, r in enumerate(comparison.results) if r.history]
    if not nets:
        return None
    ncols = min(len(nets), 3)
    fig = _new_figure(3.9 * ncols, 3.0 * math.ceil(len(nets) / ncols))
    for ax, (_, r) in zip(_grid_axes(fig, len(nets)), nets, strict=True):
        names = list(dict.fromkeys(k for member in r.history for k in member))
        finite: list[float] = []
        for m, member in enumerate(r.history):
            for j, key in enumerate(names):
                if key not in member:
                    continue
                y = np.asarray(member[key], dtype=float)
                finite.extend(y[np.isfinite(y)])
                epochs = np.arange(1, len(y) + 1)
                ax.plot(
                    epochs,
                    y,
                    color=_colour(j),
                    lw=1.2,
                    alpha=0.85 if m == 0 else 0.45,
                    label=key if m == 0 else None,
                )
                if key.startswith("val") and np.isfinite(y).any():
                    best = int(np.nanargmin(y))
                    ax.plot(epochs[best], y[best], "o", color=_colour(j), ms=4)
        # Losses spanning more than a decade read better on a log axis; a log axis needs > 0.
        if finite and min(finite) > 0 and max(finite) > 10 * min(finite):
            ax.set_yscale("log")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        members = f", {len(r.history)} members" if len(r.history) > 1 else ""
        ax.set_title(f"{r.name}{members}", fontsize=10)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss (training objective)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return fig


def all_figures(comparison: Comparison) -> dict[str, Figure]:
    """Every report figure by file stem: residuals, n(z), PIT, losses, one density plot each.

    All density plots share the axis range so that models can be compared panel to panel.
    """
    figs: dict[str, Figure] = {
        "residuals": residual_plot(comparison),
        "nz": nz_plot(comparison),
        "pit": pit_plot(comparison),
    }
    losses = loss_plot(comparison)
    if losses is not None:
        figs["loss"] = losses
    limits = z_range(comparison.results[0].z_spec)
    for r in comparison.results:
        figs[f"density_{r.name}"] = density_plot(r, limits)
    return figs
