"""``zphot compare``: train several estimators on one split and write a report folder.

Models already trained (files of ``zphot train``, folders of ``zphot debias``) can be compared
too, beside or instead of estimator names: they are scored on the test set, never refitted.
The command parses its options; what is compared on which split is planned in
:mod:`zphot.report.plan`, and :func:`zphot.report.compare` runs it.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress
from rich.table import Table

from ...report import Comparison, compare
from ...report.compare import Progress
from ...report.plan import check_inputs_kept, choose_split, plan_comparison
from ...report.results import BIN_WIDTH, SUMMARY_MIN_COUNT
from ...report.write import prepare_output_dir, write_report
from ..console import command, err, out
from ..options import Preset, Select, SurveyFile, ZMax, open_catalog

# The options of ``zphot compare``, named once so its signature reads as a list.
CatalogWithZ = Annotated[str, typer.Option(help="Catalog with redshifts: a path or builtin:NAME.")]
ReportFolder = Annotated[
    Path, typer.Option("--out", help="Folder for report.html, tables, figures, predictions.")
]
Models = Annotated[
    str,
    typer.Option(
        help="Comma-separated estimator names (zphot models) or 'all'; also model files "
        "(zphot train) and folders of them (zphot debias --out: step1..step4), scored "
        "without training."
    ),
]
TestCatalog = Annotated[
    str | None,
    typer.Option(
        help="Test catalog (same survey, --select, --z-max); else split --catalog "
        "(unless every model is trained: then --catalog is the test set)."
    ),
]
TrainFraction = Annotated[float, typer.Option(help="Training share when --catalog is split.")]
SplitSeed = Annotated[int, typer.Option(help="Seed of the train/test split.")]
Settings = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        help="Estimator parameter MODEL.PARAM=VALUE, e.g. knn.k=15 (PARAM=VALUE when one "
        "model is compared; repeatable).",
    ),
]
Seed = Annotated[int, typer.Option(help="random_state of every estimator.")]
BinWidth = Annotated[
    float,
    typer.Option(help="Width in z of the binned-residual bins (binned_MODEL.csv, curves)."),
]
MinBinCount = Annotated[
    int,
    typer.Option(min=1, help="Galaxies a bin needs to count toward the max |mean dz| columns."),
]
Overwrite = Annotated[
    bool, typer.Option(help="Write into a non-empty --out folder, replacing its files.")
]


@command
def compare_command(
    catalog: CatalogWithZ,
    out_dir: ReportFolder,
    models: Models = "all",
    test: TestCatalog = None,
    train_fraction: TrainFraction = 0.7,
    split_seed: SplitSeed = 42,
    preset: Preset = None,
    survey: SurveyFile = None,
    select: Select = None,
    z_max: ZMax = None,
    settings: Settings = None,
    seed: Seed = 0,
    bin_width: BinWidth = BIN_WIDTH,
    min_bin_count: MinBinCount = SUMMARY_MIN_COUNT,
    overwrite: Overwrite = False,
) -> None:
    """Train every chosen estimator on one split and write a comparison report.

    --out gets results.md, results.csv, predictions_MODEL.parquet,
    binned_MODEL.csv (count, mean dz and its standard error per bin of z_spec
    and of z_phot), figures/*.png and a self-contained report.html.

    Model files and folders of them in --models (zphot debias --out gives
    step1..step4) are scored as trained, never refitted. With only those, the
    whole --catalog is the test set; beside names, give --test so that no test
    galaxy was a training galaxy of theirs. A Step 4 model of zphot debias also
    gets a 'NAME (bulk)' row for its z_phot_bulk.

    Example: zphot compare --catalog builtin:dc2-train --test builtin:dc2-test
    --out results/demo

    Example: zphot compare --catalog test.parquet --models debiased/ --out steps
    """
    plan = plan_comparison(models, settings, seed=seed, bin_width=bin_width, test=test)
    check_inputs_kept(out_dir, {"--catalog": catalog, "--test": test} | plan.trained)
    prepare_output_dir(out_dir, overwrite)
    # Without --preset or --survey, a trained model reads the catalog as it was trained to.
    cat = open_catalog(catalog, preset, survey, select, z_max, fallback=plan.known_survey)
    test_cat = None
    if plan.to_fit and test:
        test_cat = open_catalog(test, survey=cat.survey, selections=select, z_max=z_max)
    split_options = {"test": test, "train_fraction": train_fraction, "split_seed": split_seed}
    train, held_out, split = choose_split(plan, cat, test_cat, **split_options)
    n_train = f"{len(train):,} training, " if train is not None else ""
    err.print(f"comparing {', '.join(plan.names)}: {n_train}{len(held_out):,} test galaxies")
    with _progress_bar(len(plan.names) + len(plan.to_fit)) as progress:
        result = compare(
            plan.estimators,
            train,
            held_out,
            progress=progress,
            bin_width=bin_width,
            min_bin_count=min_bin_count,
        )
    context = {"split": split}
    if plan.to_fit:
        context["seed"] = f"random_state={seed} for every model trained here"
    context["command"] = shlex.join(["zphot", *sys.argv[1:]])
    report = write_report(result, out_dir, overwrite=True, context=context)
    _print_metrics(result)
    out.print(f"report: {report}", soft_wrap=True, highlight=False)


@contextmanager
def _progress_bar(total: int) -> Iterator[Progress]:
    """A transient bar on stderr, and the ``progress`` callback of :func:`compare` moving it."""
    columns = (
        TextColumn("[bold]{task.description:<18}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with RichProgress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("starting", total=total)

        def progress(description: str, done: int, total: int) -> None:
            bar.update(task, description=description, completed=done, total=total)

        yield progress


def _print_metrics(result: Comparison) -> None:
    """The test-set metrics on stdout, one column per model, so that six models still fit an
    80-column terminal or a pipe."""
    table = Table("metric", *(r.name for r in result.results), title="test-set metrics")
    for c in result.columns:
        table.add_row(c.label, *(c.format(r.metrics.get(c.key)) for r in result.results))
    out.print(table)
