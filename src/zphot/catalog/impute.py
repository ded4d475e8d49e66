"""Missing-band imputation from the mean colours of adjacent bands (the first users' method).

From rows where every band is measured, the mean difference between each pair of adjacent
bands is learned. A missing magnitude is predicted from the nearest measured band on each side
(carrying the mean colours across any gap) and the two predictions are averaged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..exceptions import CatalogError, NotFittedError

__all__ = ["AdjacentColourImputer"]


class AdjacentColourImputer:
    """Fill missing magnitudes from the mean adjacent-band colours of complete rows.

    Attributes
    ----------
    mean_colours_ : ndarray, shape (n_bands - 1,)
        Mean of ``m[j+1] - m[j]`` over complete rows.
    n_complete_ : int
        Number of complete rows the colours were measured on.

    Examples
    --------
    >>> m = np.array([[20.0, 19.0, 18.5], [21.0, 20.0, 19.5], [np.nan, 19.0, np.nan]])
    >>> imp = AdjacentColourImputer().fit(m)
    >>> imp.mean_colours_.tolist()
    [-1.0, -0.5]
    >>> filled, counts = imp.transform(m)
    >>> filled[2].tolist(), counts.tolist()
    ([20.0, 19.0, 18.5], [1, 0, 1])
    """

    def fit(self, mags: NDArray[np.float64], source: str = "<catalog>") -> AdjacentColourImputer:
        mags = np.asarray(mags, dtype=np.float64)
        complete = ~np.isnan(mags).any(axis=1)
        if not complete.any():
            raise CatalogError(
                f"{source}: no row has every band measured, so adjacent-band colours cannot "
                "be learned for imputation"
            )
        self.mean_colours_ = np.diff(mags[complete], axis=1).mean(axis=0)
        self.n_complete_ = int(complete.sum())
        return self

    def transform(self, mags: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """Return (filled magnitudes, number of values imputed per band).

        Rows with no measured band stay NaN: nothing is known to impute from.
        """
        if not hasattr(self, "mean_colours_"):
            raise NotFittedError("AdjacentColourImputer is not fitted; call fit first")
        mags = np.asarray(mags, dtype=np.float64)
        if mags.shape[1] != len(self.mean_colours_) + 1:
            raise CatalogError(
                f"imputer fitted on {len(self.mean_colours_) + 1} bands, got {mags.shape[1]}"
            )
        missing = np.isnan(mags)
        filled = mags.copy()
        # Only rows with a band missing are worked on (each row is filled on its own).
        rows = np.flatnonzero(missing.any(axis=1))
        if not len(rows):
            return filled, np.zeros(mags.shape[1], dtype=np.int64)
        # Offsets m_j - C_j, with C_j the cumulative mean colour, are constant along a band
        # sequence that follows the mean colours; carrying them from the nearest measured band
        # on each side and adding C_j back gives that side's prediction.
        cum = np.concatenate([[0.0], np.cumsum(self.mean_colours_)])
        offsets = pd.DataFrame(mags[rows] - cum)
        left = offsets.ffill(axis=1).to_numpy()
        right = offsets.bfill(axis=1).to_numpy()
        # Mean of the sides that exist; 0/0 leaves rows with nothing measured NaN (np.nanmean
        # would warn "Mean of empty slice" for each such row).
        sides = np.stack([left, right])
        with np.errstate(invalid="ignore"):
            pred = np.nansum(sides, axis=0) / (~np.isnan(sides)).sum(axis=0) + cum
        filled[rows] = np.where(missing[rows], pred, mags[rows])
        counts = (missing[rows] & ~np.isnan(filled[rows])).sum(axis=0)
        return filled, counts.astype(np.int64)

    def get_state(self) -> dict:
        return {"mean_colours": self.mean_colours_.tolist(), "n_complete": self.n_complete_}

    @classmethod
    def from_state(cls, state: dict) -> AdjacentColourImputer:
        imp = cls()
        imp.mean_colours_ = np.asarray(state["mean_colours"], dtype=np.float64)
        imp.n_complete_ = int(state["n_complete"])
        return imp
