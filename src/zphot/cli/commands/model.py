"""``zphot train`` and ``zphot predict``: one estimator, file in, file out."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer

from ...catalog.survey import load_survey
from ...estimators import get_estimator, load
from ...io import check_writable, write_table
from ..console import command, err
from ..options import Preset, Select, SurveyFile, ZMax, open_catalog, parse_settings

PDF_CHOICES = ("none", "quantiles", "grid")


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
        list[str] | None, typer.Option("--set", help="Estimator parameter NAME=VALUE.")
    ] = None,
    seed: Annotated[int, typer.Option(help="random_state of the estimator.")] = 0,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing model file.")] = False,
) -> None:
    """Fit an estimator on a catalog with redshifts and save it.

    Example: zphot train --model knn --catalog builtin:dc2-train --out knn.zphot
    """
    check_writable(out, overwrite)
    params = parse_settings(settings) | {"random_state": seed}
    est = get_estimator(model, **params)
    cat = open_catalog(catalog, preset, survey, select, z_max)
    val = open_catalog(validation, survey=cat.survey, selections=select, z_max=z_max) \
        if validation else None
    t0 = time.perf_counter()
    with err.status(f"training {model} on {len(cat):,} galaxies"):
        est.fit(cat, validation=val)
    est.save(out, overwrite=overwrite)
    err.print(f"trained {model} in {time.perf_counter() - t0:.1f} s -> {out}")


@command
def predict(
    model: Annotated[Path, typer.Option("--model", help="Model file from zphot train.")],
    catalog: Annotated[str, typer.Option(help="Catalog to estimate redshifts for.")],
    out: Annotated[Path, typer.Option("--out", help="Parquet file to write.")],
    preset: Preset = None,
    survey: SurveyFile = None,
    pdf: Annotated[
        str, typer.Option(help=f"PDF output: {', '.join(PDF_CHOICES)}.")
    ] = "none",
    overwrite: Annotated[bool, typer.Option(help="Replace an existing output.")] = False,
) -> None:
    """Estimate redshifts: z_phot, z_err, z_lo, z_hi, out_of_coverage (+ id, + PDF if asked).

    The catalog is read with the model's own column mapping unless --preset/--survey is given.
    Example: zphot predict --model knn.zphot --catalog builtin:dc2-test --out z.parquet
    """
    from ...exceptions import ParameterError

    if pdf not in PDF_CHOICES:
        raise ParameterError(f"--pdf must be one of {', '.join(PDF_CHOICES)}, got {pdf!r}")
    check_writable(out, overwrite)
    est = load(model)
    chosen = load_survey(survey or preset) if (survey or preset) else est.survey_
    cat = open_catalog(catalog, survey=chosen)
    t0 = time.perf_counter()
    batch = est.predict_pdf(cat)
    table = est.predict_table(cat, batch)
    if cat.z is not None:
        table["z_spec"] = cat.z
    if pdf == "quantiles":
        levels = (0.025, 0.16, 0.5, 0.84, 0.975)
        q = batch.quantiles(levels)
        for j, lev in enumerate(levels):
            table[f"z_q{lev:g}"] = q[:, j]
    elif pdf == "grid":
        grid = pd.DataFrame(
            batch.probs.astype(np.float32),
            columns=[f"p_{c:.4f}" for c in batch.grid.centres],
        )
        table = pd.concat([table, grid], axis=1)
    write_table(table, out, format="parquet", overwrite=overwrite)
    rate = len(cat) / max(time.perf_counter() - t0, 1e-9)
    err.print(f"{len(cat):,} galaxies ({rate:,.0f}/s) -> {out}")


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
