"""``zphot compare``: train several estimators on one split and write a report folder."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ...catalog import train_test
from ...estimators import PhotoZEstimator, get_estimator, list_estimators
from ...exceptions import ParameterError
from ...report import COLUMNS
from ...report import compare as run_comparison
from ...report.compare import prepare_output_dir
from ..console import command, err, out
from ..options import Preset, Select, SurveyFile, ZMax, open_catalog, parse_settings


def _model_names(spec: str) -> list[str]:
    """``all`` or a comma list, without duplicates, in the order given."""
    if spec.strip() == "all":
        return list_estimators()
    names = list(dict.fromkeys(n.strip() for n in spec.split(",") if n.strip()))
    if not names:
        raise ParameterError(f"--models needs a comma list of names or 'all', got {spec!r}")
    return names


def _per_model_settings(items: list[str] | None, names: list[str]) -> dict[str, dict[str, Any]]:
    """``--set MODEL.PARAM=VALUE`` pairs grouped by model; the model must be one compared."""
    grouped: dict[str, dict[str, Any]] = {name: {} for name in names}
    for key, value in parse_settings(items).items():
        model, dot, param = key.partition(".")
        if not dot or not param:
            raise ParameterError(f"--set needs MODEL.PARAM=VALUE (e.g. knn.k=15), got {key!r}")
        if model not in grouped:
            raise ParameterError(
                f"--set {key}: model '{model}' is not compared (--models: {', '.join(names)})"
            )
        grouped[model][param] = value
    return grouped


@command
def compare(
    catalog: Annotated[str, typer.Option(help="Catalog with redshifts: a path or builtin:NAME.")],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for report.html, tables, figures, predictions.")
    ],
    models: Annotated[
        str, typer.Option(help="Comma-separated estimator names, or 'all' (zphot models).")
    ] = "all",
    test: Annotated[
        str | None,
        typer.Option(help="Test catalog (same survey, --select, --z-max); else split --catalog."),
    ] = None,
    train_fraction: Annotated[
        float, typer.Option(help="Training share when --catalog is split.")
    ] = 0.7,
    split_seed: Annotated[int, typer.Option(help="Seed of the train/test split.")] = 42,
    preset: Preset = None,
    survey: SurveyFile = None,
    select: Select = None,
    z_max: ZMax = None,
    settings: Annotated[
        list[str] | None,
        typer.Option("--set", help="Estimator parameter MODEL.PARAM=VALUE, e.g. knn.k=15."),
    ] = None,
    seed: Annotated[int, typer.Option(help="random_state of every estimator.")] = 0,
    overwrite: Annotated[
        bool, typer.Option(help="Write into a non-empty --out folder, replacing its files.")
    ] = False,
) -> None:
    """Train every chosen estimator on one split and write a comparison report.

    --out gets results.md, results.csv, predictions_MODEL.parquet, figures/*.png and a
    self-contained report.html.
    Example: zphot compare --catalog builtin:dc2-train --test builtin:dc2-test --out results/demo
    """
    names = _model_names(models)
    per_model = _per_model_settings(settings, names)
    # Build every estimator (unknown models and parameters fail here) and check the output
    # folder before reading data or training, so a long run never ends in a refusal.
    estimators: dict[str, PhotoZEstimator] = {
        name: get_estimator(name, **({"random_state": seed} | per_model[name])) for name in names
    }
    prepare_output_dir(out_dir, overwrite)
    cat = open_catalog(catalog, preset, survey, select, z_max)
    if test:
        train = cat
        held_out = open_catalog(test, survey=cat.survey, selections=select, z_max=z_max)
        split = f"--catalog for training, --test {test} for testing"
    else:
        train, held_out = train_test(cat, train_fraction, seed=split_seed)
        split = f"{train_fraction:.0%} / {1 - train_fraction:.0%} of --catalog, seed {split_seed}"
    err.print(
        f"comparing {', '.join(names)}: {len(train):,} training, {len(held_out):,} test galaxies"
    )
    columns = (
        TextColumn("[bold]{task.description:<18}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("starting", total=2 * len(names))

        def progress(description: str, done: int, total: int) -> None:
            bar.update(task, description=description, completed=done, total=total)

        result = run_comparison(estimators, train, held_out, progress=progress)
    context = {
        "split": split,
        "seed": f"random_state={seed} for every model",
        "command": shlex.join(["zphot", *sys.argv[1:]]),
    }
    report = result.write(out_dir, overwrite=True, context=context)
    # One column per model, so that six models still fit an 80-column terminal or a pipe.
    table = Table("metric", *(r.name for r in result.results), title="test-set metrics")
    for c in COLUMNS:
        table.add_row(c.label, *(c.format(r.metrics[c.key]) for r in result.results))
    out.print(table)
    out.print(f"report: {report}", soft_wrap=True, highlight=False)
