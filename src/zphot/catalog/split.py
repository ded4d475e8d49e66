"""Seeded train/test splits and k-fold indices.

``train_test`` reproduces the public benchmark split exactly:
``numpy.random.default_rng(seed).permutation(n)``, the first ``train_fraction`` for training.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from ..exceptions import ParameterError
from .catalog import Catalog

__all__ = ["split_indices", "train_test", "kfold_indices"]


def split_indices(
    n: int, train_fraction: float = 0.7, seed: int = 42
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Indices of the first ``train_fraction`` and the rest of a seeded permutation of ``n``."""
    if not 0 < train_fraction < 1:
        raise ParameterError(f"train_fraction must be in (0, 1), got {train_fraction}")
    perm = np.random.default_rng(seed).permutation(n)
    cut = int(train_fraction * n)
    return perm[:cut], perm[cut:]


def train_test(
    cat: Catalog, train_fraction: float = 0.7, seed: int = 42
) -> tuple[Catalog, Catalog]:
    """Split a catalog into (train, test) with :func:`split_indices`."""
    tr, te = split_indices(len(cat), train_fraction, seed)
    return cat.take(tr), cat.take(te)


def kfold_indices(
    n: int, k: int = 5, seed: int = 0
) -> Iterator[tuple[NDArray[np.int64], NDArray[np.int64]]]:
    """Yield (train, held-out) index arrays of a seeded k-fold partition of ``n`` rows."""
    if not 2 <= k <= n:
        raise ParameterError(f"k must be in [2, n={n}], got {k}")
    perm = np.random.default_rng(seed).permutation(n)
    folds = np.array_split(perm, k)
    for i in range(k):
        yield np.sort(np.concatenate(folds[:i] + folds[i + 1 :])), np.sort(folds[i])
