"""Galaxy population of the simulator: types, redshifts, bulge + disk SEDs, sizes, shapes.

Every ingredient is taken from the literature rather than tuned toward a model:

- **Types and n(z)**: the Benitez (2000, ApJ 536, 571; Table 1) magnitude-dependent prior,
  p(T | m0) and p(z | T, m0) ~ z^a exp(-(z / z_m(m0))^a), for the classes E/S0, spiral and
  irregular/starburst; the spread of the prior (fit on the HDF) is kept, only z_m is floored
  at 0.02 where its linear extrapolation to bright magnitudes would turn negative.
  Reference magnitudes follow galaxy number counts dN/dm ~ 10^(gamma m) (gamma = 0.6,
  Euclidean, for the bright SDSS main sample; 0.35 for deep i-band counts, Metcalfe et al.
  2001).
- **Bulge + disk**: every galaxy is a de Vaucouleurs (Sersic n = 4) bulge with an old, red
  population (the CWW elliptical spectrum) and an exponential (n = 1) disk with its type's
  spectrum (CWW Sbc/Scd/Im, Kinney SB3/SB2; a faint Sbc envelope for ellipticals), so the
  colour changes from centre to outskirts and that gradient moves with redshift as the bands
  slide along the two spectra. Bulge-to-total ratios per Hubble type follow Simien & de
  Vaucouleurs (1986): E ~0.85, Sbc ~0.3, Scd ~0.1, Im and starbursts ~0.02 (Beta-distributed,
  concentration 12).
- **Sizes**: the r-band half-light radius from Shen et al. (2003, MNRAS 343, 978; eqs. 14-16,
  Table 1): early types log R = -0.4 a M + b (a = 0.60, b = -4.63), late types
  log R = -0.4 alpha M + (beta - alpha) log(1 + 10^(-0.4 (M - M0))) + gamma (alpha = 0.21,
  beta = 0.53, gamma = -1.31, M0 = -20.52), each with its log-normal scatter
  sigma_lnR = sigma2 + (sigma1 - sigma2) / (1 + 10^(-0.8 (M - M0))) (early 0.45/0.27, late
  0.48/0.25). Absolute magnitudes are K-corrected with the galaxy's own bulge + disk SED.
  Disks take the relation's radius; bulges of disk galaxies have r_e = 0.25 of the disk's
  half-light radius (r_e / h ~ 0.4, Gadotti 2009), the envelope of an elliptical twice its
  bulge's.
- **Angles**: physical radii become angles with the angular-diameter distance of Planck18
  (astropy.cosmology), which brings the (1 + z)^4 surface-brightness dimming along with the
  fixed magnitude. Distances are floored at z = 0.005 (peculiar velocities dominate below) and
  half-light radii capped at 50 kpc and 10 arcsec.
- **Shapes**: disks are oblate with intrinsic thickness 0.2 seen at random inclination
  (q^2 = cos^2 i (1 - 0.2^2) + 0.2^2, Holmberg 1958); bulges and ellipticals have q uniform in
  [0.6, 1]; bulge and disk share a random position angle.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..exceptions import ParameterError
from ..sed import SED, Filter, load_filter, load_sed, synthetic_fluxes

__all__ = [
    "TYPES",
    "GalaxyType",
    "SpectralModel",
    "draw_population",
    "draw_structure",
    "fit_types",
    "shen2003_r50",
    "angular_radius",
]

Z_FLOOR = 0.005
MAX_R50_KPC = 50.0
MAX_R50_ARCSEC = 10.0
BULGE_SED = "El_B2004a"
REST_FRAME_BAND = "sdss2010-r"


@dataclasses.dataclass(frozen=True)
class GalaxyType:
    """One galaxy type: its prior class, disk spectrum and bulge-to-total ratio."""

    name: str
    prior_class: str  # "E", "Sp" or "Irr" (Benitez 2000)
    disk_sed: str
    bulge_fraction: float  # mean B/T in the reference band
    early: bool  # Shen et al. (2003) early-type size relation


TYPES: tuple[GalaxyType, ...] = (
    GalaxyType("E", "E", "Sbc_B2004a", 0.85, True),
    GalaxyType("Sbc", "Sp", "Sbc_B2004a", 0.30, False),
    GalaxyType("Scd", "Sp", "Scd_B2004a", 0.10, False),
    GalaxyType("Im", "Irr", "Im_B2004a", 0.02, False),
    GalaxyType("SB3", "Irr", "SB3_B2004a", 0.02, False),
    GalaxyType("SB2", "Irr", "SB2_B2004a", 0.02, False),
)
_BT_CONCENTRATION = 12.0

# Benitez (2000) Table 1: p(T | m0) fractions and p(z | T, m0) shape per class.
_PRIOR = {
    "E": {"f": 0.35, "k": 0.147, "alpha": 2.46, "z0": 0.431, "km": 0.091},
    "Sp": {"f": 0.50, "k": 0.450, "alpha": 1.81, "z0": 0.390, "km": 0.0636},
    "Irr": {"alpha": 0.91, "z0": 0.063, "km": 0.123},
}
_ZM_FLOOR = 0.02

# Shen et al. (2003) Table 1, r band, Sersic-index split.
_SHEN_EARLY = {"a": 0.60, "b": -4.63, "sigma1": 0.45, "sigma2": 0.27, "M0": -20.52}
_SHEN_LATE = {
    "alpha": 0.21,
    "beta": 0.53,
    "gamma": -1.31,
    "sigma1": 0.48,
    "sigma2": 0.25,
    "M0": -20.52,
}


@dataclasses.dataclass(frozen=True)
class Selection:
    """Magnitude range and count slope of a population, in one reference filter."""

    filter: str
    m_min: float
    m_max: float
    count_slope: float
    z_max: float


SELECTIONS = {
    # SDSS main galaxy sample: r < 17.77 (Strauss et al. 2002).
    "sdss": Selection("sdss2010-r", 14.0, 17.77, 0.6, 0.8),
    # A deep i < 25.3 sample (the LSST gold sample), shared by the LSST and HSC mocks.
    "deep": Selection("bpz:DC2LSST_i", 18.0, 25.3, 0.35, 3.0),
}


class SpectralModel:
    """Bulge and disk spectra of every type through a set of filters on a redshift grid.

    Synthetic fluxes (maggies per unit template amplitude, no distance dimming) are computed
    once on ``z_grid`` and interpolated linearly in z, which is far below the photometric
    errors at a 0.002 step.
    """

    def __init__(self, filters: tuple[Filter, ...], z_max: float = 3.0) -> None:
        self.filters = filters
        self.z_grid = np.arange(0.0, z_max + 0.002, 0.002)
        seds = _type_seds()
        self.bulge = synthetic_fluxes(seds[0], filters, self.z_grid)[0]  # (nz, nf)
        self.disk = synthetic_fluxes(seds[1:], filters, self.z_grid)  # (ntype, nz, nf)
        rest = load_filter(REST_FRAME_BAND)
        self.bulge_rest = synthetic_fluxes(seds[0], rest, [0.0])[0, 0, 0]
        self.disk_rest = synthetic_fluxes(seds[1:], rest, [0.0])[:, 0, 0]

    def fluxes(
        self, type_index: NDArray[np.int64], z: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Bulge and disk template fluxes (n, n_filters) of each galaxy at its redshift."""
        if np.any(z > self.z_grid[-1]) or np.any(z < 0):
            raise ParameterError(
                f"redshifts must lie in [0, {self.z_grid[-1]:g}] for this spectral model"
            )
        pos = z / (self.z_grid[1] - self.z_grid[0])
        i0 = np.minimum(pos.astype(np.int64), len(self.z_grid) - 2)
        w = (pos - i0)[:, None]
        bulge = (1 - w) * self.bulge[i0] + w * self.bulge[i0 + 1]
        disk = (1 - w) * self.disk[type_index, i0] + w * self.disk[type_index, i0 + 1]
        return bulge, disk


@lru_cache(maxsize=1)
def _type_seds() -> tuple[SED, ...]:
    return (load_sed(BULGE_SED), *(load_sed(t.disk_sed) for t in TYPES))


@lru_cache(maxsize=8)
def spectral_model(filters: tuple[str, ...], z_max: float = 3.0) -> SpectralModel:
    """A cached :class:`SpectralModel` for filter names."""
    return SpectralModel(tuple(load_filter(f) for f in filters), z_max)


def distance_modulus(z: NDArray[np.float64]) -> NDArray[np.float64]:
    """Planck18 distance modulus, with z floored at ``Z_FLOOR``."""
    from astropy.cosmology import Planck18

    return np.asarray(Planck18.distmod(np.maximum(z, Z_FLOOR)).value, dtype=np.float64)


def angular_radius(r_kpc: NDArray[np.float64], z: NDArray[np.float64]) -> NDArray[np.float64]:
    """Angle (arcsec) of a physical radius (kpc) at redshift z (Planck18 angular-diameter
    distance, z floored at ``Z_FLOOR``, result capped at ``MAX_R50_ARCSEC``)."""
    from astropy.cosmology import Planck18

    d_a = np.asarray(Planck18.angular_diameter_distance(np.maximum(z, Z_FLOOR)).to("kpc").value)
    theta = np.minimum(r_kpc, MAX_R50_KPC) / d_a * (180.0 / np.pi) * 3600.0
    return np.minimum(theta, MAX_R50_ARCSEC)


def shen2003_r50(
    abs_mag: NDArray[np.float64], early: NDArray[np.bool_], rng: np.random.Generator
) -> NDArray[np.float64]:
    """Half-light radius (kpc) at r-band absolute magnitude ``abs_mag``: Shen et al. (2003)
    mean relation with its published log-normal scatter (see the module docstring)."""
    m = np.asarray(abs_mag, dtype=np.float64)
    e, late = _SHEN_EARLY, _SHEN_LATE
    log_r_early = -0.4 * e["a"] * m + e["b"]
    log_r_late = (
        -0.4 * late["alpha"] * m
        + (late["beta"] - late["alpha"]) * np.log10(1 + 10 ** (-0.4 * (m - late["M0"])))
        + late["gamma"]
    )
    sig_e = e["sigma2"] + (e["sigma1"] - e["sigma2"]) / (1 + 10 ** (-0.8 * (m - e["M0"])))
    sig_l = late["sigma2"] + (late["sigma1"] - late["sigma2"]) / (
        1 + 10 ** (-0.8 * (m - late["M0"]))
    )
    log_r = np.where(early, log_r_early, log_r_late)
    sigma_ln = np.where(early, sig_e, sig_l)
    return 10**log_r * np.exp(sigma_ln * rng.standard_normal(len(m)))


def _benitez_pdf(z: NDArray, m0: NDArray, cls: str) -> NDArray:
    p = _PRIOR[cls]
    zm = np.maximum(p["z0"] + p["km"] * (m0 - 20.0), _ZM_FLOOR)[:, None]
    return z[None, :] ** p["alpha"] * np.exp(-((z[None, :] / zm) ** p["alpha"]))


def draw_population(n: int, selection: str, rng: np.random.Generator) -> pd.DataFrame:
    """Reference magnitude, type and redshift of ``n`` galaxies (Benitez 2000 prior).

    Parameters
    ----------
    n : int
    selection : {"sdss", "deep"}
        Magnitude range, count slope and reference filter (see ``SELECTIONS``).
    rng : numpy.random.Generator

    Returns
    -------
    DataFrame with ``m_ref`` (AB, in the selection's filter), ``type`` (index into
    :data:`TYPES`) and ``redshift``.
    """
    sel = SELECTIONS[selection]
    # Inverse CDF of dN/dm ~ 10^(gamma m) on [m_min, m_max].
    u = rng.uniform(size=n)
    a, b = 10 ** (sel.count_slope * sel.m_min), 10 ** (sel.count_slope * sel.m_max)
    m0 = np.log10(a + u * (b - a)) / sel.count_slope
    dm = m0 - 20.0
    f_e = _PRIOR["E"]["f"] * np.exp(-_PRIOR["E"]["k"] * dm)
    f_s = _PRIOR["Sp"]["f"] * np.exp(-_PRIOR["Sp"]["k"] * dm)
    # Bright galaxies: the two exponentials can exceed 1 together; scale them so that
    # irregulars keep at least 5%.
    scale = np.minimum(1.0, 0.95 / (f_e + f_s))
    f_e, f_s = f_e * scale, f_s * scale
    u = rng.uniform(size=n)
    cls = np.where(u < f_e, "E", np.where(u < f_e + f_s, "Sp", "Irr"))
    z_grid = np.linspace(0.001, sel.z_max, 1500)
    z = np.empty(n)
    u = rng.uniform(size=n)
    for c in ("E", "Sp", "Irr"):
        rows = np.flatnonzero(cls == c)
        if len(rows) == 0:
            continue
        cdf = np.cumsum(_benitez_pdf(z_grid, m0[rows], c), axis=1)
        cdf /= cdf[:, -1:]
        idx = (cdf < u[rows, None]).sum(axis=1)
        z[rows] = z_grid[np.minimum(idx, len(z_grid) - 1)]
    # Within a class, its templates are equally likely.
    members = {c: [i for i, t in enumerate(TYPES) if t.prior_class == c] for c in _PRIOR}
    pick = rng.uniform(size=n)
    types = np.empty(n, dtype=np.int64)
    for c, idx in members.items():
        rows = cls == c
        types[rows] = np.asarray(idx)[np.minimum((pick[rows] * len(idx)).astype(int), len(idx) - 1)]
    return pd.DataFrame({"m_ref": m0, "type": types, "redshift": z})


def draw_structure(
    types: NDArray[np.int64],
    z: NDArray[np.float64],
    m_ref: NDArray[np.float64],
    ref_filter: str,
    filters: tuple[str, ...],
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Bulge and disk fluxes per band, sizes and shapes, given type, redshift and magnitude.

    Parameters
    ----------
    types : ndarray of int
        Index into :data:`TYPES`.
    z : ndarray
    m_ref : ndarray, AB mag
        Total magnitude through ``ref_filter``.
    ref_filter : str
        Filter of ``m_ref`` (a speclite or ``bpz:`` name).
    filters : tuple of str
        Filters whose bulge and disk fluxes are returned.
    rng : numpy.random.Generator

    Returns
    -------
    DataFrame with ``bulge_fraction`` (in the reference filter), ``abs_mag_r`` (rest-frame
    SDSS r), ``r50_kpc``, ``r_bulge`` and ``r_disk`` (half-light radii, arcsec), ``q_bulge``,
    ``q_disk``, ``beta`` (position angle, degrees) and, per filter k, ``flux_bulge_k`` and
    ``flux_disk_k`` in nanomaggies.
    """
    n = len(types)
    bt_mean = np.array([t.bulge_fraction for t in TYPES])[types]
    bt = rng.beta(bt_mean * _BT_CONCENTRATION, (1 - bt_mean) * _BT_CONCENTRATION)
    ref_model = spectral_model((ref_filter,))
    b_ref, d_ref = ref_model.fluxes(types, z)
    f_ref = 10 ** (-0.4 * m_ref)  # maggies
    amp_b = bt * f_ref / b_ref[:, 0]
    amp_d = (1 - bt) * f_ref / d_ref[:, 0]
    rest = amp_b * ref_model.bulge_rest + amp_d * ref_model.disk_rest[types]
    abs_mag = -2.5 * np.log10(rest) - distance_modulus(z)
    early = np.array([t.early for t in TYPES])[types]
    r50 = np.minimum(shen2003_r50(abs_mag, early, rng), MAX_R50_KPC)
    r_main = angular_radius(r50, z)
    r_bulge = np.where(early, r_main, 0.25 * r_main)
    r_disk = np.where(early, 2.0 * r_main, r_main)
    cos_i = rng.uniform(size=n)
    q_disk = np.sqrt(cos_i**2 * (1 - 0.2**2) + 0.2**2)
    q_bulge = rng.uniform(0.6, 1.0, size=n)
    beta = rng.uniform(0.0, 180.0, size=n)
    out = {
        "bulge_fraction": bt,
        "abs_mag_r": abs_mag,
        "r50_kpc": r50,
        "r_bulge": r_bulge,
        "r_disk": r_disk,
        "q_bulge": q_bulge,
        "q_disk": q_disk,
        "beta": beta,
    }
    model = spectral_model(tuple(filters))
    fb, fd = model.fluxes(types, z)
    for k in range(len(filters)):
        out[f"flux_bulge_{k}"] = amp_b * fb[:, k] * 1e9
        out[f"flux_disk_{k}"] = amp_d * fd[:, k] * 1e9
    return pd.DataFrame(out)


def fit_types(
    mags: NDArray[np.float64], z: NDArray[np.float64], filters: tuple[str, ...]
) -> NDArray[np.int64]:
    """The type (index into :data:`TYPES`) whose mean bulge + disk spectrum at each galaxy's
    redshift best matches its colours (least squares over adjacent colours; NaN bands skipped).

    Used to give a real catalog (magnitudes and redshifts known) the structure of its type.
    """
    model = spectral_model(tuple(filters))
    n, nf = mags.shape
    colours = -np.diff(mags, axis=1)  # m_k+1 - m_k, sign irrelevant for least squares
    best = np.full(n, np.inf)
    out = np.zeros(n, dtype=np.int64)
    for ti, t in enumerate(TYPES):
        b, d = model.fluxes(np.full(n, ti), z)
        # Reference-band-free mix: B/T applied to the template fluxes in the first band.
        tot = t.bulge_fraction * b / b[:, :1] + (1 - t.bulge_fraction) * d / d[:, :1]
        m_model = -2.5 * np.log10(tot)
        c_model = -np.diff(m_model, axis=1)
        chi2 = np.nansum((colours - c_model) ** 2, axis=1)
        better = chi2 < best
        best[better], out[better] = chi2[better], ti
    return out
