"""What a net file says about itself: the ONNX metadata props of the net file format.

Every value is a string in ONNX metadata; lists are JSON. A net records its
channel names and roles (so it is never applied to the wrong channels), the
error target it was trained to, the error it reached, the epochs it took and
the hash of the training set.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from ..core.bank import ROLES, Bank
from ..core.errors import printable
from ..core.pattern import CHANNELS
from .dataset import SplitByRoles, bank_training_set, split_roles
from .errors import NetError, TrainingError

NET_FORMAT = "breakage-pi/net"
NET_VERSION = 1
MSE_MEASURE = "mse"
RELATIVE_KEYS = ("relative_target", "relative_error", "reference_error")
REQUIRED_KEYS = ("format", "format_version", "channels", "roles", "error_target", "error_reached",
                 "epochs", "training_set_hash")


@dataclass(frozen=True)
class NetInfo(SplitByRoles):
    """A net's metadata. Errors are MSE on 0-1 velocities; ``seed`` and ``examples`` are informative."""

    channels: tuple[str, ...]
    roles: tuple[str, ...]
    error_target: float
    error_reached: float
    epochs: int
    training_set_hash: str
    seed: int = 0
    examples: int = 0
    target_measure: str = MSE_MEASURE
    relative_target: float | None = None
    relative_error: float | None = None
    reference_error: float | None = None
    label: str = ""

    def describe(self) -> str:
        """One line for a person: what the net is, its target and the error it reached."""
        label = f"{self.label}, " if self.label else ""
        if self.relative_target is None:
            how = f"target MSE {self.error_target:g}, error {self.error_reached:.4g}"
        else:
            how = (f"target {self.relative_target:g} of the training variance unexplained, reached "
                   f"{self.relative_error:.3g} (MSE {self.error_reached:.4g})")
        return f"{label}{how} after {self.epochs} epochs, {self.examples} training patterns"

    def to_props(self) -> dict[str, str]:
        """The ONNX ``metadata_props`` of a net file, format version :data:`NET_VERSION`."""
        props = {
            "format": NET_FORMAT,
            "format_version": str(NET_VERSION),
            "channels": json.dumps(list(self.channels)),
            "roles": json.dumps(list(self.roles)),
            "error_target": repr(self.error_target),
            "error_reached": repr(self.error_reached),
            "epochs": str(self.epochs),
            "training_set_hash": self.training_set_hash,
            "seed": str(self.seed),
            "examples": str(self.examples),
        }
        if self.target_measure != MSE_MEASURE:
            props.update(target_measure=self.target_measure, relative_target=repr(self.relative_target),
                         relative_error=repr(self.relative_error), reference_error=repr(self.reference_error))
        if self.label:
            props["label"] = self.label
        return props


def measured(value: float) -> float:
    """A float computed by a sum (an error, a variance) as a net's metadata keeps it: 9 significant digits.

    A sum's last bit depends on its order, which differs between x86 and arm64 SIMD; rounded, the same
    training writes the same file bytes on both (its weights already are bit-identical)."""
    return float(f"{value:.9g}")


def mismatch_notes(info: NetInfo, bank: Bank, net: str) -> list[str]:
    """Why the net ``net`` (a file name) may not be the one meant for ``bank``, as lines for the user.

    A net made for other roles or channels still plays (with its own roles);
    one trained on another training set than the bank's plays too, but
    perhaps by mistake (a stale net of another bank), so it is said aloud.
    """
    notes = []
    if info.roles != bank.roles or info.channels != bank.channels:
        notes.append(f"{printable(net)} was trained with roles {list(info.roles)} on channels "
                     f"{printable(list(info.channels))}; the bank has {list(bank.roles)} on "
                     f"{printable(list(bank.channels))}: using the net's roles")
    elif bank.training_patterns and bank_training_set(bank).digest != info.training_set_hash:
        notes.append(f"{printable(net)} was trained on another training set than this bank's "
                     "(its training_set_hash differs): it plays, but it may be a net of another bank")
    return notes


def info_from_props(props: dict[str, str]) -> NetInfo:
    """Validate a net file's metadata; a :class:`NetError` names the key at fault."""
    missing = [key for key in REQUIRED_KEYS if key not in props]
    if missing:
        raise NetError(f"not a Breakage Pi net: missing metadata {', '.join(missing)}")
    if props["format"] != NET_FORMAT:
        raise NetError(f"metadata format is {props['format']!r}, expected {NET_FORMAT!r}")
    version = _integer(props, "format_version")
    if version > NET_VERSION:
        raise NetError(f"net format version {version} is newer than this program understands ({NET_VERSION}); "
                       "upgrade breakage-pi")
    if version < 1:
        raise NetError(f"unknown net format version {version}")
    channels = _string_list(props, "channels")
    roles = _string_list(props, "roles")
    if len(channels) != CHANNELS or len(set(channels)) != CHANNELS or not all(channels):
        raise NetError(f"metadata channels must be {CHANNELS} distinct names, got {channels}")
    if len(roles) != CHANNELS or any(role not in ROLES for role in roles):
        raise NetError(f"metadata roles must be {CHANNELS} of 'in'/'out', got {roles}")
    try:
        split_roles(roles)
    except TrainingError as error:
        raise NetError(f"metadata {error}") from None
    measure = props.get("target_measure", MSE_MEASURE)
    relative: list[float | None] = [None] * len(RELATIVE_KEYS)
    if measure != MSE_MEASURE:
        missing = [key for key in RELATIVE_KEYS if key not in props]
        if missing:
            raise NetError(f"metadata target_measure {measure!r} needs {', '.join(missing)}")
        relative = [_number(props, key) for key in RELATIVE_KEYS]
    return NetInfo(channels=tuple(channels), roles=tuple(roles), target_measure=measure,
                   relative_target=relative[0], relative_error=relative[1], reference_error=relative[2],
                   label=props.get("label", ""),
                   error_target=_number(props, "error_target"), error_reached=_number(props, "error_reached"),
                   epochs=_integer(props, "epochs"), training_set_hash=props["training_set_hash"],
                   seed=_integer(props, "seed") if "seed" in props else 0,
                   examples=_integer(props, "examples") if "examples" in props else 0)


def _integer(props: dict[str, str], key: str) -> int:
    try:
        return int(props[key])
    except ValueError:
        raise NetError(f"metadata {key} must be an integer, got {props[key]!r}") from None


def _number(props: dict[str, str], key: str) -> float:
    try:
        value = float(props[key])
    except ValueError:
        raise NetError(f"metadata {key} must be a number, got {props[key]!r}") from None
    if not math.isfinite(value) or value < 0:
        raise NetError(f"metadata {key} must be a finite number >= 0, got {props[key]!r}")
    return value


def _string_list(props: dict[str, str], key: str) -> list[str]:
    try:
        value = json.loads(props[key])
    except json.JSONDecodeError:
        raise NetError(f"metadata {key} must be a JSON list, got {props[key]!r}") from None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise NetError(f"metadata {key} must be a JSON list of strings, got {props[key]!r}")
    return value
