"""The CLI's only rich Console and its error handling.

Messages and progress go to stderr, results to stdout, so pipes work.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable, Iterator
from typing import Any

import typer
from rich.console import Console

from ..exceptions import ZphotError

__all__ = ["err", "out", "state", "command"]

err = Console(stderr=True)
out = Console()
state = {"debug": False}


def command(func: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command body; a zphot error (or an OS error) becomes one red line and an exit code.

    Exit 1 is bad data, 2 bad usage; ``--debug`` shows the traceback instead.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (ZphotError, OSError) as exc:
            if state["debug"]:
                raise
            code = getattr(exc, "exit_code", 1)
            err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(code) from None

    return wrapper


def configure_logging(verbose: int, quiet: bool) -> None:
    """Library log records go through rich on stderr, so they print above progress bars."""
    from rich.logging import RichHandler

    level = logging.WARNING if quiet else (logging.DEBUG if verbose > 1 else logging.INFO)
    if verbose == 0 and not quiet:
        level = logging.WARNING  # per-epoch and per-member chatter only with -v
    handler = RichHandler(console=err, show_path=False, show_time=False)
    logging.basicConfig(level=level, handlers=[handler], format="%(name)s: %(message)s", force=True)


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
