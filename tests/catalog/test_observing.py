"""The ``[observing]`` table of a survey TOML: the presets' numbers, validation, round trips,
and the one rule for ``--preset`` / ``--survey``."""

from __future__ import annotations

import tomllib

import pytest

from zphot.catalog.observing import POPULATIONS, Observing
from zphot.catalog.survey import load_survey, resolve_survey, survey_from_dict
from zphot.exceptions import ParameterError
from zphot.sim.population import SELECTIONS

# The values of the removed Python dict ``zphot.sim.observing.OBSERVING`` (main before the
# [observing] tables), copied by hand from that file: the presets must give the same numbers.
_FIELDS = ("bands", "m5", "sky", "psf_fwhm", "pixel_scale", "moffat_beta", "error_floor")
# fmt: off
OLD_OBSERVING = {name: dict(zip(_FIELDS, row, strict=True)) for name, row in {
    "sdss": (("u", "g", "r", "i", "z"), (22.0, 22.2, 22.2, 21.3, 20.5),
             (22.0, 21.8, 21.0, 20.3, 18.6), (1.5, 1.4, 1.3, 1.25, 1.25), 0.396, 3.5, 0.02),
    "lsst": (("u", "g", "r", "i", "z", "y"), (25.6, 26.9, 26.9, 26.4, 25.6, 24.8),
             (22.99, 22.26, 21.20, 20.48, 19.60, 18.61), (0.92, 0.87, 0.83, 0.80, 0.78, 0.76),
             0.2, 3.5, 0.01),
    "hsc": (("g", "r", "i", "z", "y"), (26.5, 26.1, 25.9, 25.1, 24.4),
            (22.0, 21.3, 20.3, 19.6, 18.6), (0.77, 0.76, 0.58, 0.68, 0.68), 0.168, 3.5, 0.01),
}.items()}
# fmt: on
# What the removed name checks chose: photerr for "lsst", the SDSS population for "sdss".
OLD_CHOICES = {
    "sdss": ("depth", "sdss"),
    "lsst": ("photerr-lsst", "deep"),
    "hsc": ("depth", "deep"),
}

TWO_BANDS = """
name = "two"
[[bands]]
name = "g"
mag = "g"
[[bands]]
name = "r"
mag = "r"
"""
OBSERVING = """
[observing]
m5 = [24.0, 23.5]
sky = [22.0, 21.0]
psf_fwhm = [1.0, 0.9]
pixel_scale = 0.25
"""


def _survey(extra: str = "", observing: str = OBSERVING):
    return survey_from_dict(tomllib.loads(TWO_BANDS + observing + extra), source="my.toml")


@pytest.mark.parametrize("name", ["sdss", "lsst", "hsc"])
def test_presets_keep_the_old_numbers(name):
    obs = load_survey(name).observing
    assert obs == Observing(name, **OLD_OBSERVING[name], error_model=OLD_CHOICES[name][0],
                            population=OLD_CHOICES[name][1])  # fmt: skip


@pytest.mark.parametrize("name", ["sdss", "lsst", "hsc"])
def test_survey_round_trips_with_its_observing_table(name):
    survey = load_survey(name)
    back = survey_from_dict(survey.to_dict())
    assert back == survey and back.observing == survey.observing
    # A model saved before the table existed stores no observing: its survey still equals the
    # preset, so a Catalog read with the preset is accepted for it.
    old = {k: v for k, v in survey.to_dict().items() if k != "observing"}
    assert survey_from_dict(old) == survey and survey_from_dict(old).observing is None


def test_defaults_and_the_zero_point_tie_image_noise_to_depth():
    obs = _survey().observing
    assert (obs.moffat_beta, obs.error_floor, obs.error_model, obs.population) == (
        3.5,
        0.01,
        "depth",
        "deep",
    )
    # A point source at m5 has S/N 5 against the sky in n_eff = 2.266 (FWHM/pix)^2 pixels.
    n_eff = 2.266 * (1.0 / 0.25) ** 2
    f5 = 10 ** (-0.4 * (24.0 - obs.zero_point("g")))
    assert f5 / (n_eff * obs.sky_counts("g")) ** 0.5 == pytest.approx(5.0)


def test_populations_name_the_simulator_selections():
    assert set(POPULATIONS) == set(SELECTIONS)


@pytest.mark.parametrize(
    ("observing", "message"),
    [
        (OBSERVING + "seeing = 1.0\n", "my.toml: [observing]: unknown key 'seeing' (allowed: "),
        (
            OBSERVING.replace("[24.0, 23.5]", "[24.0]"),
            "my.toml: [observing] 'm5' needs one value per band (2: g, r), got 1",
        ),
        (
            OBSERVING.replace("sky = [22.0, 21.0]\n", ""),
            "my.toml: [observing] needs 'sky' (one value per band: g, r)",
        ),
        (OBSERVING.replace("pixel_scale = 0.25\n", ""), "my.toml: [observing] needs 'pixel_scale'"),
        (OBSERVING.replace("0.25", "0"), "my.toml: [observing] 'pixel_scale' must be > 0"),
        (
            OBSERVING.replace("[1.0, 0.9]", '[1.0, "x"]'),
            "my.toml: [observing] 'psf_fwhm[1]' must be a number, got 'x'",
        ),
        (
            OBSERVING + 'error_model = "lsst"\n',
            "my.toml: [observing] 'error_model' must be one of depth, photerr-lsst, got 'lsst'",
        ),
        (
            OBSERVING + 'population = "wide"\n',
            "my.toml: [observing] 'population' must be one of sdss, deep, got 'wide'",
        ),
    ],
)
def test_observing_errors_are_one_line_naming_the_key(observing, message):
    with pytest.raises(ParameterError) as info:
        _survey(observing=observing)
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_observing_must_be_a_table():
    data = tomllib.loads(TWO_BANDS) | {"observing": 3}
    with pytest.raises(ParameterError, match=r"^my.toml: \[observing\] must be a table$"):
        survey_from_dict(data, source="my.toml")


def test_photerr_needs_lsst_band_names():
    text = TWO_BANDS.replace('name = "g"', 'name = "F435W"') + OBSERVING
    with pytest.raises(ParameterError, match="'photerr-lsst' needs bands among ugrizy"):
        survey_from_dict(tomllib.loads(text + 'error_model = "photerr-lsst"\n'))


def test_a_survey_without_observing_reads_catalogs_but_cannot_simulate():
    survey = _survey(observing="")
    assert survey.observing is None and "observing" not in survey.to_dict()
    with pytest.raises(ParameterError, match=r"^survey 'two' has no \[observing\] table; "):
        survey.require_observing()


def test_resolve_survey_one_rule():
    with pytest.raises(ParameterError, match="^give --preset or --survey, not both$"):
        resolve_survey("sdss", "my.toml", load_survey("lsst"))
    with pytest.raises(ParameterError, match=r"^give --preset NAME \(hsc, lsst, sdss\) or "):
        resolve_survey(None, None)
    assert resolve_survey("hsc", None, load_survey("lsst")).name == "hsc"
    assert resolve_survey(None, "hsc", load_survey("lsst")).name == "hsc"
    assert resolve_survey(None, None, load_survey("lsst")).name == "lsst"

    def never() -> None:
        raise AssertionError("the fallback runs only when neither is given")

    assert resolve_survey("sdss", None, never).name == "sdss"
    assert resolve_survey(None, None, lambda: load_survey("sdss")).name == "sdss"
