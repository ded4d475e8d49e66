"""Collection settings for the whole tree (``pytest --doctest-modules src tests``)."""

# src/rail/ is zphot's portion of RAIL's namespace package (no __init__.py above it), so
# pytest's default import mode would import src/rail/zphot/ as a top-level "zphot" and shadow
# the real package. It holds no doctests; tests/rail/ tests it. (pytest's
# consider_namespace_packages would fix this but changes how tests/ imports its helpers.)
collect_ignore = ["src/rail"]
