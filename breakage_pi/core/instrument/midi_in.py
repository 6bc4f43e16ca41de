"""Drum notes played in on MIDI (``[midi] input``): heard at once, and in ``record`` written at the step.

A note is heard at the start of the engine's next block, not at the next
step: it becomes a one-shot :class:`~breakage_pi.core.playstate.Hit` in the
snapshot. Recording writes it into the playing slot at the nearest step
(the one sounding, or the next when the note came in its second half), with
the note's velocity: the net answers it as it answers an edit on the grid.
A note written into the step about to play swallows that step's hit once,
so it is heard once, now. Only the input rows take notes (the net plays
the others); stopped, a note is heard and not written (there is no step).
"""

from __future__ import annotations

from dataclasses import replace

from ..pattern import STEPS
from ..playstate import MAX_HITS, Hit
from .editing import set_velocity
from .effects import Effect
from .inputs import NoteIn
from .state import NOTES_OFF, NOTES_RECORD, Instrument


def landing_step(event: NoteIn) -> int:
    """The column nearest the note: the one sounding, or the next from the step's second half on.

    >>> landing_step(NoteIn(0, 100, step=3, into_step=2999, step_frames=6000))
    3
    >>> landing_step(NoteIn(0, 100, step=15, into_step=3000, step_frames=6000))
    0
    """
    return (event.step + 1) % STEPS if 2 * event.into_step >= event.step_frames else event.step


def note_in(state: Instrument, event: NoteIn, effects: list[Effect]) -> Instrument:
    """Play the note now; in ``record``, while playing, write it at its step."""
    if state.notes == NOTES_OFF or event.channel not in state.input_rows:
        return state
    swallow = -1
    if state.notes == NOTES_RECORD and state.playing and event.step >= 0:
        column = landing_step(event)
        state = set_velocity(state, (event.channel, column), event.velocity)
        swallow = column if column != event.step else -1
    serial = state.hit_serial + 1
    hit = Hit(serial, event.channel, event.velocity, swallow)
    return replace(state, hits=(state.hits + (hit,))[-MAX_HITS:], hit_serial=serial)
