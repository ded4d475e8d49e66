"""Survey TOML files: data only, validated with errors that name the key; built-in presets."""

from __future__ import annotations

import pytest

import zphot
from zphot.catalog import Band, Survey, list_presets, load_survey, survey_from_dict
from zphot.exceptions import ParameterError

VALID = """
name = "mysurvey"
reference_band = "i"
mag_err_floor = 0.01

[columns]
id = "objid"
redshift = "zspec"
size = "r50"
ra = "ra"
dec = "dec"

[missing]
sentinels = [-1, 99.0]

[[bands]]
name = "r"
mag = "MAG_R"
mag_err = "MAGERR_R"
filter = "sdss2010-r"
wavelength = 6166

[[bands]]
name = "i"
flux = "FLUX_I"
flux_err = "FLUXERR_I"
flux_unit = "uJy"
wavelength = 7480.5
"""


def _write(tmp_path, text: str, name: str = "survey.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_valid_user_file_loads(tmp_path):
    s = load_survey(_write(tmp_path, VALID))
    assert s.name == "mysurvey"
    assert s.band_names == ("r", "i")
    assert s.band("r") == Band(
        "r", mag="MAG_R", mag_err="MAGERR_R", filter="sdss2010-r", wavelength=6166
    )
    assert s.band("i").flux == "FLUX_I" and s.band("i").flux_unit == "uJy"
    assert s.band("i").columns == ("FLUX_I", "FLUXERR_I")
    assert (s.id, s.redshift, s.size, s.ra, s.dec) == ("objid", "zspec", "r50", "ra", "dec")
    assert s.sentinels == (-1.0, 99.0)
    assert s.reference_band == "i"
    assert s.mag_err_floor == 0.01


def test_to_dict_round_trips():
    for preset in list_presets():
        s = load_survey(preset)
        assert survey_from_dict(s.to_dict()) == s


def test_name_defaults_to_file_stem_and_reference_to_r(tmp_path):
    text = '[[bands]]\nname = "g"\nmag = "g"\n[[bands]]\nname = "r"\nmag = "r"\n'
    s = load_survey(_write(tmp_path, text, "deep_field.toml"))
    assert s.name == "deep_field"
    assert s.reference_band == "r"
    assert s.sentinels == (99.0, -99.0)


def test_a_survey_passes_through():
    s = load_survey("sdss")
    assert load_survey(s) is s


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('name = "mysurvey"', 'name = "mysurvey"\ncolour = "blue"', "colour"),
        ('filter = "sdss2010-r"', 'filter = "sdss2010-r"\nzeropoint = 25', "zeropoint"),
        ('name = "r"\n', "", "name"),
        ("wavelength = 6166", "wavelength = -5", "wavelength"),
        ("wavelength = 6166", 'wavelength = "red"', "wavelength"),
        ('reference_band = "i"', 'reference_band = "y"', "reference_band"),
        ('redshift = "zspec"', 'redshift = "zspec"\nweight = "w"', "weight"),
        ("sentinels = [-1, 99.0]", 'sentinels = ["none"]', "sentinels"),
        ("mag_err_floor = 0.01", "mag_err_floor = -1", "mag_err_floor"),
        ('mag = "MAG_R"\n', "", "mag"),
    ],
)
def test_bad_file_names_the_key(tmp_path, old, new, key):
    assert old in VALID
    path = _write(tmp_path, VALID.replace(old, new, 1))
    with pytest.raises(ParameterError) as err:
        load_survey(path)
    assert key in str(err.value)
    assert str(path) in str(err.value)


def test_repeated_band_and_no_bands(tmp_path):
    with pytest.raises(ParameterError, match="repeat"):
        load_survey(_write(tmp_path, VALID.replace('name = "i"', 'name = "r"')))
    with pytest.raises(ParameterError, match="'bands'"):
        survey_from_dict({"name": "x"})


def test_not_toml_and_missing_file(tmp_path):
    with pytest.raises(ParameterError, match="not valid TOML"):
        load_survey(_write(tmp_path, "name = = 3"))
    with pytest.raises(ParameterError, match="no such survey file"):
        load_survey(tmp_path / "absent.toml")


def test_unknown_preset_lists_the_presets():
    with pytest.raises(ParameterError, match="unknown survey preset 'euclid'") as err:
        load_survey("euclid")
    for name in list_presets():
        assert name in str(err.value)


def test_toml_is_data_not_code(tmp_path):
    # A string that would do harm if evaluated is just an (odd) column name.
    s = load_survey(_write(tmp_path, VALID.replace('"MAG_R"', "\"__import__('os').getcwd()\"")))
    assert s.band("r").mag == "__import__('os').getcwd()"


def test_presets():
    assert {"sdss", "lsst"} <= set(list_presets())
    sdss = load_survey("sdss")
    assert isinstance(sdss, Survey)
    assert sdss.band_names == ("u", "g", "r", "i", "z")
    assert [b.mag for b in sdss.bands] == ["u", "g", "r", "i", "z"]
    assert sdss.redshift == "redshift"
    lsst = load_survey("lsst")
    assert lsst.band_names == ("u", "g", "r", "i", "z", "y")
    assert [b.mag for b in lsst.bands] == [f"mag_{b}_lsst" for b in "ugrizy"]
    assert [b.mag_err for b in lsst.bands] == [f"mag_err_{b}_lsst" for b in "ugrizy"]
    assert lsst.id == "id" and lsst.redshift == "redshift"
    for s in (sdss, lsst):
        waves = [b.wavelength for b in s.bands]
        assert waves == sorted(waves)  # colours are differences of adjacent bands
        assert all(b.filter for b in s.bands)
        assert s.reference_band in s.band_names


def test_public_names():
    assert zphot.load_survey is load_survey
    assert zphot.Survey is Survey
