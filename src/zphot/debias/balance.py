"""Step 2's nearly flat (z, magnitude) subset (Lin et al. 2022).

Fine-tuning the output module on a subset where every (z bin, magnitude cell) holds at most
N_th galaxies removes the pull toward densely populated redshifts. The paper's N_th = 200 keeps
99% of a 29k SDSS training set (so does nothing); here N_th is chosen from the cell counts to
keep a target fraction of the sample, and recorded in the model.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .._rng import RandomState, as_generator
from ..exceptions import ParameterError

__all__ = ["threshold_for_fraction", "balanced_subset", "balance_weights"]


def threshold_for_fraction(counts: NDArray[np.int64], fraction: float) -> int:
    """Smallest N_th such that sum(min(count, N_th)) >= fraction * sum(count).

    Examples
    --------
    >>> threshold_for_fraction(np.array([100, 10, 10]), 0.5)
    40
    """
    if not 0 < fraction <= 1:
        raise ParameterError(f"kept fraction must be in (0, 1], got {fraction}")
    counts = np.asarray(counts)
    target = fraction * counts.sum()
    lo, hi = 1, max(1, int(counts.max()))
    while lo < hi:  # kept(N) is monotone in N: bisection
        mid = (lo + hi) // 2
        if np.minimum(counts, mid).sum() >= target:
            hi = mid
        else:
            lo = mid + 1
    return lo


def balanced_subset(
    z_bin: NDArray[np.int64],
    cell: NDArray[np.int64],
    n_th: int | None = None,
    fraction: float = 1 / 3,
    random_state: RandomState = 0,
) -> tuple[NDArray[np.int64], int]:
    """Indices of a subset with at most ``n_th`` galaxies per (z bin, magnitude cell).

    Cells with at most ``n_th`` galaxies are kept whole; denser cells are drawn without
    replacement. With ``n_th=None`` it is chosen to keep ``fraction`` of the galaxies.

    Returns
    -------
    rows : ndarray
        Sorted indices of the kept galaxies.
    n_th : int
        The threshold used.
    """
    inverse, counts = _cell_counts(z_bin, cell)
    if n_th is None:
        n_th = threshold_for_fraction(counts, fraction)
    if n_th < 1:
        raise ParameterError(f"N_th must be >= 1, got {n_th}")
    rng = as_generator(random_state)
    # A random key per galaxy, ranked within its cell: the n_th smallest are kept.
    n = len(inverse)
    order = np.lexsort((rng.random(n), inverse))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - np.repeat(starts, counts)
    return np.flatnonzero(rank < n_th), int(n_th)


def balance_weights(
    z_bin: NDArray[np.int64], cell: NDArray[np.int64], n_th: int
) -> NDArray[np.float64]:
    """Per-galaxy weight min(1, n_th / count of its (z bin, magnitude cell)).

    The expected weighted histogram is that of :func:`balanced_subset`, but every galaxy
    contributes: the heads see all of the data's variety at the subset's flat distribution.
    """
    inverse, counts = _cell_counts(z_bin, cell)
    return np.minimum(1.0, n_th / counts[inverse])


def _cell_counts(
    z_bin: NDArray[np.int64], cell: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Each galaxy's (z bin, magnitude cell) index among the occupied ones, and their counts."""
    z_bin, cell = np.asarray(z_bin), np.asarray(cell)
    key = z_bin.astype(np.int64) * (int(cell.max()) + 1) + cell
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    return inverse, counts
