"""Typer wiring: the ``zphot`` command and its subcommands (each in cli/commands/).

A command's module, and the science stack it imports, loads only when that command runs or
shows its own help: ``zphot --help`` lists the commands from :data:`COMMANDS`, and
``zphot --version`` reads the package metadata, so both start without numpy, pandas or
scikit-learn. The global options (``-q``, ``-v``, ``--debug``) are accepted before the
subcommand and after it.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from typing import Annotated, Any

# Before torch is imported anywhere: OpenMP's default busy-waiting makes multi-threaded torch
# many times slower whenever the cores are shared with other work.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import typer
from typer.core import TyperCommand, TyperGroup

from .console import configure_logging, state

__all__ = ["COMMANDS", "app", "main"]


@dataclass(frozen=True)
class LazyCommand:
    """Where a subcommand lives, and the line ``zphot --help`` shows for it.

    ``summary`` repeats the first paragraph of the command's docstring (the group's help for a
    command group) so that listing the commands imports none of them; a test keeps the two equal.
    """

    module: str  # under zphot.cli.commands
    attr: str  # the command function, or a typer.Typer holding a command group
    summary: str


COMMANDS: dict[str, LazyCommand] = {
    "info": LazyCommand(
        "info", "info", "Rows, bands, missing fractions and the redshift range of a catalog."
    ),
    "evaluate": LazyCommand(
        "evaluate",
        "evaluate",
        "Metrics (MSE, R², bias, sigma_NMAD, outlier fractions; PIT, CRPS, HDI coverage for "
        "PDFs), and the largest |mean dz| over 20 equal-count bins of z_spec and of z_phot (the "
        "whole range).",
    ),
    "train": LazyCommand(
        "model", "train", "Fit an estimator on a catalog with redshifts and save it."
    ),
    "predict": LazyCommand(
        "model",
        "predict",
        "Estimate redshifts: z_phot, z_err, z_lo, z_hi, out_of_coverage (+ id, + PDF if asked).",
    ),
    "models": LazyCommand("model", "models", "List the estimators this installation provides."),
    "compare": LazyCommand(
        "compare",
        "compare_command",
        "Train every chosen estimator on one split and write a comparison report.",
    ),
    "cutouts": LazyCommand(
        "cutouts",
        "cutouts",
        "Cut every catalog galaxy out of each band's image onto one common pixel grid.",
    ),
    "debias": LazyCommand(
        "debias",
        "debias",
        "Train a network with Steps 1-4 of the bias correction and save a model per step.",
    ),
    "lensing": LazyCommand(
        "lensing",
        "lensing",
        "Select the background behind a lens and report ⟨β⟩, ⟨β²⟩, z_eff and ⟨Σcrit⁻¹⟩.",
    ),
    "simulate": LazyCommand(
        "simulate",
        "simulate_app",
        "Mock catalogs from SED templates and multi-band galaxy stamps (GalSim).",
    ),
}

# --- global options ----------------------------------------------------------------------------

_FLAGS = "zphot.global_options"  # key in click's ctx.meta, shared by a command and its parents


def _flags(ctx: typer.Context) -> dict[str, Any]:
    return ctx.meta.setdefault(_FLAGS, {"debug": False, "verbose": 0, "quiet": False})


def _apply(ctx: typer.Context) -> None:
    flags = _flags(ctx)
    state["debug"] = flags["debug"]
    configure_logging(flags["verbose"], flags["quiet"])


def _on_debug(ctx: typer.Context, value: bool) -> None:
    if value:
        _flags(ctx)["debug"] = True
        _apply(ctx)


def _on_verbose(ctx: typer.Context, value: int) -> None:
    if value:
        _flags(ctx)["verbose"] += value
        _apply(ctx)


def _on_quiet(ctx: typer.Context, value: bool) -> None:
    if value:
        _flags(ctx)["quiet"] = True
        _apply(ctx)


def _on_version(value: bool) -> None:
    if value:
        from .._version import __version__

        typer.echo(f"zphot {__version__}")
        raise typer.Exit()


# Values reach the callbacks above, not the commands (expose_value=False), so that every
# subcommand can take them too without a parameter of its own.
Debug = Annotated[
    bool,
    typer.Option(
        "--debug", help="Show tracebacks on errors.", callback=_on_debug, expose_value=False
    ),
]
Verbose = Annotated[
    int,
    typer.Option(
        "-v",
        count=True,
        help="More log output (-vv: debug).",
        callback=_on_verbose,
        expose_value=False,
        show_default=False,
    ),
]
Quiet = Annotated[
    bool,
    typer.Option("-q", help="Only warnings and errors.", callback=_on_quiet, expose_value=False),
]


def _global_options(debug: Debug = False, verbose: Verbose = 0, quiet: Quiet = False) -> None:
    """Only its signature is used: the global options as click parameters."""


def _global_params() -> list[Any]:
    holder = typer.Typer(add_completion=False)
    holder.command()(_global_options)
    return typer.main.get_command(holder).params


# --- help without <bool> and with literal text ------------------------------------------------


def _tidy(cmd: Any) -> None:
    """Help as a user reads it: no ``<bool>`` after flags, brackets printed as written.

    Help strings go through rich markup, which would swallow ``[default: LocalCluster]``.
    """
    from rich.markup import escape

    if getattr(cmd, "_zphot_tidy", False):
        return
    cmd._zphot_tidy = True
    if cmd.help:
        cmd.help = escape(cmd.help)
    for param in cmd.params:
        if getattr(param, "help", None):
            param.help = escape(param.help)
        if getattr(param, "is_flag", False) or getattr(param, "count", False):
            param.metavar = ""
    help_option = cmd.get_help_option(cmd.context_class(cmd))
    if help_option is not None:
        help_option.metavar = ""


def _load(name: str) -> Any:
    """The click command of ``name``: its module imported, global options added, help tidied."""
    spec = COMMANDS[name]
    target = getattr(importlib.import_module(f"{__package__}.commands.{spec.module}"), spec.attr)
    if isinstance(target, typer.Typer):
        cmd = typer.main.get_group(target)  # as add_typer would: no completion options
    else:
        holder = typer.Typer(add_completion=False)
        holder.command(name)(target)
        cmd = typer.main.get_command(holder)
    cmd.name = name
    _add_global_options(cmd, _global_params())
    return cmd


def _add_global_options(cmd: Any, params: list[Any]) -> None:
    cmd.params.extend(params)
    _tidy(cmd)
    for sub in getattr(cmd, "commands", {}).values():
        _add_global_options(sub, params)


class LazyGroup(TyperGroup):
    """The root group: lists :data:`COMMANDS` without importing them, loads one when it runs."""

    _listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *COMMANDS]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        if self._listing:  # only the name and summary are read
            return TyperCommand(cmd_name, help=COMMANDS[cmd_name].summary)
        self.commands[cmd_name] = _load(cmd_name)
        return self.commands[cmd_name]

    def format_help(self, ctx: Any, formatter: Any) -> None:
        _tidy(self)
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    name="zphot",
    cls=LazyGroup,
    help="Photometric redshifts with machine learning: read catalogs, train, predict, evaluate.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _main(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the version and exit.",
            callback=_on_version,
            is_eager=True,
            expose_value=False,
        ),
    ] = False,
    debug: Debug = False,
    verbose: Verbose = 0,
    quiet: Quiet = False,
) -> None:
    _apply(ctx)


def main() -> None:
    """Console-script entry point."""
    app()
