"""Scoring one fitted estimator on a test catalog: every number and curve a
:class:`~zphot.report.results.ModelResult` holds, from a single prediction of the test set.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..catalog.catalog import Catalog
from ..estimators.base import PhotoZEstimator
from ..exceptions import CatalogError
from ..metrics import crps, nz_fidelity, pit, pit_ks, point_metrics
from .results import _PDF_KEYS, ModelResult

__all__ = ["loss_history"]

log = logging.getLogger(__name__)

#: Rows scored at once: PIT and CRPS build several (rows, bins) temporaries, and a large test
#: set on a fine grid (up to 400 bins by default, more with an explicit ``grid``) would
#: otherwise need gigabytes per model.
_CHUNK = 4096


def loss_history(estimator: object) -> list[dict[str, list[float]]]:
    """The loss curves of a fitted network as one ``{curve name: values}`` dict per member.

    ``history_`` may be one member's ``{"train": [...], "val": [...]}``, a list of those (an
    ensemble), a mapping from member name to such dicts, or a bare list of losses. Entries that
    are not sequences of numbers (a best epoch, a flag) are skipped, so a network that records
    extra information still gets its curves drawn. Timings (keys ending in ``seconds``, such as
    zphot's ``epoch_seconds``) are skipped too: they are not losses, and drawn on the loss axis
    they stretch it until the loss curves look flat (the table's ``train s`` reports the time).

    Examples
    --------
    >>> class Net:
    ...     history_ = [{"train": [1.0, 0.5], "val": [1.1, 0.7], "best_epoch": 1,
    ...                  "epoch_seconds": [0.8, 0.8]}]
    >>> loss_history(Net())
    [{'train': [1.0, 0.5], 'val': [1.1, 0.7]}]
    """
    raw = getattr(estimator, "history_", None)
    if raw is None:
        return []
    if isinstance(raw, Mapping):
        members = (
            list(raw.values())
            if raw and all(isinstance(v, Mapping) for v in raw.values())
            else [raw]
        )
    elif _numeric_sequence(raw):
        members = [{"loss": raw}]
    elif isinstance(raw, Sequence):
        members = list(raw)
    else:
        members = []
    curves = []
    for member in members:
        if not isinstance(member, Mapping):
            member = {"loss": member} if _numeric_sequence(member) else {}
        kept = {
            str(k): [float(x) for x in v]
            for k, v in member.items()
            if _numeric_sequence(v) and not str(k).endswith("seconds")
        }
        if kept:
            curves.append(kept)
    if not curves:
        log.warning("%s: history_ has no loss curves I can read", type(estimator).__name__)
    return curves


def _numeric_sequence(value: object) -> bool:
    """True for a non-empty 1-D list, tuple or array of real numbers."""
    if isinstance(value, str | bytes | Mapping) or not hasattr(value, "__len__"):
        return False
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        return False
    return arr.ndim == 1 and arr.size > 0 and np.issubdtype(arr.dtype, np.number)


def _changed_params(est: PhotoZEstimator) -> dict[str, Any]:
    """Parameters that differ from a default instance of the same class."""
    defaults = type(est)().get_params()
    params = est.get_params()
    return {k: v for k, v in params.items() if k not in defaults or not _same(v, defaults[k])}


def _same(a: Any, b: Any) -> bool:
    """Equal values of the same type (``1`` and ``1.0`` differ: the user typed a new value)."""
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and bool(a == b)


def _score(
    est: PhotoZEstimator, test: Catalog, z: NDArray[np.float64], train_seconds: float
) -> tuple[dict[str, float], pd.DataFrame, NDArray[np.float64]]:
    """Predict the test catalog once and compute every table metric from that one prediction."""
    t0 = time.perf_counter()
    batch = est.predict_pdf(test)
    table = est.predict_table(test, batch)
    seconds = time.perf_counter() - t0
    table["z_spec"] = z
    edges = batch.grid.edges
    pit_values = np.empty(len(z))
    crps_values = np.empty(len(z))
    for start in range(0, len(z), _CHUNK):
        rows = slice(start, start + _CHUNK)
        probs, zs = batch.probs[rows], z[rows]
        pit_values[rows] = pit(probs, edges, zs)
        crps_values[rows] = crps(probs, edges, zs)
    zp = table["z_phot"].to_numpy(np.float64)
    metrics = _point_scores(zp, z, f"{type(est).__name__}: no finite z_phot on {test.source}")
    metrics |= {
        "pit_ks": pit_ks(pit_values),
        "crps": float(np.mean(crps_values)),
        # The central interval's coverage follows from the PIT values: no second pass.
        "cover68": float(np.mean((pit_values >= 0.16) & (pit_values <= 0.84))),
        "out_of_coverage": float(np.mean(table["out_of_coverage"])),
        "train_s": train_seconds,
        "predict_rate": len(z) / max(seconds, 1e-9),
        "predict_s": seconds,
    }
    return metrics, table, pit_values


def _point_scores(zp: NDArray[np.float64], z: NDArray[np.float64], empty: str) -> dict[str, float]:
    """Point metrics and n(z) fidelity of the finite estimates; ``empty`` is the error if none."""
    ok = np.isfinite(zp)
    if not ok.any():
        raise CatalogError(empty)
    metrics = point_metrics(zp[ok], z[ok], outlier_threshold=0.05)
    metrics["nz_fidelity"] = nz_fidelity(zp[ok], z[ok])
    return metrics


def _bulk_result(parent: ModelResult, z: NDArray[np.float64]) -> ModelResult:
    """The row of a model's bulk estimate: its ``z_phot_bulk`` scored as a point estimate."""
    table = parent.predictions
    keep = [c for c in table.columns if c in ("id", "out_of_coverage")]
    predictions = table[keep].assign(z_phot=table["z_phot_bulk"], z_spec=z)
    predictions = predictions[["z_phot", *keep, "z_spec"]]
    metrics = _point_scores(
        predictions["z_phot"].to_numpy(np.float64), z, f"{parent.name}: no finite z_phot_bulk"
    )
    metrics |= {k: np.nan for k in _PDF_KEYS}
    metrics["out_of_coverage"] = parent.metrics["out_of_coverage"]
    return replace(
        parent,
        name=f"{parent.name} (bulk)",
        metrics=metrics,
        predictions=predictions,
        pit=np.empty(0),
        history=[],
        bulk_of=parent.name,
    )
