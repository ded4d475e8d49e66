"""``zphot train --reweight-to`` on small synthetic catalogs."""

from __future__ import annotations

from typer.testing import CliRunner

from zphot.cli.app import app
from zphot.estimators import load
from zphot.testing import synthetic_catalog


def zphot(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_train_reweighted_network_and_refusal_for_knn(tmp_path) -> None:
    train, sources = tmp_path / "train.csv", tmp_path / "sources.csv"
    synthetic_catalog(300, random_state=0).table.to_csv(train, index=False)
    synthetic_catalog(200, random_state=1).table.to_csv(sources, index=False)
    model = tmp_path / "m.zphot"
    fast = ["--set", "max_epochs=2", "--set", "hidden=16,16", "--set", "n_jobs=1"]
    common = ["--catalog", train, "--preset", "sdss", "--reweight-to", sources]
    result = zphot("train", "--model", "mlp", *common, "--out", model, *fast)
    assert result.exit_code == 0, result.output
    assert "weights toward" in result.stderr and "effective training size" in result.stderr
    assert load(model).n_train_ == 300
    refused = zphot("train", "--model", "knn", *common, "--out", tmp_path / "k.zphot")
    assert refused.exit_code == 2
    assert "--reweight-to needs a network model; knn takes no weights" in refused.stderr
