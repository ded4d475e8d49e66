"""Issue 20's validation reproductions: each is one literal error line, or a count and a refusal.

The fuzz suite (tests/fuzz) runs every command on many bad inputs; these pin the exact
messages and the one accuracy claim (1e30 magnitudes in 5% of training rows).
"""

from __future__ import annotations

import json
import re
import zipfile

import numpy as np
import pandas as pd
import pytest
from cli_helpers import one_error_line, zphot

from zphot.catalog import read_catalog
from zphot.cli.console import print_error
from zphot.estimators import load
from zphot.metrics import point_metrics
from zphot.testing import synthetic_catalog


def test_error_text_is_printed_literally(capsys):
    # rich markup would eat "[images]" and "[spec]" as style tags.
    print_error("pip install 'zphot[images]' and column z[spec] [bold]x[/]")
    assert capsys.readouterr().err == (
        "error: pip install 'zphot[images]' and column z[spec] [bold]x[/]\n"
    )


def test_a_bracketed_column_name_survives_the_cli(tmp_path):
    path = tmp_path / "pred.csv"
    pd.DataFrame({"z_phot": [0.1, 0.2], "z[spec]x": [0.1, 0.2]}).to_csv(path, index=False)
    line = one_error_line(zphot("evaluate", "--predictions", path, "--z-spec", "z[spec]"))
    assert line.startswith(f"error: {path}: column 'z[spec]' missing (have z_phot, z[spec]x)")


def test_multi_line_library_message_becomes_one_line(capsys):
    print_error("first\n\n  second  \nthird")
    assert capsys.readouterr().err == "error: first; second; third\n"


def test_evaluate_drops_sentinels_and_refuses_bad_outlier(tmp_path):
    path = tmp_path / "pred.csv"
    z = np.linspace(0.1, 0.5, 10)
    pd.DataFrame({"z_phot": z, "z_spec": np.r_[-99.0, -99.0, z[2:]]}).to_csv(path, index=False)
    result = zphot("evaluate", "--predictions", path)
    assert result.exit_code == 0, result.output
    assert "2 row(s) not scored" in result.stderr
    # 8 scored rows, all exact: MSE 0 (1963 when the -99 rows were scored).
    assert re.search(r"│ n +│ 8 +│", result.stdout)
    assert re.search(r"│ mse +│ 0.00000 +│", result.stdout)
    bad = zphot("evaluate", "--predictions", path, "--outlier", "-1")
    assert bad.exit_code == 2
    assert "--outlier must be a positive |dz| threshold, got -1.0" in one_error_line(bad)


def test_string_redshifts_in_evaluate(tmp_path):
    path = tmp_path / "pred.csv"
    pd.DataFrame({"z_phot": [0.1, 0.2], "z_spec": ["0.1", "unknown"]}).to_csv(path, index=False)
    result = zphot("evaluate", "--predictions", path)
    assert result.exit_code == 1
    assert f"{path}: column 'z_spec' is not numeric (row 1: 'unknown')" in one_error_line(result)


def test_fits_with_only_a_primary_hdu(tmp_path):
    from astropy.io import fits

    path = tmp_path / "image.fits"
    fits.PrimaryHDU(np.zeros((2, 2))).writeto(path)
    for args in (
        ("info", "--catalog", path, "--preset", "sdss"),
        ("evaluate", "--predictions", path),
    ):
        result = zphot(*args)
        assert result.exit_code == 1
        assert one_error_line(result) == (
            f"error: {path}: no table HDU (the file holds 0:PRIMARY(PrimaryHDU)); "
            "zphot reads a FITS binary or ASCII table extension"
        )


def _nmad(model, test) -> float:
    return point_metrics(load(model).predict(test), test.require_z())["sigma_nmad"]


@pytest.fixture(scope="module")
def corrupted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corrupt")
    train = synthetic_catalog(2000, random_state=0).table
    paths = {"clean": folder / "clean.csv", "bad": folder / "bad.csv", "test": folder / "t.csv"}
    train.to_csv(paths["clean"], index=False)
    bad = train.copy()
    bad.loc[np.arange(len(bad)) % 20 == 0, "r"] = 1e30  # 5% of rows, as in issue 20
    bad.to_csv(paths["bad"], index=False)
    synthetic_catalog(600, random_state=1).table.to_csv(paths["test"], index=False)
    return folder, paths


def _train_knn(catalog, out, *options):
    """``zphot train --model knn`` on ``catalog`` to ``out``, with further options."""
    return zphot("train", "--model", "knn", "--catalog", catalog, "--out", out, *options)


def test_1e30_magnitudes_refused_or_dropped(corrupted):
    folder, paths = corrupted
    refused = _train_knn(paths["bad"], folder / "r.zphot", "--preset", "sdss")
    assert refused.exit_code == 1
    assert "100 of 2000 training rows (5.0%, more than 0.1%) have implausible magnitudes " in (
        refused.stderr
    )
    assert "(r: 100 outside [5, 40])" in refused.stderr
    assert not (folder / "r.zphot").exists()

    test = read_catalog(paths["test"], "sdss")
    models = {}
    for name, catalog, extra in (
        ("clean", paths["clean"], ()),
        ("dropped", paths["bad"], ("--drop-bad-rows",)),
    ):
        models[name] = folder / f"{name}.zphot"
        result = _train_knn(catalog, models[name], "--preset", "sdss", *extra)
        assert result.exit_code == 0, result.output
    assert "dropped 100 of 2000 training rows" in result.stderr
    # The defect itself, with validation switched off by a range that admits 1e30: the
    # corrupted rows dominate the scaled features and sigma_NMAD grows far past the clean one.
    lax = folder / "lax.toml"
    lax.write_text(
        '[validation]\nmag_range = [-1e31, 1e31]\n[columns]\nredshift = "redshift"\n'
        + "".join(f'[[bands]]\nname = "{b}"\nmag = "{b}"\n' for b in "ugriz")
    )
    models["lax"] = folder / "lax.zphot"
    result = _train_knn(paths["bad"], models["lax"], "--survey", lax)
    assert result.exit_code == 0, result.output
    clean, dropped = _nmad(models["clean"], test), _nmad(models["dropped"], test)
    lax = _nmad(models["lax"], test)
    print(f"sigma_NMAD clean {clean:.5f}, 1e30 rows dropped {dropped:.5f}, kept {lax:.5f}")
    # 1900 of the same 2000 galaxies: within 5% of the clean model, where keeping the rows
    # costs more than 10% on this easy synthetic sample (issue 20's real data: doubled).
    assert dropped == pytest.approx(clean, rel=0.05)
    assert lax > 1.1 * clean


def test_edited_grid_and_zip_bomb_named(tmp_path):
    model = tmp_path / "knn.zphot"
    from zphot.estimators import get_estimator

    get_estimator("knn").fit(synthetic_catalog(200)).save(model)
    edited = tmp_path / "edited.zphot"
    with zipfile.ZipFile(model) as zin, zipfile.ZipFile(edited, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == "manifest.json":
                manifest = json.loads(data)
                manifest["grid"].update(z_min=1.0, z_max=2.0)
                data = json.dumps(manifest).encode()
            zout.writestr(name, data)
    result = zphot(
        "predict",
        "--model",
        edited,
        "--catalog",
        tmp_path / "x.csv",
        "--out",
        tmp_path / "o.parquet",
    )
    assert result.exit_code == 1
    assert one_error_line(result) == (
        f"error: {edited}: field 'grid' differs from the checksum saved with it; the model "
        "file is damaged or was edited: re-train it or use the original file"
    )
    bomb = tmp_path / "bomb.zphot"
    with zipfile.ZipFile(model) as zin, zipfile.ZipFile(bomb, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == "arrays/state.train_x.npy":
                data = data[:128] + bytes(64 * 2**20)  # 64 MiB of zeros, deflated to ~64 kB
                zout.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
            else:
                zout.writestr(name, data)
    result = zphot(
        "predict", "--model", bomb, "--catalog", tmp_path / "x.csv", "--out", tmp_path / "o.parquet"
    )
    assert result.exit_code == 1
    assert f"{bomb}: entry 'arrays/state.train_x.npy' inflates to 67,108,992 bytes" in (
        one_error_line(result)
    )
