"""Mock photometric catalogs: the simulated population through a survey's filter curves.

The same seed gives the same galaxies (redshift, type, reference magnitude, structure) for
every survey sharing a population selection, so ``--survey lsst`` and ``--survey hsc`` with
one seed observe one set of galaxies through two filter sets.

Errors follow the survey's ``[observing]`` table (:class:`zphot.catalog.observing.Observing`):
``error_model = "photerr-lsst"`` is the photerr model (Crenshaw et al. 2024;
``photerr.LsstErrorModel``, 10-year depth); ``"depth"`` is a sky-limited depth model: flux noise
sigma_F = F(m5) / 5 per band, drawn in flux space, magnitude error 1.0857 sigma_F / F with the
survey's calibration floor added in quadrature. Galaxies measured below 1 sigma keep NaN
(zphot's "not measured") in that band.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._rng import child_generator
from ..catalog.bands import Survey
from ..catalog.observing import Observing
from ..catalog.survey import load_survey
from .population import SELECTIONS, TYPES, draw_population, draw_structure

__all__ = ["simulate_catalog", "STRUCTURE_COLUMNS"]

#: Columns every simulated catalog (and a real one prepared for imaging) carries besides the
#: survey's magnitude columns; ``flux_bulge_<band>`` / ``flux_disk_<band>`` follow per band.
STRUCTURE_COLUMNS = (
    "type",
    "bulge_fraction",
    "abs_mag_r",
    "r50_kpc",
    "r_bulge",
    "r_disk",
    "q_bulge",
    "q_disk",
    "beta",
)


def simulate_catalog(
    n: int, survey: str | Survey, seed: int = 0, *, selection: str | None = None
) -> pd.DataFrame:
    """A mock catalog of ``n`` galaxies observed by ``survey``.

    Parameters
    ----------
    n : int
    survey : str or Survey
        Preset name or survey (bands need ``filter`` curves, and the survey an ``[observing]``
        table); the table uses its columns.
    seed : int
        Galaxies come from stream (seed, 0), structure from (seed, 1) and photometric noise
        from (seed, 2), so two surveys with one seed share galaxies.
    selection : {"sdss", "deep"}, optional
        Population (default: the survey's ``[observing]`` ``population``).

    Returns
    -------
    DataFrame
        ``id``, ``redshift``, the survey's magnitude (and error) columns, ``type_name``, the
        :data:`STRUCTURE_COLUMNS` and per band ``flux_bulge_<band>``, ``flux_disk_<band>``
        (true fluxes, nanomaggies) and ``mag_true_<band>``.

    Examples
    --------
    >>> cat = simulate_catalog(50, "hsc", seed=1)
    >>> cat2 = simulate_catalog(50, "lsst", seed=1)
    >>> bool((cat["redshift"] == cat2["redshift"]).all())
    True
    """
    survey = load_survey(survey)
    obs = survey.require_observing()
    selection = selection or obs.population
    sel = SELECTIONS[selection]
    pop = draw_population(n, selection, child_generator(seed, 0))
    filters = tuple(b.filter for b in survey.bands)
    struct = draw_structure(
        pop["type"].to_numpy(),
        pop["redshift"].to_numpy(),
        pop["m_ref"].to_numpy(),
        sel.filter,
        filters,
        child_generator(seed, 1),
    )
    table = {"id": np.arange(n, dtype=np.int64), "redshift": pop["redshift"].to_numpy()}
    true_flux = np.column_stack(
        [struct[f"flux_bulge_{k}"] + struct[f"flux_disk_{k}"] for k in range(len(filters))]
    )
    true_mag = 22.5 - 2.5 * np.log10(true_flux)
    mags, errs = _observe(true_mag, obs, child_generator(seed, 2))
    for k, band in enumerate(survey.bands):
        table[band.mag] = mags[:, k]
        if band.mag_err:
            table[band.mag_err] = errs[:, k]
    out = pd.DataFrame(table)
    out["type_name"] = np.array([t.name for t in TYPES])[pop["type"].to_numpy()]
    out["type"] = pop["type"].to_numpy()
    for col in STRUCTURE_COLUMNS[1:]:
        out[col] = struct[col].to_numpy()
    for k, band in enumerate(survey.bands):
        out[f"flux_bulge_{band.name}"] = struct[f"flux_bulge_{k}"].to_numpy()
        out[f"flux_disk_{band.name}"] = struct[f"flux_disk_{k}"].to_numpy()
        out[f"mag_true_{band.name}"] = true_mag[:, k]
    return out


def _observe(
    true_mag: np.ndarray, obs: Observing, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Observed magnitudes and errors (NaN below 1 sigma), by the survey's error model."""
    names = obs.bands
    if obs.error_model == "photerr-lsst":
        import photerr

        model = photerr.LsstErrorModel(sigLim=1.0, ndFlag=np.nan)
        df = model(pd.DataFrame(true_mag, columns=list(names)), random_state=rng)
        mags = df[list(names)].to_numpy(dtype=np.float64)
        errs = df[[f"{b}_err" for b in names]].to_numpy(dtype=np.float64)
        return mags, errs
    m5 = np.array(obs.m5)
    flux = 10 ** (-0.4 * (true_mag - 22.5))
    sigma = 10 ** (-0.4 * (m5 - 22.5)) / 5.0
    measured = flux + sigma * rng.standard_normal(flux.shape)
    ok = measured > sigma
    with np.errstate(divide="ignore", invalid="ignore"):
        mags = np.where(ok, 22.5 - 2.5 * np.log10(measured), np.nan)
        errs = np.where(ok, np.hypot(1.0857 * sigma / measured, obs.error_floor), np.nan)
    return mags, errs
