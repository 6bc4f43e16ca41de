"""MIDI: the General MIDI drum map, standard MIDI files of banks, live MIDI out (scheduler and rawmidi writer),
and MIDI in (a followed clock, drum notes)."""

from .follow import ClockFollower, RawMidiReader
from .gm import CHANNEL_NOTES, DRUM_CHANNEL, drum_hit, midi_velocity, velocity_from_midi
from .live import MidiScheduler, TimedMessage
from .notes_in import MidiInput
from .rawmidi import RawMidiWriter, gadget_midi_node
from .smf import bank_from_midi, bank_to_midi

__all__ = ["ClockFollower", "RawMidiReader", "CHANNEL_NOTES", "DRUM_CHANNEL", "drum_hit", "midi_velocity",
           "velocity_from_midi", "MidiInput", "MidiScheduler", "TimedMessage", "RawMidiWriter", "gadget_midi_node", "bank_from_midi", "bank_to_midi"]
