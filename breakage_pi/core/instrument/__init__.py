"""The instrument's state machine: ``step(state, event) -> (state, effects)``, pure.

Everything the player can change lives in one immutable :class:`Instrument`
(:mod:`.state`); every input is an event (:mod:`.inputs`, beside the
hardware's in :mod:`breakage_pi.core.events`), and :func:`step`
(:mod:`.reducer`) returns the new state and the effects (:mod:`.effects`)
the outside must carry out. Each concern of the reducer is a module:
:mod:`.editing` (the step pads), :mod:`.menu` (the SHIFT page),
:mod:`.knobs` (pots, encoder, soft take-over), :mod:`.transport` (PLAY,
slots, chains, the engine's tick), :mod:`.training` (nets and training) and
:mod:`.external` (a followed MIDI clock, pushed banks and kits) and
:mod:`.midi_in` (drum notes played in on MIDI).
"""

from .effects import AbortTraining, Effect, Leds, Log, Play, RunNet, Save, SelectKit, StartTraining, ToggleTake
from .inputs import (BankLoaded, Event, ExternalClock, KitsFound, NetResult, NetsLoaded, NoteIn, TakeRecording, Tick,
                     TrainingFinished, TrainingProgress, TrainingStarted)
from .knobs import COARSE_STEPS, FINE_STEPS, KnobReadout, knob_readout, pick_up_all
from .reducer import step
from .state import (DEFAULT_VELOCITY, DEFAULT_VOLUME, EDIT, MODES, NOTE_MODES, NOTES_OFF, NOTES_PLAY, NOTES_RECORD,
                    PERFORM, CorrectionTally, Instrument, Knob, Training)

__all__ = [
    "step", "pick_up_all", "knob_readout", "KnobReadout", "FINE_STEPS", "COARSE_STEPS",
    "Instrument", "Knob", "Training", "CorrectionTally",
    "EDIT", "PERFORM", "MODES", "DEFAULT_VELOCITY", "DEFAULT_VOLUME",
    "NOTE_MODES", "NOTES_PLAY", "NOTES_RECORD", "NOTES_OFF",
    "Event", "Tick", "NetsLoaded", "NetResult", "TrainingStarted", "TrainingProgress", "TrainingFinished",
    "BankLoaded", "KitsFound", "ExternalClock", "NoteIn", "TakeRecording",
    "Effect", "Play", "Leds", "RunNet", "StartTraining", "AbortTraining", "Save", "SelectKit", "ToggleTake", "Log",
]
