"""image-cnn beyond the contract: over-fitting, checkpoints and resuming, user cubes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import zphot
from zphot.estimators.nn import train as train_mod
from zphot.images.estimator import ImageCNNEstimator
from zphot.images.store import attach_stamps, load_stamps

SMALL = {"widths": (8,), "hidden": (64,), "batch_size": 16, "n_ensemble": 1}


def test_registered():
    assert "image-cnn" in zphot.list_estimators(include_special=True)
    assert isinstance(zphot.get_estimator("image-cnn"), ImageCNNEstimator)


def test_overfits_64_stamps(blob_data):
    """The network can memorise: 64 stamps, hard labels, no augmentation."""
    cat = blob_data["small"]
    est = ImageCNNEstimator(
        **SMALL,
        max_epochs=150,
        patience=150,
        learning_rate=3e-3,
        label_width=0.0,
        augment=False,
        grid=(0.0, 0.62, 12),
    ).fit(cat, validation=cat)
    assert min(est.history_[0]["train_loss"]) < 0.1
    assert np.mean(est.predict_pdf(cat).probs.argmax(1) == est.grid_.bin_index(cat.z)) > 0.9


def test_checkpoint_resume_is_exact(blob_data, tmp_path, monkeypatch):
    """On the CPU, to the bit (on a GPU, cuDNN's convolution gradients are not deterministic:
    two uninterrupted GPU fits already differ at 1e-9, seen on an H100)."""
    cat = blob_data["small"]
    params = SMALL | {"max_epochs": 5, "patience": 5, "device": "cpu"}
    whole = ImageCNNEstimator(**params).fit(cat)
    ckpt = tmp_path / "ckpt"
    real = train_mod.evaluate_loss
    calls = []

    def killed_in_epoch_three(*args):  # noqa: ANN002, ANN202
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(train_mod, "evaluate_loss", killed_in_epoch_three)
    with pytest.raises(KeyboardInterrupt):
        ImageCNNEstimator(**params, checkpoint=str(ckpt)).fit(cat)
    monkeypatch.setattr(train_mod, "evaluate_loss", real)
    assert (ckpt / "member0.npz").exists()
    resumed = ImageCNNEstimator(**params, checkpoint=str(ckpt)).fit(cat)
    np.testing.assert_array_equal(resumed.predict_pdf(cat).probs, whole.predict_pdf(cat).probs)
    for key in ("train_loss", "val_loss", "best_epoch", "stopped_early"):
        assert resumed.history_[0][key] == whole.history_[0][key]
    # A finished checkpoint is reused as is; other settings start afresh.
    again = ImageCNNEstimator(**params, checkpoint=str(ckpt)).fit(cat)
    np.testing.assert_array_equal(again.predict_pdf(cat).probs, whole.predict_pdf(cat).probs)
    other = ImageCNNEstimator(**(params | {"max_epochs": 2}), checkpoint=str(ckpt)).fit(cat)
    assert len(other.history_[0]["val_loss"]) == 2


def test_fits_cube_and_band_names(blob_data, tmp_path):
    from astropy.io import fits

    cat = blob_data["small"]
    cube = load_stamps(cat)
    path = tmp_path / "cube.fits"
    fits.PrimaryHDU(cube[:, ::-1]).writeto(path)  # channels z..u
    fcat = attach_stamps(cat, path, bands=tuple(reversed(cat.bands)))
    est = ImageCNNEstimator(**SMALL, max_epochs=2).fit(cat)
    np.testing.assert_allclose(
        est.predict_pdf(fcat).probs, est.predict_pdf(cat).probs, rtol=1e-6, atol=1e-9
    )


def test_magnitude_factorised_output(blob_data):
    """The Lin et al. (2022) output module, so the bias correction applies to images too."""
    cat = blob_data["small"]
    est = ImageCNNEstimator(**SMALL, max_epochs=2, output="magnitude").fit(cat)
    pdf = est.predict_pdf(cat)
    np.testing.assert_allclose(pdf.probs.sum(1), 1.0)
    assert est.embed(cat).shape == (64, 64)


def test_catalog_without_stamps_is_refused():
    from zphot.exceptions import CatalogError
    from zphot.testing import synthetic_catalog

    with pytest.raises(CatalogError, match="stamp_row"):
        ImageCNNEstimator(**SMALL, max_epochs=1).fit(synthetic_catalog(50))


def test_bias_correction_runs_on_images(blob_data, tmp_path):
    """All four steps of Lin et al. (2022) on the image network: saved, reloaded, same output."""
    from zphot.debias import DebiasedEstimator

    cat, test = blob_data["train"], blob_data["test"]
    deb = DebiasedEstimator(
        base="image-cnn",
        base_params=SMALL | {"max_epochs": 2},
        head_epochs=2,
        n_folds=2,
        kept_fraction=0.5,
    ).fit(cat)
    assert deb.info_["n_th"] >= 1
    path = tmp_path / "deb.zphot"
    deb.save(path)
    back = zphot.load(path)
    np.testing.assert_array_equal(back.predict(test), deb.predict(test))
    np.testing.assert_array_equal(back.predict_bulk(test), deb.predict_bulk(test))
    np.testing.assert_allclose(back.predict_pdf(test).probs.sum(1), 1.0)


def test_mixed_precision_leaves_cpu_results_unchanged(blob_data):
    """bfloat16 autocast is a GPU setting: on the CPU the fit is the same, bit for bit."""
    cat, test = blob_data["small"], blob_data["test"]
    params = SMALL | {"max_epochs": 2, "device": "cpu"}
    plain = ImageCNNEstimator(**params).fit(cat).predict_pdf(test).probs
    mixed = ImageCNNEstimator(**params, mixed_precision=True).fit(cat).predict_pdf(test).probs
    np.testing.assert_array_equal(mixed, plain)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("mixed_precision", [False, True])
def test_trains_on_the_gpu(blob_data, mixed_precision):
    """On a GPU (stamps resident there, optionally under bfloat16 autocast) the fit learns as
    on the CPU: its held-out scatter is within 20% of the CPU fit's."""
    from zphot.metrics import sigma_nmad

    train, test = blob_data["train"], blob_data["test"]
    params = SMALL | {"max_epochs": 6}
    cpu = ImageCNNEstimator(**params, device="cpu").fit(train)
    gpu = ImageCNNEstimator(**params, device="cuda", mixed_precision=mixed_precision).fit(train)
    nmad = [sigma_nmad(est.predict(test), test.z) for est in (cpu, gpu)]
    assert nmad[1] < 1.2 * nmad[0], nmad
