"""Out-of-coverage flag: is a galaxy inside the training set's colour-magnitude coverage?

The distance to the k-th nearest training galaxy in standardised (reference magnitude +
colours) space is compared with the same distance among training galaxies themselves; beyond
their ``quantile`` the estimate is extrapolation (a quasar, a galaxy fainter than any in
training) and is flagged.

Flagging needs no exact distances, only whether k training galaxies lie within the threshold,
and :meth:`CoverageModel.flag` decides that cheaply (SciPy's cKDTree, on every core this
process may use). Most galaxies sit where training galaxies are dense: if the nearest training
galaxy is at distance d and has its own k - 1 nearest training neighbours within r, those k
galaxies are all within d + r, so d + r <= threshold settles the flag from one nearest-
neighbour query. The others get a k-neighbour search bounded by the threshold (a galaxy with
fewer than k training galaxies inside comes back at infinite distance). Both tests keep a
relative margin of 1e-9, and rows within it of the threshold are measured again the exact way,
so the flags are those of ``distance(x) > threshold``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree
from sklearn.neighbors import KDTree

from .._cores import available_cores
from .._rng import as_generator

__all__ = ["CoverageModel"]

# Relative margin around the threshold inside which cKDTree's distances (summed in another
# order than sklearn's) are not trusted to decide a flag; those rows are measured again.
_MARGIN = 1e-9


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
        self._build_trees()
        k = min(self.k + 1, len(self.train_))
        d, _ = self._tree.query(self.train_, k=k)  # first neighbour is the point itself
        self.threshold_ = float(np.quantile(d[:, -1], self.quantile))
        return self

    def _build_trees(self) -> None:
        self._tree = KDTree(self.train_)  # exact distances (the definition of the rule)
        self._ctree = cKDTree(self.train_, leafsize=32)  # quick bounded searches for flag()
        self._reach: NDArray[np.float64] | None = None

    def _reach_of_train(self) -> NDArray[np.float64]:
        """Per training galaxy: distance to its (k - 1)-th training neighbour (itself first)."""
        if self._reach is None:
            k = min(self.k, len(self.train_))
            d, _ = self._ctree.query(self.train_, k=[k], workers=available_cores())
            self._reach = d[:, 0]
        return self._reach

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
        """True where the input lies outside the training coverage (``distance > threshold``;
        rows with missing features are flagged)."""
        x = np.asarray(x, dtype=np.float64)
        out = np.ones(len(x), dtype=bool)
        ok = np.flatnonzero(np.isfinite(x).all(axis=1))
        if not len(ok):
            return out
        k = min(self.k, len(self.train_))
        t = self.threshold_
        z = (x[ok] - self.mean_) / self.std_
        bound = t * (1 + 2 * _MARGIN) + 1e-300
        workers = available_cores()
        # 1. The nearest training galaxy and its own neighbours (see the module docstring).
        d1, i1 = self._ctree.query(z, k=1, distance_upper_bound=bound, workers=workers)
        reach = self._reach_of_train()
        found = np.isfinite(d1)  # else even the nearest is beyond the threshold: flagged
        inside = np.zeros(len(z), dtype=bool)
        inside[found] = d1[found] + reach[i1[found]] <= t * (1 - _MARGIN)
        out[ok[inside]] = False
        # 2. The k-th neighbour, searched for within the threshold only.
        rest = np.flatnonzero(found & ~inside)
        if len(rest):
            d, _ = self._ctree.query(z[rest], k=[k], distance_upper_bound=bound, workers=workers)
            d = d[:, 0]
            out[ok[rest]] = d > t
            near = np.abs(d - t) <= _MARGIN * t
            if near.any():
                exact, _ = self._tree.query(z[rest[near]], k=k)
                out[ok[rest[near]]] = exact[:, -1] > t
        return out

    def get_state(self) -> tuple[dict, dict[str, NDArray]]:
        meta = {"k": self.k, "quantile": self.quantile, "threshold": self.threshold_}
        return meta, {"train": self.train_, "mean": self.mean_, "std": self.std_}

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, NDArray]) -> CoverageModel:
        c = cls(k=int(meta["k"]), quantile=float(meta["quantile"]))
        c.threshold_ = float(meta["threshold"])
        c.train_, c.mean_, c.std_ = arrays["train"], arrays["mean"], arrays["std"]
        c._build_trees()
        return c
