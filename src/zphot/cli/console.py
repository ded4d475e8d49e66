"""The CLI's only rich Console and its error handling.

Messages and progress go to stderr, results to stdout, so pipes work.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterator
from typing import Any

import click
import typer
from rich.console import Console
from rich.text import Text

from ..exceptions import ZphotError

__all__ = ["err", "out", "state", "command", "print_error"]

err = Console(stderr=True)
out = Console()
state = {"debug": False}


def one_line(message: str) -> str:
    """A message as one line: a library's multi-line text joined with '; '."""
    return "; ".join(line.strip() for line in str(message).splitlines() if line.strip())


def print_error(message: str) -> None:
    """Print ``error: MESSAGE`` on stderr, the message literally (no rich markup)."""
    err.print(Text.assemble(("error:", "bold red"), " ", one_line(message)), soft_wrap=True)


def command(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command body; a zphot error (or an OS error) becomes one red line and an exit code.

    Exit 1 is bad data, 2 bad usage; ``--debug`` shows the traceback instead. Any other
    exception is a zphot bug: it is still one line (exit 1) that names its type and asks for
    ``--debug``, so a user never has to read a traceback they did not ask for.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, click.exceptions.ClickException, click.exceptions.Abort):
            raise
        except (ZphotError, OSError) as exc:
            if state["debug"]:
                raise
            print_error(str(exc))
            raise typer.Exit(getattr(exc, "exit_code", 1)) from None
        except Exception as exc:
            if state["debug"]:
                raise
            print_error(
                f"internal error ({type(exc).__name__}: {exc}); "
                "rerun with --debug for the traceback and report it"
            )
            raise typer.Exit(1) from None

    return wrapper


class _LineHandler(logging.Handler):
    """Log records as single lines on the error console (above any progress bar).

    Printed literally and never wrapped, so a per-band count stays one line a script can grep.
    """

    def emit(self, record: logging.LogRecord) -> None:
        try:
            prefix = "" if record.levelno < logging.WARNING else f"{record.levelname.lower()}: "
            style = "yellow" if record.levelno >= logging.WARNING else ""
            err.print(Text(prefix + one_line(record.getMessage()), style=style), soft_wrap=True)
        except Exception:  # noqa: BLE001 - logging must never raise into the caller
            self.handleError(record)


def configure_logging(verbose: int, quiet: bool) -> None:
    """Library log records go to stderr through the rich console, so they print above bars."""
    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    if verbose == 0 and not quiet:
        level = logging.WARNING  # per-epoch and per-member chatter only with -v
    logging.basicConfig(level=level, handlers=[_LineHandler()], format="%(message)s", force=True)


@contextlib.contextmanager
def row_progress(label: str, total: int) -> Iterator[Callable[[int, int], None]]:
    """A transient progress bar on stderr for a run over ``total`` rows; yields the
    ``progress(rows_done, rows_total)`` callback the library's long loops take."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done, _total: bar.update(task, completed=done)
