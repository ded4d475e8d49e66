"""Magnitudes of one filter set predicted from another's, fitted on template photometry.

A model trained on one survey's filters meets another survey's galaxies: the same galaxy has
slightly different magnitudes through each filter set, by an amount that depends on its
spectrum, i.e. on its colours. :class:`ColourTransform` learns, band by band, the offset
m_target - m_source as a quadratic function of the source's adjacent colours, from the noiseless
mock photometry of the same simulated galaxies through both filter sets (the templates are the
only physics involved), and applies it to observed source magnitudes.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..exceptions import NotFittedError, ParameterError

__all__ = ["ColourTransform"]


def _design(mags: NDArray[np.float64]) -> NDArray[np.float64]:
    c = -np.diff(mags, axis=1)
    quad = [c[:, i] * c[:, j] for i in range(c.shape[1]) for j in range(i, c.shape[1])]
    return np.column_stack([np.ones(len(mags)), c, *quad])


class ColourTransform:
    """Per-band quadratic colour terms from a source filter set to a target one.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> src = rng.uniform(18, 22, (200, 3))
    >>> dst = src + 0.1 * (src[:, [0]] - src[:, [1]])
    >>> t = ColourTransform().fit(src, dst)
    >>> bool(np.allclose(t.transform(src), dst))
    True
    """

    def fit(self, source: NDArray[np.float64], target: NDArray[np.float64]) -> ColourTransform:
        """Least squares on rows where both sets are finite (noiseless mock magnitudes)."""
        source, target = np.asarray(source, float), np.asarray(target, float)
        if source.shape != target.shape or source.ndim != 2 or source.shape[1] < 2:
            raise ParameterError(
                f"ColourTransform needs two (n, bands >= 2) arrays of one shape, got "
                f"{source.shape} and {target.shape}"
            )
        ok = np.isfinite(source).all(axis=1) & np.isfinite(target).all(axis=1)
        x = _design(source[ok])
        self.coef_, *_ = np.linalg.lstsq(x, target[ok] - source[ok], rcond=None)
        return self

    def transform(self, source: NDArray[np.float64]) -> NDArray[np.float64]:
        """Target-filter magnitudes of ``source`` rows (NaN where a source band is NaN)."""
        if not hasattr(self, "coef_"):
            raise NotFittedError("This ColourTransform is not fitted yet; call fit first")
        source = np.asarray(source, float)
        return source + _design(source) @ self.coef_
