"""The galaxy simulator's physics: observing conditions, population relations, mock catalogs.

- :mod:`~zphot.sim.observing`: per-survey depth, sky, PSF and pixel scale;
- :mod:`~zphot.sim.population`: types, n(z), bulge + disk SEDs, sizes and shapes, each from
  the literature (see its docstring for the references);
- :mod:`~zphot.sim.mock`: mock photometric catalogs through a survey's filter curves.
"""

from .mock import simulate_catalog
from .observing import Observing, observing

__all__ = ["Observing", "observing", "simulate_catalog"]
