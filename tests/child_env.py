"""The environment of a child Python (``sys.executable``) that a test starts: one place for what every
such child needs, so the test modules that start them do not each build their own.

- ``PYTHONPATH`` puts this checkout first (the children import the code under test, as the test runner
  does, whether or not the package is installed in editable mode) and ``tests/`` after it (for the
  tests' helper modules), before whatever the runner had.
- The thread variables of OpenMP, OpenBLAS and MKL are set to ``threads``, with ``OMP_WAIT_POLICY=PASSIVE``
  (spinning threads of one child would starve the others on a 2-core machine).
- ``COMPLEMENT_QUIET=1``: no progress bars in the children's captured output.

Keyword arguments override or add variables (``COMPLEMENT_QUIET="0"`` to see the progress)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TESTS = REPO / "tests"


def child_env(threads: int | str = 1, **overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), str(TESTS), env.get("PYTHONPATH")]))
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[variable] = str(threads)
    env["OMP_WAIT_POLICY"] = "PASSIVE"
    env["COMPLEMENT_QUIET"] = "1"
    env.update(overrides)
    return env
