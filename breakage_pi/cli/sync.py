"""``breakage-pi sync``: banks, nets and kits to and from the instrument over USB; ``sync serve`` is the device side."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from ..core.errors import BreakageError, StoreError

GADGET_VID, GADGET_PID = 0x1D6B, 0x0104
PROGRESS_MIN_BYTES = 256 * 1024
"""Transfers at least this big show a progress bar (on a terminal)."""


def add_commands(commands: Any) -> None:
    """Register ``sync`` and its subcommands on the ``breakage-pi`` subcommand parser."""
    sync = commands.add_parser("sync", help="move banks, nets and kits to and from the instrument over USB, "
                                                 "and pull its takes",
                               description="Talk to a Breakage Pi over its USB serial port.")
    sync.add_argument("--port", metavar="PORT", help="serial port (default: find the Pi by USB id 1d6b:0104)")
    sync.add_argument("--timeout", type=float, default=5.0, metavar="S", help="seconds to wait for an answer")
    actions = sync.add_subparsers(dest="action", required=True, metavar="ACTION")

    _port_option(actions.add_parser("ls", help="list what is on the device")).set_defaults(handler=_ls)
    pull = actions.add_parser("pull", help="copy items from the device into DIR (all when no NAME is given)")
    pull.add_argument("names", nargs="+", metavar="[NAME...] DIR",
                      help="item names (bank, a net, a kit, a take; KIND/NAME when a name is ambiguous), "
                           "then the folder")
    pull.add_argument("--force", action="store_true", help="replace local files that differ")
    _port_option(pull).set_defaults(handler=_pull)
    push = actions.add_parser("push", help="copy files to the device: BANK.json, NET.onnx, KIT_FOLDER/")
    push.add_argument("files", nargs="+", type=Path, metavar="FILE")
    _port_option(push).set_defaults(handler=_push)
    remove = actions.add_parser("rm", help="delete nets, kits or takes on the device")
    remove.add_argument("names", nargs="+", metavar="NAME")
    _port_option(remove).set_defaults(handler=_rm)

    serve = actions.add_parser("serve", help="run the device side on a serial port (the daemon does this itself)")
    serve.add_argument("--data", type=Path, required=True, metavar="DIR", help="the data dir to serve")
    _port_option(serve).set_defaults(handler=_serve)


def _port_option(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``--port`` also after the action (``sync serve --port P``), without hiding one given before it."""
    parser.add_argument("--port", default=argparse.SUPPRESS, metavar="PORT", help="serial port")
    return parser


def _ls(args: argparse.Namespace) -> int:
    with _client(args) as client:
        items = client.list()
    if not items:
        print("(the device holds nothing)")
    for item in items:
        when = datetime.fromtimestamp(item["modified"]).strftime("%Y-%m-%d %H:%M")
        print(f"{item['kind']:<5} {item['name']:<24} {item['size']:>10}  {when}  {_digest_column(item)}")
    return 0


def _digest_column(item: dict[str, Any]) -> str:
    """The first 16 hex digits of the SHA-256, or why there is none yet."""
    if item["state"] == "recording":
        return "(recording)"
    if item["state"] == "checking":
        return f"(checking, {100 * item['done'] // max(item['size'], 1)} %)"
    return str(item["sha256"][:16])


def _pull(args: argparse.Namespace) -> int:
    *names, out = args.names
    target = Path(out)
    if target.exists() and not target.is_dir():
        raise StoreError(f"{target}: not a directory")
    with _client(args) as client:
        listing = client.list()
        if names:
            wanted = [_resolve(name, listing) for name in names]
        else:
            for item in listing:
                if item["state"] == "recording":
                    print(f"not pulling take {item['name']}: it is still recording", file=sys.stderr)
            wanted = [(i["kind"], i["name"]) for i in listing if i["state"] != "recording"]
        for kind, name in wanted:
            size = next(i["size"] for i in listing if (i["kind"], i["name"]) == (kind, name))
            with _progress(f"pull {kind} {name}", size) as progress:
                where, pulled = client.pull_into(kind, name, target, force=args.force, progress=progress)
            print(f"pulled {kind} {name} -> {where} ({pulled} bytes)")
    return 0


def _push(args: argparse.Namespace) -> int:
    items = [_item_from_path(path) for path in args.files]
    with _client(args) as client:
        for kind, name, files in items:
            size = sum(len(content) for content in files.values())
            with _progress(f"push {kind} {name}", size) as progress:
                client.push(kind, name, files, progress)
            print(f"pushed {kind} {name} ({size} bytes)")
    return 0


def _rm(args: argparse.Namespace) -> int:
    with _client(args) as client:
        listing = client.list()
        for kind, name in [_resolve(name, listing) for name in args.names]:
            client.delete(kind, name)
            print(f"deleted {kind} {name}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from ..sync import SyncServer

    if not args.port:
        raise BreakageError("sync serve needs --port (e.g. /dev/ttyGS0)")
    logging.basicConfig(level=logging.INFO, format="breakage-pi %(message)s")
    server = SyncServer(args.data, port=args.port,
                        on_changed=lambda kind, name: logging.info("sync: %s %s changed", kind, name))
    print(f"serving {args.data} on {args.port}; Ctrl-C stops", file=sys.stderr)
    try:
        server.serve()
    finally:
        server.stop()
    return 0


def _item_from_path(path: Path) -> tuple[str, str, dict[str, bytes]]:
    """What a local file or folder becomes on the device: a bank, a net named by its stem, a kit named by its folder."""
    from ..store import load_bank

    if path.is_dir():
        wavs = sorted(p for p in path.iterdir() if p.suffix.lower() == ".wav" and not p.name.startswith("."))
        if not wavs:
            raise StoreError(f"{path}: a kit folder holds .wav files; found none")
        return "kit", path.resolve().name, {p.name: _read(p) for p in wavs}
    if path.suffix == ".json":
        load_bank(path)  # a bad bank is refused here, naming the file and field, before any byte moves
        return "bank", "bank", {"bank.json": _read(path)}
    if path.suffix == ".onnx":
        return "net", path.stem, {path.name: _read(path)}
    if not path.exists():
        raise StoreError(f"{path}: no such file or folder")
    raise BreakageError(f"{path}: push a bank (.json), a net (.onnx) or a kit folder of .wav files")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise StoreError(f"{path}: cannot read: {error.strerror or error}") from None


def _resolve(text: str, listing: list[dict[str, Any]]) -> tuple[str, str]:
    """``KIND/NAME`` or a ``NAME`` that only one item on the device has."""
    kind, _, name = text.rpartition("/")
    matches = [(i["kind"], i["name"]) for i in listing if i["name"] == name and (not kind or i["kind"] == kind)]
    if not matches:
        raise BreakageError(f"{text}: no such item on the device (see `breakage-pi sync ls`)")
    if len(matches) > 1:
        raise BreakageError(f"{text}: ambiguous, say " + " or ".join(f"{k}/{n}" for k, n in matches))
    return matches[0]


@contextlib.contextmanager
def _client(args: argparse.Namespace) -> Iterator[Any]:
    from ..sync import SerialTransport, SyncClient

    from ..sync import ProtocolError

    port = args.port or find_port()
    transport = SerialTransport.open(port)
    try:
        client = SyncClient(transport, timeout_s=args.timeout, on_wait=lambda text: print(text, file=sys.stderr))
        client.hello()
        yield client
    except BreakageError:
        raise
    except OSError as error:  # pyserial's SerialException too: the cable was pulled mid-transfer
        raise ProtocolError("port", f"{port}: link lost: {error}") from None
    finally:
        transport.close()


def find_port() -> str:
    """The serial port of the one Breakage Pi plugged in, found by its USB id."""
    from serial.tools import list_ports

    found = [port for port in list_ports.comports() if (port.vid, port.pid) == (GADGET_VID, GADGET_PID)]
    ours = [port for port in found if "breakage" in f"{port.product} {port.manufacturer}".lower()] or found
    if not ours:
        raise BreakageError("no Breakage Pi found (no USB serial port with id 1d6b:0104): connect the Pi's gadget "
                            "port (Zero 2 W: the data micro-USB; Pi 4/5: the USB-C power port) or pass --port")
    if len(ours) > 1:
        raise BreakageError("several Breakage Pis found: pass --port " + " or ".join(p.device for p in ours))
    return str(ours[0].device)


@contextlib.contextmanager
def _progress(label: str, total: int) -> Iterator[Any]:
    """A progress callback for a transfer: a rich bar on a terminal for big ones, else nothing."""
    from rich.console import Console

    console = Console(stderr=True)
    if total < PROGRESS_MIN_BYTES or not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    with Progress(TextColumn(label), BarColumn(), DownloadColumn(), TransferSpeedColumn(), console=console) as bar:
        task = bar.add_task(label, total=total)
        yield lambda done, _total: bar.update(task, completed=done)
