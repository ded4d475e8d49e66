"""Template fitting: the physical, non-machine-learning baseline (BPZ-style).

Each galaxy's fluxes are compared with those of galaxy spectral templates redshifted onto the
redshift grid and integrated through the survey's filter curves. For every template and
redshift the best amplitude and its chi-square follow in closed form, the likelihood is
``exp(-chi2 / 2)``, an optional magnitude-dependent prior of the BPZ form (Benitez 2000) weighs
templates and redshifts, and the PDF is the sum over templates on the grid.

The training set only calibrates: per-band zero points and a smooth rest-frame correction of
each template (the photometric and template calibration of EAZY, BPZ and LePhare), the
prior's parameters (as RAIL's BPZ informer fits them) and the grid. No mapping from colours to
redshift is learned, so the physics still carries galaxies fainter or further than the
training set.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray
from scipy.special import gammaln

from ..catalog.catalog import Catalog
from ..exceptions import ParameterError
from ..sed.templates import SED
from .base import Interval, Options, PhotoZEstimator

__all__ = ["TemplateFitEstimator", "BPZ_HDFN_PRIOR"]

_CLASSES = ("elliptical", "spiral", "irregular")

log = logging.getLogger(__name__)

#: Benitez (2000), Table 1: the HDF-N prior p(z, T | m0) for the E/S0, spiral and
#: irregular/starburst classes, with m0 the F814W (I-band) AB magnitude clipped to [20, 32].
#: p(T | m0) = f_t exp(-k_t (m0 - 20)) for E and spirals (irregulars take the rest) and
#: p(z | T, m0) ~ z^a exp(-(z / z_m)^a), z_m = z_0 + k_m (m0 - 20).
BPZ_HDFN_PRIOR = {
    "a": (2.465, 1.806, 0.906),
    "z0": (0.431, 0.390, 0.0626),
    "km": (0.0913, 0.0636, 0.123),
    "kt": (0.450, 0.147),
    "ft": (0.35, 0.50),
    "m_range": (20.0, 32.0),
}

_MAG_TO_FLUX_ERR = 0.4 * np.log(10.0)
# Work arrays of (galaxies x templates x redshifts) hold about this many float64 values each.
_CHUNK_ELEMENTS = 2_000_000
_LOG_FLOOR = -300.0  # log-likelihoods this far below a galaxy's peak are floored
# Bands with magnitude errors above this do not vote on zero points (noise would dominate).
_ZP_MAX_ERR = 0.1
_ZP_TOLERANCE = 1e-3  # mag; zero-point iterations stop once no band moves more than this
# Template corrections: knots 0.04 dex apart in rest wavelength (finer than a broad band can
# tell apart), each needing this many training measurements to move.
_KNOT_SPACING_DEX = 0.04
_MIN_PER_KNOT = 20


class TemplateFitEstimator(PhotoZEstimator):
    """Chi-square template fitting with analytic amplitudes, a BPZ-form prior, and zero points
    and templates calibrated on the training set.

    Parameters
    ----------
    templates : str or tuple of str
        A desc-bpz template list (``"CWWSB4.list"``: CWW E/Sbc/Scd/Im, Kinney SB3/SB2 and two
        young BC03 populations, red to blue), the path of such a list, or SED names/paths
        (see :func:`zphot.sed.load_templates`). Order matters: neighbours are interpolated.
    template_types : tuple of 3 int, optional
        How many of the templates, in order, are elliptical, spiral and irregular/starburst
        (the prior's classes). ``None`` means BPZ's convention: 1 elliptical, 2 spirals, the
        rest irregular.
    n_interp : int
        Templates inserted between each adjacent pair, linear in flux (BPZ's ``INTERP``);
        fills the colour gaps of a sparse template set.
    prior : {"fit", "bpz", "none"}
        The prior p(z, T | m0), which breaks colour degeneracies and pushes faint galaxies to
        higher redshift. ``"bpz"``: the published Benitez (2000) HDF-N prior
        (:data:`BPZ_HDFN_PRIOR`); ``"fit"``: the same functional form with its parameters
        fitted to the training set by maximum likelihood (each galaxy's class from its best
        template at the spectroscopic z); ``"none"``: flat in z and template.
    prior_band : str, optional
        Band whose magnitude is the prior's m0 (the HDF-N prior was measured in I814);
        default the survey's reference band. Where it is missing the imputed magnitude is
        used.
    zero_points : bool
        Fit per-band zero-point offsets on the training catalog: fit each galaxy at its
        spectroscopic z, take the median observed/model flux ratio per band, repeat.
    zp_iterations : int
        Maximum number of zero-point iterations per calibration round (stops earlier once no
        band moves by 0.001 mag). The offsets are partly degenerate with the choice among
        interpolated templates and keep creeping slowly; a few iterations take the bulk of
        the correction, and more do not change the redshifts (measured on DC2).
    template_error : float
        Fractional flux error added in quadrature to each measured flux, for template
        mismatch (EAZY's template error, flat in wavelength); keeps PDFs of bright galaxies
        from collapsing onto one template.
    template_correction : int
        Iterations of template correction on the training set (0: off): a smooth
        multiplicative correction of each base template in rest-frame wavelength, from the
        median observed/model flux ratios of training galaxies fitted at their spectroscopic
        z (the template optimisation of LePhare and EAZY). Zero points are refitted after
        each iteration.
    igm : bool
        Attenuate templates by the mean intergalactic medium (Madau 1995).
    n_jobs : int, optional
        Threads sharing the prediction chunks (default: the machine's cores). Results do not
        depend on it.
    inputs, scaler, grid, point, random_state
        See :class:`~zphot.estimators.base.PhotoZEstimator` (``inputs``/``scaler`` only shape
        the coverage flag; the fit itself uses fluxes).

    Attributes
    ----------
    template_names_ : tuple of str
        The SEDs used, before interpolation.
    model_flux_ : ndarray, shape (n_templates, n_bins, n_bands)
        Template fluxes (maggies, arbitrary amplitude) at ``grid_.centres`` through each band,
        interpolated templates included.
    class_weights_ : ndarray, shape (n_templates, 3)
        Each (interpolated) template's share of the E / spiral / irregular prior classes.
    zp_offsets_ : ndarray, shape (n_bands,)
        AB magnitude offsets added to observed magnitudes (zeros without calibration;
        relative to the reference band).
    zp_history_ : ndarray, shape (n_iterations + 1, n_bands)
        Offsets after each zero-point iteration.
    correction_wavelengths_ : ndarray, shape (n_knots,)
        Rest wavelengths (Angstrom) where template corrections are defined.
    template_corrections_ : ndarray, shape (n_base_templates, n_knots)
        Natural-log flux corrections of each base template at those wavelengths (linear in
        log wavelength between knots, constant beyond); zeros without correction.
    prior_band_ : str
    prior_params_ : dict
        The prior's parameters (keys of :data:`BPZ_HDFN_PRIOR`; ``m_range`` is where m0 is
        clipped, its lower end the magnitude the fractions refer to).

    See Also
    --------
    zphot.sed : the templates, filters and synthetic photometry used here.

    Notes
    -----
    With fluxes ``F_b``, errors ``s_b`` and a template's model fluxes ``M_b``, the best
    amplitude is ``A = sum(F M / s^2) / sum(M^2 / s^2)`` and
    ``chi2 = sum(F^2/s^2) - sum(F M/s^2)^2 / sum(M^2/s^2)`` (missing bands drop out of every
    sum). Using the best amplitude equals marginalising it under a scale-invariant prior up
    to a factor that varies slowly with chi2 (BPZ does the same).

    References
    ----------
    Benitez, N. 2000, ApJ 536, 571. Coe, D. et al. 2006, AJ 132, 926.
    Brammer, G., van Dokkum, P. & Coppi, P. 2008, ApJ 686, 1503 (EAZY).

    Examples
    --------
    >>> import zphot
    >>> from zphot.testing import synthetic_catalog
    >>> cat = synthetic_catalog(300, random_state=0)
    >>> est = TemplateFitEstimator(grid=(0.0, 1.0, 100)).fit(cat)
    >>> est.predict_pdf(cat).probs.shape
    (300, 100)
    """

    name = "template"
    # The synthetic z(colour) catalog is not made of galaxy spectra; the template correction
    # bends the templates to it well enough for this looser tolerance.
    tags: ClassVar[dict] = {"network": False, "synthetic_tolerance": 0.05}
    _constraints: ClassVar[dict] = {
        "n_interp": Interval(0, 20, integer=True),
        "prior": Options("bpz", "fit", "none"),
        "zero_points": Options(True, False),
        "zp_iterations": Interval(1, 50, integer=True),
        "template_error": Interval(0.0, 1.0),
        "template_correction": Interval(0, 20, integer=True),
        "igm": Options(True, False),
    }

    def __init__(
        self,
        *,
        templates: str | tuple[str, ...] = "CWWSB4.list",
        template_types: tuple[int, int, int] | None = None,
        n_interp: int = 2,
        prior: str = "fit",
        prior_band: str | None = None,
        zero_points: bool = True,
        zp_iterations: int = 5,
        template_error: float = 0.05,
        template_correction: int = 3,
        igm: bool = True,
        n_jobs: int | None = None,
        inputs: str = "colours",
        scaler: str = "standard",
        grid: tuple[float, float, int] | None = None,
        point: str = "median",
        random_state: int = 0,
    ) -> None:
        self.templates = templates
        self.template_types = template_types
        self.n_interp = n_interp
        self.prior = prior
        self.prior_band = prior_band
        self.zero_points = zero_points
        self.zp_iterations = zp_iterations
        self.template_error = template_error
        self.template_correction = template_correction
        self.igm = igm
        self.n_jobs = n_jobs
        self.inputs = inputs
        self.scaler = scaler
        self.grid = grid
        self.point = point
        self.random_state = random_state

    def _validate_params(self) -> None:
        super()._validate_params()
        if self.n_jobs is not None and not Interval(1, None, integer=True).ok(self.n_jobs):
            raise ParameterError(
                f"TemplateFitEstimator: parameter 'n_jobs' must be None or a positive "
                f"integer, got {self.n_jobs!r}"
            )

    # --- fitting -------------------------------------------------------------------------

    def _fit(self, catalog: Catalog, z: NDArray[np.float64], validation: Catalog | None) -> None:
        from ..sed import load_templates, survey_filters, synthetic_fluxes

        seds = load_templates(self.templates)
        types = self._types(len(seds))
        self.prior_band_ = self.prior_band or catalog.survey.reference_band
        if self.prior_band_ not in self.bands_:
            raise ParameterError(
                f"TemplateFitEstimator: parameter 'prior_band' must be one of the bands "
                f"{', '.join(self.bands_)}, got {self.prior_band_!r}"
            )
        if self.prior != "none" and not np.any(self.grid_.centres > 0):
            raise ParameterError(
                f"TemplateFitEstimator: prior {self.prior!r} is zero at z <= 0 but the grid "
                f"{self.grid_} has no positive redshift; use prior='none'"
            )
        filters = survey_filters(catalog.survey, self.bands_)
        self.template_names_ = tuple(s.name for s in seds)
        self.model_flux_ = _interpolate_templates(
            synthetic_fluxes(seds, filters, self.grid_.centres, igm=self.igm), self.n_interp
        )
        classes = np.zeros((len(seds), 3))
        for k, (start, count) in enumerate(zip(np.cumsum((0, *types[:2])), types, strict=True)):
            if count:
                classes[start : start + count, k] = 1.0 / count
        self.class_weights_ = _interpolate_templates(classes[:, None, :], self.n_interp)[:, 0]

        mags, errs = catalog.magnitudes(self.bands_), catalog.errors(self.bands_)
        ref = self.bands_.index(catalog.survey.reference_band)
        self.zp_offsets_ = np.zeros(len(self.bands_))
        history = [self.zp_offsets_.copy()]
        if self.zero_points:
            self._calibrate_zero_points(mags, errs, z, ref, history)
        pivots = np.array([f.pivot_wavelength for f in filters])
        self.correction_wavelengths_ = _correction_knots(pivots, z)
        self.template_corrections_ = np.zeros((len(seds), len(self.correction_wavelengths_)))
        for _ in range(self.template_correction):
            self.template_corrections_ += self._correction_step(mags, errs, z, pivots)
            corrected = [
                _corrected(sed, self.correction_wavelengths_, corr)
                for sed, corr in zip(seds, self.template_corrections_, strict=True)
            ]
            self.model_flux_ = _interpolate_templates(
                synthetic_fluxes(corrected, filters, self.grid_.centres, igm=self.igm),
                self.n_interp,
            )
            if self.zero_points:
                self._calibrate_zero_points(mags, errs, z, ref, history)
        self.zp_history_ = np.array(history)

        self.prior_params_ = {k: list(v) for k, v in BPZ_HDFN_PRIOR.items()}
        if self.prior == "fit":
            best, _ = self._fit_at_redshift(*self._fluxes(mags, errs), z)
            member = self.class_weights_[best]
            member /= member.sum(axis=1, keepdims=True)
            completed, _ = self.preprocessing_.complete_magnitudes(catalog)
            m0 = completed[:, self.bands_.index(self.prior_band_)]
            ok = np.isfinite(m0)
            self.prior_params_ = _fit_prior(m0[ok], z[ok], member[ok], self.prior_params_)

    def _calibrate_zero_points(
        self,
        mags: NDArray[np.float64],
        errs: NDArray[np.float64],
        z: NDArray[np.float64],
        ref: int,
        history: list[NDArray[np.float64]],
    ) -> None:
        """Iterate zero-point steps (anchored on band ``ref``) until none moves by more than
        the tolerance; each iteration's offsets are appended to ``history``."""
        for _ in range(self.zp_iterations):
            offsets = self.zp_offsets_ + self._zero_point_step(mags, errs, z)
            self.zp_offsets_ = offsets - offsets[ref]
            history.append(self.zp_offsets_.copy())
            if np.max(np.abs(history[-1] - history[-2])) < _ZP_TOLERANCE:
                break
        log.info(
            "zero-point offsets (mag): %s", dict(zip(self.bands_, self.zp_offsets_, strict=True))
        )

    def _correction_step(
        self,
        mags: NDArray[np.float64],
        errs: NDArray[np.float64],
        z: NDArray[np.float64],
        pivots: NDArray[np.float64],
    ) -> NDArray[np.float64]:
        """Change of each base template's log-flux correction at ``correction_wavelengths_``.

        Every training galaxy is fitted at its spectroscopic z; each well-measured band gives
        the log ratio of observed to model flux at rest wavelength pivot / (1+z), credited to
        the base template nearest the best fit. The median ratio per template and knot (where
        at least ``_MIN_PER_KNOT`` galaxies fall) is the step, less the template's overall
        median (the amplitude is free; keeping the normalisation keeps the interpolated
        mixtures as they were).
        """
        flux, weight = self._fluxes(mags, errs)
        best, fitted = self._fit_at_redshift(flux, weight, z)
        base = np.rint(best / (self.n_interp + 1)).astype(np.int64)
        use = np.isfinite(mags) & (errs < _ZP_MAX_ERR) & (fitted > 0)
        log_ratio = np.log(np.where(use, flux, 1.0) / np.where(use, fitted, 1.0))
        log_knots = np.log(self.correction_wavelengths_)
        rest = np.log(pivots)[None, :] - np.log1p(np.maximum(z, 0.0))[:, None]
        knot = np.argmin(np.abs(rest[..., None] - log_knots), axis=-1)  # nearest knot
        step = np.zeros_like(self.template_corrections_)
        for t in range(len(step)):
            mine = use & (base == t)[:, None]
            if not mine.any():
                continue
            y, k = log_ratio[mine], knot[mine]
            for j in np.unique(k):
                if np.sum(k == j) >= _MIN_PER_KNOT:
                    step[t, j] = np.median(y[k == j])
            step[t] -= np.median(y)
        return step

    def _types(self, n: int) -> tuple[int, int, int]:
        types = self.template_types
        if types is None:
            if n < 4 and self.prior != "none":
                raise ParameterError(
                    f"TemplateFitEstimator: prior {self.prior!r} needs template_types for a set of "
                    f"{n} templates (counts of elliptical, spiral, irregular)"
                )
            return (1, 2, n - 3) if n >= 4 else (0, 0, n)
        ok = (
            isinstance(types, list | tuple)
            and len(types) == 3
            and all(isinstance(t, int | np.integer) and t >= 0 for t in types)
            and sum(types) == n
        )
        if not ok:
            raise ParameterError(
                f"TemplateFitEstimator: parameter 'template_types' must be 3 counts "
                f"(elliptical, spiral, irregular) summing to the {n} templates, got {types!r}"
            )
        return int(types[0]), int(types[1]), int(types[2])

    def _fit_at_redshift(
        self, flux: NDArray[np.float64], weight: NDArray[np.float64], z: NDArray[np.float64]
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Best template (index into ``model_flux_``) and its fitted model fluxes (n, B) for
        each galaxy at its known redshift (table interpolated linearly in z)."""
        centres = self.grid_.centres
        zc = np.clip(z, centres[0], centres[-1])
        i = np.clip(np.searchsorted(centres, zc) - 1, 0, len(centres) - 2)
        frac = ((zc - centres[i]) / (centres[i + 1] - centres[i]))[None, :, None]
        below, above = self.model_flux_[:, i], self.model_flux_[:, i + 1]  # (T, n, B)
        model = ((1 - frac) * below + frac * above).transpose(1, 0, 2)  # (n, T, B)
        fm = np.einsum("nb,ntb->nt", flux * weight, model)
        mm = np.einsum("nb,ntb->nt", weight, model**2)
        amp = np.divide(fm, mm, out=np.zeros_like(fm), where=mm > 0)
        best = np.argmax(fm * amp, axis=1)  # min chi2 = max FM^2 / MM
        rows = np.arange(len(z))
        return best, amp[rows, best][:, None] * model[rows, best]

    def _zero_point_step(
        self, mags: NDArray[np.float64], errs: NDArray[np.float64], z: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """Median magnitude correction per band from fits at the spectroscopic redshifts."""
        flux, weight = self._fluxes(mags, errs)
        _, fitted = self._fit_at_redshift(flux, weight, z)
        use = np.isfinite(mags) & (errs < _ZP_MAX_ERR) & (fitted > 0)
        step = np.zeros(mags.shape[1])
        for b in range(mags.shape[1]):
            if use[:, b].any():
                step[b] = 2.5 * np.log10(np.median(flux[use[:, b], b] / fitted[use[:, b], b]))
        return step

    # --- prediction ----------------------------------------------------------------------

    def _fluxes(
        self, mags: NDArray[np.float64], errs: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Zero-point-corrected fluxes (maggies) and inverse variances; 0 and 0 where missing."""
        measured = np.isfinite(mags)
        flux = np.where(
            measured, 10.0 ** (-0.4 * (np.where(measured, mags, 0.0) + self.zp_offsets_)), 0.0
        )
        var = (flux * _MAG_TO_FLUX_ERR * errs) ** 2 + (self.template_error * flux) ** 2
        with np.errstate(divide="ignore"):
            weight = np.where(measured, 1.0 / var, 0.0)
        return flux, weight

    def _class_prior(self, m0: NDArray[np.float64]) -> NDArray[np.float64]:
        """p(z, class | m0) on the grid for the E / spiral / irregular classes, shape
        (n, 3, n_bins); a template's prior is its ``class_weights_`` row times this."""
        p = self.prior_params_
        lo, hi = p["m_range"]
        dm = np.clip(m0, lo, hi) - lo
        frac = np.array(p["ft"])[None, :] * np.exp(-np.array(p["kt"])[None, :] * dm[:, None])
        frac = np.clip(np.column_stack([frac, 1.0 - frac.sum(axis=1)]), 0.0, None)  # (n, 3)
        z = self.grid_.centres
        zpos = np.where(z > 0, z, 1.0)[None, :]
        pz = np.stack(
            [
                np.exp(_log_class_pz(zpos, dm[:, None], p["a"][k], p["z0"][k], p["km"][k]))
                for k in range(3)
            ],
            axis=1,
        )
        pz[:, :, z <= 0] = 0.0
        return pz * frac[:, :, None]

    def _predict_probs(self, catalog: Catalog) -> NDArray[np.float64]:
        mags, errs = catalog.magnitudes(self.bands_), catalog.errors(self.bands_)
        flux, weight = self._fluxes(mags, errs)
        m0 = None
        if self.prior != "none":
            completed, _ = self.preprocessing_.complete_magnitudes(catalog)
            m0 = completed[:, self.bands_.index(self.prior_band_)]
            m0 = np.where(np.isfinite(m0), m0, self.prior_params_["m_range"][1])
        n_t, n_z, n_b = self.model_flux_.shape
        # The 1/sqrt(2) makes fm^2 / mm below the log-likelihood -chi2/2, up to the
        # per-galaxy constant sum(F^2/s^2)/2.
        model = self.model_flux_.reshape(n_t * n_z, n_b).T * np.sqrt(0.5)  # (B, T*Z)
        model_sq = 2.0 * model**2
        out = np.zeros((len(catalog), n_z))
        step = max(1, _CHUNK_ELEMENTS // (n_t * n_z))

        def work(start: int) -> None:
            rows = slice(start, start + step)
            out[rows] = self._chunk_probs(
                flux[rows], weight[rows], None if m0 is None else m0[rows], model, model_sq
            )

        starts = range(0, len(catalog), step)
        n_jobs = min(self.n_jobs or os.cpu_count() or 1, len(starts))
        if n_jobs > 1:
            # numpy releases the GIL in einsum and ufuncs, so threads share the chunks.
            with ThreadPoolExecutor(n_jobs) as pool:
                list(pool.map(work, starts))
        else:
            for start in starts:
                work(start)
        return out

    def _chunk_probs(
        self,
        flux: NDArray[np.float64],
        weight: NDArray[np.float64],
        m0: NDArray[np.float64] | None,
        model: NDArray[np.float64],
        model_sq: NDArray[np.float64],
    ) -> NDArray[np.float64]:
        """Unnormalised p(z) of a chunk of galaxies: the likelihood (times prior) summed over
        templates, with shapes (n, T*Z) -> (n, T, Z) -> (n, Z)."""
        n_t, n_z, _ = self.model_flux_.shape
        # einsum, not BLAS: each galaxy's sums are then the same bits whichever chunk holds
        # it (BLAS kernels differ between full and edge tiles).
        fm = np.einsum("nb,bk->nk", flux * weight, model)
        mm = np.einsum("nb,bk->nk", weight, model_sq)
        np.multiply(fm, fm, out=fm)
        # Where no measured band sees the template, mm = fm = 0: amplitude 0, log L = 0.
        logl = np.divide(fm, mm, out=fm, where=mm > 0).reshape(-1, n_t, n_z)
        if m0 is not None:
            # The prior is zero at z <= 0: keep those bins out of the peak, so that a
            # likelihood peaking there cannot underflow everything else to zero.
            logl[:, :, self.grid_.centres <= 0] = -np.inf
        logl -= logl.max(axis=(1, 2), keepdims=True)
        # Flooring far-off values costs one pass and spares exp its slow underflow path;
        # exp(-300) is nothing next to the peak's 1.
        np.maximum(logl, _LOG_FLOOR, out=logl)
        like = np.exp(logl, out=logl)
        if m0 is None:
            return like.sum(axis=1)
        # sum_T L p(z, T | m0) with p = sum_k w_Tk p_k(z | m0): contract T against the class
        # weights first, so the (n, T, Z) prior is never built.
        by_class = np.einsum("ntz,tk->nkz", like, self.class_weights_)
        return np.einsum("nkz,nkz->nz", by_class, self._class_prior(m0))

    # --- persistence ---------------------------------------------------------------------

    def _get_state(self) -> tuple[dict, dict[str, NDArray]]:
        meta = {
            "template_names": list(self.template_names_),
            "prior_band": self.prior_band_,
            "prior_params": self.prior_params_,
        }
        arrays = {
            "model_flux": self.model_flux_,
            "class_weights": self.class_weights_,
            "zp_offsets": self.zp_offsets_,
            "zp_history": self.zp_history_,
            "correction_wavelengths": self.correction_wavelengths_,
            "template_corrections": self.template_corrections_,
        }
        return meta, arrays

    def _set_state(self, meta: dict, arrays: dict[str, NDArray]) -> None:
        self.template_names_ = tuple(meta["template_names"])
        self.prior_band_ = meta["prior_band"]
        self.prior_params_ = meta["prior_params"]
        self.model_flux_ = arrays["model_flux"]
        self.class_weights_ = arrays["class_weights"]
        self.zp_offsets_ = arrays["zp_offsets"]
        self.zp_history_ = arrays["zp_history"]
        self.correction_wavelengths_ = arrays["correction_wavelengths"]
        self.template_corrections_ = arrays["template_corrections"]


def _interpolate_templates(table: NDArray[np.float64], n_interp: int) -> NDArray[np.float64]:
    """Insert ``n_interp`` linear mixtures between each adjacent pair along axis 0."""
    if n_interp == 0 or len(table) < 2:
        return table.copy()
    parts = []
    for t in range(len(table) - 1):
        for j in range(n_interp + 1):
            f = j / (n_interp + 1)
            parts.append((1 - f) * table[t] + f * table[t + 1])
    parts.append(table[-1])
    return np.stack(parts)


def _log_class_pz(
    z: NDArray[np.float64], dm: NDArray[np.float64], a: float, z0: float, km: float
) -> NDArray[np.float64]:
    """log p(z | class, m0) of the BPZ form, normalised analytically over z > 0."""
    zm = z0 + km * dm
    return a * np.log(z) - (z / zm) ** a - ((a + 1) * np.log(zm) + gammaln(1 + 1 / a) - np.log(a))


def _fit_prior(
    m0: NDArray[np.float64], z: NDArray[np.float64], member: NDArray[np.float64], start: dict
) -> dict:
    """Maximum-likelihood parameters of the BPZ prior form for a training set.

    Each galaxy counts towards the E / spiral / irregular classes by ``member`` (its best
    template's class shares at the spectroscopic z). The type fractions and, per class, the
    redshift distribution's (a, z0, km) are fitted by Nelder-Mead from ``start``, over the
    training magnitude range (0.1-99.9%), outside which m0 is clipped at prediction time.
    """
    from scipy.optimize import minimize

    lo, hi = np.quantile(m0, [0.001, 0.999])
    dm = np.clip(m0, lo, hi) - lo
    z = np.maximum(z, 1e-3)
    counts = member.sum(axis=0)

    def frac_nll(x: NDArray[np.float64]) -> float:
        with np.errstate(over="ignore"):
            f = np.exp(x[[0, 2]] - x[[1, 3]] * dm[:, None])
        f = np.column_stack([f, 1.0 - f.sum(axis=1)])
        # Fractions are probabilities everywhere, and non-zero for every class seen.
        if not np.all(np.isfinite(f)) or np.any(f < 0) or np.any(f[:, counts > 0] == 0):
            return np.inf
        return -float(np.sum(member[:, counts > 0] * np.log(f[:, counts > 0])))

    ft, kt = np.array(start["ft"]), np.array(start["kt"])
    x0 = np.array([np.log(ft[0]), kt[0], np.log(ft[1]), kt[1]])
    x = minimize(
        frac_nll, x0, method="Nelder-Mead", options={"maxiter": 4000, "xatol": 1e-5, "fatol": 1e-7}
    ).x
    out = {
        "ft": np.exp(x[[0, 2]]).tolist(),
        "kt": x[[1, 3]].tolist(),
        "a": list(start["a"]),
        "z0": list(start["z0"]),
        "km": list(start["km"]),
        "m_range": [float(lo), float(hi)],
    }
    for k in range(3):
        w = member[:, k]
        if counts[k] < 10:  # too few galaxies of this class: keep the published shape
            log.info(
                "prior fit: only %.1f %s galaxies; keeping the start values", counts[k], _CLASSES[k]
            )
            continue

        def z_nll(p: NDArray[np.float64], w: NDArray[np.float64] = w) -> float:
            a, z0, km = np.exp(p[0]), np.exp(p[1]), p[2]
            if z0 + km * dm.max() <= 0:
                return np.inf
            return -float(np.sum(w * _log_class_pz(z, dm, a, z0, km)))

        p0 = np.array([np.log(start["a"][k]), np.log(start["z0"][k]), start["km"][k]])
        p = minimize(
            z_nll, p0, method="Nelder-Mead", options={"maxiter": 4000, "xatol": 1e-5, "fatol": 1e-7}
        ).x
        out["a"][k], out["z0"][k], out["km"][k] = (
            float(np.exp(p[0])),
            float(np.exp(p[1])),
            float(p[2]),
        )
    log.info("fitted prior: %s", out)
    return out


def _corrected(sed: SED, knots: NDArray[np.float64], log_correction: NDArray[np.float64]) -> SED:
    """``sed`` times exp(correction), the correction linear in log wavelength between
    ``knots`` and constant beyond them."""
    log_wl = np.log(np.maximum(sed.wavelength, 1.0))
    return SED(
        sed.name,
        sed.wavelength,
        sed.flux * np.exp(np.interp(log_wl, np.log(knots), log_correction)),
    )


def _correction_knots(pivots: NDArray[np.float64], z: NDArray[np.float64]) -> NDArray[np.float64]:
    """Rest wavelengths (Angstrom) spanning what the bands see over the training redshifts."""
    lo = pivots.min() / (1 + z.max())
    hi = pivots.max() / (1 + max(z.min(), 0.0))
    n = int(np.ceil(np.log10(hi / lo) / _KNOT_SPACING_DEX)) + 1
    return np.geomspace(lo, hi, max(n, 2))
