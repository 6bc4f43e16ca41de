"""The scripted-session format and the state.json codec (pure)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from breakage_pi.core import Bank, Slot
from breakage_pi.core.errors import FormatError, VersionError
from breakage_pi.core.instrument import PERFORM, Instrument, NetsLoaded, step
from breakage_pi.core.saved import restore, saved_to_data
from breakage_pi.core.events import BUTTONS, KNOBS
from breakage_pi.core.script import MAX_DETENTS, ScriptError, ScriptEvent, format_script, parse_script


def test_every_form_of_the_script_parses():
    events = parse_script("""
        # a comment line
        0 button play down
        10 button play up   # trailing comment
        250.5 press 3 15
        300 release 3 15
        400 knob velocity 0.75
        400 knob net 1
        4e2 knob swing .5
        +400 knob tempo 1e-1
        500 turn tempo 3
        500 turn net -1
        510 turn swing +12
        520 push velocity down
        530 push velocity up
    """)
    assert events == [
        ScriptEvent(0.0, "button", name="play", down=True), ScriptEvent(10.0, "button", name="play"),
        ScriptEvent(250.5, "pad", row=3, column=15, down=True), ScriptEvent(300.0, "pad", row=3, column=15),
        ScriptEvent(400.0, "knob", name="velocity", value=0.75), ScriptEvent(400.0, "knob", name="net", value=1.0),
        ScriptEvent(400.0, "knob", name="swing", value=0.5), ScriptEvent(400.0, "knob", name="tempo", value=0.1),
        ScriptEvent(500.0, "turn", name="tempo", detents=3), ScriptEvent(500.0, "turn", name="net", detents=-1),
        ScriptEvent(510.0, "turn", name="swing", detents=12), ScriptEvent(520.0, "push", name="velocity", down=True),
        ScriptEvent(530.0, "push", name="velocity")]


def test_script_lines_are_sorted_by_time_stably():
    events = parse_script("20 press 0 1\n5 press 0 2\n20 release 0 1")
    assert [(e.time_ms, e.column, e.down) for e in events] == [(5, 2, True), (20, 1, True), (20, 1, False)]


@pytest.mark.parametrize("line, message", [
    ("x press 0 0", "time must be milliseconds"),
    ("-5 press 0 0", "time must be milliseconds"),
    ("5 press 4 0", "row must be 0-3"),
    ("5 press 0 16", "column must be 0-15"),
    ("5 press 0", "expected 'T press ROW COL'"),
    ("5 button stop down", "unknown button 'stop'"),
    ("5 button play pressed", "expected 'T button NAME down|up'"),
    ("5 knob gain 0.5", "unknown knob 'gain'"),
    ("5 knob tempo 1.5", "knob value must be 0.0-1.0"),
    ("5 knob tempo nan", "knob value must be 0.0-1.0"),
    ("5 jump", "unknown event 'jump'"),
    ("9e15 knob net 0.6", "time must be at most 3600000 ms"),
    ("5 press ² 0", "row must be 0-3, got '²' (write numbers with the digits 0-9)"),
    ("5 press 0 ١٢", "column must be 0-15, got '١٢' (write numbers with the digits 0-9)"),
    ("5 press ３ 0", "row must be 0-3, got '３'"),                      # a full-width 3
    ("١٠ press 0 0", "time must be milliseconds (a number >= 0), got '١٠' (write numbers with the digits 0-9)"),
    ("1_000 press 0 0", "time must be milliseconds"),
    ("5 knob tempo ٠.٥", "knob value must be 0.0-1.0, got '٠.٥' (write numbers"),
    ("5 knob tempo 0x1", "knob value must be 0.0-1.0"),
    ("5 turn tempo 0", "detents must be a whole number 1-1000 or -1 to -1000"),
    ("5 turn tempo 1001", "detents must be a whole number"),
    ("5 turn tempo 1.5", "detents must be a whole number"),
    ("5 turn tempo --1", "detents must be a whole number"),
    ("5 turn tempo ٣", "got '٣' (write numbers with the digits 0-9)"),
    ("5 turn gain 1", "unknown knob 'gain'"),
    ("5 turn tempo", "expected 'T turn NAME DETENTS'"),
    ("5 push tempo pressed", "expected 'T push NAME down|up'"),
    ("5 push play down", "unknown knob 'play'"),
])
def test_a_malformed_line_names_the_file_and_line(line, message):
    with pytest.raises(ScriptError) as caught:
        parse_script(f"# header\n0 button play down\n{line}\n", "take.txt")
    assert str(caught.value).startswith("take.txt:3: ") and message in str(caught.value)


_TIMES = st.integers(0, 3_600_000_000).map(lambda microseconds: microseconds / 1000)
_ACTIONS = st.one_of(
    st.tuples(st.just("pad"), st.integers(0, 3), st.integers(0, 15)),
    st.tuples(st.just("button"), st.sampled_from(BUTTONS), st.booleans()),
    st.tuples(st.just("knob"), st.sampled_from(KNOBS), st.floats(0.0, 1.0)),
    st.tuples(st.just("note"), st.integers(0, 127), st.integers(0, 127), st.integers(1, 16)),
    st.tuples(st.just("turn"), st.sampled_from(KNOBS),
              st.integers(-MAX_DETENTS, MAX_DETENTS).filter(lambda detents: detents != 0)),
    st.tuples(st.just("push"), st.sampled_from(KNOBS), st.booleans()))


def _events(times: list[float], actions: list[tuple]) -> list[ScriptEvent]:
    """Events of every kind in time order; a pad's presses and releases alternate, as a script must have them."""
    held: set[tuple[int, int]] = set()
    events = []
    for time_ms, (kind, *args) in zip(sorted(times), actions):
        if kind == "pad":
            pad = tuple(args)
            down = pad not in held
            (held.add if down else held.discard)(pad)
            events.append(ScriptEvent(time_ms, "pad", row=args[0], column=args[1], down=down))
        elif kind == "button":
            events.append(ScriptEvent(time_ms, "button", name=args[0], down=args[1]))
        elif kind == "knob":
            events.append(ScriptEvent(time_ms, "knob", name=args[0], value=args[1]))
        elif kind == "turn":
            events.append(ScriptEvent(time_ms, "turn", name=args[0], detents=args[1]))
        elif kind == "push":
            events.append(ScriptEvent(time_ms, "push", name=args[0], down=args[1]))
        else:
            events.append(ScriptEvent(time_ms, "note", note=args[0], velocity=args[1], channel=args[2]))
    return events


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(times=st.lists(_TIMES, max_size=40), actions=st.lists(_ACTIONS, max_size=40))
def test_a_formatted_script_parses_back_to_the_same_events_of_every_kind(times, actions):
    """What a take writes (``performance.txt``) is what its replay reads: times to the microsecond."""
    events = _events(times, actions)
    assert parse_script(format_script(events, "a take\nof every kind")) == events


def test_a_note_is_written_as_a_note_line_with_its_channel():
    text = format_script([ScriptEvent(12.5, "note", note=40, velocity=7, channel=3),
                          ScriptEvent(13.0, "note", note=36, velocity=127)])
    assert text == "12.5 note 40 7 3\n13 note 36 127 10\n"


def test_saved_state_round_trips():
    bank = Bank(slots=(Slot(), Slot(), Slot()))
    nets = NetsLoaded(("loose", "medium", "tight"), ("in", "in", "out", "out"))
    state, _ = step(Instrument(bank, kits=("909",)), nets)
    from dataclasses import replace
    state = replace(state, slot=2, mode=PERFORM, position=0.8, volume=0.5, default_velocity=99,
                    mutes=(True, False, False, True), kit="909")
    data = saved_to_data(state)
    assert data["slot"] == 3 and data["net"] == "tight" and data["net_position"] == 0.8
    fresh, _ = step(Instrument(bank, kits=("909",)), nets)
    back = restore(fresh, data)
    assert saved_to_data(back) == data
    del data["net_position"]                                    # a file from before the NET knob morphed
    assert restore(fresh, data).position == 1.0


@pytest.mark.parametrize("change, error, field", [
    ({"slot": 9}, FormatError, "slot"), ({"mode": "jam"}, FormatError, "mode"),
    ({"volume": 2}, FormatError, "volume"), ({"net_position": 1.5}, FormatError, "net_position"),
    ({"mutes": [True]}, FormatError, "mutes"), ({"knobs": {"gain": 0.1}}, FormatError, "knobs.gain"),
    ({"version": 2}, VersionError, "version"), ({"format": "other"}, FormatError, "format"),
])
def test_bad_saved_state_names_the_field(change, error, field):
    data = {**saved_to_data(Instrument(Bank())), **change}
    with pytest.raises(error) as caught:
        restore(Instrument(Bank()), data)
    assert caught.value.field == field


@pytest.mark.parametrize("script, line, message", [
    ("100 press 0 1\n50 release 0 1\n", 2, "pad 0 1 released while not held (at 50 ms"),   # out of order
    ("10 release 2 2\n", 1, "pad 2 2 released while not held"),
    ("10 press 0 1\n20 press 0 1\n", 2, "pad 0 1 pressed while already held"),
])
def test_a_pad_released_unheld_or_pressed_twice_names_its_line(script, line, message):
    """Else the session waits seconds for a key-scan edge that never comes and fails naming no line."""
    with pytest.raises(ScriptError) as caught:
        parse_script(script, "take.txt")
    assert str(caught.value).startswith(f"take.txt:{line}: ") and message in str(caught.value)


def test_a_scripted_session_is_capped_at_an_hour_and_says_which_actions_it_will_not_play(tmp_path, capsys):
    """Unpaced, a session writes ~1 MB of WAV a second: --seconds 1e12 would fill the disk. Actions after the
    end are named rather than dropped without a word."""
    from breakage_pi.cli import main

    script = tmp_path / "take.txt"
    script.write_text("0 button play down\n20 button play up\n900 press 0 1\n940 release 0 1\n")
    with pytest.raises(SystemExit) as stopped:
        main(["run", "--sim", "--headless", "--script", str(script), "--seconds", "1e12", "--device", "null"])
    assert stopped.value.code == 2 and "at most 3600 s" in capsys.readouterr().err
    assert main(["run", "--sim", "--headless", "--script", str(script), "--seconds", "0.3",
                 "--data", str(tmp_path / "data"), "--device", "null"]) == 0
    assert "2 action(s) of" in capsys.readouterr().err
