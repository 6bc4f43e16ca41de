"""The sync protocol's messages: pure data (JSON objects in frames) and their validators.

Like mido's messages, every request is checked against a spec table at the
edge, with a precise error naming the field; nothing below has to doubt it.

Requests (frame type REQUEST, one id each)::

    {"op": "hello", "version": 1, "client": "breakage-pi 0.1.0"}
    {"op": "list"}
    {"op": "pull", "kind": "net", "name": "net-0.02"}
    {"op": "push", "kind": "kit", "name": "808", "files": [{"path": "kick.wav", "size": 1234, "sha256": "..."}]}
    {"op": "delete", "kind": "kit", "name": "808"}

Each is answered by a RESPONSE (JSON) or an ERROR frame ``{"code": ..., "message": ...}``
with the same id. A pull's response is followed by DATA frames holding the
files' bytes in order; a push's first response (``{"ready": true}``) is
followed by the client's DATA frames, then the final response.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .frames import MAX_PAYLOAD, ProtocolError

PROTOCOL_VERSION = 1
KINDS = ("bank", "net", "kit", "take")
BANK_NAME = "bank"
"""The data dir holds one bank, ``bank.json``: the one the instrument plays."""
MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_ITEM_BYTES = 64 * 1024 * 1024
"""A whole item (a kit's files together) is held in memory on the Pi while it moves: a Zero 2 W has 512 MB."""
MAX_KIT_FILES = 16
MAX_NAME = 64
CHUNK_BYTES = MAX_PAYLOAD
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_SHA256 = re.compile(r"[0-9a-f]{64}")
EXTENSIONS = {"bank": ".json", "net": ".onnx", "kit": ".wav"}

_SPECS: dict[str, dict[str, type]] = {
    "hello": {"version": int, "client": str},
    "list": {},
    "pull": {"kind": str, "name": str},
    "push": {"kind": str, "name": str, "files": list},
    "delete": {"kind": str, "name": str},
}
OPS = tuple(_SPECS)


@dataclass(frozen=True)
class FileEntry:
    """One file of an item: its name inside the item, its size in bytes and SHA-256 (hex)."""

    path: str
    size: int
    sha256: str

    def to_data(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "sha256": self.sha256}


def check_name(name: object, field: str = "name") -> str:
    """A safe item or file name: letters, digits, ``_ . -``, not starting with a dot, no ``..``, at most 64 chars.

    Such a name cannot hold a separator, so it cannot leave its folder.
    """
    if not isinstance(name, str):
        raise ProtocolError("bad-name", f"{field}: expected a string, got {type(name).__name__}")
    if not SAFE_NAME.fullmatch(name) or ".." in name or len(name) > MAX_NAME:
        raise ProtocolError("bad-name", f"{field}: {name!r} is not a safe name (letters, digits, _ . -; "
                                        f"no leading dot, no '..', at most {MAX_NAME} characters)")
    return name


def check_kind(kind: object) -> str:
    if kind not in KINDS:
        raise ProtocolError("bad-request", f"kind: must be one of {', '.join(KINDS)}, got {kind!r}")
    return str(kind)


def check_item(kind: object, name: object) -> tuple[str, str]:
    """A valid ``(kind, name)``: a bank is always named ``bank``."""
    kind = check_kind(kind)
    name = check_name(name)
    if kind == "bank" and name != BANK_NAME:
        raise ProtocolError("bad-name", f"name: the device holds one bank, named {BANK_NAME!r}, got {name!r}")
    return kind, name


def check_files(kind: str, files: list[Any]) -> tuple[FileEntry, ...]:
    """The file list of a push: names valid for the kind, sizes within limits, SHA-256 in hex."""
    if kind == "kit":
        if not 1 <= len(files) <= MAX_KIT_FILES:
            raise ProtocolError("bad-request", f"files: a kit holds 1-{MAX_KIT_FILES} WAV files, got {len(files)}")
    elif len(files) != 1:
        raise ProtocolError("bad-request", f"files: a {kind} is one file, got {len(files)}")
    entries = []
    for index, item in enumerate(files):
        field = f"files[{index}]"
        if not isinstance(item, dict) or set(item) != {"path", "size", "sha256"}:
            raise ProtocolError("bad-request", f"{field}: expected {{path, size, sha256}}, got {item!r:.80}")
        path = check_name(item["path"], f"{field}.path")
        if kind == "kit" and not path.lower().endswith(".wav"):
            raise ProtocolError("bad-name", f"{field}.path: a kit holds only .wav files, got {path!r}")
        size = item["size"]
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ProtocolError("bad-request", f"{field}.size: expected a byte count, got {size!r}")
        if size > MAX_FILE_BYTES:
            raise ProtocolError("too-big", f"{path}: {size} bytes exceeds the limit of {MAX_FILE_BYTES} bytes "
                                           f"({MAX_FILE_BYTES // (1024 * 1024)} MiB)")
        digest = item["sha256"]
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise ProtocolError("bad-request", f"{field}.sha256: expected 64 lowercase hex digits")
        entries.append(FileEntry(path, size, digest))
    total = sum(entry.size for entry in entries)
    if total > MAX_ITEM_BYTES:
        raise ProtocolError("too-big", f"{total} bytes in all exceeds the limit of {MAX_ITEM_BYTES} bytes "
                                       f"({MAX_ITEM_BYTES // (1024 * 1024)} MiB) for one item")
    if len({entry.path for entry in entries}) != len(entries):
        raise ProtocolError("bad-request", "files: the same file name appears twice")
    return tuple(entries)


def check_request(message: object) -> dict[str, Any]:
    """Validate a decoded request against the spec table; a :class:`ProtocolError` names the fault."""
    if not isinstance(message, dict):
        raise ProtocolError("bad-request", f"expected a JSON object, got {type(message).__name__}")
    op = message.get("op")
    if op not in _SPECS:
        raise ProtocolError("bad-request", f"op: must be one of {', '.join(OPS)}, got {op!r:.40}")
    spec = _SPECS[op]
    unknown = set(message) - set(spec) - {"op"}
    if unknown:
        raise ProtocolError("bad-request", f"{op}: unexpected field(s) {', '.join(sorted(map(str, unknown)))}")
    for key, expected in spec.items():
        value = message.get(key)
        if isinstance(value, bool) or not isinstance(value, expected):
            raise ProtocolError("bad-request", f"{op}.{key}: expected {expected.__name__}, got {value!r:.40}")
    if "kind" in spec:
        check_item(message["kind"], message["name"])
    if op == "push":
        check_files(message["kind"], message["files"])
    return message


def encode_json(message: dict[str, Any]) -> bytes:
    """A message as a frame payload (compact UTF-8 JSON)."""
    payload = json.dumps(message, separators=(",", ":")).encode("utf-8")
    if len(payload) > MAX_PAYLOAD:
        raise ProtocolError("too-big", f"message of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    return payload


def decode_json(payload: bytes) -> Any:
    """A frame payload as JSON; malformed payloads raise :class:`ProtocolError`."""
    try:
        return json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ProtocolError("bad-request", f"payload is not JSON: {error}") from None


def error_message(error: ProtocolError) -> dict[str, str]:
    return {"code": error.code, "message": error.message}
