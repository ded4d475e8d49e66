#!/usr/bin/env bash
# Set up a virtual environment from the project's own files and run a job in it.
#   bash dev.sh demo   - the main job: compare every estimator on the built-in DC2 catalogs
#   bash dev.sh test   - lint and the test suite (what CI runs)
set -euo pipefail
cd "$(dirname "$0")"
VENV=${ZPHOT_VENV:-.venv}

setup() {
  if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
  fi
  # torch first, pinned: torch==2.13.0 is the CPU build on this machine's disk, while any other
  # spec (pyproject.toml's range included) lets pip pick a multi-GB CUDA build from PyPI. The
  # project's torch>=2.2,<3 is then satisfied, so installing it adds no other torch.
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[dev]"
  export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
}

case "${1:-}" in
  demo)
    setup
    "$VENV/bin/zphot" info --catalog builtin:dc2-train
    "$VENV/bin/zphot" compare --catalog builtin:dc2-train --test builtin:dc2-test \
      --models all --out results/demo --overwrite
    ;;
  test)
    setup
    "$VENV/bin/ruff" check src tests benchmarks
    "$VENV/bin/python" -m pytest -q --doctest-modules src tests
    ;;
  *)
    echo "usage: bash dev.sh demo|test" >&2
    exit 2
    ;;
esac
