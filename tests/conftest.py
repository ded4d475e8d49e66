"""Test-wide settings."""

import os

# torch's OpenMP threads spin while waiting by default, which on a busy 2-core machine makes
# 2-thread training 25-50x slower than 1 thread; passive waiting removes that. Must be set
# before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
