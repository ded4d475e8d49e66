"""zphot as a RAIL algorithm: ``ZphotInformer`` trains any zphot estimator, ``ZphotEstimator``
writes its PDFs as a qp Ensemble.

RAIL (LSST DESC's photo-z framework) finds algorithms by importing every ``rail.<name>``
package (``rail.stages.import_and_attach_all``); ``rail/zphot/__init__.py`` imports this module
so both stages are attached to ``rail.stages``. The stages translate RAIL's conventions once,
here, and leave the work to zphot:

- columns: RAIL's ``bands``/``err_bands`` (magnitude and error column names, bluest first),
  ``ref_band`` and ``redshift_col`` become a zphot :class:`~zphot.catalog.bands.Survey`. A band
  whose magnitude column is one of a zphot survey preset's (the ``lsst`` preset maps DC2's
  ``mag_{b}_lsst``) keeps that preset's band name, filter curve and wavelength, so template
  fitting and the graph network work as they do from zphot's own command line.
- the model artefact is a zphot model file (a zip with a manifest and arrays, no pickle), read
  and written by :class:`ZphotModelHandle` with zphot's own ``save``/``load``, so the file the
  informer writes is one ``zphot predict`` reads, and the reverse.
- the PDFs go through :func:`zphot.pdf.qp.to_qp`, the conversion ``zphot predict --qp`` uses,
  so both give the same Ensemble for the same model and rows.

RAIL, ceci and qp are imported here only, never by zphot's own modules.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from ceci.config import StageParameter as Param
from rail.core.common_params import SharedParams
from rail.core.data import ModelHandle, TableHandle
from rail.estimation.estimator import CatEstimator
from rail.estimation.informer import CatInformer

from zphot.catalog.bands import Band, Survey
from zphot.catalog.catalog import Catalog
from zphot.catalog.survey import list_presets, load_survey, survey_from_dict
from zphot.estimators import get_estimator, load
from zphot.estimators.base import PhotoZEstimator
from zphot.estimators.registry import estimator_class
from zphot.exceptions import MissingColumnError, ParameterError
from zphot.pdf.qp import to_qp

__all__ = ["ZphotEstimator", "ZphotInformer", "ZphotModelHandle", "survey_from_rail"]


class ZphotModelHandle(ModelHandle):
    """A RAIL handle whose file is a zphot model file (``.zphot``), never a pickle.

    RAIL's ``ModelHandle`` pickles whatever the informer made; zphot refuses pickles, so this
    handle writes with the estimator's ``save`` and reads with :func:`zphot.load`.
    """

    suffix = "zphot"

    @classmethod
    def _open(cls, path: str, **kwargs: Any) -> PhotoZEstimator:
        return cls._read(path)

    @classmethod
    def _read(cls, path: str, **kwargs: Any) -> PhotoZEstimator:
        return load(path)

    @classmethod
    def _write(cls, data: PhotoZEstimator, path: str, **kwargs: Any) -> None:
        # RAIL writes to an "inprogress_" name and renames it, replacing any older model.
        data.save(path, overwrite=True)

    @classmethod
    def _validate_data(cls, data: Any) -> None:
        if not isinstance(data, PhotoZEstimator):
            raise ParameterError(
                f"a zphot model handle holds a fitted zphot estimator, got {type(data).__name__}"
            )


def _preset_bands() -> dict[str, tuple[Band, Survey]]:
    """Every preset band by its magnitude column, with the preset it comes from."""
    out: dict[str, tuple[Band, Survey]] = {}
    for name in list_presets():
        survey = load_survey(name)
        for band in survey.bands:
            if band.mag is not None:
                out.setdefault(band.mag, (band, survey))
    return out


def survey_from_rail(
    bands: Sequence[str],
    err_bands: Sequence[str],
    ref_band: str,
    redshift_col: str | None,
    sentinels: Sequence[float] = (99.0, -99.0),
) -> Survey:
    """A zphot Survey from RAIL's column options.

    Parameters
    ----------
    bands : sequence of str
        Magnitude columns (AB), bluest first: zphot's colours are differences of neighbours.
    err_bands : sequence of str
        Their error columns, in the same order; empty for none.
    ref_band : str
        The magnitude column whose band enters the features beside the colours.
    redshift_col : str or None
        True or spectroscopic redshift column (needed to train).
    sentinels : sequence of float
        Magnitudes meaning "not measured" (RAIL's ``nondetect_val``, ``nonobserved_val``);
        NaN needs no sentinel.

    Returns
    -------
    Survey
        Bands named, filtered and placed as in the zphot preset that has their column
        (``mag_u_lsst`` -> the ``lsst`` band ``u``), otherwise named by the column; the error
        floor of that preset when it supplies every band, else zphot's default.

    Raises
    ------
    ParameterError
        ``err_bands`` does not match ``bands``, ``ref_band`` is not one of them, or a band
        name repeats.
    """
    if err_bands and len(err_bands) != len(bands):
        raise ParameterError(
            f"err_bands has {len(err_bands)} columns for {len(bands)} bands; give one error "
            "column per band, in the same order, or none"
        )
    if ref_band not in bands:
        raise ParameterError(f"ref_band '{ref_band}' is not one of the bands {list(bands)}")
    known = _preset_bands()
    rows, floors = [], set()
    for j, column in enumerate(bands):
        band, preset = known.get(column, (Band(name=column), None))
        floors.add(None if preset is None else preset.mag_err_floor)
        row = {"name": band.name, "mag": column, "filter": band.filter}
        row |= {"wavelength": band.wavelength, "mag_err": err_bands[j] if err_bands else None}
        rows.append({k: v for k, v in row.items() if v is not None})
    data: dict[str, Any] = {
        "name": "rail",
        "bands": rows,
        "reference_band": rows[list(bands).index(ref_band)]["name"],
        "missing": {"sentinels": [float(s) for s in sentinels if math.isfinite(s)]},
    }
    if redshift_col:
        data["columns"] = {"redshift": redshift_col}
    if len(floors) == 1 and None not in floors:
        data["mag_err_floor"] = floors.pop()
    return survey_from_dict(data, source="RAIL bands/err_bands/ref_band")


def _frame(data: Mapping[str, Any], columns: Sequence[str], source: str) -> pd.DataFrame:
    """The columns zphot reads from a RAIL table chunk (a dict of arrays or a DataFrame)."""
    have = list(map(str, data.keys()))
    for column in columns:
        if column not in have:
            raise MissingColumnError(
                source, column, have, "map it with the options bands, err_bands, redshift_col"
            )
    return pd.DataFrame({c: np.asarray(data[c]) for c in dict.fromkeys(columns)})


def _survey_columns(survey: Survey) -> list[str]:
    return [c for band in survey.bands for c in band.columns]


class ZphotInformer(CatInformer):
    """Train a zphot estimator on a RAIL table and write it as a zphot model file.

    The model is ``model_name`` (any name ``zphot models`` lists, e.g. ``mlp``, ``knn``,
    ``lgbm``, ``template``, ``debiased``) with ``model_params`` as its parameters. The redshift
    grid is RAIL's: ``nzbins`` points from ``zmin`` to ``zmax`` are the bin edges of the PDFs;
    ``model_params={"grid": None}`` asks for zphot's own grid (sized from the training
    redshifts), and a ``(z_min, z_max, n_bins)`` triple there sets it directly.
    """

    name = "ZphotInformer"
    entrypoint_function = "inform"
    interactive_function = "zphot_informer"
    outputs = [("model", ZphotModelHandle)]
    config_options = CatInformer.config_options.copy()
    config_options.update(
        model_name=Param(str, "mlp", msg="zphot estimator name (zphot models lists them)"),
        model_params=Param(dict, {}, msg="parameters of that zphot estimator"),
        bands=SharedParams.copy_param("bands"),
        err_bands=SharedParams.copy_param("err_bands"),
        ref_band=SharedParams.copy_param("ref_band"),
        redshift_col=SharedParams.copy_param("redshift_col"),
        nondetect_val=SharedParams.copy_param("nondetect_val"),
        nonobserved_val=SharedParams.copy_param("nonobserved_val"),
        zmin=SharedParams.copy_param("zmin"),
        zmax=SharedParams.copy_param("zmax"),
        nzbins=SharedParams.copy_param("nzbins"),
        seed=Param(int, 0, msg="random_state of the zphot estimator"),
    )

    def estimator_params(self) -> dict[str, Any]:
        """The zphot estimator's parameters: ``model_params`` plus the grid and the seed."""
        params = dict(self.config.model_params)
        if "random_state" in params:
            raise ParameterError("set the seed with the 'seed' option, not model_params")
        accepted = estimator_class(self.config.model_name)().get_params()
        if "grid" in accepted and "grid" not in params:
            nzbins = int(self.config.nzbins)
            if nzbins < 2:
                raise ParameterError(f"nzbins must be at least 2 grid points, got {nzbins}")
            params["grid"] = (float(self.config.zmin), float(self.config.zmax), nzbins - 1)
        if isinstance(params.get("grid"), list):
            params["grid"] = tuple(params["grid"])
        return params | {"random_state": int(self.config.seed)}

    def run(self) -> None:
        """Fit ``model_name`` on the input table and hand the fitted estimator to the handle."""
        data = self.get_data("input")
        if self.config.hdf5_groupname:
            data = data[self.config.hdf5_groupname]
        survey = survey_from_rail(
            self.config.bands,
            self.config.err_bands,
            self.config.ref_band,
            self.config.redshift_col,
            (self.config.nondetect_val, self.config.nonobserved_val),
        )
        source = f"{self.name} input"
        columns = _survey_columns(survey) + [self.config.redshift_col]
        catalog = Catalog(_frame(data, columns, source), survey, source=source)
        estimator = get_estimator(self.config.model_name, **self.estimator_params())
        self.log.info(f"fitting zphot {self.config.model_name} on {len(catalog):,} galaxies")
        self.model = estimator.fit(catalog)
        self.add_data("model", self.model)


class ZphotEstimator(CatEstimator):
    """PDFs of a zphot model as a qp Ensemble (``hist`` on the model's grid), chunk by chunk.

    Each chunk's Ensemble carries the ancils ``zmode`` and ``zmedian`` of the PDF and, for a
    bias-corrected model at Step 4, ``z_phot_bulk`` (its bulk estimate, flat in z_phot); RAIL
    adds ``id`` and ``redshift`` where the input has ``id_col`` and ``redshift_col``. The model
    is a zphot model file (from :class:`ZphotInformer` or ``zphot train``), loaded by path.
    ``bands``/``err_bands`` map other column names onto the model's bands, in its band order;
    left empty, the columns the model was trained with are read.
    """

    name = "ZphotEstimator"
    entrypoint_function = "estimate"
    interactive_function = "zphot_estimator"
    inputs = [("model", ZphotModelHandle), ("input", TableHandle)]
    config_options = CatEstimator.config_options.copy()
    config_options.update(
        bands=Param(list, [], msg="magnitude columns, in the model's band order (default: its)"),
        err_bands=Param(list, [], msg="their error columns (default: the model's)"),
    )

    def open_model(self, **kwargs: Any) -> PhotoZEstimator:
        """Open the model as RAIL does (a path, a handle or a fitted estimator); where it has
        a file, run the model read from that file, so what runs is what was saved."""
        model = super().open_model(**kwargs)
        handle = self.get_handle("model", allow_missing=True)
        if handle.is_written:
            model = self.model = handle.read(force=True)
        if not isinstance(model, PhotoZEstimator):
            raise ParameterError(
                f"{self.name}: model must be a zphot model file (from ZphotInformer or zphot "
                f"train), got {type(model).__name__}"
            )
        self._survey = self._mapped_survey(model.survey_)
        return model

    def _mapped_survey(self, survey: Survey) -> Survey:
        """The model's survey, without its redshift role and with the columns RAIL maps."""
        bands, errs = list(self.config.bands), list(self.config.err_bands)
        for option, columns in (("bands", bands), ("err_bands", errs)):
            if columns and len(columns) != len(survey.bands):
                raise ParameterError(
                    f"{option} has {len(columns)} columns; the model has {len(survey.bands)} "
                    f"bands ({', '.join(survey.band_names)}): give one per band, in that order"
                )
        data = survey.to_dict()
        data["columns"] = {}
        for j, row in enumerate(data["bands"]):
            if bands:
                row["mag"] = bands[j]
                for key in ("flux", "flux_err"):
                    row.pop(key, None)
            if errs:
                row["mag_err"] = errs[j]
        return survey_from_dict(data, source="the model's survey with RAIL's columns")

    def _process_chunk(self, start: int, end: int, data: Any, first: bool) -> None:
        source = f"{self.name} input rows {start}-{end}"
        columns = _survey_columns(self._survey)
        catalog = Catalog(_frame(data, columns, source), self._survey, source=source)
        pdfs = self.model.predict_pdf(catalog)
        ancil = {"zmode": pdfs.point("mode"), "zmedian": pdfs.point("median")}
        if getattr(self.model, "steps", 0) >= 4 and hasattr(self.model, "predict_bulk"):
            ancil["z_phot_bulk"] = self.model.predict_bulk(catalog)
        self._do_chunk_output(to_qp(pdfs, "hist", ancil), start, end, first, data=data)
