"""Gradient-boosted trees (LightGBM): the strong classical reference.

Point estimates come from a regressor on the features. The PDF is a split normal centred there,
its lower and upper widths from quantile regressors at 16% and 84% fitted to the regressor's
out-of-fold residuals: residuals of the training set's own fit would be optimistic and give
too-narrow PDFs.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from ..catalog.catalog import Catalog
from .base import Interval, PhotoZEstimator

__all__ = ["LightGBMEstimator"]

_LEVELS = (0.16, 0.84)
_N_FOLDS = 3


class LightGBMEstimator(PhotoZEstimator):
    """LightGBM regression of z, with quantile models for the PDF.

    Parameters
    ----------
    n_estimators, learning_rate, num_leaves, min_child_samples : LightGBM settings
    n_jobs : int
        Threads (defaults to the machine's cores).
    inputs, scaler, grid, point, random_state
        See :class:`~zphot.estimators.base.PhotoZEstimator`.

    Attributes
    ----------
    boosters_ : dict
        LightGBM boosters: ``"mean"`` and one per quantile level.
    """

    name = "lgbm"
    tags: ClassVar[dict] = {
        "network": False,
        "synthetic_tolerance": 0.03,
        # For the contract suite (zphot.testing.check_estimator): 200 faster-learning trees
        # reach the tolerance on the synthetic sample in a tenth of a second.
        "fast_params": {"n_estimators": 200, "learning_rate": 0.1, "num_leaves": 15, "n_jobs": 1},
    }
    _constraints: ClassVar[dict] = {
        "n_estimators": Interval(1, None, integer=True),
        "learning_rate": Interval(1e-5, 1.0),
        "num_leaves": Interval(2, 4096, integer=True),
        "min_child_samples": Interval(1, None, integer=True),
    }

    def __init__(
        self,
        *,
        n_estimators: int = 1000,
        learning_rate: float = 0.03,
        num_leaves: int = 31,
        min_child_samples: int = 20,
        n_jobs: int | None = None,
        inputs: str = "colours",
        scaler: str = "none",
        grid: tuple[float, float, int] | None = None,
        point: str = "mode",
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.n_jobs = n_jobs
        self.inputs = inputs
        self.scaler = scaler
        self.grid = grid
        self.point = point
        self.random_state = random_state

    def _params(self, objective: str, alpha: float | None = None) -> dict:
        import os

        p = {
            "objective": objective,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "subsample": 0.8,
            "subsample_freq": 1,
            "colsample_bytree": 0.9,
            "seed": self.random_state,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": self.n_jobs or os.cpu_count() or 1,
            "verbose": -1,
        }
        if alpha is not None:
            p["alpha"] = alpha
        return p

    def _fit(self, catalog: Catalog, z: NDArray[np.float64], validation: Catalog | None) -> None:
        import lightgbm as lgb
        from sklearn.model_selection import KFold

        x, _ = self.preprocessing_.transform(catalog)
        mean_params = self._params("regression")
        self.boosters_ = {"mean": lgb.train(mean_params, lgb.Dataset(x, z), self.n_estimators)}
        residual = np.zeros_like(z)
        folds = KFold(min(_N_FOLDS, len(z)), shuffle=True, random_state=self.random_state)
        for tr, te in folds.split(x):
            fold = lgb.train(mean_params, lgb.Dataset(x[tr], z[tr]), self.n_estimators)
            residual[te] = z[te] - fold.predict(x[te])
        # Residual quantiles start at their sample value and only need to learn how the width
        # varies with colour: a higher rate and fewer, smaller trees suffice.
        n_q = max(50, self.n_estimators // 5)
        for q in _LEVELS:
            params = self._params("quantile", q) | {"learning_rate": 0.1, "num_leaves": 15}
            self.boosters_[f"q{q}"] = lgb.train(params, lgb.Dataset(x, residual), n_q)

    def _predict_probs(self, catalog: Catalog) -> NDArray[np.float64]:
        x, _ = self.preprocessing_.transform(catalog)
        mean = self.boosters_["mean"].predict(x)
        floor = self.grid_.width
        lo = np.maximum(-self.boosters_[f"q{_LEVELS[0]}"].predict(x), floor)[:, None]
        hi = np.maximum(self.boosters_[f"q{_LEVELS[1]}"].predict(x), floor)[:, None]
        # Split normal: each side's sigma from its residual quantile, densities matched at the
        # peak so the PDF is continuous (the base class normalises it).
        d = self.grid_.centres[None, :] - mean[:, None]
        return np.exp(-0.5 * (d / np.where(d < 0, lo, hi)) ** 2)

    def _get_state(self) -> tuple[dict, dict[str, NDArray]]:
        arrays = {
            name: np.frombuffer(b.model_to_string().encode(), dtype=np.uint8)
            for name, b in self.boosters_.items()
        }
        return {"boosters": list(self.boosters_)}, arrays

    def _set_state(self, meta: dict, arrays: dict[str, NDArray]) -> None:
        import lightgbm as lgb

        from .modelcheck import check_lightgbm_string, fail

        expected = ["mean", *(f"q{q}" for q in _LEVELS)]
        if meta.get("boosters") != expected or sorted(arrays) != sorted(expected):
            raise fail(None, "state.boosters", f"must be {expected} with one array each")
        texts = {}
        for name in expected:
            arr = arrays[name]
            if arr.dtype != np.uint8 or arr.ndim != 1:
                raise fail(None, f"arrays.state.{name}", "must be a 1-D uint8 model string")
            try:
                texts[name] = arr.tobytes().decode("ascii")
            except UnicodeDecodeError:
                raise fail(None, f"arrays.state.{name}", "is not a LightGBM model string") from None
            # LightGBM aborts the process on some malformed strings: check before parsing.
            check_lightgbm_string(None, name, texts[name], self.preprocessing_.n_features_)
        self.boosters_ = {name: lgb.Booster(model_str=text) for name, text in texts.items()}
