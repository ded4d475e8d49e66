"""The data-safety tests' helpers: the CLI in-process, the refusal contract, file snapshots."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from typer.testing import CliRunner

from zphot.cli.app import app

runner = CliRunner()


def zphot(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def error_line(result, code: int) -> str:
    """The refusal contract: exit ``code`` (1 bad data, 2 bad usage), one 'error:' line on
    stderr and nothing on stdout; returns that line with its wrapping undone."""
    assert result.exit_code == code, (result.exit_code, result.output)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:"), lines[0]
    assert result.stdout == ""
    return lines[0]


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` (relative name -> SHA-256 of its bytes): compare two of
    them to show that nothing was changed, added or removed."""
    files = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = Path(dirpath) / name
            files[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files
