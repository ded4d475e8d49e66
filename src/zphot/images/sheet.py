"""A contact sheet: a few false-colour stamps per redshift bin, so a person can look."""

from __future__ import annotations

import os

import numpy as np
from numpy.typing import NDArray

from ..io.atomic import atomic_path

__all__ = ["contact_sheet"]


def contact_sheet(
    stamps: NDArray[np.float32],
    z: NDArray[np.float64],
    bands: tuple[str, ...],
    out: str | os.PathLike,
    *,
    n_bins: int = 6,
    per_bin: int = 8,
    overwrite: bool = False,
    random_state: int = 0,
) -> None:
    """Write a PNG grid: one row per redshift quantile bin, ``per_bin`` random stamps each.

    Colour is Lupton et al. (2004) asinh RGB from three bands (i, r, g when present, else the
    three reddest), with one stretch for the whole sheet so brightness compares across rows.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from astropy.visualization import make_lupton_rgb

    pick = [b for b in ("i", "r", "g") if b in bands]
    idx = [bands.index(b) for b in pick] if len(pick) == 3 else [len(bands) - k for k in (1, 2, 3)]
    rng = np.random.default_rng(random_state)
    edges = np.quantile(z, np.linspace(0, 1, n_bins + 1))
    ref = stamps[:, idx]
    stretch = float(np.percentile(ref[:, :, ref.shape[2] // 2, ref.shape[3] // 2], 90)) or 1.0
    fig, axes = plt.subplots(n_bins, per_bin, figsize=(per_bin * 1.2, n_bins * 1.3))
    axes = np.atleast_2d(axes)
    for r in range(n_bins):
        rows = np.flatnonzero((z >= edges[r]) & (z <= edges[r + 1]))
        chosen = rng.choice(rows, size=min(per_bin, len(rows)), replace=False) if len(rows) else []
        for c in range(per_bin):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c < len(chosen):
                s = stamps[chosen[c]]
                rgb = make_lupton_rgb(s[idx[0]], s[idx[1]], s[idx[2]], stretch=stretch, Q=8)
                ax.imshow(rgb, origin="lower")
                ax.set_title(f"z={z[chosen[c]]:.3f}", fontsize=6)
        axes[r, 0].set_ylabel(f"{edges[r]:.2f}-{edges[r + 1]:.2f}", fontsize=7)
    fig.suptitle(f"false colour {'/'.join(bands[i] for i in idx)}; rows: redshift bins", fontsize=8)
    fig.tight_layout()
    with atomic_path(out, overwrite=overwrite) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
