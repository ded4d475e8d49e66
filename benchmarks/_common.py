"""What every benchmark script records, in one place: the machine, the revision, the command, and
the SDSS public split.

Scripts run as ``python benchmarks/NAME.py``, so this folder is on ``sys.path`` and they import
this module as ``_common`` with no path manipulation.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: The shared data folder sits beside the checkout (``../shared``), as in CI.
SDSS = ROOT.parent / "shared" / "data" / "sdss_galaxy_colors.npy"


def machine() -> dict[str, Any]:
    """CPU model, cores this process may use, Python and the load when the run started."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores_available": len(os.sched_getaffinity(0)),
        "os": platform.platform(),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
    }


def git_revision() -> str:
    """Short revision of this checkout, with ``+dirty`` when files differ from it."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout

    dirty = git("status", "--porcelain", "--untracked-files=no").strip()
    return git("rev-parse", "--short", "HEAD").strip() + ("+dirty" if dirty else "")


def result_header(argv: list[str] | None = None) -> dict[str, Any]:
    """Date, revision, command and machine: the fields every result JSON starts with."""
    argv = sys.argv if argv is None else argv
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git_revision": git_revision(),
        "command": " ".join(["python", *argv]),
        "machine": machine(),
    }


def write_json(path: str | os.PathLike, payload: dict[str, Any]) -> None:
    """Write a result file atomically (zphot's own writer), creating its folder."""
    from zphot.io.atomic import atomic_path

    with atomic_path(path, overwrite=True) as tmp:
        tmp.write_text(json.dumps(payload, indent=2, default=str) + "\n")


def sdss_split(path: str | os.PathLike = SDSS, seed: int = 42):  # noqa: ANN201
    """The SDSS galaxies' public 70/30 split (``seed=42``), or the same split with another seed."""
    import zphot
    from zphot.catalog import select, train_test

    cat = select(zphot.read_catalog(path, "sdss"), "spec_class", "GALAXY")
    return train_test(cat, 0.7, seed=seed)
