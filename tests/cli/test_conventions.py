"""CLI conventions users of typer/click tools expect: --version, python -m zphot, global options
on either side of the subcommand, help text, and one --set grammar."""

from __future__ import annotations

import inspect
import logging
import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_helpers import one_error_line, zphot

import zphot as zphot_package
from zphot.cli.app import COMMANDS, LazyCommand, _load
from zphot.estimators.settings import parse_settings, parse_value
from zphot.exceptions import ParameterError

SRC = str(Path(zphot_package.__file__).resolve().parents[1])
ENV = os.environ | {"PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])}


def run_python(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], env=ENV | env, capture_output=True, text=True, timeout=120
    )


def flat(text: str) -> str:
    """Help text without rich's box characters and line wrapping."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


@pytest.fixture
def predictions(tmp_path):
    path = tmp_path / "pred.csv"
    z = np.linspace(0.1, 1.0, 20)
    pd.DataFrame({"z_spec": z, "z_phot": z + 0.01}).to_csv(path, index=False)
    return path


# --- --version and python -m zphot ------------------------------------------------------------


def test_version_prints_the_installed_distribution_version():
    result = zphot("--version")
    assert result.exit_code == 0, result.output
    # Read independently of zphot._version: the metadata pip installed.
    assert result.stdout == f"zphot {version('zphot')}\n"
    assert zphot_package.__version__ == version("zphot")


def test_python_dash_m_zphot_lists_every_command():
    result = run_python("-m", "zphot", "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage: python -m zphot" in result.stdout
    for name in COMMANDS:
        assert re.search(rf"│ {re.escape(name)} ", result.stdout), name
    assert run_python("-m", "zphot", "--version").stdout.strip() == f"zphot {version('zphot')}"


def test_help_and_version_load_no_science_stack():
    # What makes them start fast: the command modules (and numpy, pandas, scikit-learn, torch
    # behind them) are imported only when a command runs.
    code = (
        "import sys\n"
        "from zphot.cli.app import main\n"
        "for argv in (['--help'], ['--version']):\n"
        "    sys.argv = ['zphot', *argv]\n"
        "    try:\n"
        "        main()\n"
        "    except SystemExit as exc:\n"
        "        assert exc.code == 0, exc.code\n"
        "heavy = ('numpy', 'pandas', 'scipy', 'sklearn', 'torch', 'lightgbm', 'matplotlib',"
        " 'astropy', 'zphot.cli.commands.model')\n"
        "print('loaded:', [m for m in heavy if m in sys.modules], file=sys.stderr)\n"
    )
    result = run_python("-c", code)
    assert result.returncode == 0, result.stderr
    assert "loaded: []" in result.stderr


# --- global options after the subcommand ------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "level"),
    [
        (("-v", "evaluate", "--predictions", "{path}"), logging.INFO),
        (("evaluate", "--predictions", "{path}", "-v"), logging.INFO),
        (("evaluate", "--predictions", "{path}", "-vv"), logging.DEBUG),
        # -q after the subcommand wins over -v before it (quiet: warnings and errors only).
        (("-v", "evaluate", "--predictions", "{path}", "-q"), logging.WARNING),
        (("evaluate", "-q", "--predictions", "{path}"), logging.WARNING),
    ],
)
def test_global_logging_options_on_either_side(predictions, args, level):
    result = zphot(*(a.format(path=predictions) for a in args))
    assert result.exit_code == 0, result.output
    assert logging.getLogger().level == level


def test_debug_after_the_subcommand_shows_the_traceback(tmp_path):
    missing = tmp_path / "nope.csv"
    plain = zphot("info", "--catalog", missing)
    assert plain.exit_code != 0 and "no such file" in one_error_line(plain)
    debug = zphot("info", "--catalog", missing, "--debug")
    assert isinstance(debug.exception, ParameterError)  # raised, not printed as one line
    assert "no such file" in str(debug.exception)


def test_global_options_do_not_leak_into_the_next_run(predictions):
    assert zphot("evaluate", "--predictions", predictions, "-vv").exit_code == 0
    assert zphot("evaluate", "--predictions", predictions).exit_code == 0
    assert logging.getLogger().level == logging.WARNING


# --- one way to pass the catalog -------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "option"), [("info", "--catalog"), ("evaluate", "--predictions")]
)
def test_the_input_file_is_an_option_only(tmp_path, command, option):
    # Issue 18: every command takes its input as an option; a bare path is a usage error (exit 2)
    # that names the option to use.
    result = zphot(command, tmp_path / "cat.csv")
    assert result.exit_code == 2
    assert f"Missing option '{option}'" in result.output


# --- help and zphot models --------------------------------------------------------------------


@pytest.mark.parametrize("name", list(COMMANDS))
def test_help_lists_each_command_with_its_own_summary(name):
    # The summary zphot --help shows without importing the command equals its docstring's first
    # paragraph (or the group's help), so the two cannot drift apart.
    cmd = _load(name)
    assert COMMANDS[name].summary == " ".join(inspect.cleandoc(cmd.help).split("\n\n")[0].split())
    assert COMMANDS[name].summary in flat(zphot("--help").stdout)


@pytest.mark.parametrize("name", [*COMMANDS, "simulate catalog", "simulate images"])
def test_help_shows_no_bool_metavar(name):
    result = zphot(*name.split(), "--help")
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.stdout
    assert "-q" in result.stdout and "--debug" in result.stdout


def test_help_prints_brackets_and_defaults_literally():
    # A wide terminal keeps each option's help on one row (typer reads TERMINAL_WIDTH at import).
    result = run_python("-m", "zphot", "predict", "--help", TERMINAL_WIDTH="250")
    assert result.returncode == 0, result.stderr
    text = flat(result.stdout)
    assert "Rows per chunk [default: from output width]." in text
    assert "[default: LocalCluster]" in text
    assert "[default: local]" in text


def test_models_lists_every_estimator_on_one_full_line():
    from zphot.estimators.registry import _REGISTRY

    result = zphot("models")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(_REGISTRY)
    by_name = {line.split()[0]: line.split(None, 1)[1] for line in lines}
    # Whole first sentences, known from the estimators' docstrings (they wrap in the source).
    assert by_name["knn"] == (
        "k-nearest neighbours in scaled colour-magnitude space; the PDF is a kernel density "
        "of the neighbours' redshifts."
    )
    assert by_name["image-cnn"].startswith("Inception CNN on multi-band stamps")
    assert by_name["debiased"] == (
        "A network estimator with the four bias-correction steps of Lin et al. (2022)."
    )
    assert all(line.rstrip().endswith(".") for line in lines)


def test_lazy_command_table_names_real_modules():
    for spec in COMMANDS.values():
        assert isinstance(spec, LazyCommand)
        assert (Path(SRC) / "zphot/cli/commands" / f"{spec.module}.py").is_file()


# --- one --set grammar --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("5", 5),
        ("0.3", 0.3),
        ("128,128", (128, 128)),
        ("[8, 8]", (8, 8)),
        ("true", True),
        ("null", None),
        ("median", "median"),
        ("a,b", "a,b"),  # not every item parses: a string, as typed
    ],
)
def test_set_values(raw, value):
    assert parse_value(raw) == value


def test_set_param_for_a_single_model_and_model_param_for_several():
    assert parse_settings(["k=5", "knn.leaf=3"], ["knn"]) == {"knn": {"k": 5, "leaf": 3}}
    assert parse_settings(["knn.k=15", "mlp.hidden=64,64", "knn.k=20"], ["knn", "mlp"]) == {
        "knn": {"k": 20},  # the later value wins, as on any command line
        "mlp": {"hidden": (64, 64)},
    }
    # A model label may contain dots (a file my.model.zphot); a parameter name never does.
    assert parse_settings(["my.model.k=2"], ["my.model", "knn"])["my.model"] == {"k": 2}
    # debias: bare items configure the wrapper, MODEL.PARAM its network.
    got = parse_settings(
        ["kept_fraction=0.3", "mlp.max_epochs=30"], ["debiased", "mlp"], default="debiased"
    )
    assert got == {"debiased": {"kept_fraction": 0.3}, "mlp": {"max_epochs": 30}}
    assert parse_settings(None, ["knn"]) == {"knn": {}}


@pytest.mark.parametrize(
    ("items", "models", "message"),
    [
        (["k"], ["knn"], "--set needs PARAM=VALUE, got 'k'"),
        (["=5"], ["knn"], "--set needs PARAM=VALUE, got '=5'"),
        (["knn.=5"], ["knn", "mlp"], "--set needs MODEL.PARAM=VALUE, got 'knn.=5'"),
        ([".k=5"], ["knn"], "--set needs PARAM=VALUE, got '.k=5'"),
        (
            ["k=5"],
            ["knn", "mlp"],
            "--set k=5: several models take parameters (knn, mlp); write MODEL.PARAM=VALUE, "
            "e.g. knn.k=5",
        ),
        (["lgbm.k=5"], ["knn", "mlp"], "--set lgbm.k: model 'lgbm' is not one of knn, mlp"),
    ],
)
def test_set_errors(items, models, message):
    with pytest.raises(ParameterError) as info:
        parse_settings(items, models)
    assert str(info.value) == message


def test_train_takes_param_and_model_param(tmp_path):
    from zphot.testing import synthetic_catalog

    catalog = tmp_path / "train.csv"
    synthetic_catalog(300, random_state=0).table.to_csv(catalog, index=False)
    for setting, out in (("k=7", "a.zphot"), ("knn.k=7", "b.zphot")):
        args = ("--catalog", catalog, "--preset", "sdss", "--out", tmp_path / out)
        result = zphot("train", "--model", "knn", *args, "--set", setting, "-q")
        assert result.exit_code == 0, result.output
        assert zphot_package.load(tmp_path / out).get_params()["k"] == 7


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (
            ("train", "--model", "knn", "--set", "lgbm.k=3"),
            "--set lgbm.k: model 'lgbm' is not the --model (knn)",
        ),
        (
            ("compare", "--models", "knn,lgbm", "--set", "k=3"),
            "--set k=3: several models take parameters (knn, lgbm); write MODEL.PARAM=VALUE, "
            "e.g. knn.k=3",
        ),
        (
            ("debias", "--model", "mlp", "--set", "gat.hidden=8"),
            "--set gat.hidden: model 'gat' is not one of debiased, mlp",
        ),
        (("debias", "--model", "mlp", "--net", "hidden"), "--net needs PARAM=VALUE, got 'hidden'"),
    ],
)
def test_set_errors_on_the_command_line(tmp_path, command, message):
    result = zphot(*command, "--catalog", tmp_path / "none.csv", "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert one_error_line(result) == f"error: {message}"
