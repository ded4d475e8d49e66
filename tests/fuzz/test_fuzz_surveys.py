"""Bad survey TOML files on ``info`` and ``train``, and corrupt checkpoints on ``train``.

A survey file is a user's description of their columns: every mistake in it is bad usage
(exit 2) named by key, with the closest valid key for a typo.
"""

from __future__ import annotations

import shutil

import pytest
from harness import Case, run_case

GOOD = """name = "mine"
reference_band = "r"

[columns]
redshift = "redshift"

[missing]
sentinels = [99.0, -99.0]

[validation]
mag_range = [5.0, 40.0]
""" + "".join(f'\n[[bands]]\nname = "{b}"\nmag = "{b}"\n' for b in "ugriz")

# name -> (file text or bytes, what the error must say)
BAD: dict[str, tuple[str | bytes, str]] = {
    "sentinel typo": (GOOD.replace("sentinels =", "sentinel ="), "did you mean 'sentinels'?"),
    "top-level typo": (GOOD.replace("reference_band", "referense_band"), "'reference_band'"),
    "columns typo": (GOOD.replace('redshift = "redshift"', 'redshfit = "redshift"'), "redshift"),
    "band key typo": (GOOD.replace('mag = "u"', 'mga = "u"'), "did you mean 'mag'?"),
    "validation typo": (GOOD.replace("mag_range", "mag_rnge"), "did you mean 'mag_range'?"),
    "unknown table": (GOOD + "\n[extras]\nx = 1\n", "unknown key 'extras'"),
    "mag_range reversed": (GOOD.replace("[5.0, 40.0]", "[40.0, 5.0]"), "mag_range"),
    "mag_range text": (GOOD.replace("[5.0, 40.0]", '"5-40"'), "mag_range"),
    "max_bad_fraction 2": (GOOD + "", ""),
    "sentinels text": (GOOD.replace("[99.0, -99.0]", '"99"'), "sentinels"),
    "sentinels bools": (GOOD.replace("[99.0, -99.0]", "[true]"), "sentinels"),
    "missing not a table": (GOOD.replace("[missing]\nsentinels = [99.0, -99.0]", ""), ""),
    "bands not a list": ('name = "x"\nbands = "ugriz"\n', "'bands'"),
    "no bands": ('name = "x"\n', "'bands'"),
    "band name number": (GOOD.replace('name = "u"', "name = 7"), "'name'"),
    "band mag number": (GOOD.replace('mag = "u"', "mag = 7"), "'mag'"),
    "wavelength bool": (GOOD.replace('mag = "u"', 'mag = "u"\nwavelength = true'), "wavelength"),
    "columns number": (GOOD.replace('redshift = "redshift"', "redshift = 3"), "redshift"),
    "floor negative": (GOOD.replace('reference_band = "r"', "mag_err_floor = -1"), "floor"),
    "reference band absent": (GOOD.replace('reference_band = "r"', 'reference_band = "y"'), "y"),
    "repeated band": (GOOD.replace('name = "g"', 'name = "u"'), "repeat"),
    "not toml": ("name = = 3", "not valid TOML"),
    "binary": (bytes(range(256)), "not valid TOML"),
    "empty": ("", "'bands'"),
    "mapped column absent": (GOOD.replace('mag = "z"', 'mag = "zz"'), "'zz'"),
}
BAD["max_bad_fraction 2"] = (
    GOOD.replace("[validation]", "[validation]\nmax_bad_fraction = 2"),
    "max_bad_fraction",
)
BAD["missing not a table"] = (
    "missing = 3\n" + GOOD.replace("[missing]\nsentinels = [99.0, -99.0]", ""),
    "[missing] must be a table",
)


@pytest.mark.parametrize("command", ["info", "train"])
@pytest.mark.parametrize("bad", list(BAD))
def test_bad_survey(bad, command, good, tmp_path):
    text, says = BAD[bad]
    survey = tmp_path / "survey.toml"
    if isinstance(text, bytes):
        survey.write_bytes(text)
    else:
        survey.write_text(text)
    catalog = tmp_path / "train.csv"
    shutil.copy(good["train"], catalog)
    out = tmp_path / "m.zphot"
    args = {
        "info": ["info", "--catalog", catalog, "--survey", survey],
        "train": [
            "train",
            "--model",
            "knn",
            "--catalog",
            catalog,
            "--out",
            out,
            "--survey",
            survey,
        ],
    }[command]
    codes = (1,) if bad == "mapped column absent" else (2,)
    run_case(Case(f"{command} with {bad}", args, codes, says, absent=[out]), tmp_path)


def test_good_survey_is_accepted(good, tmp_path):
    """The base text of every bad case above is itself valid (so each case tests one fault)."""
    survey = tmp_path / "survey.toml"
    survey.write_text(GOOD)
    run_case(
        Case("good survey", ["info", "--catalog", good["train"], "--survey", survey], (0,)),
        tmp_path,
    )


CHECKPOINTS: dict[str, bytes] = {
    "empty": b"",
    "garbage": bytes(range(256)) * 4,
    "truncated zip": b"PK\x03\x04" + b"\x00" * 60,
    "text": b"checkpoint",
}


@pytest.mark.parametrize("bad", list(CHECKPOINTS))
def test_corrupt_checkpoint(bad, good, tmp_path):
    """A corrupt checkpoint in OUT.ckpt/: one line (or a warning and a fresh start), and its
    bytes kept (set aside under another name is fine, deleted is not)."""
    catalog = tmp_path / "train.csv"
    shutil.copy(good["train"], catalog)
    ckpt = tmp_path / "m.zphot.ckpt"
    ckpt.mkdir()
    (ckpt / "member0.npz").write_bytes(CHECKPOINTS[bad])
    args = ["train", "--model", "mlp", "--catalog", catalog, "--out", tmp_path / "m.zphot"]
    args += ["--preset", "sdss", "--set", "max_epochs=2"]
    run_case(Case(f"checkpoint {bad}", args, (0, 1), moved_ok=True), tmp_path)
