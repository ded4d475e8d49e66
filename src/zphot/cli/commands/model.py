"""``zphot train`` and ``zphot predict``: one estimator, file in, file out."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from ...catalog.validate import check_training_rows
from ...estimators import get_estimator
from ...estimators.settings import parse_settings
from ...io import check_writable
from ...io.atomic import check_not_input
from ...io.lock import release_on_error
from ...scale.rows import PDF_DTYPES, PDF_KINDS
from ..console import command, err
from ..options import Preset, Select, SurveyFile, ZMax, open_catalog


@command
@release_on_error
def train(
    model: Annotated[str, typer.Option("--model", help="Estimator name (zphot models lists).")],
    catalog: Annotated[str, typer.Option(help="Training catalog (needs redshifts).")],
    out: Annotated[Path, typer.Option("--out", help="Model file to write.")],
    preset: Preset = None,
    survey: SurveyFile = None,
    select: Select = None,
    z_max: ZMax = None,
    validation: Annotated[
        str | None, typer.Option(help="Validation catalog (early stopping of networks).")
    ] = None,
    settings: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Estimator parameter PARAM=VALUE, e.g. hidden=128,128 (repeatable)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="random_state of the estimator.")] = 0,
    reweight_to: Annotated[
        str | None,
        typer.Option(
            "--reweight-to",
            help="Photometric sample the model is for: weight training galaxies toward its "
            "colours (Lima et al. 2008; networks only).",
        ),
    ] = None,
    reweight_k: Annotated[
        int, typer.Option("--reweight-k", min=1, help="Neighbours of the --reweight-to weights.")
    ] = 10,
    overwrite: Annotated[
        bool, typer.Option(help="Replace an existing model file; discard OUT.ckpt's checkpoints.")
    ] = False,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Continue from the checkpoints of a run that was killed."),
    ] = False,
    drop_bad_rows: Annotated[
        bool,
        typer.Option(
            "--drop-bad-rows",
            help="Train without rows holding implausible magnitudes (else more than the "
            "survey's max_bad_fraction of them is an error).",
        ),
    ] = False,
) -> None:
    """Fit an estimator on a catalog with redshifts and save it.

    Networks save a checkpoint after every epoch (in OUT.ckpt, whose checkpoint files are
    removed once the model is saved, unless --set checkpoint=FOLDER names another folder, which
    is kept): an interrupted run continues where it stopped when the same command is run again
    (after a kill that left the folder locked, with --resume). A second run into the same
    OUT.ckpt is refused while the first runs; a folder zphot did not create needs --overwrite,
    and only zphot's files in it are ever removed.
    Example: zphot train --model knn --catalog builtin:dc2-train --out knn.zphot
    """
    check_not_input({"--out": out}, {"--catalog": catalog, "--validation": validation})
    check_writable(out, overwrite)
    role = f"the --model ({model})"
    params = parse_settings(settings, [model], role=role)[model] | {"random_state": seed}
    est = get_estimator(model, **params)
    own_checkpoint = "checkpoint" in est.get_params() and "checkpoint" not in params
    folder = out.with_name(out.name + ".ckpt")
    if own_checkpoint:
        est.set_params(checkpoint=str(folder))
    held = _checkpoints(getattr(est, "checkpoint", None), overwrite, resume, own_checkpoint)
    cat = check_training_rows(open_catalog(catalog, preset, survey, select, z_max), drop_bad_rows)
    val = None
    if validation:
        val = open_catalog(validation, survey=cat.survey, selections=select, z_max=z_max)
    weight = None if reweight_to is None else _weights(est, model, cat, reweight_to, reweight_k)
    t0 = time.perf_counter()
    with err.status(f"training {model} on {len(cat):,} galaxies"):
        est.fit(cat, validation=val, sample_weight=weight)
    if own_checkpoint:
        est.set_params(checkpoint=None)  # the model file does not point at a removed folder
    est.save(out, overwrite=overwrite)
    if held is not None:
        held.finish()
    err.print(f"trained {model} in {time.perf_counter() - t0:.1f} s -> {out}", soft_wrap=True)


def _weights(est: Any, model: str, cat: Any, reweight_to: str, k: int) -> Any:
    """Training weights toward the colours of ``reweight_to`` (``--reweight-to``)."""
    from ...exceptions import ParameterError
    from ...lensing.reweight import reweight_catalog

    if not est.takes_sample_weight:
        raise ParameterError(f"--reweight-to needs a network model; {model} takes no weights")
    target = open_catalog(reweight_to, survey=cat.survey)
    weight = reweight_catalog(est, cat, target, k=k)
    n_eff = weight.sum() ** 2 / (weight**2).sum()
    err.print(f"weights toward {reweight_to}: effective training size {n_eff:,.0f}")
    return weight


def _checkpoints(folder: str | None, overwrite: bool, resume: bool, own: bool) -> Any:
    """The run's checkpoint folder, locked (``CheckpointFolder``); None for a model without."""
    if folder is None:
        return None
    from ...estimators.nn.checkpoint import CheckpointFolder

    return CheckpointFolder.open(folder, overwrite=overwrite, resume=resume, remove=own)


# The options of ``zphot predict``, named once so its signature reads as a list.
PredictModel = Annotated[Path, typer.Option("--model", help="Model file from zphot train.")]
PredictCatalog = Annotated[
    str,
    typer.Option(
        help="Catalog: Parquet file or dataset folder, FITS, HDF5, CSV, .npy, builtin:NAME."
    ),
]
PredictOut = Annotated[
    Path,
    typer.Option(
        "--out",
        help="File to write, its format from the suffix: .parquet/.pq, .fits/.fit, "
        ".h5/.hdf5, .ecsv (CSV with units), .csv (a Parquet folder with --partitioned).",
    ),
]
Pdf = Annotated[str, typer.Option(help=f"PDF columns: {', '.join(PDF_KINDS)}.")]
PdfDtype = Annotated[
    str, typer.Option("--pdf-dtype", help=f"Grid PDF storage: {', '.join(PDF_DTYPES)}.")
]
IdColumn = Annotated[
    str | None, typer.Option("--id-column", help="Input column copied to the output.")
]
ColumnPrefix = Annotated[
    str,
    typer.Option("--column-prefix", help="Before each predicted column's name: mlp_z_phot..."),
]
QpFile = Annotated[
    Path | None,
    typer.Option("--qp", help="Also write the PDFs as a qp Ensemble HDF5 file (RAIL)."),
]
ChunkSize = Annotated[
    int | None,
    typer.Option("--chunk-size", min=1, help="Rows per chunk [default: from output width]."),
]
ResumePredict = Annotated[
    bool, typer.Option("--resume", help="Continue an interrupted run into --out.")
]
Engine = Annotated[
    str, typer.Option(help="local (streamed, one process) or dask (a Dask cluster).")
]
Scheduler = Annotated[
    str | None,
    typer.Option(help="Dask scheduler address, e.g. tcp://host:8786 [default: LocalCluster]."),
]
Partitioned = Annotated[
    bool, typer.Option("--partitioned", help="Write a folder of Parquet parts, not one file.")
]
OverwriteOutput = Annotated[bool, typer.Option(help="Replace an existing output.")]


@command
def predict(
    model: PredictModel,
    catalog: PredictCatalog,
    out: PredictOut,
    preset: Preset = None,
    survey: SurveyFile = None,
    pdf: Pdf = "none",
    pdf_dtype: PdfDtype = "float32",
    id_column: IdColumn = None,
    column_prefix: ColumnPrefix = "",
    qp_file: QpFile = None,
    chunk_size: ChunkSize = None,
    resume: ResumePredict = False,
    engine: Engine = "local",
    scheduler: Scheduler = None,
    partitioned: Partitioned = False,
    overwrite: OverwriteOutput = False,
) -> None:
    """Estimate redshifts: z_phot, z_err, z_lo, z_hi, out_of_coverage (+ id, + PDF if asked).

    The catalog is read in chunks and written as it goes, so memory does not grow with its size;
    an interrupted run continues with --resume. The catalog is read with the model's own column
    mapping unless --preset/--survey is given. A HATS catalog folder (recognised by its
    metadata) is predicted partition by partition through LSDB (extra zphot[hats]) into a HATS
    catalog with the same partitions and the catalog's id, ra and dec.
    Example: zphot predict --model knn.zphot --catalog builtin:dc2-test --out z.parquet
    """
    from ...scale.plan import plan_prediction

    plan = plan_prediction(
        model,
        catalog,
        out,
        preset=preset,
        survey=survey,
        spec={
            "pdf": pdf,
            "pdf_dtype": pdf_dtype,
            "id_column": id_column,
            "column_prefix": column_prefix,
        },
        engine=engine,
        scheduler=scheduler,
        chunk_size=chunk_size,
        resume=resume,
        qp=qp_file,
        partitioned=partitioned,
        overwrite=overwrite,
    )
    if plan.kind == "local":
        with _progress_bar() as progress:
            result = plan.run(progress)
    else:
        with err.status(plan.description):
            result = plan.run()
    _report(result)


def _report(result: Any) -> None:
    """One line on stderr: rows, rate (of this session, for a resumed run) and files written."""
    done = result.n_rows - result.resumed_at
    rate = done / max(result.seconds, 1e-9)
    resumed = f", resumed at row {result.resumed_at:,}" if result.resumed_at else ""
    qp_note = f" + {result.qp_path}" if result.qp_path else ""
    err.print(
        f"{result.n_rows:,} galaxies ({rate:,.0f}/s{resumed}) -> {result.path}{qp_note}",
        soft_wrap=True,
    )


@contextmanager
def _progress_bar() -> Iterator[Callable[[int, int | None], None]]:
    """A progress bar on stderr, and the ``progress(done, total)`` callback that moves it; the
    rate counts the rows of this run only (a resumed run starts past the first row)."""
    with Progress(
        TextColumn("predicting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows {task.fields[rate]}"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("predict", total=None, rate="")
        t0 = time.perf_counter()
        first: list[int] = []  # rows already done when the run (or resumed run) started

        def progress(done: int, total: int | None) -> None:
            if not first:
                first.append(done)
            rate = (done - first[0]) / max(time.perf_counter() - t0, 1e-9)
            bar.update(task, completed=done, total=total, rate=f"{rate:,.0f}/s")

        yield progress


@command
def models() -> None:
    """List the estimators this installation provides.

    One line each: name and description. image-cnn needs stamps (zphot simulate images) and
    debiased is made by zphot debias, so compare --models all leaves both out.
    Example: zphot models
    """
    from rich.text import Text

    from ...estimators import list_estimators
    from ...estimators.registry import estimator_summary
    from ..console import out as stdout

    names = list_estimators(include_special=True)
    width = max(map(len, names))
    for name in names:
        line = Text.assemble((name.ljust(width), "bold"), "  ", estimator_summary(name))
        stdout.print(line, soft_wrap=True, highlight=False)
