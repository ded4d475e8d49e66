"""compare(): one row of consistent metrics per model; write(): every report file, atomically."""

from __future__ import annotations

import base64
import logging
import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from zphot.estimators.knn import KNNEstimator
from zphot.exceptions import OverwriteError
from zphot.io import read_table
from zphot.metrics import point_metrics
from zphot.report import COLUMNS, compare, loss_history, write_report
from zphot.report.plots import all_figures, loss_plot, nz_bin_width, nz_plot, png_bytes, z_range
from zphot.report.write import prepare_output_dir
from zphot.testing import synthetic_catalog


class FakeNetwork(KNNEstimator):
    """A k-NN that records loss curves like a two-member network ensemble."""

    name = "fakenet"
    tags = {"network": True, "synthetic_tolerance": 0.03}

    def _fit(self, catalog, z, validation):
        super()._fit(catalog, z, validation)
        self.history_ = [
            {"train": [1.0, 0.6, 0.4, 0.35], "val": [1.1, 0.7, 0.5, 0.55], "best_epoch": 2},
            {"train": np.array([0.9, 0.5, 0.45]), "val": np.array([1.0, 0.6, 0.62])},
        ]


@pytest.fixture(scope="module")
def catalogs():
    return synthetic_catalog(400, random_state=0), synthetic_catalog(200, random_state=1)


@pytest.fixture(scope="module")
def comparison(catalogs):
    train, test = catalogs
    steps = []
    estimators = {"knn": KNNEstimator(k=10), "net": FakeNetwork(k=5, random_state=3)}
    # 200 test galaxies: bins of 0.1 hold about 35, enough for the max |mean dz| columns.
    result = compare(
        estimators,
        train,
        test,
        progress=lambda *a: steps.append(a),
        bin_width=0.1,
        min_bin_count=20,
    )
    return result, steps, estimators


def test_one_row_per_model_with_every_column(comparison):
    result, _, _ = comparison
    table = result.table()
    assert table["model"].tolist() == ["knn", "net"]
    assert list(table.columns) == ["model", *(c.key for c in COLUMNS), "settings"]
    assert np.isfinite(table[[c.key for c in COLUMNS]].to_numpy(float)).all()
    assert (table["sigma_nmad"] < 0.05).all()  # the synthetic z(colour) is recovered
    assert (table["predict_rate"] > 0).all()
    assert result.n_train == 400 and result.n_test == 200 and result.survey == "sdss"


def test_metrics_agree_with_predictions(comparison, catalogs):
    result, _, _ = comparison
    r = result.results[0]
    assert {"z_spec", "z_phot", "z_err", "out_of_coverage"} <= set(r.predictions.columns)
    np.testing.assert_array_equal(r.z_spec, catalogs[1].z)
    expected = point_metrics(r.z_phot, r.z_spec)
    for key in ("mse", "r2", "bias", "sigma_nmad", "outlier_015", "outlier_005"):
        assert r.metrics[key] == pytest.approx(expected[key])
    assert r.metrics["out_of_coverage"] == pytest.approx(r.predictions["out_of_coverage"].mean())
    assert r.pit.shape == (200,) and ((r.pit >= 0) & (r.pit <= 1)).all()
    inside = np.mean((r.pit >= 0.16) & (r.pit <= 0.84))
    assert r.metrics["cover68"] == pytest.approx(inside)


def test_settings_are_the_non_default_parameters(comparison):
    result, _, _ = comparison
    knn, net = result.results
    assert knn.changed == {"k": 10}
    assert net.changed == {"k": 5, "random_state": 3}
    assert knn.params["k"] == 10 and "kernel_width" in knn.params
    assert result.table()["settings"].tolist() == ["k=10", "k=5, random_state=3"]


def test_estimators_passed_in_stay_unfitted(comparison):
    result, _, estimators = comparison
    assert not hasattr(estimators["knn"], "grid_")
    assert hasattr(result.results[0].estimator, "grid_")


def test_progress_reports_two_steps_per_model(comparison):
    _, steps, _ = comparison
    assert steps[0] == ("fitting knn", 0, 4)
    assert [s[1] for s in steps] == [0, 1, 2, 3, 4]
    assert steps[-1] == ("done", 4, 4)


def test_network_history_is_collected(comparison):
    knn, net = comparison[0].results
    assert knn.history == []
    assert len(net.history) == 2
    assert net.history[0] == {"train": [1.0, 0.6, 0.4, 0.35], "val": [1.1, 0.7, 0.5, 0.55]}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"train": [2.0, 1.0], "val": (3.0, 2.0)}, [{"train": [2.0, 1.0], "val": [3.0, 2.0]}]),
        ({"m0": {"train": [1.0]}, "m1": {"train": [2.0]}}, [{"train": [1.0]}, {"train": [2.0]}]),
        ([[3.0, 2.0], {"val": [1.0]}], [{"loss": [3.0, 2.0]}, {"val": [1.0]}]),
        (np.array([0.5, 0.25]), [{"loss": [0.5, 0.25]}]),
        ({"train": [1.0], "epochs": 1, "note": "x", "empty": []}, [{"train": [1.0]}]),
        ({"train_loss": [1.0], "epoch_seconds": [0.8]}, [{"train_loss": [1.0]}]),
        (None, []),
    ],
)
def test_loss_history_shapes(raw, expected):
    class Net:
        history_ = raw

    assert loss_history(Net()) == expected


def test_unreadable_history_is_skipped_with_a_warning(caplog):
    class Net:
        history_ = {"best_epoch": 3}

    with caplog.at_level(logging.WARNING, logger="zphot.report.compare"):
        assert loss_history(Net()) == []
    assert "no loss curves" in caplog.text


def test_figures_are_labelled(comparison):
    result, _, _ = comparison
    figs = all_figures(result)
    assert set(figs) == {"residuals", "nz", "pit", "loss", "density_knn", "density_net"}
    for key, fig in figs.items():
        assert isinstance(fig, Figure)
        axes = [a for a in fig.axes if a.get_visible() and a.get_label() != "<colorbar>"]
        if key == "residuals":  # curves above, counts below on a shared x axis
            assert [bool(a.get_title()) for a in axes] == [True, True, False, False]
            axes = axes[2:]
        for ax in axes:
            assert ax.get_xlabel(), key
            assert ax.get_title() or key == "residuals", key
        assert png_bytes(fig).startswith(b"\x89PNG")
    loss_axes = figs["loss"].axes
    assert len(loss_axes) == 1 and loss_axes[0].get_yscale() == "linear"  # within a decade


@pytest.mark.parametrize(
    ("lo", "hi", "width"), [(0.0, 0.3, 0.005), (0.0, 3.0, 0.05), (0.0, 1.0, 0.02), (0.0, 0.4, 0.01)]
)
def test_nz_bin_width_is_round_and_gives_at_least_40_bins(lo, hi, width):
    assert nz_bin_width(lo, hi) == width
    assert 40 <= round((hi - lo) / width) < 100


def test_nz_plot_bins_follow_the_redshift_range(comparison):
    result, _, _ = comparison
    lo, hi = z_range(result.results[0].z_spec)
    ax = nz_plot(result).axes[0]
    truth = ax.patches[0]  # the grey z_spec histogram is drawn first, one bar per bin
    bars = [p for p in ax.patches if p.get_facecolor() == truth.get_facecolor()]
    assert len(bars) == round((hi - lo) / nz_bin_width(lo, hi))
    assert f"bins of {nz_bin_width(lo, hi):g}" in ax.get_title()


def test_no_loss_figure_without_networks(comparison):
    result, _, _ = comparison
    only_knn = type(result)(result.results[:1], "a", "b", 1, 1, "sdss")
    assert loss_plot(only_knn) is None


def test_write_creates_every_file(comparison, tmp_path):
    result, _, _ = comparison
    out = tmp_path / "report"
    html_path = write_report(result, out, context={"command": "zphot compare --models knn,net"})
    assert html_path == out / "report.html"
    names = {p.relative_to(out).as_posix() for p in out.rglob("*")}
    assert {
        "results.md",
        "results.csv",
        "report.html",
        "predictions_knn.parquet",
        "predictions_net.parquet",
        "figures/residuals.png",
        "figures/loss.png",
        "figures/density_knn.png",
        "figures/nz.png",
        "figures/pit.png",
        "binned_knn.csv",
        "binned_net.csv",
    } <= names
    assert not [n for n in names if n.endswith(".tmp")]

    csv = pd.read_csv(out / "results.csv")
    assert csv["model"].tolist() == ["knn", "net"]
    np.testing.assert_allclose(csv["sigma_nmad"], result.table()["sigma_nmad"])

    md = (out / "results.md").read_text()
    assert "| knn |" in md and "σ_NMAD" in md and "k=10" in md
    # Every row of the markdown table has as many cells as the header (labels with | escaped).
    rows = [line for line in md.splitlines() if line.startswith("| ")]
    assert len({len(re.split(r"(?<!\\)\|", line)) for line in rows}) == 1
    assert "bins of z_phot (width 0.1) holding at least 20 test galaxies" in md

    binned = pd.read_csv(out / "binned_net.csv")
    pd.testing.assert_frame_equal(binned, result.binned(result.results[1]), check_dtype=False)

    pred = read_table(out / "predictions_knn.parquet")
    assert {"z_spec", "z_phot", "z_err", "out_of_coverage"} <= set(pred.columns)
    assert len(pred) == 200

    html = html_path.read_text()
    assert html.count("data:image/png;base64,") == 6
    assert "zphot compare --models knn,net" in html and "Training curves" in html
    start = html.index("data:image/png;base64,") + len("data:image/png;base64,")
    assert base64.b64decode(html[start : html.index('"', start)]).startswith(b"\x89PNG")
    assert "<script" not in html and "http" not in html  # self-contained


def test_write_refuses_a_non_empty_folder(comparison, tmp_path):
    result, _, _ = comparison
    (tmp_path / "old.txt").write_text("keep me")
    with pytest.raises(OverwriteError, match="--overwrite"):
        write_report(result, tmp_path)
    write_report(result, tmp_path, overwrite=True)
    assert (tmp_path / "old.txt").read_text() == "keep me"
    assert (tmp_path / "report.html").exists()


def test_output_dir_rules(tmp_path):
    assert prepare_output_dir(tmp_path / "new" / "dir", overwrite=False).is_dir()
    assert prepare_output_dir(tmp_path / "new" / "dir", overwrite=False)  # empty is fine
    (tmp_path / "file").write_text("x")
    with pytest.raises(OverwriteError):
        prepare_output_dir(tmp_path / "file", overwrite=True)


def test_loss_plot_uses_a_log_axis_for_losses_spanning_decades(comparison):
    result, _, _ = comparison
    net = result.results[1]
    steep = type(net)(**{**net.__dict__, "history": [{"train": [100.0, 10.0, 1.0]}]})
    fig = loss_plot(type(result)([steep], "a", "b", 1, 1, "sdss"))
    assert fig.axes[0].get_yscale() == "log"
    assert fig.axes[0].get_title() == "net"
