"""Property: whatever bank file, config file or command line a user (or a broken SD card) hands the commands,
the outcome is success or one clean error with a non-zero exit: no traceback, no temporary file left, no
input modified.

Mutations start from valid files (so most examples get deep into the code): a value anywhere in a bank
replaced by any JSON value (huge numbers, NaN, control characters, nesting), keys dropped or added, bytes cut,
flipped or inserted, a byte-order mark; config lines given hostile values; MIDI files with bytes cut, flipped
or inserted; command lines drawn from hostile
arguments. ``make test`` runs a bounded, reproducible number of examples; ``make soak`` runs many more.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import tempfile
from pathlib import Path
from typing import Any, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ml_builders import MODELS, seed_example_bank

from breakage_pi.cli import main
from breakage_pi.core.bank import bank_to_data
from breakage_pi.midi import bank_to_midi

EXAMPLE_CONFIG = (Path(__file__).resolve().parent.parent / "firmware" / "breakage-pi.toml").read_text()
VALID_BANK = bank_to_data(seed_example_bank().with_changes(extra={"comment": "mine"}))
TEMP_NAME = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")

HUGE = "9" * 5000
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10**300, max_value=10**4000),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
    st.sampled_from(["\x1b[2J", "x" * 5000, "../../x", "", "in", "out", "breakage-pi/bank", "kick"]))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=17), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=40)


def _mutate_value(data: Any, draw: Callable[..., Any]) -> Any:
    """``data`` with one value somewhere inside replaced, a key dropped or added (a copy)."""
    if isinstance(data, (list, dict)) and data and draw(st.integers(0, 3)):
        keys = list(range(len(data))) if isinstance(data, list) else list(data)
        key = draw(st.sampled_from(keys))
        copy = list(data) if isinstance(data, list) else dict(data)
        copy[key] = _mutate_value(data[key], draw)
        return copy
    action = draw(st.sampled_from(["replace", "drop", "add"]))
    if action == "drop" and isinstance(data, dict) and data:
        return {key: value for key, value in data.items() if key != draw(st.sampled_from(list(data)))}
    if action == "add" and isinstance(data, dict):
        return {**data, draw(st.text(max_size=8)): draw(json_values)}
    return draw(json_values)


def _mutate_bytes(data: bytes, draw: Callable[..., Any]) -> bytes:
    action = draw(st.sampled_from(["none", "cut", "flip", "insert", "bom", "deep"]))
    at = draw(st.integers(0, len(data)))
    if action == "cut":
        return data[:at]
    if action == "flip" and at < len(data):
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:]
    if action == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    if action == "bom":
        return b"\xef\xbb\xbf" + data
    if action == "deep":
        depth = draw(st.sampled_from([70, 5000, 100_000]))
        return data[:at] + b"[" * depth + b"]" * depth + data[at:]
    return data


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def run_cleanly(argv: list[str], folder: Path, inputs: list[str]) -> int:
    """Run the command in ``folder``; assert it ended in success or one clean error and disturbed nothing."""
    before = _snapshot(folder)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(folder), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exit_:                  # argparse's usage errors
            status = exit_.code
    message = err.getvalue()
    assert "Traceback" not in message, message
    if status != 0:
        assert isinstance(status, int) and status > 0
        lines = [line for line in message.splitlines() if "error" in line]
        assert len(lines) == 1 and len(lines[0]) < 1200, message
        assert "\x1b" not in message
    after = _snapshot(folder)
    assert not [name for name in after if TEMP_NAME.match(Path(name).name)], "a temporary file was left"
    for name in inputs:
        assert after.get(name) == before.get(name), f"input {name} was modified"
    return status


def _profile(examples: int, soak: bool) -> settings:
    return settings(max_examples=examples, deadline=None, database=None, derandomize=not soak,
                    suppress_health_check=list(HealthCheck))


def _bank_case(data: st.DataObject) -> None:
    draw = data.draw
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        bank = json.dumps(_mutate_value(VALID_BANK, draw) if draw(st.booleans()) else VALID_BANK).encode()
        (folder / "bank.json").write_bytes(_mutate_bytes(bank, draw))
        (folder / "take.wav").write_text("not a wav")
        command = draw(st.sampled_from(["render", "predict"]))
        slot = str(draw(st.integers(-1, 17)))
        argv = (["render", "bank.json", "--slot", slot, "--bars", "1", "--out", draw(st.sampled_from(
                    ["take.wav", "new.wav", "bank.json", "sub/x.wav"]))]
                if command == "render" else ["predict", str(MODELS / "net-loose.onnx"), "bank.json", "--slot", slot])
        run_cleanly(argv, folder, ["bank.json", "take.wav"])


def _config_case(data: st.DataObject) -> None:
    draw = data.draw
    lines = EXAMPLE_CONFIG.splitlines()
    settings_lines = [index for index, line in enumerate(lines) if re.match(r"^\s*#?\s*\w+ = ", line)]
    for _ in range(draw(st.integers(0, 3))):
        index = draw(st.sampled_from(settings_lines))
        key = lines[index].lstrip("# ").split(" = ")[0]
        value = draw(st.sampled_from([HUGE, "-" + HUGE, "nan", "inf", "-1", "0", "0x90", "1e999", '""', '"\x1b[2J"',
                                      '"default"', "true", "false", "[" * 3000 + "]" * 3000, "[]", "{}", "3.5",
                                      '"hw:CARD=x,DEV=0"', "'''", "[1, 2, 3, 4]", "[0x2E, 0x2E, 0x30, 0x31]"]))
        lines[index] = f"{key} = {value}"
    text = _mutate_bytes(("\n".join(lines) + "\n").encode(), draw)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "c.toml").write_bytes(text)
        run_cleanly(["config", "c.toml"], folder, ["c.toml"])


def _example_midi() -> bytes:
    buffer = io.BytesIO()
    bank_to_midi(seed_example_bank()).save(file=buffer)
    return buffer.getvalue()


VALID_MIDI = _example_midi()


def _midi_case(data: st.DataObject) -> None:
    """A MIDI file with bytes cut, flipped or inserted, several times over: imported or one clean error."""
    draw = data.draw
    midi = VALID_MIDI
    for _ in range(draw(st.integers(1, 3))):
        midi = _mutate_bytes(midi, draw)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "in.mid").write_bytes(midi)
        run_cleanly(["import-midi", "in.mid", "--out", "bank.json"], folder, ["in.mid"])


HOSTILE_ARGS = ["", ".", "..", "/", "-1", "0", "1", "2", HUGE, "nan", "inf", "1e999", "\x1b[2J", "a/", "missing.json",
                "bank.json", "kit", "take.wav", "notes.txt", "folder", "sub/new.wav", "/dev/zero"]


def _command_line_case(data: st.DataObject) -> None:
    draw = data.draw
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "bank.json").write_text(json.dumps(VALID_BANK))
        (folder / "notes.txt").write_text("mine")
        (folder / "folder").mkdir()
        (folder / "kit").mkdir()
        pick = lambda: draw(st.sampled_from(HOSTILE_ARGS))  # noqa: E731
        command = draw(st.sampled_from(["render", "predict", "config", "train"]))
        if command == "render":
            argv = ["render", pick(), "--slot", pick(), "--bars", draw(st.sampled_from(["1", "0", "-1", HUGE, "x",
                                                                                       "100000", ""])),
                    "--out", pick()]
            for option in ("--tempo", "--kit", "--net"):
                if draw(st.booleans()):
                    argv += [option, pick()]
            if draw(st.booleans()):
                argv.append("--force")
            if draw(st.integers(0, 4)) == 0:
                argv.insert(2, pick())                # a stray argument, echoed by argparse
        elif command == "predict":
            argv = ["predict", pick(), pick(), "--slot", pick()]
        elif command == "config":
            argv = ["config", pick()]
        else:                                        # train, refused before it trains (a bad bank, out or target)
            argv = ["train", draw(st.sampled_from(["missing.json", "notes.txt", "folder", HUGE, ""])), "--out",
                    pick(), "--targets", pick()]
        run_cleanly(argv, folder, ["bank.json", "notes.txt"])


test_mutated_banks = _profile(200, soak=False)(given(st.data())(_bank_case))
test_mutated_configs = _profile(300, soak=False)(given(st.data())(_config_case))
test_hostile_command_lines = _profile(300, soak=False)(given(st.data())(_command_line_case))
test_mutated_midi_files = _profile(150, soak=False)(given(st.data())(_midi_case))
test_mutated_banks_soak = pytest.mark.soak(_profile(3000, soak=True)(given(st.data())(_bank_case)))
test_mutated_configs_soak = pytest.mark.soak(_profile(3000, soak=True)(given(st.data())(_config_case)))
test_hostile_command_lines_soak = pytest.mark.soak(_profile(3000, soak=True)(given(st.data())(_command_line_case)))
test_mutated_midi_files_soak = pytest.mark.soak(_profile(5000, soak=True)(given(st.data())(_midi_case)))
