"""The running instrument: hardware -> state machine -> engine, nets, training and store, composed.

:mod:`.root` is the composition root (:func:`run_live`, :func:`run_lockstep`);
each other module does one job for it.
"""

from .root import SAVE_FAILED_STATUS, RunOptions, run_live, run_lockstep
from .stop import StopSignals

__all__ = ["SAVE_FAILED_STATUS", "RunOptions", "StopSignals", "run_live", "run_lockstep"]
