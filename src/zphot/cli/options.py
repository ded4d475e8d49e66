"""Options shared by several commands, and turning them into catalogs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..catalog import Catalog, read_catalog, redshift_range, select
from ..catalog.bands import Survey
from ..catalog.coerce import guess_preset
from ..catalog.survey import list_presets, load_survey
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
    typer.Option("--survey", help="Survey description TOML (bands, columns), instead of --preset."),
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


def resolve_survey(
    path: Path, preset: str | None, survey_file: Path | None, default: str | None
) -> Survey:
    if preset and survey_file:
        raise ParameterError("give --preset or --survey, not both")
    if survey_file:
        return load_survey(survey_file)
    if preset or default:
        return load_survey(preset or default)
    return guess_survey(path)


def open_catalog(
    spec: str,
    preset: str | None = None,
    survey_file: Path | None = None,
    selections: list[str] | None = None,
    z_max: float | None = None,
    survey: Survey | None = None,
) -> Catalog:
    """Read ``spec`` (a path or ``builtin:NAME``), then apply ``--select`` and ``--z-max``."""
    path, default = resolve_catalog(spec)
    if survey is None:
        if not path.exists():
            raise ParameterError(f"{path}: no such file")
        survey = resolve_survey(path, preset, survey_file, default)
    cat = read_catalog(path, survey)
    for sel in selections or []:
        if "=" not in sel:
            raise ParameterError(f"--select needs COLUMN=VALUE, got {sel!r}")
        column, value = sel.split("=", 1)
        cat = select(cat, column.strip(), value.strip())
    if z_max is not None:
        cat = redshift_range(cat, -1.0, z_max)
    return cat
