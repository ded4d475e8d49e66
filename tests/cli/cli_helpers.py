"""Running the zphot command line in-process, and its error contract, for the CLI tests."""

from __future__ import annotations

from typer.testing import CliRunner

from zphot.cli.app import app

runner = CliRunner()


def zphot(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def one_error_line(result) -> str:
    """The CLI's error contract: a single 'error:' line on stderr, nothing on stdout."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:")
    assert result.stdout == ""
    return lines[0]
