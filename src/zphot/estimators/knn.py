"""k-nearest-neighbour regression: the first users' strongest simple method, tuned properly."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numpy.typing import NDArray
from sklearn.model_selection import KFold
from sklearn.neighbors import KDTree

from ..catalog.catalog import Catalog
from ..pdf.grid import RedshiftGrid
from .base import Interval, Options, PhotoZEstimator

__all__ = ["KNNEstimator"]


class KNNEstimator(PhotoZEstimator):
    """k-nearest neighbours in scaled colour-magnitude space; the PDF is a kernel density of the
    neighbours' redshifts.

    Parameters
    ----------
    k : int or "cv"
        Number of neighbours; ``"cv"`` chooses it from ``k_grid`` by ``cv``-fold
        cross-validation of sigma_NMAD (the field's robust scatter, less sensitive than MSE to
        catastrophic outliers).
    weights : {"distance", "uniform"}
        Neighbour weights (inverse distance or equal).
    kernel_width : float
        Gaussian kernel sigma, in units of (1 + z), used to smooth the neighbours' redshifts
        into a PDF.
    inputs, scaler, grid, point, random_state
        See :class:`~zphot.estimators.base.PhotoZEstimator`.

    Attributes
    ----------
    k_ : int
        The number of neighbours used.
    cv_scores_ : dict
        Cross-validated sigma_NMAD per tried k (when ``k="cv"``).

    Examples
    --------
    >>> from zphot.testing import synthetic_catalog
    >>> cat = synthetic_catalog(500, random_state=0)
    >>> est = KNNEstimator(k=10).fit(cat)
    >>> est.predict(cat).shape
    (500,)
    """

    name = "knn"
    tags: ClassVar[dict] = {
        "network": False,
        "synthetic_tolerance": 0.03,
        # For the contract suite (zphot.testing.check_estimator): a shorter k search.
        "fast_params": {"k_grid": (5, 10, 20), "cv": 2},
    }
    _constraints: ClassVar[dict] = {
        "weights": Options("distance", "uniform"),
        "kernel_width": Interval(1e-4, 1.0),
        "cv": Interval(2, 20, integer=True),
    }

    def __init__(
        self,
        *,
        k: int | str = "cv",
        k_grid: tuple[int, ...] = (5, 10, 15, 20, 30, 50),
        weights: str = "distance",
        kernel_width: float = 0.01,
        cv: int = 3,
        inputs: str = "colours",
        scaler: str = "standard",
        grid: tuple[float, float, int] | None = None,
        point: str = "median",
        random_state: int = 0,
    ) -> None:
        self.k = k
        self.k_grid = k_grid
        self.weights = weights
        self.kernel_width = kernel_width
        self.cv = cv
        self.inputs = inputs
        self.scaler = scaler
        self.grid = grid
        self.point = point
        self.random_state = random_state

    def _validate_params(self) -> None:
        super()._validate_params()
        from ..exceptions import ParameterError

        if self.k != "cv" and not Interval(1, None, integer=True).ok(self.k):
            raise ParameterError(
                f"KNNEstimator: parameter 'k' must be a positive integer or 'cv', got {self.k!r}"
            )

    def _neighbour_z(self, tree: KDTree, z: NDArray, x: NDArray, k: int) -> tuple[NDArray, ...]:
        d, i = tree.query(x, k=k)
        w = 1.0 / np.maximum(d, 1e-9) if self.weights == "distance" else np.ones_like(d)
        return z[i], w / w.sum(axis=1, keepdims=True)

    def _fit(self, catalog: Catalog, z: NDArray[np.float64], validation: Catalog | None) -> None:
        x, _ = self.preprocessing_.transform(catalog)
        self.cv_scores_: dict[int, float] = {}
        if self.k == "cv":
            folds = KFold(self.cv, shuffle=True, random_state=self.random_state).split(x)
            candidates = [k for k in self.k_grid if k < len(x) * (1 - 1 / self.cv)]
            scores = {k: [] for k in candidates}
            for tr, te in folds:
                tree = KDTree(x[tr])
                zi, w = self._neighbour_z(tree, z[tr], x[te], max(candidates))
                for k in candidates:
                    zk, wk = zi[:, :k], w[:, :k] / w[:, :k].sum(axis=1, keepdims=True)
                    zp = (zk * wk).sum(axis=1)
                    dz = (zp - z[te]) / (1 + z[te])
                    scores[k].append(1.4826 * np.median(np.abs(dz - np.median(dz))))
            self.cv_scores_ = {k: float(np.mean(v)) for k, v in scores.items()}
            self.k_ = min(self.cv_scores_, key=self.cv_scores_.get)
        else:
            self.k_ = int(min(self.k, len(x)))
        self.train_x_, self.train_z_ = x, z
        self._tree = KDTree(x)

    def _predict_probs(self, catalog: Catalog) -> NDArray[np.float64]:
        x, _ = self.preprocessing_.transform(catalog)
        zi, w = self._neighbour_z(self._tree, self.train_z_, x, self.k_)
        centres = self.grid_.centres
        out = np.zeros((len(x), len(centres)))
        # Kernel density of the neighbours' redshifts, accumulated one neighbour at a time to
        # keep memory at (n, n_bins).
        for j in range(zi.shape[1]):
            s = self.kernel_width * (1 + zi[:, j : j + 1])
            out += w[:, j : j + 1] * np.exp(-0.5 * ((centres - zi[:, j : j + 1]) / s) ** 2) / s
        return out

    def _get_state(self) -> tuple[dict, dict[str, NDArray]]:
        meta = {"k": self.k_, "cv_scores": {str(k): v for k, v in self.cv_scores_.items()}}
        return meta, {"train_x": self.train_x_, "train_z": self.train_z_}

    def _set_state(self, meta: dict, arrays: dict[str, NDArray]) -> None:
        self.k_ = int(meta["k"])
        self.cv_scores_ = {int(k): v for k, v in meta["cv_scores"].items()}
        self.train_x_, self.train_z_ = arrays["train_x"], arrays["train_z"]
        self._check_training_arrays()
        self._tree = KDTree(self.train_x_)

    def _check_training_arrays(self) -> None:
        """The saved neighbours agree with the features, k and the grid (before the KD-tree)."""
        from ..exceptions import ModelFileError

        x, z = self.train_x_, self.train_z_
        width = self.preprocessing_.n_features_
        n = self.n_train_
        if x.ndim != 2 or x.shape != (n, width) or z.shape != (n,):
            raise ModelFileError(
                f"field 'arrays.state.train_x' {list(x.shape)} / 'train_z' {list(z.shape)} must "
                f"be ({n}, {width}) and ({n},) for n_train {n}: the model file is damaged or "
                "was edited"
            )
        if not (np.isfinite(x).all() and np.isfinite(z).all()) or not 1 <= self.k_ <= len(x):
            raise ModelFileError(
                "field 'state.k' or the training arrays are out of range (non-finite values, "
                f"or k={self.k_} for {len(x)} rows): the model file is damaged or was edited"
            )
        if self.grid is None and RedshiftGrid.for_redshifts(z) != self.grid_:
            raise ModelFileError(
                f"field 'grid' {self.grid_.to_dict()} is not the grid of the saved training "
                "redshifts: the model file was edited; re-train it or use the original file"
            )
