"""The data directory's fixed layout, which players and the sync tools rely on (part of the store).

::

    /var/lib/breakage-pi/
      bank.json     the bank (bank format v1)
      nets/         the current nets, *.onnx
      kits/         user kits, one folder each (<channel>.wav inside)
      state.json    selected slot, net, mode, knob positions, gate (see breakage_pi.core.saved)

On first run it is created from the shipped demo bank and the default nets.
A corrupt or unreadable file found at start is moved aside (``bank.json`` ->
``bank.json.corrupt-20261125T131500``, :func:`breakage_pi.store.quarantine`)
with a log line, and the instrument starts from the demo bank rather than
dying; temporary files left by an interrupted save are swept. Every write is
atomic (:mod:`breakage_pi.store`).
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

from ..core.bank import Bank
from ..core.errors import FormatError, StoreError
from ..store import atomic_write_bytes, load_bank, quarantine, read_json, save_bank, sweep_stale_temps, write_json

log = logging.getLogger(__name__)

BANK_NAME, STATE_NAME, NETS_NAME, KITS_NAME = "bank.json", "state.json", "nets", "kits"


def demo_bank_path() -> Path:
    """The demo bank shipped inside the package."""
    return Path(str(resources.files("breakage_pi") / "data" / "demo_bank.json"))


def default_nets_dir() -> Path:
    """The default nets trained from the demo bank: ``models/`` of a checkout (an editable install), else
    the copy an installed package carries in ``<venv>/share/breakage-pi/models`` (see pyproject.toml)."""
    checkout = Path(__file__).resolve().parents[2] / "models"
    return checkout if checkout.is_dir() else Path(sys.prefix) / "share" / "breakage-pi" / "models"


@dataclass(frozen=True)
class DataDir:
    """The files of one instrument under ``root``."""

    root: Path

    @property
    def bank(self) -> Path:
        return self.root / BANK_NAME

    @property
    def state(self) -> Path:
        return self.root / STATE_NAME

    @property
    def nets(self) -> Path:
        return self.root / NETS_NAME

    @property
    def kits(self) -> Path:
        return self.root / KITS_NAME

    def prepare(self, default_nets: Path | None = None) -> None:
        """Create the layout where missing (demo bank, default nets) and sweep stale temporary files."""
        for folder in (self.root, self.nets, self.kits):
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StoreError(f"{folder}: cannot create: {error.strerror or error}") from error
        for stale in sweep_stale_temps(self.root):
            log.info("%s: removed, a temporary file left by an interrupted save", stale)
        if not self.bank.exists():
            log.info("%s: new instrument, starting from the demo bank", self.bank)
            save_bank(self.bank, load_bank(demo_bank_path()))
        if not self.net_files():
            source = default_nets_dir() if default_nets is None else default_nets
            for net in sorted(source.glob("*.onnx")):
                atomic_write_bytes(self.nets / net.name, net.read_bytes())
            log.info("%s: default nets copied from %s", self.nets, source)

    def load_bank(self) -> Bank:
        """The bank; a corrupt one is moved aside and replaced by the demo bank."""
        try:
            return load_bank(self.bank)
        except (FormatError, StoreError) as error:
            _, message = quarantine(self.bank, str(error))
            log.error("%s; starting with the demo bank", message)
            bank = load_bank(demo_bank_path())
            save_bank(self.bank, bank)
            return bank

    def load_state(self) -> Any:
        """The decoded ``state.json`` (None if absent); an unreadable one is moved aside."""
        if not self.state.exists():
            return None
        try:
            return read_json(self.state)
        except (FormatError, StoreError) as error:
            self.quarantine_state(str(error))
            return None

    def quarantine_state(self, why: str) -> None:
        """Move a ``state.json`` that cannot be used aside, saying why."""
        _, message = quarantine(self.state, why)
        log.error("%s; starting with default settings", message)

    def save(self, bank: Bank, state: dict[str, Any]) -> None:
        """Write the bank and the settings atomically."""
        save_bank(self.bank, bank)
        write_json(self.state, state)

    def net_files(self) -> list[Path]:
        return sorted(self.nets.glob("*.onnx"))

    def replace_nets(self, nets: Sequence[tuple[str, bytes]]) -> None:
        """Write the new nets (name, bytes), then remove the old ones they do not overwrite."""
        keep = {name for name, _ in nets}
        for name, data in nets:
            atomic_write_bytes(self.nets / name, data)
        for old in self.net_files():
            if old.name not in keep:
                old.unlink()

    def kit_names(self) -> tuple[str, ...]:
        """The kit folders in ``kits/``, by name."""
        if not self.kits.is_dir():
            return ()
        return tuple(sorted(entry.name for entry in self.kits.iterdir() if entry.is_dir()))

