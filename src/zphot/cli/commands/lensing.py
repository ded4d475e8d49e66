"""``zphot lensing``: background selection behind a lens, ⟨β⟩ and Σcrit⁻¹ from grid PDFs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from ...exceptions import ParameterError
from ...io import check_writable
from ...io.atomic import atomic_path
from ..console import command, err, out

SOURCES = ("covered", "all")


@command
def lensing(
    predictions: Annotated[
        Path, typer.Option(help="Predictions with grid PDFs (zphot predict --pdf grid).")
    ],
    z_lens: Annotated[float, typer.Option("--z-lens", min=0.0, help="Lens redshift.")],
    out_path: Annotated[Path, typer.Option("--out", help="Per-galaxy Parquet file to write.")],
    cosmology: Annotated[str, typer.Option(help="An astropy cosmology by name.")] = "Planck18",
    dz: Annotated[float, typer.Option(min=0.0, help="Background is z > z_lens + dz.")] = 0.1,
    p_min: Annotated[
        float, typer.Option("--p-min", help="Select P(z > z_lens + dz) > p-min.")
    ] = 0.9,
    method: Annotated[
        str, typer.Option(help="probability (P > p-min) or point (z_phot > z_lens + dz).")
    ] = "probability",
    sources: Annotated[
        str,
        typer.Option(help="Summaries over covered sources (out_of_coverage false) or all."),
    ] = "covered",
    delta: Annotated[
        float, typer.Option(help="With z_spec: contamination counts true z < z_lens + delta.")
    ] = 0.02,
    seed: Annotated[int, typer.Option(help="Seed of the n(z) bootstrap.")] = 0,
    plots: Annotated[
        Path | None, typer.Option(help="Folder for beta_vs_zlens.png and nz.png.")
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace existing outputs.")] = False,
) -> None:
    """Select the background behind a lens and report ⟨β⟩, ⟨β²⟩, z_eff and ⟨Σcrit⁻¹⟩.

    Writes per-galaxy beta, sigma_crit_inv (pc² / M_sun), p_background and selected to --out,
    the summary (and the selection's stacked n(z) with bootstrap errors) to OUT.json beside it,
    and prints the summary. With z_spec in the predictions: beta_true, contamination and
    completeness. Example:
    zphot lensing --predictions z.parquet --z-lens 0.35 --out lens.parquet
    """
    from ...lensing import galaxy_columns, get_cosmology, read_predictions, select_background

    if sources not in SOURCES:
        raise ParameterError(f"--sources must be one of {', '.join(SOURCES)}, got {sources!r}")
    get_cosmology(cosmology)  # an unknown name fails before any work
    json_path = out_path.with_suffix(".json")
    for path in (out_path, json_path):
        check_writable(path, overwrite)
    table, probs, grid = read_predictions(predictions)
    cols = galaxy_columns(probs, grid, z_lens, dz, cosmology)
    z_point = _column(table, "z_phot", np.nan)
    selected = select_background(
        cols["p_background"].to_numpy(), z_point, z_lens + dz, method, p_min
    )
    cols["selected"] = selected
    covered = ~_column(table, "out_of_coverage", False).astype(bool)
    use = covered if sources == "covered" else np.ones(len(table), dtype=bool)
    report = _report(
        probs, grid, selected, use, table, z_lens, dz, method, p_min, cosmology, delta, seed
    )
    report["covered_fraction"] = float(covered.mean()) if len(covered) else float("nan")
    report["sources"] = sources
    keep = [c for c in table.columns if c in ("z_phot", "z_spec", "out_of_coverage")]
    ids = [c for c in table.columns[:1] if c not in keep and not str(c).startswith("z_")]
    frame = pd.concat([table[ids + keep].reset_index(drop=True), cols], axis=1)
    with atomic_path(out_path, overwrite=overwrite) as tmp:
        frame.to_parquet(tmp, index=False)
    with atomic_path(json_path, overwrite=overwrite) as tmp:
        tmp.write_text(json.dumps(_null_nan(report), indent=2, allow_nan=False) + "\n")
    out.print(_summary_table(report))
    if plots is not None:
        _plots(plots, probs, grid, use, selected, table, report, cosmology, overwrite)
    err.print(f"{int(selected.sum()):,} of {len(table):,} selected -> {out_path}, {json_path}")


def _null_nan(value: Any) -> Any:
    """NaN (an empty selection's means) becomes null, so lens.json is strict JSON."""
    if isinstance(value, dict):
        return {k: _null_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_null_nan(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _column(table: pd.DataFrame, name: str, fill: Any) -> np.ndarray:
    if name in table.columns:
        return table[name].to_numpy()
    return np.full(len(table), fill)


def _report(
    probs: np.ndarray,
    grid: Any,
    selected: np.ndarray,
    use: np.ndarray,
    table: pd.DataFrame,
    z_lens: float,
    dz: float,
    method: str,
    p_min: float,
    cosmology: str,
    delta: float,
    seed: int,
) -> dict[str, Any]:
    """The summary over the rows in ``use`` and the selection's stacked n(z)."""
    from ...lensing import stacked_nz, summarise_selection

    z_true = table["z_spec"].to_numpy(np.float64)[use] if "z_spec" in table.columns else None
    summary = summarise_selection(
        probs[use],
        grid,
        selected[use],
        z_lens,
        dz=dz,
        method=method,
        p_min=p_min,
        cosmology=cosmology,
        z_true=z_true,
        delta=delta,
    )
    stack, err_ = stacked_nz(probs[use & selected], random_state=seed)
    report = summary.to_dict()
    report["nz"] = {
        "z": grid.centres.round(6).tolist(),
        "p": stack.tolist(),
        "p_err": err_.tolist(),
        "bootstrap": 100,
        "seed": seed,
    }
    return report


def _summary_table(report: dict[str, Any]) -> Table:
    keys = [
        "z_lens",
        "sources",
        "covered_fraction",
        "n_sources",
        "n_selected",
        "beta_mean",
        "beta2_mean",
        "beta2_ratio",
        "z_eff",
        "sigma_crit_inv_mean",
        "beta_true",
        "beta_bias",
        "contamination",
        "completeness",
    ]
    result = Table("quantity", "value", title=f"background behind z_lens = {report['z_lens']}")
    for key in keys:
        if key not in report:
            continue
        v = report[key]
        text = f"{v:,}" if isinstance(v, int) else (v if isinstance(v, str) else f"{v:.5g}")
        if key == "sigma_crit_inv_mean":
            text += f" {report['sigma_crit_inv_unit']}"
        result.add_row(key, text)
    return result


def _plots(
    folder: Path,
    probs: np.ndarray,
    grid: Any,
    use: np.ndarray,
    selected: np.ndarray,
    table: pd.DataFrame,
    report: dict[str, Any],
    cosmology: str,
    overwrite: bool,
) -> None:
    """⟨β⟩ against z_l (the same selection rule at each z_l) and the selection's n(z)."""
    from ...lensing import beta, pdf_average, prob_above, select_background, truth_metrics
    from ...lensing.plots import beta_curve_figure, nz_figure, save_figure

    p = probs[use]
    z_true = table["z_spec"].to_numpy(np.float64)[use] if "z_spec" in table.columns else None
    z_point = _column(table, "z_phot", np.nan)[use]
    lenses = np.round(np.arange(0.1, 1.01, 0.05), 3)
    got, truth = [], []
    for zl in lenses:
        cut = zl + report["dz"]
        p_bg = prob_above(p, grid, cut)
        sel = select_background(p_bg, z_point, cut, report["method"], report["p_min"])
        b_i = pdf_average(p[sel], beta(zl, grid.centres, cosmology))
        b = float(b_i.mean()) if len(b_i) else float("nan")
        got.append(b)
        if z_true is not None:
            truth.append(truth_metrics(z_true, sel, zl, b, cosmology=cosmology)["beta_true"])
    curve = beta_curve_figure(lenses, np.array(got), np.array(truth) if truth else None)
    save_figure(curve, check_writable(folder / "beta_vs_zlens.png", overwrite), overwrite)
    nz = report["nz"]
    sel_true = None if z_true is None else z_true[selected[use]]
    fig = nz_figure(
        grid.centres,
        np.array(nz["p"]),
        np.array(nz["p_err"]),
        grid.width,
        report["z_lens"],
        sel_true,
    )
    save_figure(fig, check_writable(folder / "nz.png", overwrite), overwrite)
