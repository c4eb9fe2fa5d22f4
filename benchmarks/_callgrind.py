"""Switch callgrind's instrumentation on and off from Python, to count one stretch of work.

Run the script under ``valgrind --tool=callgrind --instr-atstart=no``: start-up (imports,
model loading) then runs uninstrumented and fast, and only what lies between :func:`start` and
:func:`stop` is counted, in every thread; valgrind's closing ``Collected :`` line is the total.
The switches are valgrind's client requests (``valgrind/callgrind.h``), compiled on first use
into a small shared library with the system C compiler; outside valgrind they do nothing.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

SOURCE = """
#include <valgrind/callgrind.h>
void bench_start(void) { CALLGRIND_START_INSTRUMENTATION; }
void bench_stop(void) { CALLGRIND_STOP_INSTRUMENTATION; }
int bench_on_valgrind(void) { return RUNNING_ON_VALGRIND; }
"""


@cache
def _library() -> ctypes.CDLL:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise SystemExit("--callgrind needs a C compiler (cc) and valgrind's headers")
    folder = Path(tempfile.mkdtemp(prefix="matinee-callgrind-"))
    source, library = folder / "switch.c", folder / "switch.so"
    source.write_text(SOURCE)
    subprocess.run([compiler, "-O1", "-shared", "-fPIC", "-o", library, source], check=True)
    return ctypes.CDLL(str(library))


def on_valgrind() -> bool:
    """Whether this process runs under valgrind."""
    return bool(_library().bench_on_valgrind())


def start() -> None:
    """Count from here (all threads)."""
    _library().bench_start()


def stop() -> None:
    """Stop counting."""
    _library().bench_stop()
