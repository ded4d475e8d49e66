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

from .compare import COLUMNS, Column

if TYPE_CHECKING:
    from .compare import Comparison

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
        "Mean scaled residual dz per redshift bin with its standard error, binned by the true "
        "redshift (left: the estimator's conditional bias) and by the estimate (right: what a "
        "selection on z_phot delivers). Bins with fewer than 20 galaxies are omitted."
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
    try:
        zphot_version = version("zphot")
    except PackageNotFoundError:
        zphot_version = "unknown (source tree)"
    return {
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": (
            f"{platform.system()} {platform.release()} {platform.machine()}, "
            f"{os.cpu_count()} CPU cores"
        ),
        "python": sys.version.split()[0],
        "zphot": zphot_version,
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
    head = "".join(f'<th title="{escape(c.help)}">{escape(c.label)}</th>' for c in COLUMNS)
    rows = []
    best = {
        c.key: _best_rows([r.metrics.get(c.key, np.nan) for r in comparison.results], c)
        for c in COLUMNS
    }
    for i, r in enumerate(comparison.results):
        cells = []
        for c in COLUMNS:
            cls = ' class="best"' if i in best[c.key] else ""
            cells.append(f"<td{cls}>{escape(c.format(r.metrics.get(c.key, np.nan)))}</td>")
        rows.append(
            f"<tr><td>{escape(r.name)}</td>{''.join(cells)}"
            f'<td class="settings">{escape(r.settings_text())}</td></tr>'
        )
    legend = "".join(f"<li><b>{escape(c.label)}</b>: {escape(c.help)}</li>" for c in COLUMNS)
    return (
        '<div class="scroll"><table><thead><tr><th>model</th>'
        f"{head}<th>settings</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div>"
        '<p class="note">Green: best in its column (bias: closest to 0). Settings: parameters '
        "that differ from the defaults. "
        "dz = (z_phot − z_spec) / (1 + z_spec). Hover a header for its definition.</p>"
        f'<ul class="legend">{legend}</ul>'
    )


def _settings(comparison: Comparison) -> str:
    blocks = []
    for r in comparison.results:
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
        (``residuals``, ``nz``, ``pit``, optional ``loss``, ``density_<model>``).
    context : mapping of str to str
        Extra header lines (e.g. ``command``, ``split``) shown with the run's environment.

    Returns
    -------
    str
        A complete, self-contained HTML document.
    """
    c = comparison
    meta = {
        "training set": f"{c.train_source} ({c.n_train:,} galaxies)",
        "test set": f"{c.test_source} ({c.n_test:,} galaxies)",
        "survey": c.survey,
        **environment(),
        **context,
    }
    meta_html = "".join(
        f"<dt>{escape(k)}</dt><dd>"
        + (f"<code>{escape(v)}</code>" if k == "command" else escape(str(v)))
        + "</dd>"
        for k, v in meta.items()
    )
    densities = "".join(
        f"<figure>{_img(images[f'density_{r.name}'], f'z_phot vs z_spec for {r.name}')}</figure>"
        for r in c.results
        if f"density_{r.name}" in images
    )
    loss = ""
    if "loss" in images:
        loss = "<h2>Training curves</h2>" + _figure(images, "loss", "loss curves")
    names = ", ".join(r.name for r in c.results)
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
<p class="subtitle">{len(c.results)} estimators ({escape(names)}) trained on the same galaxies
and scored on the same held-out test set.</p>
<dl class="meta">{meta_html}</dl>

<h2>Results</h2>
{_results_table(c)}

<h2>Residuals against redshift</h2>
{_figure(images, "residuals", "binned residual curves")}

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
