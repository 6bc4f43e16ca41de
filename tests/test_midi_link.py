"""The daemon's live MIDI feed (breakage_pi.midi_link): states matched to the status board's serial and
adoption frame, a restarted engine (a new kit) as Stop then Start, the session's end as Stop."""

from __future__ import annotations

from dataclasses import dataclass

import mido

from breakage_pi.core import Pattern
from breakage_pi.core.playstate import PlayState
from breakage_pi.daemon.midi_link import LiveMidiFeed, MidiOut

KICKS = Pattern().with_channel(0, [200, 0, 0, 0] * 4)
SNARES = Pattern().with_channel(1, [0, 0, 0, 0, 180, 0, 0, 0] * 2)
STEP = 6000                         # frames per 16th at 120 BPM


@dataclass
class Reading:                      # the fields of an EngineStatus the feed reads
    frame: int
    state_serial: int = 0
    state_frame: int = 0


def decoded(path):
    parser = mido.Parser()
    parser.feed(path.read_bytes())
    return list(parser)


def notes(messages):
    return [(m.type, m.note) for m in messages if m.type == "note_on"]


def test_a_state_plays_from_the_frame_the_board_says_it_was_adopted(tmp_path):
    path = tmp_path / "midi"
    path.touch()
    feed = LiveMidiFeed(MidiOut(str(path), 48_000, PlayState(KICKS)))
    feed.sent(1, PlayState(SNARES))
    feed.update(Reading(frame=3 * STEP))                      # not adopted yet: kicks on step 0 only
    feed.update(Reading(frame=5 * STEP, state_serial=1, state_frame=4 * STEP + 64))
    feed.update(Reading(frame=16 * STEP, state_serial=1, state_frame=4 * STEP + 64))
    # kicks on steps 0 and 4 (adopted just after step 4 began), then the snares' step 12 only
    assert notes(decoded(path)) == [("note_on", 36), ("note_on", 36), ("note_on", 38)]


def test_a_restarted_engine_is_stop_then_start_and_the_end_is_stop(tmp_path):
    path = tmp_path / "midi"
    path.touch()
    feed = LiveMidiFeed(MidiOut(str(path), 48_000, PlayState(KICKS)))
    feed.update(Reading(frame=STEP))
    feed.restart(PlayState(SNARES), offset=2 * STEP)          # the new process counts from 0 again
    feed.update(Reading(frame=5 * STEP))                      # = 7 steps into the session: step 4 of the new one
    feed.out.close(feed.offset + 5 * STEP)
    types = [m.type for m in decoded(path) if m.type != "clock"]
    assert types == ["songpos", "start", "note_on", "note_off", "stop",
                     "songpos", "start", "note_on", "note_off", "stop"]
    assert notes(decoded(path)) == [("note_on", 36), ("note_on", 38)]


def test_a_followed_clock_from_a_fifo_becomes_tempo_and_transport_events(tmp_path):
    import os

    from breakage_pi.core.instrument import ExternalClock
    from breakage_pi.daemon.midi_link import ClockIn

    fifo = tmp_path / "clock-in"
    os.mkfifo(fifo)
    clock = ClockIn(str(fifo))
    assert clock.poll(0.0) == []                              # opens the FIFO's reading end, nothing yet
    writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    try:
        events = []
        pulse_s = 60 / (100 * 24)                             # a DAW at 100 BPM
        for pulse in range(60):
            os.write(writer, (bytes(mido.Message("start").bytes()) if pulse == 0 else b"") + bytes([0xF8]))
            events += clock.poll(pulse * pulse_s)
        os.write(writer, bytes(mido.Message("stop").bytes()))
        events += clock.poll(60 * pulse_s)
    finally:
        os.close(writer)
        clock.close()
    assert events == [ExternalClock(None, "start", 0.0), ExternalClock(100.0, None, 48 * pulse_s),
                      ExternalClock(None, "stop", 60 * pulse_s)]
