"""Lensing figures: ⟨β⟩ of the background selection against lens redshift, and the selection's
stacked n(z) with its bootstrap band. matplotlib's Figure is used directly (never pyplot)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..io.atomic import atomic_path

__all__ = ["beta_curve_figure", "nz_figure", "save_figure"]


def beta_curve_figure(z_lens: NDArray, beta_pdf: NDArray, beta_true: NDArray | None = None) -> Any:
    """⟨β⟩ of the selection at each lens redshift (and the truth, when known)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 3.6), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(z_lens, beta_pdf, "-o", ms=3, label="from the PDFs")
    if beta_true is not None:
        ax.plot(z_lens, beta_true, "--", color="k", label="true redshifts")
    ax.set_xlabel("lens redshift $z_l$")
    ax.set_ylabel(r"$\langle\beta\rangle$ of the background selection")
    ax.legend(frameon=False)
    return fig


def nz_figure(
    centres: NDArray,
    stack: NDArray,
    err: NDArray,
    width: float,
    z_lens: float,
    z_true: NDArray | None = None,
) -> Any:
    """The selection's stacked PDF (density per unit z) with ±1σ bootstrap band."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5, 3.6), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(centres, stack / width, label="stacked PDFs")
    ax.fill_between(centres, (stack - err) / width, (stack + err) / width, alpha=0.3, lw=0)
    if z_true is not None and len(z_true):
        edges = np.append(centres - width / 2, centres[-1] + width / 2)
        ax.hist(z_true, bins=edges, density=True, histtype="step", color="k", label="true z")
    ax.axvline(z_lens, color="r", ls=":", label="lens")
    ax.set_xlabel("z")
    ax.set_ylabel("n(z)")
    ax.legend(frameon=False)
    return fig


def save_figure(fig: Any, path: Path, overwrite: bool = True) -> Path:
    """Write a PNG atomically."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    with atomic_path(path, overwrite=overwrite) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    return path
