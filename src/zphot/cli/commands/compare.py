"""``zphot compare``: train several estimators on one split and write a report folder.

Models already trained (files of ``zphot train``, folders of ``zphot debias``) can be compared
too, beside or instead of estimator names: they are scored on the test set, never refitted.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import sys
import zipfile
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ...catalog import train_test
from ...estimators import PhotoZEstimator, estimator_class, get_estimator, list_estimators, load
from ...estimators.settings import parse_settings
from ...exceptions import ModelFileError, ParameterError
from ...report import Trained
from ...report import compare as run_comparison
from ...report.results import BIN_WIDTH, SUMMARY_MIN_COUNT
from ...report.write import prepare_output_dir, write_report
from ..console import command, err, out
from ..options import Preset, Select, SurveyFile, ZMax, open_catalog

if TYPE_CHECKING:
    from ...catalog import Catalog

log = logging.getLogger(__name__)


@dataclass
class _Entry:
    """One model of --models: a registry name to train, or a model file to score as it is."""

    label: str
    name: str | None = None
    path: Path | None = None


def _is_name(entry: str) -> bool:
    """An estimator name of the registry (a file called like one is written ``./knn``)."""
    try:
        estimator_class(entry)
    except ParameterError:
        return False
    return True


def _is_model_file(path: Path) -> bool:
    """A zphot model: a zip with ``manifest.json`` (checked without reading its arrays)."""
    if not path.is_file() or not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as zf:
        return "manifest.json" in zf.namelist()


def _natural_key(path: Path) -> list[Any]:
    """``step2`` before ``step10``."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name)]


def _model_files(entry: str) -> list[Path]:
    """A model file, or the model files of a folder (``zphot debias --out``) in natural order."""
    path = Path(entry)
    if path.is_dir():
        files = sorted((p for p in path.iterdir() if _is_model_file(p)), key=_natural_key)
        if not files:
            raise ModelFileError(f"{path}: a folder with no zphot model files")
        return files
    if not path.exists():
        raise ModelFileError(f"{path}: no such model file or folder")
    if not _is_model_file(path):
        raise ModelFileError(f"{path}: not a zphot model (expected a file from zphot train)")
    return [path]


def _model_entries(spec: str) -> list[_Entry]:
    """``all`` or a comma list of names, model files and folders of model files, in order.

    A file is labelled by its name without suffix (``knn.zphot`` -> ``knn``, ``DIR/step2`` ->
    ``step2``); a label taken already gets its folder's name in front (``DIR/step2``), then a
    number.
    """
    if spec.strip() == "all":
        return [_Entry(label=name, name=name) for name in list_estimators()]
    items = list(dict.fromkeys(n.strip() for n in spec.split(",") if n.strip()))
    if not items:
        raise ParameterError(
            f"--models needs a comma list of names or model files, or 'all', got {spec!r}"
        )
    entries: list[_Entry] = []
    for item in items:
        if _is_name(item):
            entries.append(_Entry(label=item, name=item))
        elif Path(item).exists() or "/" in item or os.sep in item or item.endswith(".zphot"):
            entries.extend(_Entry(label="", path=p) for p in _model_files(item))
        else:
            raise ParameterError(
                f"unknown model '{item}': neither an estimator name (zphot models) nor a "
                "model file or folder"
            )
    taken = {e.label for e in entries if e.name}
    for e in entries:
        if e.path is None:
            continue
        label = e.path.stem if e.path.suffix == ".zphot" else e.path.name
        if label in taken:
            label = f"{e.path.resolve().parent.name}/{label}"
        base, k = label, 2
        while label in taken:
            label, k = f"{base} #{k}", k + 1
        e.label = label
        taken.add(label)
    return entries


def _per_model_settings(
    items: list[str] | None, names: list[str], trained: dict[str, Path] | None = None
) -> dict[str, dict[str, Any]]:
    """``--set`` values grouped by model (``MODEL.PARAM=VALUE``; ``PARAM=VALUE`` with one
    model); the model must be one compared and not one trained beforehand."""
    role = f"compared (--models: {', '.join(names)})"
    grouped = parse_settings(items, names, role=role)
    for model, path in (trained or {}).items():
        if grouped[model]:
            param = next(iter(grouped[model]))
            raise ParameterError(
                f"--set {model}.{param}: '{model}' is trained already ({path}); "
                "its parameters are fixed"
            )
    return grouped


#: What the report writes in --out (see ``Comparison.write``).
_REPORT_FILES = ("results.csv", "results.md", "report.html", "predictions_*", "binned_*")


def _check_inputs_kept(out_dir: Path, inputs: dict[str, Any]) -> None:
    """Refuse an input that the report would replace: a file in --out named like a report
    file, or one under --out/figures (checked with or without --overwrite)."""
    real_out = Path(os.path.realpath(out_dir))
    for label, src in inputs.items():
        if src is None:
            continue
        real = Path(os.path.realpath(src))
        named = real.parent == real_out and any(fnmatch(real.name, p) for p in _REPORT_FILES)
        if named or real_out / "figures" in real.parents:
            raise ParameterError(
                f"{src}: the report written to --out {out_dir} would replace this input "
                f"({label}); choose another --out"
            )


@command
def compare(
    catalog: Annotated[str, typer.Option(help="Catalog with redshifts: a path or builtin:NAME.")],
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for report.html, tables, figures, predictions.")
    ],
    models: Annotated[
        str,
        typer.Option(
            help="Comma-separated estimator names (zphot models) or 'all'; also model files "
            "(zphot train) and folders of them (zphot debias --out: step1..step4), scored "
            "without training."
        ),
    ] = "all",
    test: Annotated[
        str | None,
        typer.Option(
            help="Test catalog (same survey, --select, --z-max); else split --catalog "
            "(unless every model is trained: then --catalog is the test set)."
        ),
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
        typer.Option(
            "--set",
            help="Estimator parameter MODEL.PARAM=VALUE, e.g. knn.k=15 (PARAM=VALUE when one "
            "model is compared; repeatable).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="random_state of every estimator.")] = 0,
    bin_width: Annotated[
        float,
        typer.Option(help="Width in z of the binned-residual bins (binned_MODEL.csv, curves)."),
    ] = BIN_WIDTH,
    min_bin_count: Annotated[
        int,
        typer.Option(min=1, help="Galaxies a bin needs to count toward the max |mean dz| columns."),
    ] = SUMMARY_MIN_COUNT,
    overwrite: Annotated[
        bool, typer.Option(help="Write into a non-empty --out folder, replacing its files.")
    ] = False,
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
    entries = _model_entries(models)
    names = [e.label for e in entries]
    trained = {e.label: e.path for e in entries if e.path is not None}
    per_model = _per_model_settings(settings, names, trained)
    # Build every estimator (unknown models and parameters fail here), load the trained ones
    # and check the output folder before reading data or training, so a long run never ends
    # in a refusal.
    estimators: dict[str, PhotoZEstimator | Trained] = {}
    for e in entries:
        if e.path is not None:
            estimators[e.label] = Trained(load(e.path), str(e.path))
        else:
            assert e.name is not None
            params = {"random_state": seed} | per_model[e.label]
            estimators[e.label] = get_estimator(e.name, **params)
    if not bin_width > 0:
        raise ParameterError(f"--bin-width must be positive, got {bin_width}")
    to_fit = [e.label for e in entries if e.path is None]
    if not to_fit and test:
        raise ParameterError(
            "every model is trained already, so nothing is fitted on --catalog: give the test "
            "catalog as --catalog, without --test"
        )
    _check_inputs_kept(out_dir, {"--catalog": catalog, "--test": test} | trained)
    prepare_output_dir(out_dir, overwrite)
    # Without --preset or --survey, a trained model reads the catalog as it was trained to.
    known = next((t.estimator.survey_ for t in estimators.values() if isinstance(t, Trained)), None)
    cat = open_catalog(catalog, preset, survey, select, z_max, fallback=known)
    train: Catalog | None
    if not to_fit:
        train, held_out = None, cat
        split = "none: every model was trained beforehand, so all of --catalog is the test set"
    elif test:
        train = cat
        held_out = open_catalog(test, survey=cat.survey, selections=select, z_max=z_max)
        split = f"--catalog for training, --test {test} for testing"
    else:
        train, held_out = train_test(cat, train_fraction, seed=split_seed)
        split = f"{train_fraction:.0%} / {1 - train_fraction:.0%} of --catalog, seed {split_seed}"
    if trained and to_fit:
        split += f"; {', '.join(trained)} trained beforehand, scored on the same test galaxies"
        if not test:
            log.warning(
                "trained models are scored on a split of --catalog: check they were not "
                "trained on it (--test names a separate test catalog)"
            )
    n_train = f"{len(train):,} training, " if train is not None else ""
    err.print(f"comparing {', '.join(names)}: {n_train}{len(held_out):,} test galaxies")
    columns = (
        TextColumn("[bold]{task.description:<18}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("starting", total=len(names) + len(to_fit))

        def progress(description: str, done: int, total: int) -> None:
            bar.update(task, description=description, completed=done, total=total)

        result = run_comparison(
            estimators,
            train,
            held_out,
            progress=progress,
            bin_width=bin_width,
            min_bin_count=min_bin_count,
        )
    context = {"split": split}
    if to_fit:
        context["seed"] = f"random_state={seed} for every model trained here"
    context["command"] = shlex.join(["zphot", *sys.argv[1:]])
    report = write_report(result, out_dir, overwrite=True, context=context)
    # One column per model, so that six models still fit an 80-column terminal or a pipe.
    table = Table("metric", *(r.name for r in result.results), title="test-set metrics")
    for c in result.columns:
        table.add_row(c.label, *(c.format(r.metrics.get(c.key)) for r in result.results))
    out.print(table)
    out.print(f"report: {report}", soft_wrap=True, highlight=False)
