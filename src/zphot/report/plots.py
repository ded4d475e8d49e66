"""Figures of a comparison: each function returns a matplotlib Figure and draws nothing on screen.

The Agg backend is used through :class:`matplotlib.figure.Figure` directly (never pyplot), so
plots work on headless machines and no global figure state leaks between calls. Each model keeps
one colour in every figure; the bulk row of a Step 4 model (``NAME (bulk)``) shares its model's
colour, dashed.
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

if TYPE_CHECKING:
    from .results import Comparison, ModelResult

__all__ = [
    "all_figures",
    "density_plot",
    "loss_plot",
    "nz_bin_width",
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


def _styles(comparison: Comparison) -> list[tuple[str, str]]:
    """``(colour, line style)`` per result: one colour per model, its bulk row dashed."""
    colours: dict[str, str] = {}
    styles = []
    for r in comparison.results:
        if r.bulk_of is not None and r.bulk_of in colours:
            styles.append((colours[r.bulk_of], "--"))
        else:
            colours[r.name] = _colour(len(colours))
            styles.append((colours[r.name], "-"))
    return styles


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


def residual_plot(comparison: Comparison) -> Figure:
    """Mean dz with its standard error in redshift bins, against z_spec and against z_phot.

    The bins are those of :meth:`~zphot.report.compare.Comparison.binned` (and of the
    ``binned_MODEL.csv`` files): width ``comparison.bin_width`` over the test set's z_spec
    range. Upper panels: the mean dz as a line with a shaded band of ± one standard error
    (``std(ddof=1) / sqrt(n)``), for bins holding at least :data:`MIN_BIN_COUNT` galaxies.
    Lower panels: the galaxies per bin, with the ``min_bin_count`` a bin needs to count toward
    the table's max |mean dz| columns dotted. Against z_spec the curves show each model's
    conditional bias (typically too high at low z, too low at high z: regression to the mean);
    against z_phot they show what a user selecting galaxies by their estimate gets.
    """
    lo, hi = z_range(comparison.results[0].z_spec)
    styles = _styles(comparison)
    tables = [comparison.binned(r, min_count=MIN_BIN_COUNT) for r in comparison.results]
    fig = _new_figure(11.0, 5.6)
    axes = fig.subplots(2, 2, sharex="col", height_ratios=(3, 1))
    axes[0, 1].sharey(axes[0, 0])
    axes[1, 1].sharey(axes[1, 0])
    for col, by in enumerate(("z_spec", "z_phot")):
        top, bottom = axes[0, col], axes[1, col]
        for r, t, (colour, ls) in zip(comparison.results, tables, styles, strict=True):
            t = t[t["by"] == by]
            x, mean, sem = (t[c].to_numpy(float) for c in ("centre", "mean", "sem"))
            top.plot(x, mean, color=colour, ls=ls, marker="o", ms=2.5, lw=1.2, label=r.name)
            top.fill_between(x, mean - sem, mean + sem, color=colour, alpha=0.2, lw=0)
            # Against z_spec every model has the same counts: draw them once.
            if by == "z_phot" or r is comparison.results[0]:
                counts = t["count"].to_numpy(float)
                bottom.stairs(
                    counts,
                    np.append(t["lo"].to_numpy(float), t["hi"].iloc[-1]),
                    color=colour if by == "z_phot" else "0.4",
                    ls=ls,
                    lw=1.0,
                )
        top.axhline(0.0, color="k", lw=0.8)
        if not any(np.isfinite(t.loc[t["by"] == by, "mean"]).any() for t in tables):
            top.text(
                0.5,
                0.5,
                f"no bin holds {MIN_BIN_COUNT} galaxies: try a wider bin width",
                transform=top.transAxes,
                ha="center",
                color="0.4",
            )
        top.set_title(f"mean residual in bins of {by}", fontsize=10)
        top.grid(alpha=0.3)
        top.tick_params(labelbottom=False)
        bottom.axhline(comparison.min_bin_count, color="k", ls=":", lw=0.8)
        bottom.set_yscale("symlog", linthresh=10)
        bottom.set_xlim(lo, hi)
        bottom.set_xlabel(f"{by} (bins of {comparison.bin_width:g})")
        bottom.grid(alpha=0.3)
    axes[0, 0].set_ylabel("mean dz ± standard error")
    axes[1, 0].set_ylabel("galaxies")
    axes[0, 1].legend(fontsize=8, loc="best")
    return fig


def nz_bin_width(lo: float, hi: float, n_bins: int = 40) -> float:
    """A round histogram width (1, 2 or 5 times a power of ten) giving at least ``n_bins``
    bins over ``[lo, hi]``.

    A fixed width cannot serve every survey: 0.05 draws DC2's 0-3 in 60 bins but an SDSS main
    sample's 0-0.3 in 6, too coarse to show a spike or a narrowed n(z).

    >>> nz_bin_width(0.0, 0.3), nz_bin_width(0.0, 3.0)
    (0.005, 0.05)
    """
    target = (hi - lo) / n_bins
    power = 10.0 ** math.floor(math.log10(target))
    step = max(m for m in (1, 2, 5) if m * power <= target * (1 + 1e-9))
    return float(f"{step * power:.1g}")


def nz_plot(comparison: Comparison, bin_width: float | None = None) -> Figure:
    """The redshift distribution of each model's estimates over the true one (filled grey).

    Spikes or a narrowed distribution reveal mode collapse or shrinkage toward the mean that
    per-galaxy scatter metrics hide. ``bin_width`` defaults to :func:`nz_bin_width` of the plot
    range.
    """
    zs = comparison.results[0].z_spec
    lo, hi = z_range(zs)
    bin_width = bin_width or nz_bin_width(lo, hi)
    edges = np.arange(lo, hi + bin_width / 2, bin_width)
    fig = _new_figure(7.5, 4.2)
    ax = fig.add_subplot()
    ax.hist(zs, edges, density=True, color="0.8", label="z_spec (truth)")
    for r, (colour, ls) in zip(comparison.results, _styles(comparison), strict=True):
        ax.hist(
            r.z_phot[np.isfinite(r.z_phot)],
            edges,
            density=True,
            histtype="step",
            lw=1.5,
            ls=ls,
            color=colour,
            label=f"{r.name} (TV {r.metrics['nz_fidelity']:.3f})",
        )
    ax.set_xlim(lo, hi)
    ax.set_xlabel("redshift z")
    ax.set_ylabel("n(z) (probability per unit z)")
    ax.set_title(f"redshift distributions of the test set (bins of {bin_width:g})", fontsize=10)
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
    slope that they are biased. Bulk rows have no PDF of their own and no panel.
    """
    shown = [
        (r, colour)
        for r, (colour, _) in zip(comparison.results, _styles(comparison), strict=True)
        if r.pit.size
    ]
    n = len(shown)
    ncols = min(n, 3)
    fig = _new_figure(3.7 * ncols, 2.9 * math.ceil(n / ncols))
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    for ax, (r, colour) in zip(_grid_axes(fig, n), shown, strict=True):
        ax.hist(np.clip(r.pit, 0.0, 1.0), edges, density=True, color=colour, alpha=0.75)
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

    Density plots are keyed ``density_<stem>`` with the model's file-safe stem
    (:meth:`~zphot.report.compare.Comparison.file_stems`). All share the axis range so that
    models can be compared panel to panel.
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
    stems = comparison.file_stems()
    for r in comparison.results:
        figs[f"density_{stems[r.name]}"] = density_plot(r, limits)
    return figs
