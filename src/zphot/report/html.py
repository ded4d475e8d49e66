"""A one-page, self-contained HTML report of a comparison.

Every figure is embedded as a base64 PNG and the stylesheet is inline, so ``report.html`` can
be mailed, attached to an issue or opened offline, and stays readable as the run's record:
results, figures, each model's settings and where, when and how it was produced.
"""

from __future__ import annotations

import base64
import datetime as _dt
import os
import platform
import sys
from collections.abc import Mapping
from html import escape
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

import numpy as np

from .results import BULK_NOTE, Column

if TYPE_CHECKING:
    from .results import Comparison

__all__ = ["environment", "render_html"]

_LIBRARIES = ("numpy", "scikit-learn", "lightgbm", "torch", "matplotlib")

_CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222;
       margin: 0; background: #f6f7f9; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 34px 0 10px; padding-bottom: 4px; border-bottom: 2px solid #e3e6ea; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.subtitle { color: #555; margin: 0 0 16px; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 3px 16px; margin: 0;
          font-size: 14px; }
dl.meta dt { color: #666; }
dl.meta dd { margin: 0; word-break: break-word; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f1f3f5;
       padding: 1px 4px; border-radius: 3px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 5px 7px; border-bottom: 1px solid #e3e6ea; text-align: right;
         white-space: nowrap; }
th { background: #f1f3f5; position: sticky; top: 0; }
th:first-child, td:first-child { text-align: left; font-weight: 600; }
th:last-child { text-align: left; }
td.best { background: #e3f4e6; font-weight: 700; }
td.full { font-weight: 700; }
details { margin: 10px 0; }
summary { cursor: pointer; font-size: 14px; color: #333; }
.warning { background: #fff4e5; border-left: 4px solid #e69500; padding: 6px 10px; }
td.settings { text-align: left; white-space: normal; min-width: 110px; color: #444; }
tbody tr:hover { background: #fafbfc; }
.legend { font-size: 13px; color: #555; columns: 2; column-gap: 32px; margin: 10px 0 0;
          padding-left: 18px; }
figure { margin: 12px 0; }
figure img { max-width: 100%; height: auto; display: block; border: 1px solid #eceef1; }
figcaption { font-size: 13px; color: #555; margin-top: 4px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); gap: 12px; }
.params { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr));
          gap: 8px 24px; }
.params table { width: 100%; }
.params td { text-align: left; white-space: normal; font-weight: normal; }
.params td:first-child { font-weight: normal; color: #555; width: 40%; }
.params tr.changed td { font-weight: 700; color: #0b5394; }
.note { font-size: 13px; color: #666; }
"""

_CAPTIONS = {
    "residuals": (
        "Mean scaled residual dz per redshift bin (line) with ± its standard error (band), "
        "binned by the true redshift (left: the estimator's conditional bias) and by the "
        "estimate (right: what a selection on z_phot delivers); bins with fewer than 20 "
        "galaxies are omitted. Lower panels: galaxies per bin (the same for every model against "
        "z_spec); dotted, the count a bin needs to enter the max |mean dz| columns. Dashed "
        "curves: bulk estimates."
    ),
    "nz": (
        "Redshift distribution of each model's point estimates (lines) over the truth (grey). "
        "TV is the n(z) fidelity index of the table."
    ),
    "pit": (
        "PIT histograms: flat at 1 for calibrated PDFs; U-shaped when they are too narrow, "
        "humped when too wide, sloped when biased."
    ),
    "loss": (
        "Training and validation loss per epoch for the networks (one line per ensemble member; "
        "dots mark the best validation epoch)."
    ),
}


def environment() -> dict[str, str]:
    """Where and when a report was made: date, machine, Python and library versions.

    Library versions are read from package metadata (nothing is imported), so a report on a
    machine without torch simply says so.
    """
    libs = []
    for name in _LIBRARIES:
        try:
            libs.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            continue
    from .._version import __version__

    return {
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": (
            f"{platform.system()} {platform.release()} {platform.machine()}, "
            f"{os.cpu_count()} CPU cores"
        ),
        "python": sys.version.split()[0],
        "zphot": __version__,
        "libraries": ", ".join(libs),
    }


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{escape(alt)}">'


def _best_rows(values: list[float], col: Column) -> set[int]:
    """Indices of the best model(s) in one column; none when fewer than two can be ranked."""
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    if not col.better or ok.sum() < 2:
        return set()
    score = {"low": v, "high": -v, "zero": np.abs(v)}[col.better]
    best = np.min(score[ok])
    return {i for i in range(len(v)) if ok[i] and np.isclose(score[i], best, rtol=1e-9, atol=0)}


def _results_table(comparison: Comparison) -> str:
    columns = comparison.columns
    head = "".join(f'<th title="{escape(c.help)}">{escape(c.label)}</th>' for c in columns)
    rows = []
    best = {
        c.key: _best_rows([r.metrics.get(c.key, np.nan) for r in comparison.results], c)
        for c in columns
    }
    for i, r in enumerate(comparison.results):
        cells = []
        for c in columns:
            cls = ' class="best"' if i in best[c.key] else ""
            cells.append(f"<td{cls}>{escape(c.format(r.metrics.get(c.key, np.nan)))}</td>")
        rows.append(
            f"<tr><td>{escape(r.name)}</td>{''.join(cells)}"
            f'<td class="settings">{escape(r.settings_text())}</td></tr>'
        )
    legend = "".join(f"<li><b>{escape(c.label)}</b>: {escape(c.help)}</li>" for c in columns)
    if any(r.bulk_of for r in comparison.results):
        legend += f"<li><b>(bulk)</b> rows: {escape(BULK_NOTE)}</li>"
    return (
        '<div class="scroll"><table><thead><tr><th>model</th>'
        f"{head}<th>settings</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
        '<p class="note">Green: best in its column (bias: closest to 0). Settings: parameters '
        "that differ from the defaults. "
        "dz = (z_phot − z_spec) / (1 + z_spec). Hover a header for its definition.</p>"
        f'<ul class="legend">{legend}</ul>'
    )


def _binned_tables(comparison: Comparison) -> str:
    """Collapsed tables of the binned residuals: per bin, each model's count and mean ± SEM."""
    c = comparison
    tables = [(r.name, c.binned(r)) for r in c.results]
    parts = []
    for by in ("z_spec", "z_phot"):
        views = [(name, t[t["by"] == by].reset_index(drop=True)) for name, t in tables]
        first = views[0][1]
        used = np.zeros(len(first), dtype=bool)
        for _, t in views:
            used |= t["count"].to_numpy() > 0
        models = "".join(f'<th colspan="2">{escape(name)}</th>' for name, _ in views)
        stats = "<th>n</th><th>mean dz ± SEM</th>" * len(views)
        rows = []
        for b in np.flatnonzero(used):
            cells = [f"<td>{first.loc[b, 'lo']:.3f}–{first.loc[b, 'hi']:.3f}</td>"]
            for _, t in views:
                n, mean, sem = (t.loc[b, k] for k in ("count", "mean", "sem"))
                full = ' class="full"' if n >= c.min_bin_count else ""
                value = "-" if not np.isfinite(mean) else f"{mean:+.4f}"
                if np.isfinite(mean) and np.isfinite(sem):
                    value += f" ± {sem:.4f}"
                cells.append(f"<td>{n:,}</td><td{full}>{value}</td>")
            rows.append(f"<tr>{''.join(cells)}</tr>")
        parts.append(
            f"<details><summary>mean dz in bins of {by} (width {c.bin_width:g}, "
            f"{len(rows)} non-empty bins)</summary>"
            f'<div class="scroll"><table><thead><tr><th rowspan="2">{by}</th>{models}</tr>'
            f"<tr>{stats}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table></div></details>"
        )
    return (
        "".join(parts) + '<p class="note">Bold: bins with at least '
        f"{c.min_bin_count:,} galaxies, those the max |mean dz| columns look at. SEM: standard "
        "error of the mean, std(ddof=1) / √n. The same values, sparse bins included, are in "
        "<code>binned_MODEL.csv</code>.</p>"
    )


def _settings(comparison: Comparison) -> str:
    blocks = []
    for r in comparison.results:
        if r.bulk_of is not None:
            continue  # the same model as its own row
        rows = "".join(
            f"<tr{' class=changed' if k in r.changed else ''}>"
            f"<td>{escape(k)}</td><td><code>{escape(repr(v))}</code></td></tr>"
            for k, v in sorted(r.params.items())
        )
        blocks.append(
            f"<div><h3>{escape(r.name)} <span class=note>"
            f"({escape(type(r.estimator).__name__)})</span></h3>"
            f"<table><tbody>{rows}</tbody></table></div>"
        )
    return (
        '<p class="note">All parameters (<code>get_params()</code>); those differing from the '
        'class defaults are in bold blue.</p><div class="params">' + "".join(blocks) + "</div>"
    )


def _figure(images: Mapping[str, bytes], key: str, alt: str) -> str:
    if key not in images:
        return ""
    caption = _CAPTIONS.get(key, "")
    return f"<figure>{_img(images[key], alt)}<figcaption>{escape(caption)}</figcaption></figure>"


def _pretrained(c: Comparison) -> list[str]:
    """Names of the models trained beforehand (not bulk rows)."""
    return [r.name for r in c.results if r.source and r.bulk_of is None]


def _meta_html(c: Comparison, context: Mapping[str, str]) -> str:
    """The header's definition list: training and test sets, survey, environment, context."""
    pretrained = _pretrained(c)
    if not c.n_train:
        training = "none: every model was trained beforehand (see its settings)"
    else:
        training = f"{c.train_source} ({c.n_train:,} galaxies)"
        if pretrained:
            training += f"; {', '.join(pretrained)} trained beforehand (see settings)"
    meta = {
        "training set": training,
        "test set": f"{c.test_source} ({c.n_test:,} galaxies)",
        "survey": c.survey,
        **environment(),
        **context,
    }
    return "".join(
        f"<dt>{escape(k)}</dt><dd>"
        + (f"<code>{escape(v)}</code>" if k == "command" else escape(str(v)))
        + "</dd>"
        for k, v in meta.items()
    )


def _densities(c: Comparison, images: Mapping[str, bytes]) -> str:
    """One z_phot vs z_spec density figure per model that has one."""
    stems = c.file_stems()
    return "".join(
        f"<figure>{_img(images[f'density_{stems[r.name]}'], f'z_phot vs z_spec for {r.name}')}"
        "</figure>"
        for r in c.results
        if f"density_{stems[r.name]}" in images
    )


def _subtitle(c: Comparison) -> str:
    """One sentence: which estimators, and how they were trained and tested."""
    pretrained = _pretrained(c)
    models = [r.name for r in c.results if r.bulk_of is None]
    subtitle = f"{len(models)} estimators ({', '.join(models)}) "
    if not c.n_train:
        return subtitle + "trained beforehand and scored on the same test set."
    if pretrained:
        return subtitle + (
            f"scored on the same held-out test set; {', '.join(pretrained)} trained "
            "beforehand, the others on the same training galaxies."
        )
    return subtitle + "trained on the same galaxies and scored on the same held-out test set."


def render_html(
    comparison: Comparison, images: Mapping[str, bytes], context: Mapping[str, str]
) -> str:
    """The whole report as one HTML string.

    Parameters
    ----------
    comparison : Comparison
        Results to show.
    images : mapping of str to bytes
        PNG bytes by figure key, as from :func:`zphot.report.plots.all_figures`
        (``residuals``, ``nz``, ``pit``, optional ``loss``, ``density_<stem>``).
    context : mapping of str to str
        Extra header lines (e.g. ``command``, ``split``) shown with the run's environment.

    Returns
    -------
    str
        A complete, self-contained HTML document.
    """
    c = comparison
    meta_html = _meta_html(c, context)
    densities = _densities(c, images)
    loss = ""
    if "loss" in images:
        loss = "<h2>Training curves</h2>" + _figure(images, "loss", "loss curves")
    names = ", ".join(r.name for r in c.results)
    subtitle = _subtitle(c)
    warnings = "".join(f'<p class="warning">{escape(n)}</p>' for n in c.notes)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>zphot comparison: {escape(names)}</title>
<style>{_CSS}</style>
</head>
<body>
<main>
<h1>Photometric-redshift comparison</h1>
<p class="subtitle">{escape(subtitle)}</p>
<dl class="meta">{meta_html}</dl>
{warnings}
<h2>Results</h2>
{_results_table(c)}

<h2>Residuals against redshift</h2>
{_figure(images, "residuals", "binned residual curves")}
{_binned_tables(c)}

<h2>Estimated against true redshift</h2>
<p class="note">Galaxy counts per hexagonal cell (logarithmic colour scale); dashed: the 1:1
line, dotted: |dz| = 0.15, beyond which a galaxy is a catastrophic outlier.</p>
<div class="grid">{densities}</div>

<h2>Redshift distribution n(z)</h2>
{_figure(images, "nz", "n(z) of estimates and truth")}

<h2>PDF calibration</h2>
{_figure(images, "pit", "PIT histograms")}
{loss}
<h2>Model settings</h2>
{_settings(c)}
</main>
</body>
</html>
"""
