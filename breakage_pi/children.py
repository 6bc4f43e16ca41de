"""How every child process of Breakage Pi is started: ``spawn``, with the numerical libraries on one thread.

The audio process and the training process must not each start a pool of
BLAS/OpenMP threads (one per core, spinning after every product) beside the
real-time engine: the libraries read these variables once, when they load,
so they are set here, in the one place every child is started from, before
it is started. The control process's own libraries are already loaded and
keep their settings.
"""

from __future__ import annotations

import multiprocessing
import os
from multiprocessing.context import BaseContext

THREAD_LIMITS = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                        "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "BLIS_NUM_THREADS")}


def child_context(method: str = "spawn") -> BaseContext:
    """The multiprocessing context to start a child with, thread limits in the environment it inherits.

    >>> child_context().get_start_method()
    'spawn'
    """
    os.environ.update(THREAD_LIMITS)
    return multiprocessing.get_context(method)
