"""Estimator parameters written on a command line: one ``--set`` grammar for every command.

``PARAM=VALUE`` sets a parameter of the command's one model; ``MODEL.PARAM=VALUE`` names the
model where a command takes several (``zphot compare --models knn,mlp --set knn.k=15``, or the
network inside ``zphot debias``). Values are read as JSON where they parse (numbers, lists,
``true``, ``null``); a comma-separated value whose every item parses (``hidden=128,128``) is a
tuple, the way a shell user writes a list; anything else stays a string.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from ..exceptions import ParameterError

__all__ = ["parse_settings", "parse_value"]


def parse_value(raw: str) -> Any:
    """``"5"`` -> 5, ``"[8, 8]"`` or ``"8,8"`` -> (8, 8), ``"true"`` -> True, ``"auto"`` -> str."""
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
        if "," in raw:
            with contextlib.suppress(json.JSONDecodeError):
                value = json.loads(f"[{raw}]")
    return tuple(value) if isinstance(value, list) else value


def parse_settings(
    items: Iterable[str] | None,
    models: Sequence[str],
    default: str | None = None,
    option: str = "--set",
    role: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Group ``PARAM=VALUE`` / ``MODEL.PARAM=VALUE`` items by model.

    Parameters
    ----------
    items
        The option's values, in command-line order (a later value of a parameter wins).
    models
        The models the command configures; every one gets an entry, empty if not set.
    default
        The model a bare ``PARAM=VALUE`` goes to; without it, the only model of ``models``,
        and a bare item is an error when there are several.
    option
        The option's name, for error messages.
    role
        How the error for an unknown MODEL describes ``models`` (default: "one of A, B").

    Raises
    ------
    ParameterError
        An item without ``=`` or a parameter name, an unknown MODEL, or a bare item where the
        model is ambiguous. Parameter names are checked by the estimator, not here.
    """
    grouped: dict[str, dict[str, Any]] = {m: {} for m in models}
    target = default if default is not None else (models[0] if len(models) == 1 else None)
    form = "PARAM=VALUE" if target is not None else "MODEL.PARAM=VALUE"
    for item in items or []:
        key, eq, raw = item.partition("=")
        key = key.strip()
        # Parameter names never contain a dot; a model label may (a file called my.model).
        model, dot, param = key.rpartition(".")
        if not eq or not param or (dot and not model):
            raise ParameterError(f"{option} needs {form}, got {item!r}")
        if not dot and target is None:
            raise ParameterError(
                f"{option} {item}: several models take parameters ({', '.join(models)}); "
                f"write MODEL.PARAM=VALUE, e.g. {models[0]}.{item}"
            )
        model = model if dot else target
        if model not in grouped:
            where = role or f"one of {', '.join(models)}"
            raise ParameterError(f"{option} {key}: model '{model}' is not {where}")
        grouped[model][param] = parse_value(raw)
    return grouped
