"""The galaxy simulator's physics: population relations and mock catalogs.

A survey's depth, sky, PSF, pixel scale, error model and population are data in its TOML's
``[observing]`` table (:class:`zphot.catalog.observing.Observing`, held by the ``Survey``).

- :mod:`~zphot.sim.population`: types, n(z), bulge + disk SEDs, sizes and shapes, each from
  the literature (see its docstring for the references);
- :mod:`~zphot.sim.mock`: mock photometric catalogs through a survey's filter curves.
"""

from .mock import simulate_catalog

__all__ = ["simulate_catalog"]
