"""zphot's RAIL stages: ``rail.stages.import_and_attach_all()`` imports this package, which
attaches :class:`ZphotInformer` and :class:`ZphotEstimator` to ``rail.stages``."""

from rail.estimation.algos.zphot import (
    ZphotEstimator,
    ZphotInformer,
    ZphotModelHandle,
    survey_from_rail,
)

__all__ = ["ZphotEstimator", "ZphotInformer", "ZphotModelHandle", "survey_from_rail"]
