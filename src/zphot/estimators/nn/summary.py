"""Point estimates and quantiles straight from bin logits, without a (n, n_bins) NumPy PDF.

:meth:`PhotoZEstimator.predict_pdf` followed by :meth:`PDFBatch.point` and
:meth:`PDFBatch.quantiles` makes several float64 copies of every galaxy's PDF (softmax,
normalisation, cumulative sum, comparisons, each a pass over memory), single-threaded in NumPy.
For a network that is most of the prediction time. :func:`summarise_probs` does the same
arithmetic on one inference block at a time, in torch (multi-threaded), with the same rules:

* rows with nothing measured get a flat PDF; non-finite weights count as 0 and a row whose
  weights sum to 0 is flat (:meth:`PDFBatch.normalised`);
* ``mode`` is the centre of the first most probable bin, ``mean`` the probability-weighted
  centre, ``median`` and every quantile come from the piecewise-linear CDF on the bin edges,
  interpolated inside the first bin whose upper-edge CDF reaches the level
  (:meth:`PDFBatch.quantiles`).

Element-wise operations round as NumPy's do; only the row sums may add in another order, so
results agree with the PDF route to float64 rounding (about 1e-15 relative), not bit for bit.
Every operation works along a row, so a galaxy's result never depends on its block.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import torch

from ...exceptions import ParameterError
from ...pdf.batch import POINT_KINDS
from ...pdf.grid import RedshiftGrid

__all__ = ["summarise_probs"]


def summarise_probs(
    probs: torch.Tensor,
    invalid: torch.Tensor,
    grid: RedshiftGrid,
    kind: str,
    quantiles: Sequence[float] = (),
) -> torch.Tensor:
    """Point estimate and quantiles of un-normalised bin weights, one row per galaxy.

    Parameters
    ----------
    probs : torch.Tensor, shape (n, n_bins), float64
        Weights per bin (a softmax, or a mean of softmaxes); overwritten. They must not be
        negative; NaN and infinity count as 0, as in :meth:`PDFBatch.normalised`.
    invalid : torch.Tensor, shape (n,), bool
        Rows with no measured band: their PDF is flat.
    grid : RedshiftGrid
    kind : {"mode", "mean", "median"}
    quantiles : sequence of float
        Levels in (0, 1).

    Returns
    -------
    torch.Tensor, shape (n, 1 + len(quantiles)), float64
        The point estimate, then one column per level.
    """
    if kind not in POINT_KINDS:
        raise ParameterError(f"point must be one of {POINT_KINDS}, got {kind!r}")
    p = probs
    n, n_bins = p.shape
    # PDFBatch.normalised, after predict_pdf's flat rows.
    if bool(invalid.any()):
        p[invalid] = 1.0
    levels = ([0.5] if kind == "median" else []) + [float(q) for q in quantiles]
    if kind == "median":
        # Quantiles need no division by the row sum (the CDF is divided by its last value), so
        # the cumulative sum's last value stands in for it in the check below.
        cdf = torch.cumsum(p, dim=1)
        s = cdf[:, -1:]
    else:
        cdf = None
        s = p.sum(dim=1, keepdim=True)
    if not bool((torch.isfinite(s) & (s > 0)).all()):
        # Only a row with a NaN, an infinity or nothing but zeros sums to that; clean rows are
        # unchanged by these steps (and a softmax row sums to about 1), so they are skipped.
        torch.nan_to_num_(p, nan=0.0, posinf=0.0)
        p.clamp_(min=0.0)
        s = p.sum(dim=1, keepdim=True)
        empty = s[:, 0] <= 0
        p[empty] = 1.0
        s[empty] = float(n_bins)
        cdf = None
    edges, centres = _grid_tensors(grid)
    out = torch.empty((n, 1 + len(quantiles)), dtype=torch.float64)
    if kind in ("mode", "mean"):
        p.div_(s)
        if kind == "mode":
            out[:, 0] = centres[torch.argmax(p, dim=1)]
        else:
            out[:, 0] = (p * centres).sum(dim=1)
    if levels:
        q = _quantiles(p.cumsum_(dim=1) if cdf is None else cdf, edges, grid.width, levels)
        if kind == "median":
            out[:, 0] = q[:, 0]
            q = q[:, 1:]
        out[:, 1:] = q
    return out


@lru_cache(maxsize=16)
def _grid_tensors(grid: RedshiftGrid) -> tuple[torch.Tensor, torch.Tensor]:
    """The grid's edges and centres as float64 tensors (computed once per grid)."""
    return torch.from_numpy(grid.edges), torch.from_numpy(grid.centres)


def _quantiles(
    cdf: torch.Tensor, edges: torch.Tensor, width: float, levels: list[float]
) -> torch.Tensor:
    """:meth:`PDFBatch.quantiles` from the cumulative sums ``cdf`` (n, n_bins) of each row's
    bin probabilities (any positive total): the CDF at the bins' upper edges, unnormalised."""
    n, n_bins = cdf.shape
    total = cdf[:, -1:]
    level = torch.tensor(levels, dtype=torch.float64).expand(n, len(levels))
    # The CDF is non-decreasing, so searchsorted gives the number of upper edges where it is
    # below each level: PDFBatch's count of CDF values < q, less its leading 0 at the lower
    # edge. Comparing with level * total instead of dividing every value by the total can
    # move a level that sits on an edge into the next bin, where it interpolates to that same
    # edge.
    k = torch.searchsorted(cdf, (level * total).contiguous()).add_(1).clamp_(1, n_bins)
    c1 = torch.gather(cdf, 1, k - 1) / total
    c0 = torch.gather(cdf, 1, (k - 2).clamp_(min=0)) / total
    c0 = torch.where(k >= 2, c0, torch.zeros_like(c0))
    rising = c1 > c0
    frac = torch.where(rising, (level - c0) / torch.where(rising, c1 - c0, 1.0), 0.5)
    return edges[k - 1] + frac.clamp_(0.0, 1.0) * width
