"""The multi-process, chunked, resumable stamp writer and the real-catalog path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("galsim")

import zphot  # noqa: E402
from zphot.exceptions import OverwriteError  # noqa: E402
from zphot.images import simulate as sim_mod  # noqa: E402
from zphot.images.simulate import prepare_catalog, simulate_images  # noqa: E402
from zphot.images.store import load_stamps, stamps_in_bands  # noqa: E402
from zphot.sim.mock import simulate_catalog  # noqa: E402


@pytest.fixture(scope="module")
def mock():
    return simulate_catalog(12, "sdss", seed=4)


@pytest.fixture(scope="module")
def one_process(mock, tmp_path_factory):
    path = tmp_path_factory.mktemp("one") / "stamps.h5"
    simulate_images(mock, "sdss", path, size=16, seed=2, n_jobs=1, chunk_size=5)
    return path


def test_same_pixels_whatever_the_process_count(mock, one_process, tmp_path):
    two = simulate_images(
        mock, "sdss", tmp_path / "two.h5", size=16, seed=2, n_jobs=2, chunk_size=3
    )
    a = load_stamps(zphot.read_catalog(one_process, "sdss"))
    b = load_stamps(zphot.read_catalog(two, "sdss"))
    assert a.shape == (12, 5, 16, 16)
    np.testing.assert_array_equal(a, b)


def test_catalog_is_stored_alongside(mock, one_process):
    cat = zphot.read_catalog(one_process, "sdss")
    np.testing.assert_array_equal(cat.z, mock["redshift"].to_numpy())
    np.testing.assert_array_equal(cat.table["stamp_row"].to_numpy(), np.arange(12))
    # Rows find their stamps through the file they were read from, in any order.
    rev = cat.take(np.arange(12)[::-1])
    np.testing.assert_array_equal(load_stamps(rev), load_stamps(cat)[::-1])
    swapped = stamps_in_bands(cat, ("z", "u"))
    np.testing.assert_array_equal(swapped[:, 0], load_stamps(cat)[:, 4])


def test_interrupted_run_leaves_no_file_and_resumes(mock, one_process, tmp_path, monkeypatch):
    out = tmp_path / "stamps.h5"
    calls = []

    def stop_after_two_chunks(done, total):
        calls.append(done)
        if len(calls) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        simulate_images(
            mock,
            "sdss",
            out,
            size=16,
            seed=2,
            n_jobs=1,
            chunk_size=5,
            progress=stop_after_two_chunks,
        )
    assert not out.exists()
    assert (tmp_path / ".stamps.h5.partial").exists()
    rendered = []
    real = sim_mod._render_chunk

    def counting(args):
        rendered.append(args[0])
        return real(args)

    monkeypatch.setattr(sim_mod, "_render_chunk", counting)
    simulate_images(mock, "sdss", out, size=16, seed=2, n_jobs=1, chunk_size=5)
    assert rendered == [2]  # only the chunk not yet written
    np.testing.assert_array_equal(
        load_stamps(zphot.read_catalog(out, "sdss")),
        load_stamps(zphot.read_catalog(one_process, "sdss")),
    )
    assert not (tmp_path / ".stamps.h5.partial").exists()
    with pytest.raises(OverwriteError):
        simulate_images(mock, "sdss", out, size=16, seed=2, n_jobs=1)


def test_prepare_real_catalog_keeps_magnitudes():
    table = pd.DataFrame(
        {
            "u": [19.5, 20.1],
            "g": [18.0, 18.9],
            "r": [17.2, 17.7],
            "i": [16.8, 17.3],
            "z": [16.5, 17.0],
            "redshift": [0.08, 0.15],
        }
    )
    cat = zphot.catalog.Catalog(table, zphot.catalog.load_survey("sdss"))
    out = prepare_catalog(cat, seed=0)
    for band in "ugriz":
        flux = out[f"flux_bulge_{band}"] + out[f"flux_disk_{band}"]
        np.testing.assert_allclose(22.5 - 2.5 * np.log10(flux), table[band], atol=1e-9)
    assert (out["r_disk"] > 0).all() and (out["bulge_fraction"].between(0, 1)).all()
