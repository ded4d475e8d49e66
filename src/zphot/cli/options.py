"""Options shared by several commands, and turning them into catalogs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..catalog import Catalog, read_catalog, redshift_range, select
from ..catalog.bands import Survey
from ..catalog.coerce import guess_preset
from ..catalog.survey import list_presets, load_survey, resolve_survey
from ..datasets import resolve_catalog
from ..exceptions import ParameterError
from ..io import read_table

Preset = Annotated[
    str | None,
    typer.Option(
        "--preset",
        help=f"Survey preset: {', '.join(list_presets())} [default: the model's or built-in "
        "catalog's, else the preset whose columns the catalog has].",
    ),
]
SurveyFile = Annotated[
    Path | None,
    typer.Option(
        "--survey",
        help="Survey description TOML (bands, columns, [observing]), instead of --preset.",
    ),
]
Select = Annotated[
    list[str] | None,
    typer.Option(
        "--select",
        help="Keep rows where COLUMN=VALUE, e.g. spec_class=GALAXY; repeatable "
        "[default: all rows].",
    ),
]
ZMax = Annotated[
    float | None,
    typer.Option("--z-max", help="Drop rows with redshift above this, e.g. 2 [default: no cut]."),
]


def guess_survey(path: Path) -> Survey:
    """The first preset whose band columns are all in the file, else a clear error."""
    survey = guess_preset(read_table(path).columns)
    if survey is not None:
        return survey
    raise ParameterError(
        f"{path}: columns match no preset ({', '.join(list_presets())}); "
        "describe them with --survey FILE.toml"
    )


def open_catalog(
    spec: str,
    preset: str | None = None,
    survey_file: Path | None = None,
    selections: list[str] | None = None,
    z_max: float | None = None,
    survey: Survey | None = None,
    fallback: Survey | None = None,
) -> Catalog:
    """Read ``spec`` (a path or ``builtin:NAME``), then apply ``--select`` and ``--z-max``.

    ``survey`` reads it as an already chosen survey; otherwise ``--preset``/``--survey`` decide
    (:func:`zphot.catalog.survey.resolve_survey`), else ``fallback`` (a model's survey), the
    built-in catalog's preset, or the preset whose columns the file has.
    """
    path, default = resolve_catalog(spec)
    if survey is None:
        if not path.exists():
            raise ParameterError(f"{path}: no such file")
        survey = resolve_survey(
            preset,
            survey_file,
            fallback or (lambda: load_survey(default) if default else guess_survey(path)),
        )
    cat = read_catalog(path, survey)
    for sel in selections or []:
        if "=" not in sel:
            raise ParameterError(f"--select needs COLUMN=VALUE, got {sel!r}")
        column, value = sel.split("=", 1)
        cat = select(cat, column.strip(), value.strip())
    if z_max is not None:
        cat = redshift_range(cat, -1.0, z_max)
    return cat
