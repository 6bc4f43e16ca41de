"""``export-midi`` and ``import-midi``: banks as standard MIDI files, for any DAW."""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path
from typing import Any

from ..core.errors import FormatError


def add_commands(commands: Any) -> None:
    """Register ``export-midi`` and ``import-midi`` on the ``breakage-pi`` subcommand parser."""
    export = commands.add_parser("export-midi", help="write a bank's slots as a standard MIDI file (GM drums)")
    export.add_argument("bank", type=Path, metavar="BANK.json")
    which = export.add_mutually_exclusive_group()
    which.add_argument("--slot", type=int, metavar="N", help="only slot N (1-16)")
    which.add_argument("--all", action="store_true", help="every slot, one bar each (the default)")
    export.add_argument("--out", type=Path, required=True, metavar="FILE.mid")
    export.add_argument("--force", action="store_true", help="replace an existing file that is not a MIDI file")
    export.set_defaults(handler=_export)

    imported = commands.add_parser("import-midi", help="quantise a MIDI drum track into a bank, one bar per slot")
    imported.add_argument("midi", type=Path, metavar="FILE.mid")
    imported.add_argument("--out", type=Path, required=True, metavar="BANK.json")
    imported.set_defaults(handler=_import)


def _export(args: argparse.Namespace) -> int:
    from ..midi import bank_to_midi
    from ..store import atomic_write_bytes, check_output, load_bank

    bank = load_bank(args.bank)
    check_output(args.out, inputs=[args.bank], is_ours=_is_midi_file, what="a MIDI file", force=args.force,
                 hint="use --force to replace it")
    if args.slot is not None:
        bank.slot(args.slot)  # a slot the bank lacks is refused with its range
    slots = None if args.slot is None else [args.slot]
    midi = bank_to_midi(bank, slots)
    buffer = io.BytesIO()
    midi.save(file=buffer)
    atomic_write_bytes(args.out, buffer.getvalue())
    count = len(bank.slots) if slots is None else 1
    print(f"wrote {args.out}: {count} bar(s) at {bank.tempo:g} BPM, swing {bank.swing:g}, GM drums on channel 10")
    return 0


def _is_midi_file(path: Path) -> bool:
    """Whether ``path`` starts as a standard MIDI file does (what export-midi may replace unasked)."""
    with open(path, "rb") as file:
        return file.read(4) == b"MThd"


def _import(args: argparse.Namespace) -> int:
    from ..midi import bank_from_midi
    from ..store import read_input, save_bank

    data = read_input(args.midi)        # capped at 4 MB, as banks and scripts are
    try:
        imported = bank_from_midi(data)
    except FormatError as error:
        raise error.in_source(str(args.midi)) from None
    save_bank(args.out, imported.bank)
    bank = imported.bank
    print(f"wrote {args.out}: {len(bank.slots)} slot(s) at {bank.tempo:g} BPM, swing {bank.swing:g}")
    if imported.ignored_notes:
        print(f"{args.midi}: {imported.ignored_notes} note(s) outside the drum map ignored "
              "(kick 35/36, snare 38/40, open hat 46, closed hat 42/44)", file=sys.stderr)
    return 0
