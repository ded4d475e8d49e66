"""zphot train's OUT.ckpt: a folder zphot did not create is kept (only zphot's files are ever
removed), and a damaged checkpoint is set aside once, with a warning, and training restarts."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from guard_helpers import error_line, snapshot, zphot

from zphot.estimators import load
from zphot.testing import synthetic_catalog

NET = ["--set", "hidden=[16]", "--set", "max_epochs=2", "--set", "n_ensemble=1"]
NET += ["--set", "batch_size=64", "--set", "n_jobs=1"]


def _train(catalog, out, *flags):
    return zphot(
        "train", "--model", "mlp", "--catalog", catalog, "--preset", "sdss", *NET,
        "--out", out, *flags,
    )  # fmt: skip


@pytest.fixture(scope="module")
def reference(catalogs, tmp_path_factory):
    """An uninterrupted run, and the finished checkpoint of the same run (kept by naming the
    folder with --set checkpoint=...)."""
    root = tmp_path_factory.mktemp("reference")
    assert _train(catalogs["train"], root / "ref.zphot").exit_code == 0
    kept = root / "kept"
    result = _train(catalogs["train"], root / "kept.zphot", "--set", f"checkpoint={kept}")
    assert result.exit_code == 0, result.output
    return root / "ref.zphot", (kept / "member0.npz").read_bytes()


def _same_model(path, ref) -> None:
    cat = synthetic_catalog(40, random_state=5)
    got, want = load(path).predict_pdf(cat).probs, load(ref).predict_pdf(cat).probs
    np.testing.assert_array_equal(got, want)


def test_a_users_ckpt_folder_is_kept_without_overwrite(catalogs, tmp_path):
    """Before: train deleted an existing OUT.ckpt folder, and what a user put there."""
    folder = tmp_path / "z.zphot.ckpt"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    before = snapshot(tmp_path)
    line = error_line(_train(catalogs["train"], tmp_path / "z.zphot"), 2)
    assert "zphot did not create it" in line and "--overwrite" in line
    assert snapshot(tmp_path) == before


def test_overwrite_removes_only_zphots_files_from_it(catalogs, reference, tmp_path):
    ref, finished = reference
    folder = tmp_path / "z.zphot.ckpt"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    (folder / "member0.npz").write_bytes(finished)  # zphot's: discarded by --overwrite
    result = _train(catalogs["train"], tmp_path / "z.zphot", "--overwrite")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    assert (folder / "notes.txt").read_text() == "mine"
    _same_model(tmp_path / "z.zphot", ref)


def _wrong_shapes(finished: bytes) -> bytes:
    """The finished checkpoint with its first weight array replaced by one of another shape:
    a readable file with the right run key whose state does not fit the network."""
    with np.load(io.BytesIO(finished), allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["a0"] = np.zeros((3, 3), dtype=arrays["a0"].dtype)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


DAMAGE = {
    "garbage": lambda finished: bytes(range(256)) * 8,
    "truncated": lambda finished: finished[: len(finished) // 2],
    "bad-json": lambda finished: _replace_meta(finished, b"{not json"),
    "wrong-shapes": _wrong_shapes,
}


def _replace_meta(finished: bytes, meta: bytes) -> bytes:
    with np.load(io.BytesIO(finished), allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["__meta__"] = np.frombuffer(meta, dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_corrupt_checkpoint_is_set_aside_once_and_training_restarts(
    catalogs, reference, tmp_path, damage
):
    """Before: every rerun printed a traceback until the user deleted the folder by hand."""
    ref, finished = reference
    folder = tmp_path / "z.zphot.ckpt"
    folder.mkdir()
    (folder / "_zphot.json").write_text(json.dumps({"format": "zphot-checkpoints"}))
    bad = DAMAGE[damage](finished)
    (folder / "member0.npz").write_bytes(bad)
    result = _train(catalogs["train"], tmp_path / "z.zphot")
    assert result.exit_code == 0, result.output
    text = " ".join(result.stderr.split())  # log lines may be wrapped to the terminal
    assert text.count("corrupt checkpoint") == 1 and "Traceback" not in result.stderr
    assert "training this member from scratch" in text
    # The damaged file is kept, byte for byte, under a new name, in the folder still marked
    # as zphot's; the checkpoint files are gone.
    names = sorted(p.name for p in folder.iterdir())
    assert len(names) == 2 and names[0] == "_zphot.json", names
    aside = folder / names[1]
    assert aside.name.startswith("member0.npz.corrupt-") and aside.name in text
    assert aside.read_bytes() == bad
    _same_model(tmp_path / "z.zphot", ref)  # trained from scratch: the uninterrupted model
    # Reported once: the next run finds nothing to warn about.
    again = _train(catalogs["train"], tmp_path / "z.zphot", "--overwrite")
    assert again.exit_code == 0 and "corrupt checkpoint" not in again.stderr
    assert sorted(p.name for p in folder.iterdir()) == names


def test_the_finished_checkpoint_is_a_plain_npz(reference):
    """The fixture's checkpoint is what the damage cases start from: a zip of arrays."""
    _, finished = reference
    with zipfile.ZipFile(io.BytesIO(finished)) as zf:
        assert "__meta__.npy" in zf.namelist() and "a0.npy" in zf.namelist()
