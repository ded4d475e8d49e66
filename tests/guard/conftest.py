"""Fixtures of the data-safety tests: small catalogs and a trained model, made once."""

from __future__ import annotations

from pathlib import Path

import pytest
from guard_helpers import zphot

from zphot.testing import synthetic_files


@pytest.fixture(scope="session")
def catalogs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("guard-catalogs")
    return synthetic_files(folder, {"train": (400, 0), "test": (300, 1)})


@pytest.fixture(scope="session")
def knn_model(catalogs, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("guard-model") / "knn.zphot"
    result = zphot(
        "train", "--model", "knn", "--catalog", catalogs["train"], "--preset", "sdss",
        "--out", path,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return path
