"""Atomic output: temp file beside the target, replace on success, nothing left on failure."""

from __future__ import annotations

import pytest

from zphot.exceptions import OverwriteError
from zphot.io import atomic_path, check_writable


def test_success_replaces_target_and_cleans_up(tmp_path):
    out = tmp_path / "a.txt"
    with atomic_path(out) as tmp:
        # The temporary lives in the target folder, so os.replace never crosses filesystems.
        assert tmp.parent == out.parent
        assert tmp != out
        tmp.write_text("new")
        assert not out.exists()
    assert out.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_creates_missing_parent_folders(tmp_path):
    out = tmp_path / "x" / "y" / "a.txt"
    with atomic_path(out) as tmp:
        tmp.write_text("deep")
    assert out.read_text() == "deep"


def test_refusal_names_the_file_and_writes_nothing(tmp_path):
    out = tmp_path / "a.txt"
    out.write_text("old")
    with pytest.raises(OverwriteError, match="not overwriting") as err, atomic_path(out):
        pytest.fail("the body must not run when overwriting is refused")
    assert err.value.path == str(out)
    assert out.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_error_mid_write_keeps_old_file(tmp_path):
    out = tmp_path / "a.txt"
    out.write_text("old")
    with pytest.raises(ZeroDivisionError), atomic_path(out, overwrite=True) as tmp:
        tmp.write_text("half")
        1 / 0  # noqa: B018 - the failure under test
    assert out.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_overwrite_replaces(tmp_path):
    out = tmp_path / "a.txt"
    out.write_text("old")
    with atomic_path(out, overwrite=True) as tmp:
        tmp.write_text("new")
    assert out.read_text() == "new"


def test_check_writable(tmp_path):
    out = tmp_path / "sub" / "f.bin"
    assert check_writable(out, overwrite=False) == out
    assert out.parent.is_dir()
    out.write_bytes(b"1")
    with pytest.raises(OverwriteError):
        check_writable(out, overwrite=False)
    assert check_writable(out, overwrite=True) == out
