"""The shipped evaluation set: realistic grooves in five styles, split into training and held-out patterns.

Written for this project (``breakage_pi/data/eval_patterns.json``): 16
training patterns (as a player might mark) and 34 held-out ones, in house,
breakbeat, hip-hop, half-time and drum and bass. ``breakage-pi bench nets``
trains on the first and scores on the second.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..core.errors import FormatError
from ..core.pattern import Pattern, pattern_from_data
from .dataset import TrainingSet, training_set

EVAL_FORMAT = "breakage-pi/eval-patterns"


@dataclass(frozen=True)
class EvalSet:
    """Training and held-out examples with the same channels and roles, and each pattern's style."""

    train: TrainingSet
    held_out: TrainingSet
    train_styles: tuple[str, ...]
    held_out_styles: tuple[str, ...]


def eval_set_path() -> Path:
    return Path(str(resources.files("breakage_pi") / "data" / "eval_patterns.json"))


def load_eval_set(path: Path | None = None) -> EvalSet:
    """Read the evaluation set (the shipped one by default); a malformed file raises naming it."""
    source = path or eval_set_path()
    try:
        data = json.loads(Path(source).read_text(encoding="utf-8"))
        if data.get("format") != EVAL_FORMAT:
            raise FormatError(f"expected {EVAL_FORMAT!r}", "format")
        roles, channels = tuple(data["roles"]), tuple(data["channels"])
        parts = {}
        for part in ("train", "held_out"):
            patterns: list[Pattern] = [pattern_from_data(item["steps"], f"{part}[{index}].steps")
                                       for index, item in enumerate(data[part])]
            parts[part] = (training_set(patterns, roles, channels), tuple(str(item["style"]) for item in data[part]))
    except FormatError as error:
        raise error.in_source(str(source)) from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise FormatError(f"not a readable evaluation set ({error})", source=str(source)) from None
    return EvalSet(parts["train"][0], parts["held_out"][0], parts["train"][1], parts["held_out"][1])
