"""``zphot debias``: the four bias-correction steps of Lin et al. (2022), one model per step."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from ...estimators.settings import parse_settings
from ...io import check_writable
from ...io.atomic import check_not_input
from ..console import command, err, out
from ..options import Preset, Select, SurveyFile, ZMax, open_catalog


@command
def debias(
    model: Annotated[str, typer.Option("--model", help="Network estimator: mlp, cnn1d, gat.")],
    catalog: Annotated[str, typer.Option(help="Training catalog (needs redshifts).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for step1..step4 models.")],
    preset: Preset = None,
    survey: SurveyFile = None,
    select: Select = None,
    z_max: ZMax = None,
    labels: Annotated[
        str,
        typer.Option(
            help="Step 3 labels: soft (default), soft-shifted (the paper) or hard-shifted."
        ),
    ] = "soft",
    settings: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Debiasing parameter PARAM=VALUE (e.g. kept_fraction=0.3), or a parameter of "
            "the --model network as MODEL.PARAM=VALUE (e.g. mlp.max_epochs=30); repeatable.",
        ),
    ] = None,
    network: Annotated[
        list[str] | None,
        typer.Option(
            "--net",
            help="Network parameter PARAM=VALUE: --net max_epochs=30 is --set MODEL.max_epochs=30 "
            "for the --model network.",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="random_state.")] = 0,
    overwrite: Annotated[bool, typer.Option(help="Replace existing step models.")] = False,
) -> None:
    """Train a network with Steps 1-4 of the bias correction and save a model per step.

    DIR/step1..step3 give the individual view (z_phot flat in z_spec); DIR/step4 adds the bulk
    view (z_phot_bulk, flat in z_phot), a z_spec calibration of z_phot fitted out of fold
    (--set individual_smoothing=null leaves it out) and recalibrated PDFs. Each works with
    zphot predict.
    Example: zphot debias --model mlp --catalog train.parquet --preset sdss --out debiased/
    """
    from ...debias import DebiasedEstimator

    paths = {k: out_dir / f"step{k}" for k in (1, 2, 3, 4)}
    check_not_input({f"--out {p.name}": p for p in paths.values()}, {"--catalog": catalog})
    for p in paths.values():
        check_writable(p, overwrite)
    grouped = parse_settings(settings, ["debiased", model], default="debiased")
    net = grouped[model] | parse_settings(network, [model], option="--net")[model]
    params = grouped["debiased"] | {
        "base": model,
        "base_params": net or None,
        "labels": labels,
        "random_state": seed,
    }
    est = DebiasedEstimator(**params)
    cat = open_catalog(catalog, preset, survey, select, z_max)
    t0 = time.perf_counter()
    with err.status(f"debiasing {model} on {len(cat):,} galaxies (Steps 1-4, cross-fitted)"):
        est.fit(cat)
    for k, path in paths.items():
        est.at_step(k).save(path, overwrite=overwrite)
    info = est.info_
    out.print(
        f"N_th {info['n_th']} ({_BALANCE[info['balance']]} {info['subset_size']:,} of "
        f"{info['n_train']:,}), "
        f"sigma_1 per head {[round(s, 4) for s in info['sigma1']]}"
    )
    err.print(f"done in {time.perf_counter() - t0:.0f} s -> {', '.join(map(str, paths.values()))}")


#: How ``zphot debias`` describes the flat distribution's size in each balancing mode.
_BALANCE = {"subset": "subset", "weights": "weights summing to"}
