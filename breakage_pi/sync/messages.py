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

A listing answers ``{"items": [...], "more": [...]}``. ``items`` holds what
every host of this version takes (the first limits: 32 MiB a file, 64 MiB an
item); ``more``, added within version 1 and ignored by the hosts that came
before it, holds the rest, each with a ``state``: ``ready`` (a take longer than
the first limits allowed, up to :data:`MAX_TAKE_BYTES`), ``recording`` (a take
still being recorded) or ``checking`` (the device is still computing the
SHA-256 of a big file: ``done`` bytes of ``size``; no ``sha256`` until then).
A pull of a take being recorded is refused (code ``recording``); a pull of an
item being checked is answered ``busy``, with ``done`` and ``total`` beside
the message: ask again shortly. An older host meets these as plain errors.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from .frames import MAX_PAYLOAD, ProtocolError

PROTOCOL_VERSION = 1
KINDS = ("bank", "net", "kit", "take")
FOLDER_KINDS = ("kit", "take")
"""Kinds whose item is a folder of files (a kit's WAVs; a take's audio, performance, MIDI and start files)."""
MAX_TAKE_FILES = 32
TAKES_ARE_NOT_PUSHED = "takes are recorded on the instrument: pull or delete them, never push"
BANK_NAME = "bank"
"""The data dir holds one bank, ``bank.json``: the one the instrument plays."""
MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_ITEM_BYTES = 64 * 1024 * 1024
"""A pushed item (a kit's files together) is held in memory on the Pi while it arrives: a Zero 2 W has 512 MB."""
MAX_TAKE_FILE_BYTES = 8 + 0xFFFF_FFFF
"""The largest file of a take: the largest WAV (its RIFF size is 32 bits: ~6 h 12 min of 48 kHz stereo 16-bit, where
the recorder ends a take). Takes are only pulled, streamed from disk to disk, never held in memory."""
MAX_TAKE_BYTES = MAX_TAKE_FILE_BYTES + MAX_ITEM_BYTES
"""The longest WAV plus 64 MiB for the rest of a take (script, MIDI, nets, JSON: a few MB even for six hours)."""
MAX_KIT_FILES = 16
MAX_NAME = 64
CHUNK_BYTES = MAX_PAYLOAD
MAX_LISTED_ITEMS = 1024
"""Items one listing may hold (a listing is one frame, so a real one holds a few hundred at most)."""
MAX_INFO_CHARS = 128
"""Characters of a text the device reports about itself (product, software, serial)."""
MAX_TIMESTAMP = 2 ** 34
"""A modification time (Unix seconds) past the year 2514 is not one."""
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
STATES = ("ready", "recording", "checking")


class Busy(ProtocolError):
    """The device is still computing the SHA-256 of an item's files (``done`` of ``total`` bytes): ask again."""

    def __init__(self, message: str, done: int, total: int) -> None:
        super().__init__("busy", message)
        self.done, self.total = done, total


def file_limit(kind: str) -> int:
    """The most bytes one file of a ``kind`` may hold."""
    return MAX_TAKE_FILE_BYTES if kind == "take" else MAX_FILE_BYTES


def item_limit(kind: str) -> int:
    """The most bytes an item of a ``kind`` may hold, its files together."""
    return MAX_TAKE_BYTES if kind == "take" else MAX_ITEM_BYTES


def within_first_limits(files: tuple[FileEntry, ...]) -> bool:
    """Whether every host of this version takes these files (a listing's ``items``, not ``more``)."""
    return sum(entry.size for entry in files) <= MAX_ITEM_BYTES and all(f.size <= MAX_FILE_BYTES for f in files)


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
        raise ProtocolError("bad-name", f"{field}: {name!r:.80} is not a safe name (letters, digits, _ . -; "
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


def item_file_name(kind: str, name: str) -> str:
    """The file a bank or a net is (``bank.json``, ``NAME.onnx``); a kit is a folder of such names."""
    if kind in FOLDER_KINDS:
        raise ValueError(f"a {kind} is a folder, not one file")
    return f"{name}{EXTENSIONS[kind]}"


def check_item_files(kind: str, name: str, files: object) -> tuple[FileEntry, ...]:
    """The files of the item ``kind``/``name`` as sent either way (a push, a pull's answer, a read on the device).

    One rule on both ends: what :func:`check_files` demands, and a bank or a
    net is exactly its own file.
    """
    if not isinstance(files, list):
        raise ProtocolError("bad-request", f"files: expected a list, got {type(files).__name__}")
    entries = check_files(kind, files)
    if kind not in FOLDER_KINDS and entries[0].path != item_file_name(kind, name):
        raise ProtocolError("bad-name", f"a {kind} named {name!r} is the file {item_file_name(kind, name)!r}, "
                                        f"got {entries[0].path!r}")
    return entries


def check_files(kind: str, files: list[Any]) -> tuple[FileEntry, ...]:
    """A file list: names valid for the kind, count, sizes and total within limits, SHA-256 in hex."""
    if kind == "kit":
        if not 1 <= len(files) <= MAX_KIT_FILES:
            raise ProtocolError("bad-request", f"files: a kit holds 1-{MAX_KIT_FILES} WAV files, got {len(files)}")
    elif kind == "take":
        if not 1 <= len(files) <= MAX_TAKE_FILES:
            raise ProtocolError("bad-request", f"files: a take holds 1-{MAX_TAKE_FILES} files, got {len(files)}")
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
        if size > file_limit(kind):
            raise ProtocolError("too-big", f"{path}: {size} bytes exceeds the limit of {file_limit(kind)} bytes "
                                           f"({file_limit(kind) / 2 ** 20:.0f} MiB)")
        digest = item["sha256"]
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise ProtocolError("bad-request", f"{field}.sha256: expected 64 lowercase hex digits")
        entries.append(FileEntry(path, size, digest))
    total = sum(entry.size for entry in entries)
    if total > item_limit(kind):
        raise ProtocolError("too-big", f"{total} bytes in all exceeds the limit of {item_limit(kind)} bytes "
                                       f"({item_limit(kind) / 2 ** 20:.0f} MiB) for one {kind}")
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
    if op == "push" and message["kind"] == "take":
        raise ProtocolError("rejected", TAKES_ARE_NOT_PUSHED)
    if op == "push":
        check_item_files(message["kind"], message["name"], message["files"])
    return message


def check_hello_answer(message: object) -> dict[str, Any]:
    """The device's answer to HELLO: the protocol version first (a newer device may say more), then its
    product, software and serial as short printable texts."""
    if not isinstance(message, dict):
        raise ProtocolError("bad-response", f"expected a JSON object, got {type(message).__name__}")
    version = message.get("version")
    if version != PROTOCOL_VERSION or isinstance(version, bool):
        raise ProtocolError("version", f"protocol version mismatch: the host speaks {PROTOCOL_VERSION}, "
                                       f"the device {version!r:.40}; update breakage-pi on the older side")
    info: dict[str, Any] = {"version": PROTOCOL_VERSION}
    for key in ("product", "software", "serial"):
        value = message.get(key)
        if not isinstance(value, str) or len(value) > MAX_INFO_CHARS or not value.isprintable():
            raise ProtocolError("bad-response", f"{key}: expected a printable text of at most {MAX_INFO_CHARS} "
                                                f"characters, got {value!r:.80}")
        info[key] = value
    return info


def check_listing(message: object) -> list[dict[str, Any]]:
    """The device's answer to ``list``: at most :data:`MAX_LISTED_ITEMS` items (``items`` and ``more``), each
    with a valid kind and name, size, modification time, file count and ``state``, no item twice; a ``ready``
    one with its SHA-256, a pending one (``recording``, ``checking``) with ``done`` bytes of ``size`` and no
    SHA-256 (None). Fields beyond these are dropped."""
    if not isinstance(message, dict) or not isinstance(message.get("items"), list):
        raise ProtocolError("bad-response", "expected {items: [...]}")
    items, more = message["items"], message.get("more", [])
    if not isinstance(more, list):
        raise ProtocolError("bad-response", "more: expected a list")
    if len(items) + len(more) > MAX_LISTED_ITEMS:
        raise ProtocolError("too-big", f"items: {len(items) + len(more)} exceeds {MAX_LISTED_ITEMS}")
    listing = [_listed(f"items[{index}]", item, first=True) for index, item in enumerate(items)]
    listing += [_listed(f"more[{index}]", item, first=False) for index, item in enumerate(more)]
    seen = set()
    for item in listing:
        if (item["kind"], item["name"]) in seen:
            raise ProtocolError("bad-response", f"{item['kind']} {item['name']} listed twice")
        seen.add((item["kind"], item["name"]))
    return listing


def _listed(field: str, item: object, first: bool) -> dict[str, Any]:
    """One item of a listing (``first``: of ``items``, within the first limits and ready)."""
    if not isinstance(item, dict):
        raise ProtocolError("bad-response", f"{field}: expected an object, got {type(item).__name__}")
    kind, name = check_item(item.get("kind"), item.get("name"))
    size = _count(item.get("size"), MAX_ITEM_BYTES if first else item_limit(kind), f"{field}.size")
    most = {"kit": MAX_KIT_FILES, "take": MAX_TAKE_FILES}.get(kind, 1)
    count = _count(item.get("files"), most, f"{field}.files")
    modified = item.get("modified")
    if (isinstance(modified, bool) or not isinstance(modified, (int, float)) or not math.isfinite(modified)
            or not 0 <= modified < MAX_TIMESTAMP):
        raise ProtocolError("bad-response", f"{field}.modified: expected Unix seconds, got {modified!r:.40}")
    state = "ready" if first else item.get("state")
    if state not in STATES:
        raise ProtocolError("bad-response", f"{field}.state: expected one of {', '.join(STATES)}, got {state!r:.40}")
    listed = {"kind": kind, "name": name, "size": size, "modified": modified, "sha256": None, "files": count,
              "state": state}
    if state != "ready":
        return {**listed, "done": _count(item.get("done", 0), size, f"{field}.done")}
    digest = item.get("sha256")
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        raise ProtocolError("bad-response", f"{field}.sha256: expected 64 lowercase hex digits")
    return {**listed, "sha256": digest}


def check_pull_answer(kind: str, name: str, message: object) -> tuple[FileEntry, ...]:
    """The header answering a pull of ``kind``/``name``: that very item, its files as :func:`check_item_files`
    demands (so no name can leave the folder it is written to)."""
    if not isinstance(message, dict):
        raise ProtocolError("bad-response", f"expected a JSON object, got {type(message).__name__}")
    if (message.get("kind"), message.get("name")) != (kind, name):
        raise ProtocolError("bad-response", f"answered with {message.get('kind')!r:.20} "
                                            f"{message.get('name')!r:.80}")
    return check_item_files(kind, name, message.get("files"))


def _count(value: object, limit: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
        raise ProtocolError("bad-response", f"{field}: expected a count of 0-{limit}, got {value!r:.40}")
    return value


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
    except (UnicodeDecodeError, ValueError, RecursionError) as error:  # too deep, or an integer of 5000 digits
        raise ProtocolError("bad-request", f"payload is not JSON: {error!s:.200}") from None


def error_message(error: ProtocolError) -> dict[str, Any]:
    """An error frame's payload: code and message (and a :class:`Busy` device's progress)."""
    if isinstance(error, Busy):
        return {"code": error.code, "message": error.message, "done": error.done, "total": error.total}
    return {"code": error.code, "message": error.message}
