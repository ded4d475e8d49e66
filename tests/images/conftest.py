"""Shared fixtures: stamp catalogs made without GalSim (fast) and a few GalSim renders."""

from __future__ import annotations

import numpy as np
import pytest

from zphot.images.store import attach_stamps
from zphot.testing import synthetic_catalog


def blob_catalog(n: int, seed: int, path, size: int = 16):  # noqa: ANN001, ANN201
    """A synthetic catalog (z linear in colour) whose stamps are Gaussian blobs carrying each
    band's flux, with unit sky noise: the colour information is in the pixels."""
    cat = synthetic_catalog(n, random_state=seed)
    rng = np.random.default_rng([seed, 100])  # a stream apart from the catalog's default_rng(seed)
    yy, xx = np.mgrid[:size, :size] - (size - 1) / 2
    r = rng.uniform(1.0, 3.0, n)
    prof = np.exp(-0.5 * (xx[None] ** 2 + yy[None] ** 2) / r[:, None, None] ** 2)
    prof /= prof.sum(axis=(1, 2), keepdims=True)
    flux = 10 ** (-0.4 * (cat.mags - 22.5))
    cube = flux[:, :, None, None] * prof[:, None] + rng.normal(0, 0.5, (n, 5, size, size))
    np.save(path, cube.astype(np.float32))
    return attach_stamps(cat, path)


@pytest.fixture(scope="session")
def blob_data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("blobs")
    return {
        "train": blob_catalog(1000, 0, folder / "train.npy"),
        "test": blob_catalog(300, 1, folder / "test.npy"),
        "small": blob_catalog(64, 5, folder / "small.npy"),
    }
