"""``zphot train`` and ``zphot predict``: one estimator, file in, file out."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from ...catalog.survey import load_survey
from ...catalog.validate import check_training_rows
from ...estimators import get_estimator, load
from ...io import check_writable
from ...scale.stream import PDF_DTYPES, PDF_KINDS
from ..console import command, err
from ..options import Preset, Select, SurveyFile, ZMax, open_catalog, parse_settings

ENGINES = ("local", "dask")


@command
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
        typer.Option("--set", help="Estimator parameter NAME=VALUE (e.g. hidden=128,128)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="random_state of the estimator.")] = 0,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing model file.")] = False,
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

    Networks save a checkpoint after every epoch (in OUT.ckpt, removed once the model is
    saved, unless --set checkpoint=FOLDER names another folder, which is kept): an
    interrupted run continues where it stopped when the same command is run again.
    Example: zphot train --model knn --catalog builtin:dc2-train --out knn.zphot
    """
    check_writable(out, overwrite)
    params = parse_settings(settings) | {"random_state": seed}
    est = get_estimator(model, **params)
    own_checkpoint = "checkpoint" in est.get_params() and "checkpoint" not in params
    folder = out.with_name(out.name + ".ckpt")
    if own_checkpoint:
        est.set_params(checkpoint=str(folder))
    cat = check_training_rows(open_catalog(catalog, preset, survey, select, z_max), drop_bad_rows)
    val = (
        open_catalog(validation, survey=cat.survey, selections=select, z_max=z_max)
        if validation
        else None
    )
    t0 = time.perf_counter()
    with err.status(f"training {model} on {len(cat):,} galaxies"):
        est.fit(cat, validation=val)
    if own_checkpoint:
        est.set_params(checkpoint=None)  # the model file does not point at a removed folder
    est.save(out, overwrite=overwrite)
    if own_checkpoint:
        shutil.rmtree(folder, ignore_errors=True)
    err.print(f"trained {model} in {time.perf_counter() - t0:.1f} s -> {out}", soft_wrap=True)


@command
def predict(
    model: Annotated[Path, typer.Option("--model", help="Model file from zphot train.")],
    catalog: Annotated[
        str,
        typer.Option(
            help="Catalog: Parquet file or dataset folder, FITS, HDF5, CSV, .npy, builtin:NAME."
        ),
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Parquet file to write (a folder with --partitioned).")
    ],
    preset: Preset = None,
    survey: SurveyFile = None,
    pdf: Annotated[str, typer.Option(help=f"PDF columns: {', '.join(PDF_KINDS)}.")] = "none",
    pdf_dtype: Annotated[
        str, typer.Option("--pdf-dtype", help=f"Grid PDF storage: {', '.join(PDF_DTYPES)}.")
    ] = "float32",
    id_column: Annotated[
        str | None, typer.Option("--id-column", help="Input column copied to the output.")
    ] = None,
    qp_file: Annotated[
        Path | None,
        typer.Option("--qp", help="Also write the PDFs as a qp Ensemble HDF5 file (RAIL)."),
    ] = None,
    chunk_size: Annotated[
        int | None,
        typer.Option("--chunk-size", min=1, help="Rows per chunk [default: from output width]."),
    ] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue an interrupted run into --out.")
    ] = False,
    engine: Annotated[
        str, typer.Option(help="local (streamed, one process) or dask (a Dask cluster).")
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address, e.g. tcp://host:8786 [default: LocalCluster]."),
    ] = None,
    partitioned: Annotated[
        bool, typer.Option("--partitioned", help="Write a folder of Parquet parts, not one file.")
    ] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output.")] = False,
) -> None:
    """Estimate redshifts: z_phot, z_err, z_lo, z_hi, out_of_coverage (+ id, + PDF if asked).

    The catalog is read in chunks and written as it goes, so memory does not grow with its size;
    an interrupted run continues with --resume. The catalog is read with the model's own column
    mapping unless --preset/--survey is given.
    Example: zphot predict --model knn.zphot --catalog builtin:dc2-test --out z.parquet
    """
    from ...datasets import resolve_catalog
    from ...exceptions import ParameterError
    from ...scale.stream import OutputSpec, predict_catalog

    if engine not in ENGINES:
        raise ParameterError(f"--engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if engine == "dask" and (resume or qp_file is not None):
        raise ParameterError(
            "--resume and --qp are options of --engine local; a Dask run restarts as a whole"
        )
    if engine == "local" and scheduler is not None:
        raise ParameterError("--scheduler needs --engine dask")
    spec = OutputSpec(pdf=pdf, pdf_dtype=pdf_dtype, id_column=id_column)
    est = load(model)
    chosen = load_survey(survey or preset) if (survey or preset) else est.survey_
    path, _ = resolve_catalog(catalog)
    if engine == "dask":
        from ...scale.dask import predict_dask

        with err.status(f"predicting {path} on Dask ({scheduler or 'LocalCluster'})"):
            result = predict_dask(
                model,
                path,
                out,
                scheduler=scheduler,
                survey=chosen,
                spec=spec,
                partitioned=partitioned,
                overwrite=overwrite,
            )
    else:
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

            result = predict_catalog(
                est,
                path,
                out,
                survey=chosen,
                spec=spec,
                chunk_size=chunk_size,
                resume=resume,
                overwrite=overwrite,
                partitioned=partitioned,
                qp=qp_file,
                progress=progress,
            )
    done = result.n_rows - result.resumed_at
    rate = done / max(result.seconds, 1e-9)
    resumed = f", resumed at row {result.resumed_at:,}" if result.resumed_at else ""
    qp_note = f" + {result.qp_path}" if result.qp_path else ""
    err.print(
        f"{result.n_rows:,} galaxies ({rate:,.0f}/s{resumed}) -> {result.path}{qp_note}",
        soft_wrap=True,
    )


@command
def models() -> None:
    """List the estimators this installation provides.

    Example: zphot models
    """
    from ...estimators import estimator_class, list_estimators
    from ..console import out as stdout

    for name in list_estimators():
        doc = (estimator_class(name).__doc__ or "").strip().splitlines()[0]
        stdout.print(f"[bold]{name:9s}[/] {doc}")
