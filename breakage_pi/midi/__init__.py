"""MIDI: the General MIDI drum map, standard MIDI files of banks, and live MIDI out (scheduler and rawmidi writer)."""

from .follow import ClockFollower, RawMidiReader
from .gm import CHANNEL_NOTES, DRUM_CHANNEL, midi_velocity, velocity_from_midi
from .live import MidiScheduler, TimedMessage
from .rawmidi import RawMidiWriter, gadget_midi_node
from .smf import bank_from_midi, bank_to_midi

__all__ = ["ClockFollower", "RawMidiReader", "CHANNEL_NOTES", "DRUM_CHANNEL", "midi_velocity", "velocity_from_midi",
           "MidiScheduler", "TimedMessage", "RawMidiWriter", "gadget_midi_node", "bank_from_midi", "bank_to_midi"]
