"""The planning of a comparison (zphot.report.plan): model labels and the split policy."""

from __future__ import annotations

import logging

import pytest

from zphot.estimators import get_estimator
from zphot.exceptions import ParameterError
from zphot.report.plan import choose_split, model_entries, plan_comparison
from zphot.testing import synthetic_catalog


def test_model_files_get_their_stem_and_a_clashing_one_its_folder(tmp_path):
    cat = synthetic_catalog(120, random_state=0)
    model = get_estimator("knn", k=3).fit(cat)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    model.save(tmp_path / "a" / "knn.zphot")
    model.save(tmp_path / "b" / "knn.zphot")
    entries = model_entries(f"knn,{tmp_path / 'a' / 'knn.zphot'},{tmp_path / 'b' / 'knn.zphot'}")
    # 'knn' is the registry name; the files' stem 'knn' is taken, so the folder goes in front
    assert [e.label for e in entries] == ["knn", "a/knn", "b/knn"]
    assert [e.name for e in entries] == ["knn", None, None]


def test_only_trained_models_score_the_whole_catalog(tmp_path):
    cat = synthetic_catalog(100, random_state=0)
    get_estimator("knn", k=3).fit(cat).save(tmp_path / "m.zphot")
    plan = plan_comparison(str(tmp_path / "m.zphot"))
    assert plan.to_fit == [] and plan.names == ["m"]
    train, test, split = choose_split(plan, cat)
    assert train is None and test is cat
    assert split.startswith("none: every model was trained beforehand")
    with pytest.raises(ParameterError, match="every model is trained already"):
        plan_comparison(str(tmp_path / "m.zphot"), test="other.parquet")


def test_a_split_of_the_catalog_warns_about_trained_models(tmp_path, caplog):
    cat = synthetic_catalog(100, random_state=0)
    get_estimator("knn", k=3).fit(cat).save(tmp_path / "m.zphot")
    plan = plan_comparison(f"knn,{tmp_path / 'm.zphot'}", ["knn.k=4"], seed=3)
    assert plan.to_fit == ["knn"] and plan.estimators["knn"].get_params()["k"] == 4
    with caplog.at_level(logging.WARNING):
        train, test, split = choose_split(plan, cat, train_fraction=0.7, split_seed=1)
    # int(0.7 * 100) rows train, the rest test (zphot.catalog.split.split_indices)
    assert (len(train), len(test)) == (70, 30)
    assert split == (
        "70% / 30% of --catalog, seed 1; m trained beforehand, scored on the same test galaxies"
    )
    assert "trained models are scored on a split of --catalog" in caplog.text
