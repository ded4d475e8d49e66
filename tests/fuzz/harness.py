"""Running one fuzz case: the CLI in-process (or in a subprocess where native code may abort
the interpreter), and the contract every failure must keep."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from typer.testing import CliRunner

from zphot.cli.app import app

runner = CliRunner()
#: Cases tried and failed this session, printed by conftest's terminal summary.
COUNTS = {"tried": 0, "failed": 0}


@dataclass
class Case:
    """One adversarial input: the command line, what it may answer, what its stderr must say."""

    name: str
    args: list[str]
    codes: tuple[int, ...] = (1, 2)
    says: str = ""
    subprocess: bool = False
    absent: list[Path] = field(default_factory=list)
    moved_ok: bool = False  # files may be renamed (set aside), their bytes must stay


def snapshot(folder: Path) -> dict[str, str]:
    """SHA-256 of every file under ``folder``."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _invoke(args: list[str], in_subprocess: bool) -> tuple[int, str, str]:
    if in_subprocess:
        proc = subprocess.run(
            [sys.executable, "-c", "from zphot.cli.app import main; main()", *args],
            capture_output=True,
            text=True,
            timeout=120,
        )
        return proc.returncode, proc.stdout, proc.stderr
    result = runner.invoke(app, args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        exc = result.exception
        return 99, result.stdout, f"Traceback (uncaught {type(exc).__name__}: {exc})"
    return result.exit_code, result.stdout, result.stderr


def run_case(case: Case, folder: Path) -> None:
    """Run ``case`` with files in ``folder``; assert the contract of a failure.

    Exit code as declared (1 bad data, 2 bad usage; 0 where the input is usable with a
    warning), at most 2 lines on stderr, no traceback, every file that was there unchanged,
    and no output left where the case names one.
    """
    COUNTS["tried"] += 1
    before = snapshot(folder)
    code, stdout, stderr = _invoke([str(a) for a in case.args], case.subprocess)
    try:
        problems = []
        if code not in case.codes:
            problems.append(f"exit code {code} not in {case.codes}")
        lines = [line for line in stderr.splitlines() if line.strip()]  # progress leaves blanks
        if len(lines) > 2:
            problems.append(f"{len(lines)} lines on stderr")
        if "Traceback" in stderr or "Traceback" in stdout:
            problems.append("a traceback")
        if case.says and case.says not in " ".join(lines):
            problems.append(f"stderr does not say {case.says!r}")
        after = snapshot(folder)
        if case.moved_ok:
            kept = set(after.values())
            changed = [name for name, digest in before.items() if digest not in kept]
        else:
            changed = [name for name, digest in before.items() if after.get(name) != digest]
        if changed:
            problems.append(f"files changed or deleted: {changed}")
        left = [str(p) for p in case.absent if p.exists()] if code != 0 else []
        if left:
            problems.append(f"output left behind: {left}")
        assert not problems, f"{case.name}: {'; '.join(problems)}\nstderr: {stderr[-1500:]}"
    except AssertionError:
        COUNTS["failed"] += 1
        raise
