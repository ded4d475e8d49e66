"""Binned residuals in a comparison (tables, CSV, max |mean dz| columns), bulk rows, and models
trained beforehand (scored, never refitted)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from zphot.catalog.catalog import Catalog
from zphot.estimators.knn import KNNEstimator
from zphot.exceptions import ParameterError
from zphot.io import read_table
from zphot.metrics import full_range_residuals, point_metrics
from zphot.report import Trained, compare, write_report
from zphot.report.plots import all_figures, pit_plot
from zphot.testing import synthetic_catalog

# Five test galaxies with chosen residuals dz = (z_phot - z_spec) / (1 + z_spec).
Z_SPEC = np.array([0.02, 0.04, 0.12, 0.14, 0.16])
DZ = np.array([0.01, 0.03, -0.02, 0.0, 0.02])
Z_PHOT = Z_SPEC + DZ * (1 + Z_SPEC)  # 0.0302, 0.0712, 0.0976, 0.14, 0.1832


class Fixed(KNNEstimator):
    """A k-NN whose point estimates are read from the catalog's ``fixed`` column (and, with
    ``bulk=True``, whose bulk estimate is the truth itself), to score known residuals."""

    name = "fixed"

    def __init__(self, *, k: int = 3, bulk: bool = False, random_state: int = 0) -> None:
        super().__init__(k=k, random_state=random_state)
        self.bulk = bulk

    def predict_table(self, catalog, pdf=None):
        table = super().predict_table(catalog, pdf)
        table["z_phot"] = catalog.table["fixed"].to_numpy(float)
        if self.bulk:
            table.insert(1, "z_phot_bulk", catalog.z)
        return table


def five_galaxies() -> Catalog:
    base = synthetic_catalog(5, random_state=4)
    table = base.table.assign(redshift=Z_SPEC, fixed=Z_PHOT)
    return Catalog(table, base.survey, source="<five>")


@pytest.fixture(scope="module")
def train():
    return synthetic_catalog(300, random_state=0)


@pytest.fixture(scope="module")
def hand(train, tmp_path_factory):
    """compare() on the five galaxies, bins of 0.1; the written folder."""
    result = compare(
        {"fixed": Fixed(bulk=True)}, train, five_galaxies(), bin_width=0.1, min_bin_count=3
    )
    out = tmp_path_factory.mktemp("hand")
    write_report(result, out)
    return result, out


def test_binned_csv_holds_the_hand_computed_values(hand):
    result, out = hand
    csv = pd.read_csv(out / "binned_fixed.csv")
    assert list(csv.columns) == ["by", "lo", "hi", "centre", "count", "mean", "sem", "median"]
    # Bins of 0.1 over the test z_spec range [0.02, 0.16]: [0, 0.1) and [0.1, 0.2].
    np.testing.assert_allclose(csv["lo"], [0.0, 0.1, 0.0, 0.1])
    np.testing.assert_allclose(csv["hi"], [0.1, 0.2, 0.1, 0.2])
    spec, phot = csv[csv["by"] == "z_spec"], csv[csv["by"] == "z_phot"]
    # By z_spec: {0.01, 0.03} -> mean 0.02, std 0.01 * sqrt(2), sem 0.01;
    #            {-0.02, 0, 0.02} -> mean 0, std 0.02, sem 0.02 / sqrt(3).
    assert spec["count"].tolist() == [2, 3]
    np.testing.assert_allclose(spec["mean"], [0.02, 0.0], atol=1e-12)
    np.testing.assert_allclose(spec["sem"], [0.01, 0.02 / math.sqrt(3)])
    # By z_phot (0.0976 falls below 0.1): {0.01, 0.03, -0.02} -> mean 0.02 / 3,
    #   std sqrt((0.01/3)^2 + (0.07/3)^2 + (0.08/3)^2) / sqrt(2) = sqrt(0.0114 / 18);
    #   {0, 0.02} -> mean 0.01, sem 0.01.
    assert phot["count"].tolist() == [3, 2]
    np.testing.assert_allclose(phot["mean"], [0.02 / 3, 0.01])
    np.testing.assert_allclose(phot["sem"], [math.sqrt(0.0114 / 18) / math.sqrt(3), 0.01])


def test_max_mean_columns_count_only_full_bins(hand):
    result, _ = hand
    fixed = result.results[0]
    # min_bin_count=3: only the 3-galaxy bins count, mean 0 by z_spec, 0.02/3 by z_phot.
    assert fixed.metrics["max_dz_zspec_fixed"] == pytest.approx(0.0, abs=1e-12)
    assert fixed.metrics["max_dz_zphot_fixed"] == pytest.approx(0.02 / 3)
    table = result.table()
    assert table.loc[0, "max_dz_zphot_fixed"] == pytest.approx(0.02 / 3)
    assert "holding at least 3 test galaxies" in result.markdown()


def test_full_range_columns_cover_every_galaxy(hand):
    result, _ = hand
    fixed = result.results[0]
    expected = full_range_residuals(fixed.z_phot, fixed.z_spec)
    for key in ("max_dz_zspec", "max_dz_zphot", "slope_zspec"):
        assert fixed.metrics[key] == pytest.approx(expected[key])
        assert result.table().loc[0, key] == pytest.approx(expected[key])
    # Equal-count bins put even the sparse bins in: the largest |dz| of a single-galaxy bin
    # can lead, unlike the fixed-width columns that need min_bin_count galaxies.
    assert fixed.metrics["max_dz_zspec"] >= fixed.metrics["max_dz_zspec_fixed"]
    assert "equal-count bins of z_spec" in result.markdown()


def test_a_bulk_estimate_gets_its_own_row(hand):
    result, out = hand
    assert [r.name for r in result.results] == ["fixed", "fixed (bulk)"]
    fixed, bulk = result.results
    assert bulk.bulk_of == "fixed" and bulk.settings_text() == "z_phot_bulk of fixed"
    np.testing.assert_array_equal(bulk.z_phot, Z_SPEC)  # the bulk estimate of Fixed
    assert bulk.metrics["mse"] == 0.0 and bulk.metrics["max_dz_zphot"] == 0.0
    # The bulk row has no PDF of its own: PDF columns blank, no PIT panel.
    for key in ("pit_ks", "crps", "cover68", "train_s", "predict_rate"):
        assert math.isnan(bulk.metrics[key])
    assert bulk.metrics["out_of_coverage"] == fixed.metrics["out_of_coverage"]
    assert len(pit_plot(result).axes) == 1
    assert set(all_figures(result)) >= {"density_fixed", "density_fixed_bulk"}
    # Files: a binned CSV for each row; predictions once (with z_phot_bulk), not per row.
    binned = pd.read_csv(out / "binned_fixed_bulk.csv")
    assert (binned["mean"].fillna(0) == 0).all() and binned["count"].sum() == 10
    assert not (out / "predictions_fixed_bulk.parquet").exists()
    pred = read_table(out / "predictions_fixed.parquet")
    np.testing.assert_allclose(pred["z_phot_bulk"], Z_SPEC)
    md = (out / "results.md").read_text()
    assert "| fixed (bulk) |" in md and "**(bulk)** rows" in md
    assert "z_phot_bulk of fixed" in (out / "report.html").read_text()


def test_default_bins_and_galaxies_outside_them(train):
    # A galaxy with no finite z_phot is in no bin; one whose z_phot is beyond the z_spec range
    # is in a z_spec bin only. With the default 200 galaxies a bin, five make no max column.
    test = five_galaxies()
    test.table.loc[0, "fixed"] = np.nan
    test.table.loc[1, "fixed"] = 0.9
    result = compare({"fixed": Fixed()}, train, test)
    assert result.bin_width == 0.02 and result.min_bin_count == 200
    np.testing.assert_allclose(result.bin_edges(), np.arange(1, 9) / 50)  # 0.02 .. 0.16
    binned = result.binned(result.results[0])
    assert binned.loc[binned["by"] == "z_spec", "count"].sum() == 4  # not the NaN one
    assert binned.loc[binned["by"] == "z_phot", "count"].sum() == 2  # 0.0976 and 0.14
    metrics = result.results[0].metrics
    column = next(c for c in result.columns if c.key == "max_dz_zspec_fixed")
    assert math.isnan(metrics["max_dz_zspec_fixed"])
    assert column.format(metrics["max_dz_zspec_fixed"]) == "-"
    assert np.isfinite(metrics["max_dz_zspec"])  # the full-range column has bins all the same
    assert "(width 0.02) holding at least 200 test galaxies" in column.help
    with pytest.raises(ParameterError, match="bin width"):
        compare({"fixed": Fixed()}, train, test, bin_width=0.0)
    with pytest.raises(ParameterError, match="at most"):
        compare({"fixed": Fixed()}, train, test, bin_width=1e-6)


def test_trained_models_are_scored_not_refitted(train):
    test = synthetic_catalog(150, random_state=2)
    fitted = KNNEstimator(k=7).fit(train)
    steps = []
    result = compare(
        {"old": Trained(fitted, "old.zphot"), "new": KNNEstimator(k=5)},
        train,
        test,
        progress=lambda *a: steps.append(a),
    )
    old, new = result.results
    assert old.estimator is fitted  # the very model, not a refitted clone
    np.testing.assert_array_equal(old.z_phot, fitted.predict(test))
    expected = point_metrics(fitted.predict(test), test.z)
    assert old.metrics["sigma_nmad"] == pytest.approx(expected["sigma_nmad"])
    assert math.isnan(old.metrics["train_s"]) and new.metrics["train_s"] > 0
    assert old.settings_text() == "old.zphot: k=7" and new.settings_text() == "k=5"
    assert steps == [
        ("predicting old", 0, 3),
        ("fitting new", 1, 3),
        ("predicting new", 2, 3),
        ("done", 3, 3),
    ]
    assert result.n_train == 300 and "except old (trained beforehand" in result.caption()
    assert not result.notes


def test_only_trained_models_need_no_training_set(train, tmp_path):
    test = synthetic_catalog(150, random_state=2)
    result = compare({"m": Trained(KNNEstimator(k=7).fit(train))}, None, test)
    assert result.n_train == 0 and result.train_source == ""
    assert result.caption().startswith("Every model was trained beforehand")
    assert result.results[0].settings_text() == "trained beforehand: k=7"
    html = write_report(result, tmp_path / "r").read_text()
    assert "none: every model was trained beforehand" in html
    with pytest.raises(ParameterError, match="no training catalog to fit k"):
        compare({"k": KNNEstimator()}, None, test)


def test_a_model_tested_on_its_own_training_set_is_flagged(train, caplog):
    result = compare({"m": Trained(KNNEstimator(k=7).fit(train), "m.zphot")}, None, train)
    assert result.notes == ["m is tested on the very catalog it was trained on"]
    assert "very catalog it was trained on" in caplog.text
    assert "**Warning**: m is tested on the very catalog" in result.markdown()


def test_residual_plot_says_when_no_bin_is_full_enough(hand):
    from zphot.report.plots import residual_plot

    fig = residual_plot(hand[0])  # five galaxies: no bin reaches 20
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert texts == ["no bin holds 20 galaxies: try a wider bin width"] * 2
