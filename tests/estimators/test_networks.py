"""The torch networks (mlp, cnn1d, gat): learning, determinism, persistence, early stopping, and
the dense graph attention layer against torch_geometric's GATConv.

Models are small (tens of units, a few epochs) so each fit takes a second or two; the contract
suite (test_contract.py) covers the generic estimator checks on top of these.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from zphot.catalog.catalog import Catalog
from zphot.estimators import load
from zphot.estimators.cnn1d import CNN1DEstimator
from zphot.estimators.gat import DenseGATLayer, GATEstimator
from zphot.estimators.mlp import MLPEstimator
from zphot.estimators.nn import network as network_mod
from zphot.estimators.nn import train as train_mod
from zphot.estimators.nn.network import GaussianHead, Member, TorchEstimator
from zphot.estimators.nn.train import evaluate_loss
from zphot.exceptions import CatalogError, ParameterError
from zphot.metrics import sigma_nmad
from zphot.testing import synthetic_catalog

# The synthetic colours carry z to about 0.005; these small networks reach 0.004-0.006.
TOLERANCE = 0.012
SMALL = {
    "mlp": (MLPEstimator, {"hidden": (64, 64)}),
    "cnn1d": (CNN1DEstimator, {"channels": (16, 16), "hidden": (64,)}),
    "gat": (GATEstimator, {"width": 8, "heads": 2, "hidden": (64,)}),
}
COMMON = {"max_epochs": 12, "batch_size": 32, "n_ensemble": 1, "n_jobs": 1}


def small(name: str, **params: object) -> TorchEstimator:
    cls, own = SMALL[name]
    return cls(**(own | COMMON | params))


@pytest.fixture(scope="module")
def train() -> Catalog:
    return synthetic_catalog(1000, random_state=0)


@pytest.fixture(scope="module")
def test() -> Catalog:
    return synthetic_catalog(300, random_state=1)


@pytest.fixture(scope="module")
def fitted(train: Catalog) -> dict[str, TorchEstimator]:
    return {name: small(name).fit(train) for name in SMALL}


@pytest.mark.parametrize("name", list(SMALL))
def test_recovers_synthetic_relation(fitted, test, name):
    est = fitted[name]
    assert sigma_nmad(est.predict(test), test.require_z()) < TOLERANCE
    assert est.tags["network"] is True


@pytest.mark.parametrize("name", list(SMALL))
def test_same_seed_identical_other_seed_different(fitted, train, test, name):
    probs = fitted[name].predict_pdf(test).probs
    again = small(name).fit(train)
    np.testing.assert_array_equal(again.predict_pdf(test).probs, probs)
    other = small(name, random_state=1).fit(train)
    assert not np.array_equal(other.predict_pdf(test).probs, probs)


def test_fit_leaves_global_torch_state_alone(train):
    rng_state, threads = torch.random.get_rng_state(), torch.get_num_threads()
    small("mlp", max_epochs=2, n_jobs=threads + 1).fit(train).predict(train)
    assert torch.equal(torch.random.get_rng_state(), rng_state)
    assert torch.get_num_threads() == threads


@pytest.mark.parametrize("name", list(SMALL))
def test_rows_independent_of_batch_exactly(fitted, test, name):
    est = fitted[name]
    full = est.predict_pdf(test).probs
    for rows in (np.array([7]), np.arange(3, 70), np.array([299, 0, 150])):
        np.testing.assert_array_equal(est.predict_pdf(test.take(rows)).probs, full[rows])


@pytest.mark.parametrize("name", list(SMALL))
def test_save_load_round_trip(fitted, test, tmp_path, name):
    est = fitted[name]
    est.save(tmp_path / "model.zphot")
    loaded = load(tmp_path / "model.zphot")
    np.testing.assert_array_equal(loaded.predict_pdf(test).probs, est.predict_pdf(test).probs)
    np.testing.assert_array_equal(loaded.embed(test), est.embed(test))
    assert loaded.history_ == est.history_
    keys = set(dict(Member(*loaded.members_[0]).state_dict()))
    assert any(k.startswith("rep.") for k in keys) and any(k.startswith("head.") for k in keys)


def test_state_arrays_named_by_member_and_module(fitted):
    meta, arrays = fitted["mlp"]._get_state()
    assert "m0.rep.layers.0.weight" in arrays and "m0.head.linear.bias" in arrays
    assert all(isinstance(v, np.ndarray) for v in arrays.values())
    assert meta["n_members"] == 1 and len(meta["history"][0]["val_loss"]) >= 1


def test_ensemble_averages_members_and_embeds_member_zero(train, test):
    est = small("mlp", n_ensemble=3, max_epochs=3).fit(train)
    assert len(est.members_) == len(est.history_) == 3
    x = est._inputs(test)
    with torch.no_grad():
        members = [torch.softmax(h(r(x)).double(), 1).numpy() for r, h in est.members_]
    np.testing.assert_allclose(est.predict_pdf(test).probs, np.mean(members, axis=0), atol=1e-6)
    emb = est.embed(test)
    assert emb.shape == (len(test), 64) and emb.dtype == np.float32
    assert est.embed(test.take(np.array([], dtype=np.int64))).shape == (0, 64)
    with torch.no_grad():
        np.testing.assert_allclose(emb, est.representation_(x).numpy(), atol=1e-6)
    assert est.head_ is est.members_[0][1]


def test_regression_loss(train, test):
    est = small("mlp", loss="regression").fit(train)
    assert isinstance(est.head_, GaussianHead)
    pdf = est.predict_pdf(test)
    assert sigma_nmad(pdf.point("median"), test.require_z()) < TOLERANCE
    # A Gaussian on the grid: unimodal, and mean and median agree to a fraction of a bin.
    np.testing.assert_allclose(pdf.point("mean"), pdf.point("median"), atol=est.grid_.width)


def test_cnn1d_paper_architecture_builds_and_trains(train, test):
    est = CNN1DEstimator(architecture="paper", **COMMON).fit(train)
    convs = [m for m in est.representation_.modules() if isinstance(m, torch.nn.Conv1d)]
    pools = [m for m in est.representation_.modules() if isinstance(m, torch.nn.MaxPool1d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size) for c in convs] == [(1, 16, (3,))]
    assert [p.kernel_size for p in pools] == [2]
    assert est.embed(test).shape == (len(test), 16 * (5 // 2))
    h = est.history_[0]
    assert h["val_loss"][-1] < h["val_loss"][0]
    assert sigma_nmad(est.predict(test), test.require_z()) < 0.1


def _noisy(n: int, seed: int) -> Catalog:
    return synthetic_catalog(n, random_state=seed, colour_noise=0.3)


def test_early_stopping_restores_best_weights():
    # A wide network on 80 noisy galaxies over-fits within a few epochs, so the validation loss
    # turns up; the fitted model must hold the best epoch's weights, not the last epoch's.
    val = _noisy(400, 5)
    est = small(
        "mlp",
        hidden=(256, 256),
        learning_rate=1e-2,
        max_epochs=40,
        patience=40,
        batch_size=16,
        label_width=0.0,
    )
    est.fit(_noisy(80, 4), validation=val)
    h = est.history_[0]
    best = int(np.argmin(h["val_loss"]))
    assert h["best_epoch"] == best < len(h["val_loss"]) - 1
    assert h["val_loss"][-1] > h["val_loss"][best]
    z_val = torch.from_numpy(val.require_z().astype(np.float32))
    restored = evaluate_loss(Member(*est.members_[0]), est._loss(), est._inputs(val), z_val)
    assert restored == pytest.approx(h["val_loss"][best], rel=1e-6)


def test_patience_stops_training():
    est = small(
        "mlp",
        hidden=(256, 256),
        learning_rate=1e-2,
        max_epochs=40,
        patience=3,
        batch_size=16,
        label_width=0.0,
    )
    est.fit(_noisy(80, 4), validation=_noisy(400, 5))
    h = est.history_[0]
    # Patience counts from the best epoch, or from the end of the warm-up if that is later.
    last = max(h["best_epoch"], math.ceil(train_mod.WARMUP_FRACTION * 40))
    assert h["stopped_early"] and len(h["val_loss"]) == last + 1 + 3


def test_no_early_stop_while_the_learning_rate_warms_up():
    """A validation loss that only rises (as it may while the rate climbs) stops training
    ``patience`` epochs after the warm-up, never inside it."""
    epochs_validated = []

    def loss(out: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled():  # a training batch
            return ((out[:, 0] - z) ** 2).mean()
        epochs_validated.append(1)
        return out.sum() * 0 + len(epochs_validated)  # 1, 2, 3...: never better than epoch 0

    gen = torch.Generator().manual_seed(0)
    x, z = torch.randn(64, 3, generator=gen), torch.randn(64, generator=gen)
    settings = train_mod.TrainSettings(
        max_epochs=60, patience=4, batch_size=32, learning_rate=1e-3, weight_decay=0.0
    )
    h = train_mod.train_network(torch.nn.Linear(3, 1), loss, x, z, x, z, settings, gen)
    warmup_end = math.ceil(train_mod.WARMUP_FRACTION * 60)  # 18
    assert h["best_epoch"] == 0 and h["stopped_early"]
    assert len(h["val_loss"]) == warmup_end + 4 + 1


def _interrupt(monkeypatch, member: int, epoch: int) -> None:
    """Make fits raise KeyboardInterrupt once ``member`` has finished ``epoch`` (0-based), as
    a user killing the run between epochs would."""
    real, calls = train_mod.train_network, []

    def train_network(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(1)

        def progress(e: int, train_loss: float, val_loss: float) -> None:
            if len(calls) == member + 1 and e == epoch:
                raise KeyboardInterrupt

        return real(*args, progress=progress, **kwargs)

    monkeypatch.setattr(network_mod, "train_network", train_network)


def _epochs_run(monkeypatch) -> list[int]:
    """Count the epochs trained from now on (one validation pass each)."""
    real, calls = train_mod.evaluate_loss, []

    def counted(*args):  # noqa: ANN002, ANN202
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(train_mod, "evaluate_loss", counted)
    return calls


def test_checkpoint_resume_is_exact(train, test, tmp_path, monkeypatch):
    """Killed in member 1 after epoch 3 of 6, the same fit resumes from the checkpoints:
    member 0 is restored as trained, member 1 runs epochs 4-6, and every bit matches an
    uninterrupted fit (weights, predictions, loss history)."""
    params = {"hidden": (32, 32), "max_epochs": 6, "patience": 6, "n_ensemble": 2}
    whole = small("mlp", **params).fit(train)
    folder = tmp_path / "ckpt"
    with monkeypatch.context() as mp:
        _interrupt(mp, member=1, epoch=2)
        with pytest.raises(KeyboardInterrupt):
            small("mlp", **params, checkpoint=str(folder)).fit(train)
    assert sorted(p.name for p in folder.iterdir()) == ["member0.npz", "member1.npz"]
    with monkeypatch.context() as mp:
        epochs = _epochs_run(mp)
        resumed = small("mlp", **params, checkpoint=str(folder)).fit(train)
    assert len(epochs) == 3
    for (rep_a, head_a), (rep_b, head_b) in zip(resumed.members_, whole.members_, strict=True):
        state_a, state_b = Member(rep_a, head_a).state_dict(), Member(rep_b, head_b).state_dict()
        assert state_a.keys() == state_b.keys()
        for k in state_a:
            assert torch.equal(state_a[k], state_b[k]), k
    np.testing.assert_array_equal(resumed.predict_pdf(test).probs, whole.predict_pdf(test).probs)
    for a, b in zip(resumed.history_, whole.history_, strict=True):
        for key in ("train_loss", "val_loss", "best_epoch", "stopped_early"):
            assert a[key] == b[key]
    # Finished checkpoints are kept and reused without training; other settings start afresh.
    with monkeypatch.context() as mp:
        epochs = _epochs_run(mp)
        again = small("mlp", **params, checkpoint=str(folder)).fit(train)
        assert len(epochs) == 0
        other = small("mlp", **(params | {"max_epochs": 2}), checkpoint=str(folder)).fit(train)
        assert len(epochs) == 4
    np.testing.assert_array_equal(again.predict_pdf(test).probs, whole.predict_pdf(test).probs)
    assert [len(h["val_loss"]) for h in other.history_] == [2, 2]


def test_checkpoint_resume_after_early_stop_and_with_validation(tmp_path, monkeypatch):
    """Early stopping's state (best weights, best loss, patience) survives the interruption."""
    val = _noisy(400, 5)
    params = {
        "hidden": (256, 256),
        "learning_rate": 1e-2,
        "max_epochs": 40,
        "patience": 3,
        "batch_size": 16,
        "label_width": 0.0,
    }
    whole = small("mlp", **params).fit(_noisy(80, 4), validation=val)
    h = whole.history_[0]
    assert h["stopped_early"] and h["best_epoch"] >= 1
    folder = tmp_path / "ckpt"
    with monkeypatch.context() as mp:
        _interrupt(mp, member=0, epoch=h["best_epoch"] + 1)  # after the best, before the stop
        with pytest.raises(KeyboardInterrupt):
            small("mlp", **params, checkpoint=folder).fit(_noisy(80, 4), validation=val)
    resumed = small("mlp", **params, checkpoint=folder).fit(_noisy(80, 4), validation=val)
    for key in ("train_loss", "val_loss", "best_epoch", "stopped_early"):
        assert resumed.history_[0][key] == h[key]
    np.testing.assert_array_equal(resumed.predict_pdf(val).probs, whole.predict_pdf(val).probs)


def test_checkpoint_must_be_a_path(train):
    with pytest.raises(ParameterError, match="checkpoint"):
        small("mlp", checkpoint=3).fit(train)


def test_invalid_widths_fail_at_fit(train):
    for est in (MLPEstimator(hidden=()), CNN1DEstimator(channels=(16, 0)), MLPEstimator(n_jobs=0)):
        with pytest.raises(ParameterError, match="hidden|channels|n_jobs"):
            est.fit(train)


def _with_size(cat: Catalog, seed: int) -> Catalog:
    table = cat.table.assign(size=np.random.default_rng(seed).uniform(0.5, 3.0, len(cat)))
    return Catalog(table, dataclasses.replace(cat.survey, size="size"), source=cat.source)


def test_size_becomes_a_node_and_a_channel(train, test):
    tr, te = _with_size(train, 0), _with_size(test, 1)
    gat = small("gat", max_epochs=2).fit(tr)
    assert gat.input_shape_ == (6, 4)  # five bands + the size node; 3 features + "is size"
    cnn = small("cnn1d", max_epochs=2).fit(tr)
    assert cnn.input_shape_ == (3, 5)  # magnitude, colour, size channels over five bands
    for est in (gat, cnn):
        assert np.isfinite(est.predict(te)).all()


def test_gat_needs_wavelengths(train):
    bands = tuple(
        dataclasses.replace(b, wavelength=None) if b.name == "g" else b for b in train.survey.bands
    )
    cat = Catalog(train.table, dataclasses.replace(train.survey, bands=bands), source="x.csv")
    with pytest.raises(CatalogError, match="'g'|g have no wavelength"):
        small("gat", max_epochs=1).fit(cat)


@pytest.mark.parametrize("concat", [True, False])
def test_dense_gat_layer_matches_torch_geometric(concat):
    tg = pytest.importorskip(
        "torch_geometric.nn", reason="torch_geometric not installed (pip install torch-geometric)"
    )
    gen = torch.Generator().manual_seed(0)
    n_graphs, nodes, f_in, f_out, heads = 7, 5, 3, 4, 2
    conv = tg.GATConv(f_in, f_out, heads=heads, concat=concat)
    with torch.no_grad():
        for p in conv.parameters():
            p.copy_(torch.randn(p.shape, generator=gen))
    dense = DenseGATLayer(f_in, f_out, heads=heads, concat=concat)
    with torch.no_grad():
        dense.weight.copy_(conv.lin.weight)
        dense.att_src.copy_(conv.att_src[0])
        dense.att_dst.copy_(conv.att_dst[0])
        dense.bias.copy_(conv.bias)
    x = torch.randn(n_graphs, nodes, f_in, generator=gen)
    # Once fully connected (the networks' graphs), once with edges missing.
    adjacent = [
        torch.ones(nodes, nodes, dtype=torch.bool),
        (torch.rand(nodes, nodes, generator=gen) < 0.5) | torch.eye(nodes, dtype=torch.bool),
    ]
    for adj in adjacent:
        dst, src = torch.nonzero(adj, as_tuple=True)  # adj[i, j]: edge j -> i
        offsets = torch.arange(n_graphs).repeat_interleave(len(src)) * nodes
        edge_index = torch.stack([src.repeat(n_graphs) + offsets, dst.repeat(n_graphs) + offsets])
        with torch.no_grad():
            want = conv(x.reshape(n_graphs * nodes, f_in), edge_index)
            got = dense(x, adj).reshape(n_graphs * nodes, -1)
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
