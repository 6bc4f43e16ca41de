import json

import numpy as np
import pytest

from breakage_pi.core import Bank, FormatError, Pattern, Slot, VersionError, bank_from_data, bank_to_data
from breakage_pi.core.bank import Correction


def test_pattern_is_immutable_and_edits_return_copies():
    empty = Pattern()
    hit = empty.with_velocity(1, 4, 200)
    assert empty.velocity(1, 4) == 0 and hit.velocity(1, 4) == 200
    with pytest.raises(ValueError):
        hit.velocities[0, 0] = 1
    assert hit == Pattern(hit.to_lists()) and hash(hit) == hash(Pattern(hit.to_lists()))


@pytest.mark.parametrize("bad", [256, -1, 1.5, True, "7"])
def test_pattern_rejects_bad_velocities(bad):
    with pytest.raises(FormatError):
        Pattern().with_velocity(0, 0, bad)


def test_bank_roles_and_training_slots():
    bank = Bank(slots=(Slot("a", True), Slot("b", False)), roles=("in", "out", "in", "out"))
    assert bank.input_channels == (0, 2) and bank.output_channels == (1, 3)
    assert [slot.name for slot in bank.training_slots] == ["a"]
    assert bank.slot(2).name == "b"
    with pytest.raises(FormatError):
        bank.slot(3)


def test_bank_round_trips_through_data():
    pattern = Pattern(np.arange(64, dtype=np.uint8).reshape(4, 16))
    bank = Bank(slots=(Slot("x", True, pattern),), tempo=97.5, swing=0.6)
    data = bank_to_data(bank)
    assert data["format"] == "breakage-pi/bank" and data["version"] == 1
    assert bank_from_data(data) == bank


def test_corrections_round_trip_as_version_2_and_a_bank_without_them_stays_version_1():
    corrected = Pattern(np.arange(64, dtype=np.uint8).reshape(4, 16))
    bank = Bank(slots=(Slot("x", True, Pattern()),), corrections=(Correction(corrected),))
    data = bank_to_data(bank)
    assert data["version"] == 2 and data["corrections"] == [{"steps": corrected.to_lists()}]
    assert bank_from_data(json.loads(json.dumps(data))) == bank
    assert bank.training_patterns == (Pattern(), corrected)
    old = bank_to_data(Bank())
    assert old["version"] == 1 and "corrections" not in old
    assert bank_from_data(old).corrections == ()


def test_a_corrections_unknown_keys_are_kept():
    data = bank_to_data(Bank(corrections=(Correction(),)))
    data["corrections"][0]["comment"] = "the fill on bar 3"
    assert bank_to_data(bank_from_data(data))["corrections"][0] == {"steps": Pattern().to_lists(),
                                                                    "comment": "the fill on bar 3"}


def _data(**changes):
    data = bank_to_data(Bank())
    data.update(changes)
    return data


@pytest.mark.parametrize("data,field,words", [
    (_data(version=3), "version", "newer"),
    (_data(version="1"), "version", "integer"),
    (_data(format="other"), "format", "breakage-pi/bank"),
    (_data(tempo=500), "tempo", "30-300"),
    (_data(swing="x"), "swing", "number"),
    (_data(roles=["in", "in", "out", "sideways"]), "roles[3]", "'in' or 'out'"),
    (_data(channels=["kick", "kick", "a", "b"]), "channels", "distinct"),
    (_data(slots=[]), "slots", "1-16"),
    (_data(slots=[{"name": "a", "steps": [[0] * 16] * 3}]), "slots[0].steps", "4 channels"),
    (_data(slots=[{"name": "a", "steps": [[0] * 15] * 4}]), "slots[0].steps[0]", "16 steps"),
    (_data(slots=[{"name": "a", "steps": [[0] * 16] * 3 + [[0] * 15 + [300]]}]), "slots[0].steps[3][15]", "0-255"),
    (_data(slots=[{"name": "a", "train": "yes", "steps": [[0] * 16] * 4}]), "slots[0].train", "true or false"),
    (_data(corrections={"steps": []}), "corrections", "a list"),
    (_data(corrections=[{"step": [[0] * 16] * 4}]), "corrections[0].steps", "missing"),
    (_data(corrections=[{"steps": [[0] * 16] * 3 + [[0] * 15 + [256]]}]), "corrections[0].steps[3][15]", "0-255"),
    (_data(corrections=[{"steps": [[0] * 16] * 4}] * 17), "corrections", "at most 16"),
])
def test_bad_data_names_the_field(data, field, words):
    with pytest.raises(FormatError) as caught:
        bank_from_data(data)
    assert caught.value.field == field
    assert words in str(caught.value)


def test_future_version_is_a_version_error():
    with pytest.raises(VersionError):
        bank_from_data(_data(version=9))


def test_with_slot_replaces_or_appends_and_keeps_the_original():
    bank = Bank(slots=(Slot("a"),))
    grown = bank.with_slot(2, Slot("b", True))
    replaced = grown.with_slot(1, Slot("z"))
    assert [s.name for s in bank.slots] == ["a"] and [s.name for s in grown.slots] == ["a", "b"]
    assert [s.name for s in replaced.slots] == ["z", "b"]
    with pytest.raises(FormatError, match="slot must be 1-3"):
        grown.with_slot(4, Slot())
    full = Bank(slots=tuple(Slot(str(i)) for i in range(16)))
    with pytest.raises(FormatError, match="slot must be 1-16"):
        full.with_slot(17, Slot())
