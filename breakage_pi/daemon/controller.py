"""The one control loop: every input goes through the state machine, and its effects are carried out here.

What a press means is :mod:`breakage_pi.core.instrument`'s; this carries
its effects out. It consumes hardware events (posted by the grid and
controls threads), the engine's playhead, the training process's reports
and any extra pollable source (:meth:`Controller.add_source`: USB sync's
changes, a followed MIDI clock); :attr:`Controller.alive` is called once
per iteration (a watchdog's hook).
"""

from __future__ import annotations

import logging
import queue
import sys
from collections import deque
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from ..core.events import InputEvent
from ..core.instrument import (AbortTraining, Instrument, Leds, Log, Play, RunNet, Save, SelectKit, StartTraining,
                               Tick, ToggleTake, step)
from ..core.playstate import PlayState
from ..core.saved import saved_to_data
from .nets import Nets
from .saver import Saver
from .trainer import Trainer

log = logging.getLogger("breakage_pi")

CONTROL_SWITCH_INTERVAL_S = 0.0005
"""The control process hands the interpreter between its threads (grid, knobs, loop) this often: a pad
event waits less behind another thread's Python (measured with the simulated panel: the loop's median
from pad event to snapshot 1.3 -> 1.0 ms, p99 3.1 -> 2.5 ms)."""


def quick_thread_switches() -> None:
    """Apply :data:`CONTROL_SWITCH_INTERVAL_S` to this (the control) process."""
    sys.setswitchinterval(CONTROL_SWITCH_INTERVAL_S)


_WAKE: Any = object()
"""Put in the controller's inbox by :meth:`Controller.wake`: no event, it only ends the wait."""


class Controller:
    """The state machine and everything its effects touch; one :meth:`iterate` per loop pass."""

    def __init__(self, state: Instrument, nets: Nets, trainer: Trainer, saver: Saver,
                 send: Callable[[PlayState], Any], show: Callable[[np.ndarray], Any]) -> None:
        self.state = state
        self.nets, self.trainer, self.saver = nets, trainer, saver
        self._send, self._show = send, show
        # queue.Queue, not SimpleQueue: CPython 3.11's SimpleQueue.get(timeout) interrupted by a signal whose
        # handler outlasts the timeout waits forever (it recomputes a negative timeout, meaning "block"); seen
        # as a daemon that logged "SIGTERM: saving and stopping" and never stopped, under load
        self._inbox: queue.Queue[InputEvent] = queue.Queue()
        self._waiting: deque[InputEvent] = deque()     # taken off the inbox by wait(), handled first
        self._sources: list[Callable[[float], Iterable[Any]]] = []
        self._play: PlayState | None = None
        self._frame: np.ndarray | None = None
        self._now = 0.0
        self.alive: Callable[[], None] = lambda: None
        """Called once per loop pass (a hook for a keep-alive; the systemd watchdog watches ``iterations``)."""
        self.iterations = 0
        self.on_kit: Callable[[str | None], None] = lambda name: None
        """Called with the kit the player chose (a folder of ``kits/``, None for the built-in one)."""
        self.on_take: Callable[[], None] = lambda: None
        """Called when the take pad asks for a take to start or stop (:class:`~.takes.Takes`)."""
        self.on_input: Callable[[InputEvent], None] = lambda event: None
        """Called with each hardware event before it is handled (a take records it)."""

    def post(self, event: InputEvent) -> None:
        """The hardware's event sink (thread-safe)."""
        self._inbox.put(event)

    def add_source(self, source: Callable[[float], Iterable[Any]]) -> None:
        """Poll ``source(now)`` every pass; the events it returns go to the state machine."""
        self._sources.append(source)

    def wake(self) -> None:
        """End a :meth:`wait` now (thread-safe): a source has something for the next pass (MIDI in)."""
        self._inbox.put(_WAKE)

    def wait(self, timeout: float) -> None:
        """Sleep until a hardware event arrives, :meth:`wake` is called or ``timeout`` seconds pass (live loop)."""
        if self._waiting:
            return
        try:
            event = self._inbox.get(timeout=timeout)
        except queue.Empty:
            return
        if event is not _WAKE:
            self._waiting.append(event)

    def iterate(self, now: float, step_column: int, switched: int) -> None:
        """One pass at time ``now``: inputs, the engine's playhead, training, sources; then hand over."""
        self._now = now
        while self._waiting:
            waited = self._waiting.popleft()
            self.on_input(waited)
            self.handle(waited)
        while True:
            try:
                event = self._inbox.get_nowait()
            except queue.Empty:
                break
            if event is not _WAKE:
                self.on_input(event)
                self.handle(event)
        self.handle(Tick(now, step_column, switched))
        for report in self.trainer.poll(now):
            self.handle(report)
        for source in self._sources:
            for event in source(now):
                self.handle(event)
        self.iterations += 1
        self.alive()
        self.flush()

    def flush(self) -> None:
        if self._frame is not None:
            frame, self._frame = self._frame, None
            self._show(frame)

    def handle(self, event: Any) -> None:
        """Step the state machine through ``event`` and what its effects answer (the net's outputs),
        then hand the engine the resulting snapshot at once."""
        pending = deque([event])
        while pending:
            current = pending.popleft()
            try:
                self.state, effects = step(self.state, current)
                for effect in effects:
                    pending.extend(self._carry_out(effect))
            except Exception:  # an instrument on stage outlives a surprise: drop the event, log it, play on
                log.exception("the control loop could not handle %r; carrying on", current)
        if self._play is not None:
            play, self._play = self._play, None
            self._send(play)

    def _carry_out(self, effect: Any) -> Sequence[Any]:
        if isinstance(effect, Play):
            self._play = effect.state
        elif isinstance(effect, Leds):
            self._frame = effect.frame
        elif isinstance(effect, RunNet):
            return [self.nets.answer(effect)]
        elif isinstance(effect, StartTraining):
            return self.trainer.start(effect.bank, self._now)
        elif isinstance(effect, AbortTraining):
            self.trainer.abort()
        elif isinstance(effect, Save):
            log.debug("saving: %s", effect.reason)
            self.saver.save(self.state.bank, saved_to_data(self.state))
        elif isinstance(effect, SelectKit):
            self.on_kit(effect.name)
        elif isinstance(effect, ToggleTake):
            self.on_take()
        elif isinstance(effect, Log):
            log.info("%s", effect.message)
        return ()

    def shutdown(self) -> str | None:
        """Save everything now and stop training (SIGTERM, --seconds, the end); returns why the save failed,
        None when everything is on disk."""
        self.trainer.close()
        return self.saver.flush(self.state.bank, saved_to_data(self.state))
