"""Typer wiring: the ``zphot`` command and its subcommands (each in cli/commands/)."""

from __future__ import annotations

import os
from typing import Annotated

# Before torch is imported anywhere: OpenMP's default busy-waiting makes multi-threaded torch
# many times slower whenever the cores are shared with other work.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import typer

from .commands.compare import compare
from .commands.cutouts import cutouts
from .commands.debias import debias
from .commands.evaluate import evaluate
from .commands.info import info
from .commands.model import models, predict, train
from .commands.simulate import simulate_app
from .console import configure_logging, state

app = typer.Typer(
    name="zphot",
    help="Photometric redshifts with machine learning: read catalogs, train, predict, evaluate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    verbose: Annotated[int, typer.Option("-v", count=True, help="More log output.")] = 0,
    quiet: Annotated[bool, typer.Option("-q", help="Only warnings and errors.")] = False,
) -> None:
    state["debug"] = debug
    configure_logging(verbose, quiet)


app.command()(info)
app.command()(evaluate)
app.command()(train)
app.command()(predict)
app.command()(models)
app.command()(compare)
app.command()(debias)
app.command()(cutouts)
app.add_typer(simulate_app, name="simulate")


def main() -> None:
    """Console-script entry point."""
    app()
