"""The OpenMP spin-wait default of Matinee's parallel kernels, set where those kernels load.

Matinee's compiled kernels run on numba's OpenMP threads. Unless the environment says otherwise,
a thread waiting for the next parallel region spins only briefly before it sleeps
(``GOMP_SPINCOUNT=1000``; libgomp's default spins 300 times longer). Measured on 2 cores, one
biased-MF epoch on ml-100k: 1.95 ms with either setting on an idle machine, but with the other
core busy 3.1 ms against 76 ms, since long-spinning threads take the CPU from the thread that
has the work. (``OMP_WAIT_POLICY=PASSIVE`` is safe too, but 20% slower when idle.)

libgomp reads the variable once, when numba first loads its OpenMP runtime (at the first parallel
kernel call), so the modules that define parallel kernels import this module before numba.
``import matinee`` itself changes nothing; to opt out, set ``GOMP_SPINCOUNT`` (any value) before
training: an existing value is never replaced.
"""

from __future__ import annotations

import os

__all__ = ["SPINCOUNT"]

SPINCOUNT = "1000"
"""libgomp spin iterations before a waiting thread sleeps (unless the environment sets one)."""

os.environ.setdefault("GOMP_SPINCOUNT", SPINCOUNT)
