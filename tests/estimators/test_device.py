"""Device selection for the networks: auto falls back to the CPU with a message, an explicit GPU
torch cannot see is refused, CPU results do not depend on how the CPU was chosen, and a
checkpoint does not tie a run to the device that wrote it."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from test_networks import _epochs_run, _interrupt  # this folder's (pytest's prepend import)

from zphot.estimators.mlp import MLPEstimator
from zphot.estimators.nn.device import resolve_device
from zphot.exceptions import ParameterError
from zphot.testing import synthetic_catalog

FAST = {"hidden": (16,), "max_epochs": 3, "batch_size": 64, "n_jobs": 1}
no_gpu = pytest.mark.skipif(torch.cuda.is_available(), reason="this checks the CPU-only case")


@no_gpu
def test_auto_falls_back_to_the_cpu_and_says_so(caplog):
    with caplog.at_level(logging.INFO, logger="zphot.estimators.nn.device"):
        assert resolve_device("auto", "MLPEstimator") == torch.device("cpu")
    assert "MLPEstimator: torch sees no CUDA GPU; training on the CPU" in caplog.text


@no_gpu
def test_an_explicit_gpu_torch_cannot_see_is_one_clear_error():
    with pytest.raises(ParameterError, match=r"device='cuda:1' but torch .* sees no CUDA GPU"):
        resolve_device("cuda:1", "MLPEstimator")
    train = synthetic_catalog(100, random_state=0)
    with pytest.raises(ParameterError, match="device='cuda'"):
        MLPEstimator(**FAST, device="cuda").fit(train)


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", 0, None])
def test_a_device_name_outside_the_choices_fails_at_fit(bad):
    est = MLPEstimator(**FAST, device=bad)  # the constructor only stores it
    with pytest.raises(ParameterError, match="parameter 'device' must be one of auto, cpu"):
        est.fit(synthetic_catalog(100, random_state=0))


@no_gpu
def test_cpu_results_are_the_same_whichever_way_the_cpu_was_chosen():
    train, test = synthetic_catalog(300, random_state=0), synthetic_catalog(50, random_state=1)
    pdfs = [
        MLPEstimator(**FAST, device=d).fit(train).predict_pdf(test).probs
        for d in ("cpu", "auto")
    ]
    np.testing.assert_array_equal(pdfs[0], pdfs[1])


def test_a_checkpoint_resumes_under_another_device_setting(tmp_path):
    """The checkpoint's key leaves the device out and its tensors are stored as CPU arrays, so
    a run started with one device setting finishes with another: here a fit checkpointed with
    device='cpu' is restored, not retrained, under device='auto'."""
    train, test = synthetic_catalog(300, random_state=0), synthetic_catalog(50, random_state=1)
    first = MLPEstimator(**FAST, device="cpu", checkpoint=str(tmp_path)).fit(train)
    stamp = (tmp_path / "member0.npz").stat().st_mtime_ns
    again = MLPEstimator(**FAST, device="auto", checkpoint=str(tmp_path)).fit(train)
    assert (tmp_path / "member0.npz").stat().st_mtime_ns == stamp  # restored, not retrained
    np.testing.assert_array_equal(again.predict_pdf(test).probs, first.predict_pdf(test).probs)
    assert all(p.device.type == "cpu" for p in again.members_[0][0].parameters())


# --- on a GPU (skipped without one; run on a GPU machine: BENCHMARKS, "Networks on a GPU") ---
needs_gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@needs_gpu
def test_auto_takes_the_gpu():
    assert resolve_device("auto", "MLPEstimator").type == "cuda"


@needs_gpu
def test_a_gpu_fit_ends_on_the_cpu_and_agrees_with_the_cpu_fit():
    """Same seed, same batches: the GPU's other rounding moves the estimates a little, not the
    fit. The fitted network lives on the CPU, where it is saved and predicts."""
    train, test = synthetic_catalog(2000, random_state=0), synthetic_catalog(300, random_state=1)
    params = FAST | {"hidden": (64, 64), "max_epochs": 10}
    cpu = MLPEstimator(**params, device="cpu").fit(train)
    gpu = MLPEstimator(**params, device="cuda").fit(train)
    assert all(p.device.type == "cpu" for p in gpu.members_[0][0].parameters())
    z_cpu, z_gpu = cpu.predict(test), gpu.predict(test)
    assert np.median(np.abs(z_gpu - z_cpu) / (1 + z_cpu)) < 0.01


@needs_gpu
@pytest.mark.parametrize(("first", "second"), [("cuda", "cpu"), ("cpu", "cuda")])
def test_an_interrupted_run_resumes_on_the_other_device(tmp_path, monkeypatch, first, second):
    """Killed after epoch 2 of 4 on one device, the run finishes on the other: 2 more epochs,
    not 4 (its checkpoint holds CPU arrays and leaves the device out of its key)."""
    train = synthetic_catalog(500, random_state=0)
    params = FAST | {"max_epochs": 4, "patience": 4, "checkpoint": str(tmp_path)}
    with monkeypatch.context() as mp:
        _interrupt(mp, member=0, epoch=1)
        with pytest.raises(KeyboardInterrupt):
            MLPEstimator(**params, device=first).fit(train)
    with monkeypatch.context() as mp:
        epochs = _epochs_run(mp)
        resumed = MLPEstimator(**params, device=second).fit(train)
    assert len(epochs) == 2 and len(resumed.history_[0]["val_loss"]) == 4
