"""Fuzz suite fixtures: tiny catalogs and models built once per session, and the case count."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from harness import COUNTS  # noqa: E402

from zphot.estimators import get_estimator  # noqa: E402
from zphot.testing import synthetic_catalog  # noqa: E402

#: Tiny but real models: each kind's load path (KD-tree, LightGBM strings, torch weights).
MODELS = {
    "knn": {},
    "lgbm": {"n_estimators": 10, "num_leaves": 7, "n_jobs": 1},
    "mlp": {"max_epochs": 2},
}


@pytest.fixture(scope="session")
def good(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A clean training/test catalog (CSV, SDSS columns) and one saved model of each kind."""
    folder = tmp_path_factory.mktemp("fuzz_good")
    train = synthetic_catalog(300, random_state=0)
    paths = {"train": folder / "train.csv", "test": folder / "test.csv"}
    train.table.to_csv(paths["train"], index=False)
    synthetic_catalog(60, random_state=1).table.to_csv(paths["test"], index=False)
    for name, params in MODELS.items():
        paths[name] = folder / f"{name}.zphot"
        get_estimator(name, **params).fit(train).save(paths[name])
    return paths


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001 - pytest's reporter
    if COUNTS["tried"]:
        terminalreporter.write_line(
            f"fuzz: {COUNTS['tried']} adversarial cases tried, {COUNTS['failed']} broke the "
            "error contract"
        )
