"""Writing a :class:`~zphot.report.results.Comparison` to a folder: tables, predictions,
figures and the one-page ``report.html``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ..exceptions import OverwriteError
from ..io import atomic_path, write_table
from .results import Comparison

__all__ = ["prepare_output_dir", "write_report"]


def write_report(
    comparison: Comparison,
    out_dir: str | os.PathLike,
    *,
    overwrite: bool = False,
    context: Mapping[str, str] | None = None,
) -> Path:
    """Write tables, predictions, figures and ``report.html`` into ``out_dir``.

    Files: ``results.md``, ``results.csv``, ``predictions_<model>.parquet`` (``zphot
    evaluate`` reads them; a Step 4 model's file has ``z_phot_bulk`` too, so its bulk row
    has no file of its own), ``binned_<model>.csv`` (:meth:`Comparison.binned`, every bin,
    sparse ones included), ``figures/*.png`` and ``report.html`` (last, so its presence means
    the run finished). Each file is written atomically; ``<model>`` is the name made file-safe
    (:meth:`Comparison.file_stems`).

    Parameters
    ----------
    out_dir : path
        Output folder; created if needed.
    overwrite : bool
        Allow a non-empty existing folder (files of the same name are replaced; others are
        left alone).
    context : mapping, optional
        Extra header lines for the report, e.g. ``{"command": ..., "split": ...}``.

    Returns
    -------
    Path
        The path of ``report.html``.

    Raises
    ------
    OverwriteError
        ``out_dir`` is a file, or a non-empty folder and ``overwrite`` is false.
    """
    # matplotlib loads only when a report is written, not whenever zphot.report is imported.
    from .html import render_html
    from .plots import all_figures, png_bytes

    out = prepare_output_dir(out_dir, overwrite)
    write_table(comparison.table(), out / "results.csv", format="csv", overwrite=True)
    _write_text(out / "results.md", comparison.markdown())
    stems = comparison.file_stems()
    for r in comparison.results:
        stem = stems[r.name]
        write_table(comparison.binned(r), out / f"binned_{stem}.csv", format="csv", overwrite=True)
        if r.bulk_of is not None:
            continue
        cols = ["z_spec", *(c for c in r.predictions.columns if c != "z_spec")]
        write_table(
            r.predictions[cols],
            out / f"predictions_{stem}.parquet",
            format="parquet",
            overwrite=True,
        )
    images = {}
    (out / "figures").mkdir(exist_ok=True)
    for key, fig in all_figures(comparison).items():
        images[key] = png_bytes(fig)
        with atomic_path(out / "figures" / f"{key}.png", overwrite=True) as tmp:
            tmp.write_bytes(images[key])
    html_path = out / "report.html"
    _write_text(html_path, render_html(comparison, images, context or {}))
    return html_path


def _write_text(path: Path, text: str) -> None:
    with atomic_path(path, overwrite=True) as tmp:
        tmp.write_text(text, encoding="utf-8")


def prepare_output_dir(path: str | os.PathLike, overwrite: bool) -> Path:
    """Create the report folder, refusing a file or (without ``overwrite``) a non-empty folder.

    Checked before any training, so that a long run never ends in a refusal to write.
    """
    out = Path(path)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not overwrite)):
        raise OverwriteError(str(out))
    out.mkdir(parents=True, exist_ok=True)
    return out
