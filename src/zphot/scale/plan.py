"""Which engine predicts a catalog: the routing behind ``zphot predict``.

A HATS catalog folder (recognised by its own metadata, :func:`zphot.scale.hats.is_hats`) goes
through LSDB, partition by partition, into a HATS catalog; with ``engine="dask"`` a Parquet
file or dataset goes to a Dask cluster (:func:`zphot.scale.dask.predict_dask`); everything else
is streamed in chunks on this machine (:func:`zphot.scale.stream.predict_catalog`), the only
path that resumes or writes a qp file. :func:`plan_prediction` checks the options against the
chosen path before anything is read or written, so a command only parses and calls.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..catalog.bands import Survey
from ..catalog.survey import resolve_survey
from ..datasets import resolve_catalog
from ..estimators import load
from ..exceptions import ParameterError
from ..io.atomic import check_not_input
from .hats import is_hats, predict_hats, refuse_options
from .parts import Progress, StreamResult
from .rows import OutputSpec
from .stream import predict_catalog

__all__ = ["ENGINES", "PredictionPlan", "plan_prediction"]

ENGINES = ("local", "dask")


@dataclass
class PredictionPlan:
    """A checked prediction run: ``kind`` is ``"hats"``, ``"dask"`` or ``"local"``; ``run``
    starts it (``progress`` is called by the local path only, see
    :func:`~zphot.scale.stream.predict_catalog`)."""

    kind: str
    description: str
    model: Path
    estimator: Any
    source: Path
    out: Path
    survey: Survey
    spec: OutputSpec
    options: dict[str, Any] = field(default_factory=dict)

    def run(self, progress: Progress | None = None) -> StreamResult:
        common = {"survey": self.survey, "spec": self.spec, **self.options}
        if self.kind == "hats":
            model = self.model if self.options["engine"] == "dask" else self.estimator
            return predict_hats(model, self.source, self.out, **common)
        if self.kind == "dask":
            from .dask import predict_dask

            return predict_dask(self.model, self.source, self.out, **common)
        return predict_catalog(self.estimator, self.source, self.out, progress=progress, **common)


def plan_prediction(
    model: str | os.PathLike,
    catalog: str,
    out: str | os.PathLike,
    *,
    preset: str | None = None,
    survey: str | os.PathLike | None = None,
    spec: OutputSpec | dict[str, Any] | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    chunk_size: int | None = None,
    resume: bool = False,
    qp: str | os.PathLike | None = None,
    partitioned: bool = False,
    overwrite: bool = False,
) -> PredictionPlan:
    """Check the options of a prediction run and pick its path (see the module docstring).

    Parameters are those of ``zphot predict``: ``model`` a model file, ``catalog`` a path or
    ``builtin:NAME``, ``preset``/``survey`` the column mapping (the model's own by default,
    :func:`~zphot.catalog.survey.resolve_survey`), ``spec`` an
    :class:`~zphot.scale.rows.OutputSpec` or its arguments (checked after the engine
    options); the others as for
    :func:`~zphot.scale.stream.predict_catalog` and :func:`~zphot.scale.dask.predict_dask`.

    Raises
    ------
    ParameterError
        An unknown ``engine``; an option the chosen path does not have (``resume`` or ``qp``
        with Dask, ``scheduler`` without it, Parquet-only options with a HATS catalog); an
        output that is, holds or lies inside an input.
    """
    if engine not in ENGINES:
        raise ParameterError(f"--engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    check_not_input({"--out": out, "--qp": qp}, {"--catalog": catalog, "--model": model})
    if engine == "dask" and (resume or qp is not None):
        raise ParameterError(
            "--resume and --qp are options of --engine local; a Dask run restarts as a whole"
        )
    if engine == "local" and scheduler is not None:
        raise ParameterError("--scheduler needs --engine dask")
    spec = OutputSpec(**spec) if isinstance(spec, dict) else spec or OutputSpec()
    estimator = load(model)
    chosen = resolve_survey(preset, survey, estimator.survey_)
    path, _ = resolve_catalog(catalog)
    run = (Path(model), estimator, path, Path(out), chosen, spec)
    if is_hats(path):
        used = {"resume": resume, "qp": qp is not None, "chunk_size": chunk_size is not None}
        refuse_options(**used, partitioned=partitioned)
        description = f"predicting HATS catalog {path} over its partitions"
        options = {"overwrite": overwrite, "engine": engine, "scheduler": scheduler}
        return PredictionPlan("hats", description, *run, options)
    if engine == "dask":
        description = f"predicting {path} on Dask ({scheduler or 'LocalCluster'})"
        options = {"scheduler": scheduler, "partitioned": partitioned, "overwrite": overwrite}
        return PredictionPlan("dask", description, *run, options)
    options = {
        "chunk_size": chunk_size,
        "resume": resume,
        "overwrite": overwrite,
        "partitioned": partitioned,
        "qp": qp,
    }
    return PredictionPlan("local", f"predicting {path}", *run, options)
