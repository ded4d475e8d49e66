"""Out-of-coverage flag: is a galaxy inside the training set's colour-magnitude coverage?

The distance to the k-th nearest training galaxy in standardised (reference magnitude +
colours) space is compared with the same distance among training galaxies themselves; beyond
their ``quantile`` the estimate is extrapolation (a quasar, a galaxy fainter than any in
training) and is flagged.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from sklearn.neighbors import KDTree

from .._rng import as_generator

__all__ = ["CoverageModel"]


class CoverageModel:
    """k-th neighbour distance rule, fitted on (at most ``max_train``) training feature rows."""

    def __init__(
        self, k: int = 10, quantile: float = 0.99, max_train: int = 20000, random_state: int = 0
    ) -> None:
        self.k = k
        self.quantile = quantile
        self.max_train = max_train
        self.random_state = random_state

    def fit(self, x: NDArray[np.float64]) -> CoverageModel:
        x = np.asarray(x, dtype=np.float64)
        x = x[np.isfinite(x).all(axis=1)]
        if len(x) > self.max_train:
            rng = as_generator(self.random_state)
            x = x[np.sort(rng.choice(len(x), self.max_train, replace=False))]
        self.mean_ = x.mean(axis=0)
        self.std_ = np.where(x.std(axis=0) > 0, x.std(axis=0), 1.0)
        self.train_ = (x - self.mean_) / self.std_
        self._tree = KDTree(self.train_)
        k = min(self.k + 1, len(self.train_))
        d, _ = self._tree.query(self.train_, k=k)  # first neighbour is the point itself
        self.threshold_ = float(np.quantile(d[:, -1], self.quantile))
        return self

    def distance(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Distance to the k-th training neighbour (inf for rows with missing features)."""
        x = np.asarray(x, dtype=np.float64)
        out = np.full(len(x), np.inf)
        ok = np.isfinite(x).all(axis=1)
        if ok.any():
            k = min(self.k, len(self.train_))
            d, _ = self._tree.query((x[ok] - self.mean_) / self.std_, k=k)
            out[ok] = d[:, -1]
        return out

    def flag(self, x: NDArray[np.float64]) -> NDArray[np.bool_]:
        """True where the input lies outside the training coverage."""
        return self.distance(x) > self.threshold_

    def get_state(self) -> tuple[dict, dict[str, NDArray]]:
        meta = {"k": self.k, "quantile": self.quantile, "threshold": self.threshold_}
        return meta, {"train": self.train_, "mean": self.mean_, "std": self.std_}

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, NDArray]) -> CoverageModel:
        c = cls(k=int(meta["k"]), quantile=float(meta["quantile"]))
        c.threshold_ = float(meta["threshold"])
        c.train_, c.mean_, c.std_ = arrays["train"], arrays["mean"], arrays["std"]
        c._tree = KDTree(c.train_)
        return c
