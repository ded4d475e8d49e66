"""Start-up time of ``import zphot``, ``zphot --help`` and ``zphot --version``, and install size.

    python benchmarks/startup.py [--src DIR | --rev REV] [--runs 9] [--out JSON]

Each command runs ``--runs`` times in a fresh interpreter (the commands interleaved, so a burst
of other work on a shared machine hits them alike) with ``PYTHONPATH=DIR``: ``--src`` picks the
source tree timed (this checkout's ``src`` by default), ``--rev`` this repository's ``src`` at a
git revision (exported to a temporary folder), so two versions of the code are compared in the
same environment. ``python -c pass`` is timed too: the
interpreter's own share. Figures are wall times, median and spread (min, max, quartiles); the
issue's targets (under 1 s for the CLI, 0.5 s for the import) are for a quiet 2-core machine, so
the load average is recorded with them.

The environment's size (the virtual environment holding this interpreter, and its largest
packages) is measured as well. Writes JSON (machine, date, git revisions of this checkout and of
the timed tree, command, figures) to ``--out`` and prints Markdown rows for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from _common import RESULTS, ROOT, git_revision, result_header, write_json


def commands(python: str) -> dict[str, list[str]]:
    """What is timed; the CLI through its console script, as a user runs it."""
    script = str(Path(python).parent / "zphot")
    return {
        "python -c pass": [python, "-c", "pass"],
        "import zphot": [python, "-c", "import zphot"],
        "zphot --help": [python, script, "--help"],
        "zphot --version": [python, script, "--version"],
    }


def time_commands(cmds: dict[str, list[str]], src: Path, runs: int) -> dict[str, dict]:
    env = os.environ | {"PYTHONPATH": str(src), "COLUMNS": "100"}
    times: dict[str, list[float]] = {name: [] for name in cmds}
    codes: dict[str, set[int]] = {name: set() for name in cmds}
    for _ in range(runs):
        for name, argv in cmds.items():
            t0 = time.perf_counter()
            done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            times[name].append(time.perf_counter() - t0)
            codes[name].add(done.returncode)
    out = {}
    for name, values in times.items():
        q1, _, q3 = statistics.quantiles(values, n=4)
        out[name] = {
            "median_s": statistics.median(values),
            "min_s": min(values),
            "max_s": max(values),
            "q1_s": q1,
            "q3_s": q3,
            "runs_s": values,
            # main before issue 19 has no --version: a usage error (exit 2), timed all the same.
            "exit_codes": sorted(codes[name]),
        }
    return out


def tree_size(path: Path) -> int:
    total = 0
    for folder, _, files in os.walk(path):
        for f in files:
            p = Path(folder, f)
            if not p.is_symlink():
                total += p.stat().st_size
    return total


def install_size(top: int = 12) -> dict:
    """The virtual environment's size and its largest top-level site-packages entries."""
    site = Path(sysconfig.get_paths()["purelib"])
    entries = {p.name: tree_size(p) if p.is_dir() else p.stat().st_size for p in site.iterdir()}
    largest = sorted(entries.items(), key=lambda kv: -kv[1])[:top]
    return {
        "prefix": sys.prefix,
        "total_mib": tree_size(Path(sys.prefix)) / 2**20,
        "site_packages_mib": sum(entries.values()) / 2**20,
        "largest_mib": {name: size / 2**20 for name, size in largest},
    }


def export_src(rev: str, into: Path) -> Path:
    """This repository's ``src`` at ``rev``, unpacked under ``into``."""
    archive = subprocess.run(
        ["git", "archive", rev, "src"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "src"


def main(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--src", type=Path, default=ROOT / "src")
    which.add_argument("--rev", help="a git revision of this repository, e.g. main")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--out", type=Path, default=RESULTS / "startup.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        if args.rev:
            src = export_src(args.rev, Path(tmp))
            rev = git_revision(args.rev)
        else:
            src = args.src.resolve()
            rev = git_revision(where=src)
        return measure(src, rev, args.runs, args.out, argv)


def measure(src: Path, rev: str, runs: int, out: Path, argv: list[str]) -> dict:
    report = result_header([__file__, *argv]) | {
        "timed_tree": {"src": str(src), "git_revision": rev},
        "runs": runs,
    }
    report["load_average_before"] = os.getloadavg()
    report["times"] = time_commands(commands(sys.executable), src, runs)
    report["load_average_after"] = os.getloadavg()
    report["install"] = install_size()
    write_json(out, report)
    print(f"| {src} ({rev}) | median s (min-max) |")
    for name, t in report["times"].items():
        note = "" if t["exit_codes"] == [0] else f" exit {t['exit_codes']}"
        print(f"| `{name}` | {t['median_s']:.2f} ({t['min_s']:.2f}-{t['max_s']:.2f}){note} |")
    inst = report["install"]
    print(
        f"venv {inst['total_mib']:.0f} MiB; "
        + ", ".join(f"{k} {v:.0f}" for k, v in inst["largest_mib"].items())
    )
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
