"""A lock per output: a second run is refused while the first lives; a dead run's lock is taken
over only with --resume (or --overwrite); the first run is never disturbed."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from guard_helpers import error_line, snapshot, zphot

from zphot.exceptions import OutputLockedError
from zphot.io.lock import LOCK, OutputLock
from zphot.scale.parts import work_dir

CHUNK = 100

# A streamed predict in another process that stops after its first part until told to go on
# (or is killed there).
FIRST_RUN = """
import sys, time
from pathlib import Path
from zphot import load
from zphot.scale import predict_catalog

model, source, out, marker, go = sys.argv[1:]

def progress(done, total):
    if done >= 100:
        Path(marker).write_text(str(done))
        while not Path(go).exists():
            time.sleep(0.02)

predict_catalog(load(model), source, out, chunk_size=100, progress=progress)
"""


def _start_first_run(knn_model, catalog, tmp_path):
    script, marker, go = tmp_path / "run.py", tmp_path / "marker", tmp_path / "go"
    script.write_text(FIRST_RUN)
    out = tmp_path / "out" / "z.parquet"
    args = [sys.executable, str(script), str(knn_model), str(catalog), str(out), str(marker)]
    proc = subprocess.Popen([*args, str(go)], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not marker.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the first run never reached its first part: {proc.stderr.read()}")
        time.sleep(0.05)
    return proc, out, go


def _dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _predict(knn_model, catalog, out, *flags):
    return zphot(
        "predict", "--model", knn_model, "--catalog", catalog, "--out", out,
        "--chunk-size", CHUNK, *flags,
    )  # fmt: skip


def test_second_predict_is_refused_while_the_first_runs(catalogs, knn_model, tmp_path):
    """Before: the second deleted the first's work folder (the first then failed), or, without
    --overwrite, called the live run 'interrupted' and suggested --overwrite."""
    proc, out, go = _start_first_run(knn_model, catalogs["test"], tmp_path)
    try:
        before = snapshot(out.parent)
        assert (work_dir(out) / LOCK).exists()
        for flags in ([], ["--resume"], ["--overwrite"]):
            line = error_line(_predict(knn_model, catalogs["test"], out, *flags), 2)
            assert f"another zphot run is writing it (pid {proc.pid} on" in line
            assert "interrupted" not in line and "--overwrite" not in line
            assert snapshot(out.parent) == before
        go.write_text("")
        assert proc.wait(timeout=60) == 0, proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()
    # The first run finished undisturbed: the same rows as a run on its own.
    ref = tmp_path / "ref.parquet"
    assert _predict(knn_model, catalogs["test"], ref).exit_code == 0
    assert pq.read_table(out).equals(pq.read_table(ref))
    assert sorted(os.listdir(out.parent)) == ["z.parquet"]  # work folder and lock gone


def test_a_killed_runs_lock_is_taken_over_only_with_resume(catalogs, knn_model, tmp_path):
    proc, out, _ = _start_first_run(knn_model, catalogs["test"], tmp_path)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = snapshot(out.parent)
    line = error_line(_predict(knn_model, catalogs["test"], out), 2)
    assert f"a zphot run writing it stopped without finishing (pid {proc.pid} on" in line
    assert line.endswith("pass --resume to continue it or --overwrite to start again")
    assert snapshot(out.parent) == before
    result = _predict(knn_model, catalogs["test"], out, "--resume")
    assert result.exit_code == 0, result.output
    assert f"resumed at row {CHUNK}" in result.stderr
    ref = tmp_path / "ref.parquet"
    assert _predict(knn_model, catalogs["test"], ref).exit_code == 0
    assert pq.read_table(out).equals(pq.read_table(ref))
    assert sorted(os.listdir(out.parent)) == ["z.parquet"]


def _write_lock(path: Path, pid: int, host: str | None = None, start: str | None = None) -> None:
    """A lock file as zphot writes one (JSON: pid, host, process start, since)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    owner = {"pid": pid, "host": host or socket.gethostname(), "start": start, "since": "then"}
    path.write_text(json.dumps(owner))


def test_train_refuses_a_checkpoint_folder_another_run_holds(catalogs, tmp_path):
    """The live owner is this test process (its pid is alive): every flag is refused."""
    folder = tmp_path / "mlp.zphot.ckpt"
    folder.mkdir()
    (folder / "_zphot.json").write_text('{"format": "zphot-checkpoints"}')
    _write_lock(folder / LOCK, os.getpid())
    before = snapshot(tmp_path)
    for flags in ([], ["--resume"], ["--overwrite"]):
        result = zphot(
            "train", "--model", "mlp", "--catalog", catalogs["train"], "--preset", "sdss",
            "--set", "max_epochs=1", "--out", tmp_path / "mlp.zphot", *flags,
        )  # fmt: skip
        line = error_line(result, 2)
        assert f"another zphot run is writing it (pid {os.getpid()} on" in line
        assert snapshot(tmp_path) == before


def test_lock_owner_states(tmp_path):
    path = tmp_path / LOCK
    # A dead owner: refused, then taken over when allowed.
    _write_lock(path, _dead_pid())
    with pytest.raises(OutputLockedError, match="stopped without finishing"):
        OutputLock.acquire(path, "out", takeover=False)
    lock = OutputLock.acquire(path, "out", takeover=True)
    assert json.loads(path.read_text())["pid"] == os.getpid()
    # Held: a second acquirer is refused, and a release removes only one's own lock.
    with pytest.raises(OutputLockedError, match="another zphot run is writing it"):
        OutputLock.acquire(path, "out", takeover=True)
    lock.release()
    assert not path.exists()
    # Another host cannot be checked: refused even with takeover, naming the file to delete.
    _write_lock(path, os.getpid(), host="elsewhere.example")
    with pytest.raises(OutputLockedError, match=f"delete {path}"):
        OutputLock.acquire(path, "out", takeover=True)
    # An empty lock (a run killed while creating it) counts as a dead owner's.
    path.write_text("")
    with pytest.raises(OutputLockedError, match="unknown owner"):
        OutputLock.acquire(path, "out", takeover=False)
    OutputLock.acquire(path, "out", takeover=True).release()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_reused_pid_is_not_mistaken_for_the_owner(tmp_path):
    """Same pid, another process start time: the owner is gone (its pid was reused)."""
    path = tmp_path / LOCK
    _write_lock(path, os.getpid(), start="1")  # this process did not start at tick 1
    with pytest.raises(OutputLockedError, match="stopped without finishing"):
        OutputLock.acquire(path, "out", takeover=False)


def test_simulate_images_refuses_an_output_another_run_writes(tmp_path):
    """Before: the second run found the first's partial file locked by HDF5, called it
    unreadable and deleted it."""
    pytest.importorskip("galsim")
    mock = tmp_path / "mock.parquet"
    assert zphot("simulate", "catalog", "--survey", "hsc", "--n", 8, "--out", mock).exit_code == 0
    out = tmp_path / "stamps.h5"
    (tmp_path / ".stamps.h5.partial").write_bytes(b"the first run's stamps so far")
    _write_lock(tmp_path / ".stamps.h5.lock", os.getpid())  # this live process: the owner
    before = snapshot(tmp_path)
    result = zphot(
        "simulate", "images", "--catalog", mock, "--preset", "hsc", "--size", 16,
        "--jobs", 1, "--out", out,
    )  # fmt: skip
    assert f"another zphot run is writing it (pid {os.getpid()} on" in error_line(result, 2)
    assert snapshot(tmp_path) == before
