"""Colour-space reweighting of a spec-z sample toward a photometric sample (Lima et al. 2008).

Each training galaxy gets the ratio of the photometric sample's density to the training
sample's density around it: with r_k its distance to its k-th nearest training neighbour,
``w = (N_train / N_phot) · n_phot(< r_k) / k``. The weighted training set then resembles the
photometric sample wherever the two overlap; it cannot stand in for sources where no training
galaxy lies, which is what the coverage rule (:mod:`zphot.features.coverage`) reports. The
distances are measured in the model's own feature space (its ``inputs`` and ``scaler``),
standardised on the training rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..exceptions import CatalogError, ParameterError
from ..pdf.grid import RedshiftGrid

__all__ = [
    "lima_weights",
    "feature_space",
    "reweight_catalog",
    "weighted_nz",
    "recalibration_toward",
]


def lima_weights(
    train_x: NDArray[np.float64], target_x: NDArray[np.float64], k: int = 10
) -> NDArray[np.float64]:
    """Density-ratio weights (mean 1 over the training rows) of ``train_x`` toward ``target_x``.

    Rows with a non-finite feature get weight 0 (training) or are left out (target).
    """
    from sklearn.neighbors import KDTree, NearestNeighbors

    if k < 1:
        raise ParameterError(f"reweighting needs k >= 1 neighbours, got {k}")
    train_x = np.asarray(train_x, dtype=np.float64)
    target_x = np.asarray(target_x, dtype=np.float64)
    ok = np.isfinite(train_x).all(axis=1)
    target = target_x[np.isfinite(target_x).all(axis=1)]
    if ok.sum() <= k or not len(target):
        raise CatalogError(
            f"reweighting needs more than k={k} complete training rows and one complete "
            f"target row (have {int(ok.sum())} and {len(target)})"
        )
    x = train_x[ok]
    mean, std = x.mean(axis=0), x.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    x, target = (x - mean) / std, (target - mean) / std
    nn = NearestNeighbors(n_neighbors=k + 1).fit(x)  # the first neighbour is the row itself
    r_k = nn.kneighbors(x)[0][:, -1]
    counts = KDTree(target).query_radius(x, r=r_k, count_only=True)
    w = np.zeros(len(train_x))
    w[ok] = (len(x) / len(target)) * counts / k
    total = w.sum()
    if total <= 0:
        raise CatalogError("reweighting: no target galaxy lies near any training galaxy")
    return w * (len(w) / total)


def feature_space(estimator: Any, train: Any, *others: Any) -> list[NDArray[np.float64]]:
    """The estimator's input features (its ``inputs`` and ``scaler``) of each catalog, fitted
    on ``train``: NaN where a row has no measured band."""
    from ..features.preprocess import Preprocessor

    prep = Preprocessor(estimator.inputs, estimator.scaler)
    prep.fit(train)
    out = []
    for cat in (train, *others):
        x, valid = prep.transform(cat)
        x = np.asarray(x, dtype=np.float64).reshape(len(x), -1).copy()
        x[~np.asarray(valid, dtype=bool)] = np.nan
        out.append(x)
    return out


def reweight_catalog(estimator: Any, train: Any, target: Any, k: int = 10) -> NDArray:
    """Lima weights of the ``train`` catalog's rows toward ``target`` in ``estimator``'s space."""
    x_train, x_target = feature_space(estimator, train, target)
    return lima_weights(x_train, x_target, k=k)


def weighted_nz(
    z: NDArray[np.float64], weight: NDArray[np.float64], grid: RedshiftGrid
) -> tuple[NDArray[np.float64], float]:
    """Weighted histogram of training redshifts on ``grid`` (sums to 1) and its effective
    number of galaxies (Kish: (Σw)² / Σw²), which says how noisy the estimate is."""
    z = np.asarray(z, dtype=np.float64)
    w = np.asarray(weight, dtype=np.float64)
    hist = np.bincount(grid.bin_index(z), weights=w, minlength=grid.n_bins).astype(np.float64)
    total = hist.sum()
    n_eff = float(w.sum() ** 2 / (w**2).sum()) if (w**2).sum() > 0 else 0.0
    return (hist / total if total > 0 else hist), n_eff


def recalibration_toward(estimator: Any, held_out: Any, target: Any, k: int = 10) -> Any:
    """A PIT recalibration (:class:`zphot.debias.calibrate.PITRecalibration`) fitted on
    galaxies with redshifts that the estimator did not train on, weighted toward ``target``:
    its ``apply`` then calibrates the PDFs for the target's mix of colours, where the two
    overlap."""
    from ..debias.calibrate import PITRecalibration
    from ..metrics.pdf import pit

    pdf = estimator.predict_pdf(held_out)
    values = pit(pdf.probs, pdf.grid.edges, held_out.require_z())
    return PITRecalibration().fit(
        values, sample_weight=reweight_catalog(estimator, held_out, target, k)
    )
