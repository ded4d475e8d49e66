"""qp Ensembles: exact round trips of zphot PDFs, and PDFs of other codes read onto a grid."""

from __future__ import annotations

import numpy as np
import pytest

qp = pytest.importorskip("qp")

from scipy import stats  # noqa: E402

from zphot.exceptions import FormatError, OverwriteError, ParameterError  # noqa: E402
from zphot.metrics import pdf_metrics  # noqa: E402
from zphot.pdf import PDFBatch, RedshiftGrid  # noqa: E402
from zphot.pdf.qp import from_qp, read_qp, to_qp, write_qp, write_qp_chunks  # noqa: E402

GRID = RedshiftGrid(0.0, 1.5, 150)


@pytest.fixture
def batch() -> PDFBatch:
    """Skewed, two-peaked and one-bin PDFs: the shapes a round trip could distort."""
    rng = np.random.default_rng(3)
    c = GRID.centres
    rows = [
        np.exp(-0.5 * ((c - mu) / s) ** 2) * (1 + a * (c - mu))
        for mu, s, a in zip(
            rng.uniform(0.1, 1.3, 20),
            rng.uniform(0.01, 0.2, 20),
            rng.uniform(0, 3, 20),
            strict=True,
        )
    ]
    rows.append(np.exp(-0.5 * ((c - 0.3) / 0.03) ** 2) + np.exp(-0.5 * ((c - 1.1) / 0.05) ** 2))
    rows.append(np.eye(GRID.n_bins)[17])
    return PDFBatch.normalised(np.clip(np.array(rows), 0, None), GRID)


def test_hist_round_trip_in_memory(batch):
    ens = to_qp(batch)
    assert ens.npdf == len(batch)
    np.testing.assert_allclose(ens.pdf(GRID.centres[40]).ravel(), batch.density[:, 40], rtol=1e-12)
    back = from_qp(ens)
    assert back.grid == GRID
    np.testing.assert_allclose(back.probs, batch.probs, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(from_qp(ens, GRID).probs, batch.probs, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("ids", [np.arange(22) * 5, np.array([f"gal-{i}" for i in range(22)])])
def test_file_round_trip_keeps_pdfs_and_ids(batch, tmp_path, ids):
    path = write_qp(batch, tmp_path / "pz.hdf5", ancil={"id": ids, "zmode": batch.point()})
    assert qp.read(str(path)).npdf == len(batch)  # a plain qp reader opens it
    back, ancil = read_qp(path)
    np.testing.assert_allclose(back.probs, batch.probs, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(ancil["id"], ids)
    np.testing.assert_array_equal(ancil["zmode"], batch.point())


def test_chunked_write_equals_one_block(batch, tmp_path):
    blocks = [
        (PDFBatch(batch.probs[lo : lo + 7], GRID), {"id": np.arange(lo, min(lo + 7, 22))})
        for lo in range(0, 22, 7)
    ]
    path = write_qp_chunks(tmp_path / "pz.hdf5", blocks, n_total=22)
    back, ancil = read_qp(path)
    np.testing.assert_allclose(back.probs, batch.probs, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(ancil["id"], np.arange(22))
    with pytest.raises(ParameterError, match="expected 30 PDFs, got 22"):
        write_qp_chunks(tmp_path / "short.hdf5", blocks, n_total=30)
    assert not (tmp_path / "short.hdf5").exists()


def test_interp_export_keeps_the_shape(batch):
    back = from_qp(to_qp(batch, kind="interp"), GRID)
    # Linear interpolation between centres smooths each PDF a little, but keeps it in place.
    np.testing.assert_allclose(back.point("mean")[:20], batch.point("mean")[:20], atol=2e-3)
    with pytest.raises(ParameterError, match="grid"):
        from_qp(to_qp(batch, kind="interp"))


def test_other_codes_pdfs_are_integrated_onto_the_grid(tmp_path):
    loc, scale = np.array([[0.4], [0.9]]), np.array([[0.05], [0.1]])
    ens = qp.stats.norm.create_ensemble(dict(loc=loc, scale=scale))
    path = tmp_path / "other.hdf5"
    ens.write_to(str(path))
    batch, ancil = read_qp(path, grid=GRID)
    expected = np.diff(stats.norm.cdf(GRID.edges, loc, scale), axis=1)
    np.testing.assert_allclose(batch.probs, expected / expected.sum(1, keepdims=True), atol=1e-12)
    assert ancil == {}
    # zphot's metrics now score another code's PDFs.
    scores = pdf_metrics(batch.probs, batch.grid.edges, np.array([0.41, 0.88]))
    assert 0 <= scores["hdi68"] <= 1 and scores["crps"] > 0
    with pytest.raises(ParameterError, match="pass grid="):
        read_qp(path)


def test_errors(batch, tmp_path):
    for name in ("pz.fits", "pz.h5"):
        with pytest.raises(ParameterError, match=r"HDF5 named \*\.hdf5"):
            write_qp(batch, tmp_path / name)
    with pytest.raises(ParameterError, match="kind"):
        to_qp(batch, kind="spline")
    with pytest.raises(ParameterError, match="ancil column 'id' has 3 values for 22 PDFs"):
        to_qp(batch, ancil={"id": np.arange(3)})
    path = write_qp(batch, tmp_path / "pz.hdf5")
    with pytest.raises(OverwriteError):
        write_qp(batch, path)
    not_qp = tmp_path / "table.hdf5"
    import h5py

    with h5py.File(not_qp, "w") as fh:
        fh["x"] = np.arange(3)
    with pytest.raises(FormatError, match="not a qp"):
        read_qp(not_qp)
    with pytest.raises(FormatError, match="no such file"):
        read_qp(tmp_path / "missing.hdf5")
