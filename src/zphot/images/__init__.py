"""Galaxy stamps in, the same estimator contract out.

- :mod:`~zphot.images.render`: one galaxy's bulge + disk stamp through per-band PSFs, with sky
  and Poisson noise (GalSim);
- :mod:`~zphot.images.simulate`: a whole catalog on several processes, chunked and resumable;
  :func:`prepare_catalog` gives a real catalog the structure to render it;
- :mod:`~zphot.images.store`: the stamp file layout, and how catalog rows point at stamps;
- :mod:`~zphot.images.sheet`: a false-colour contact sheet;
- :mod:`~zphot.images.estimator`: ``image-cnn`` (torch, imported only when used).

GalSim and torch are imported inside the modules that use them, so ``import zphot.images``
needs neither.
"""

from .store import attach_stamps, load_stamps, stamps_in_bands

__all__ = ["attach_stamps", "load_stamps", "stamps_in_bands"]
