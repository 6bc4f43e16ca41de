"""The nets' commands: ``train``, ``predict`` and ``render --net`` (wiring over :mod:`breakage_pi.ml`).

Nets and summaries are written here, atomically through :mod:`breakage_pi.store`;
the ml package only returns bytes and text.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.bank import Bank
from ..core.errors import BreakageError, printable
from ..core.gate import check_gate
from ..core.pattern import Pattern
from ..core.textgrid import format_pattern
from ..store import StoreError
from .args import bank_slot, input_path, quoted, slot_number, whole_number

if TYPE_CHECKING:
    from ..ml.dataset import TrainingSet
    from ..audio.render import Bars
    from ..ml.netfile import NetFile
    from ..ml.session import NetSession
    from ..ml.train import TrainConfig, TrainingResult

SUMMARY_NAME = "summary.txt"
SUMMARY_TITLE = "Breakage Pi nets"


def add_commands(commands: Any) -> None:
    """Register ``train`` and ``predict`` on the ``breakage-pi`` subcommand parser."""
    from ..ml.train import DEFAULT_TARGETS, TrainConfig

    train = commands.add_parser("train", help="train nets on a bank's training slots and corrections, one per error target")
    train.add_argument("bank", type=input_path, metavar="BANK.json")
    train.add_argument("--out", type=input_path, required=True, metavar="DIR",
                       help="folder for the .onnx nets and summary")
    train.add_argument("--targets", type=_targets, default=DEFAULT_TARGETS, metavar="E1,E2,...",
                       help="error targets, fractions of the training hats' variance left unexplained "
                            "(default: 0.2,0.1,0.03 = loose,medium,tight; when slots contradict each other, "
                            "counted from what no net can explain)")
    train.add_argument("--seed", type=whole_number, default=0, metavar="N", help="random seed (default 0)")
    train.add_argument("--max-epochs", type=whole_number, default=TrainConfig().max_epochs, metavar="N",
                       help=f"stop after N epochs whatever the error (default {TrainConfig().max_epochs})")
    train.add_argument("--force", action="store_true", help="overwrite files in DIR that are not nets")
    train.set_defaults(handler=_train)

    predict = commands.add_parser("predict", help="print a slot and what a net (or a NET knob position) makes of it",
                                  usage="%(prog)s NET.onnx BANK.json --slot N [--json] [--gate V]\n"
                                        "       %(prog)s --nets DIR --position P BANK.json --slot N [--json] "
                                        "[--gate V]")
    predict.add_argument("files", type=input_path, nargs="+", metavar="[NET.onnx] BANK.json",
                         help="one net and the bank; with --nets only the bank")
    predict.add_argument("--nets", type=input_path, metavar="DIR",
                         help="play the NET knob over the nets in DIR (net-loose/medium/tight.onnx of a training run)")
    predict.add_argument("--position", type=_position, metavar="P",
                         help="with --nets: the knob position, 0 loose, 0.5 medium, 1 tight, between them a "
                              "crossfade (default 0.5)")
    predict.add_argument("--slot", type=slot_number, required=True, metavar="N", help="slot number 1-16")
    predict.add_argument("--json", action="store_true",
                         help='print the slot as it plays as JSON: {"slot", "channels", "roles", "steps"}')
    _add_gate_option(predict)
    predict.set_defaults(handler=_predict)


def add_net_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--net NET.onnx`` (and ``--gate``) to a command that plays a slot (``render``, ``demo``)."""
    parser.add_argument("--net", type=input_path, metavar="NET.onnx",
                        help="write the slot's output channels with this net before playing")
    _add_gate_option(parser)


def _add_gate_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gate", type=_gate, metavar="V",
                        help="the net's outputs fade in around velocity V (0-255) across the bank's knee "
                             "(default: the bank's gate, 48)")


def net_bars(net: NetSession, bank: Bank, pattern: Pattern, gate: int | None = None) -> Bars:
    """What ``pattern`` plays with ``net`` writing its outputs through ``bank``'s gate (or ``gate``):
    one pattern, or with chance on, a pattern per bar."""
    threshold = bank.gate if gate is None else gate
    if not bank.chance:
        return net.play(pattern, threshold, knee=bank.knee)
    return lambda bar: net.play(pattern, threshold, True, bank.chance_seed, bar, bank.knee)


def open_net(path: Path, bank: Bank, net_file: NetFile | None = None) -> NetSession:
    """The net in ``path`` (or its already read ``net_file``) ready to play ``bank``'s slots
    (``.apply(pattern)``), loaded and probed once.

    Notes on stderr when the net was made for other roles or another training set.
    """
    from ..ml.netfile import read_net
    from ..ml.netinfo import mismatch_notes
    from ..ml.session import NetSession

    net_file = net_file or read_net(path)
    session = NetSession(net_file)
    for note in mismatch_notes(net_file.info, bank, str(path)):
        print(f"breakage-pi: note: {note}", file=sys.stderr)
    return session


def _train(args: argparse.Namespace) -> int:
    from ..ml.dataset import bank_training_set
    from ..ml.net import result_nets
    from ..ml.onnx_export import net_to_bytes
    from ..ml.summary import format_summary
    from ..ml.train import TrainConfig, net_file_name
    from ..store import atomic_write_bytes, load_bank, make_folder

    bank = load_bank(args.bank)
    data = bank_training_set(bank)
    config = TrainConfig(targets=tuple(args.targets), seed=args.seed, max_epochs=args.max_epochs)
    out: Path = args.out
    names = {index: net_file_name(index, len(config.targets), target) for index, target in enumerate(config.targets)}
    _prepare_out(out, list(names.values()), args.bank, args.force)
    try:
        result = _run_training(data, config)
    except KeyboardInterrupt as stop:     # Ctrl-C, or SIGTERM/SIGHUP raised as one (see cli.main)
        signum = getattr(stop, "signum", signal.SIGINT)
        how = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        print(f"breakage-pi: training aborted ({how}): nothing written, {printable(out)} is as it was",
              file=sys.stderr)
        return 128 + signum
    nets = [(names[snapshot.index], net) for snapshot, net in zip(result.snapshots, result_nets(result, data))]
    make_folder(out)                    # only now: a refused or failed run leaves no folder
    for name, net in nets:
        atomic_write_bytes(out / name, net_to_bytes(net))
    atomic_write_bytes(out / SUMMARY_NAME,
                       format_summary(args.bank.name, bank, data, result, nets).encode("utf-8"))
    for name, net in nets:
        print(f"{printable(out / name)}: {net.info.describe()}")
    print(f"{printable(out / SUMMARY_NAME)}: summary")
    for stale, aside in _set_aside_stale_nets(out, {name for name, _ in nets}):
        print(f"breakage-pi: {printable(stale)} is not from this run: moved aside to {printable(aside.name)}",
              file=sys.stderr)
    if bank.corrections:
        print(f"breakage-pi: note: learnt from {len(bank.corrections)} correction(s) made in PERFORM beside the "
              "marked slots (a correction stands in for a slot with the same inputs)", file=sys.stderr)
    if result.floor > 0.0:
        print(f"breakage-pi: note: some training slots have the same input channels but different outputs, so "
              f"no net can leave less than {result.floor:.4g} of the variance unexplained: targets count from "
              "there", file=sys.stderr)
    for snapshot, (name, net) in zip(result.snapshots, nets):
        if not snapshot.reached:
            print(f"breakage-pi: note: {printable(name)} is the closest to target {snapshot.target:.4g} that "
                  f"{args.max_epochs} epochs reached ({snapshot.relative_error:.4g} unexplained); "
                  "more --max-epochs may get there", file=sys.stderr)
    return 0


def _run_training(data: TrainingSet, config: TrainConfig) -> TrainingResult:
    """Train in a child process (as the instrument does), showing progress; Ctrl-C aborts it."""
    from ..ml.process import TrainingProcess

    from ..ml.train import reachable_targets

    job = TrainingProcess(data, config)
    try:
        with _TrainingDisplay(reachable_targets(config.targets, data.error_floor() / data.reference_error())) \
                as display:
            while not job.finished:
                for epoch, error in job.progress(timeout=0.05):
                    display.update(epoch, error)
        return job.result()
    finally:
        job.close()


class _TrainingDisplay:
    """Training progress on stderr: a rich bar on a terminal, a line per target reached otherwise.

    Errors are fractions of the training variance unexplained; the bar fills with log(error) from the first
    error to the tightest target.
    """

    def __init__(self, targets: tuple[float, ...]) -> None:
        from rich.console import Console

        self._pending = list(targets)
        self._tightest = targets[-1]
        self._console = Console(stderr=True, highlight=False)
        self._first: float | None = None
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> _TrainingDisplay:
        if self._console.is_terminal:
            from rich.progress import BarColumn, Progress, TextColumn

            self._bar = Progress(TextColumn("training"), BarColumn(), TextColumn("{task.fields[status]}"),
                                 console=self._console)
            self._task = self._bar.add_task("training", total=1.0, status="starting")
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def update(self, epoch: int, error: float) -> None:
        if self._first is None:
            self._first = error
        while self._pending and error <= self._pending[0]:
            self._console.print(f"target {self._pending.pop(0):.4g} reached at epoch {epoch}, {error:.4g} unexplained",
                                markup=False)
        if self._bar is not None:
            span = math.log(self._first / self._tightest) if self._first > self._tightest else 0.0
            done = 1.0 if span <= 0.0 else min(1.0, max(0.0, math.log(self._first / max(error, 1e-12)) / span))
            self._bar.update(self._task, completed=done, status=f"epoch {epoch}  unexplained {error:.4g}")


def _prepare_out(out: Path, names: list[str], bank: Path, force: bool) -> None:
    """Refuse, before training, to replace files in ``out`` that are not nets (or a summary) unless ``force``."""
    from ..store import check_output

    if out.exists() and not out.is_dir():
        raise StoreError(f"{printable(out)}: not a directory")
    for name in names:
        check_output(out / name, inputs=[bank], is_ours=_is_net, what="a valid net", force=force,
                     hint="use --force to replace it")
    check_output(out / SUMMARY_NAME, inputs=[bank], is_ours=_is_summary, what="a net summary", force=force,
                 hint="use --force to replace it")


def _is_net(path: Path) -> bool:
    from ..ml.errors import NetError
    from ..ml.netfile import read_net

    try:
        read_net(path)
    except NetError:
        return False
    return True


def _is_summary(path: Path) -> bool:
    from ..store import read_input

    try:
        return read_input(path).startswith(SUMMARY_TITLE.encode())
    except StoreError:
        return False


def _set_aside_stale_nets(out: Path, written: set[str]) -> list[tuple[Path, Path]]:
    """Move aside every net of an earlier run in ``out`` (``net-*.onnx`` not written now), so that no
    player picks up a stale net beside the fresh ones; files that are not nets are left alone."""
    from ..store import move_aside

    return [(path, move_aside(path, "stale")) for path in sorted(out.glob("net-*.onnx"))
            if path.name not in written and _is_net(path)]


def _predict(args: argparse.Namespace) -> int:
    from ..ml.netfile import read_net
    from ..store import load_bank

    net_path, bank_path, position = _predict_operands(args)
    if net_path is None:
        knob = _open_knob(args.nets, position)
        bank = load_bank(bank_path)
        roles, title = knob.roles, f"{printable(args.nets)}: NET knob at {position:g} ({knob.describe()})"
    else:
        net_file = read_net(net_path)   # the net's own errors first (a bank given as the net is named as such)
        bank = load_bank(bank_path)
        session = open_net(net_path, bank, net_file)
        knob = _Knob([session], 0.0)
        roles, title = session.info.roles, f"{printable(net_path)}: {session.info.describe()}"
    slot = bank_slot(bank, args.slot, bank_path)
    gate = bank.gate if args.gate is None else args.gate
    predicted = knob.play(slot.pattern, gate, bank.chance, bank.chance_seed, bar=0, knee=bank.knee)
    if args.json:
        data = {"slot": args.slot, "channels": list(bank.channels), "roles": list(roles),
                "steps": predicted.to_lists()}
        if net_path is None:
            data["position"] = position
        print(json.dumps(data))
        return 0
    outputs = tuple(c for c, role in enumerate(roles) if role == "out")
    print(title)
    chance = f", chance on (seed {bank.chance_seed}, bar 1 shown)" if bank.chance else ""
    print(f"gate {gate}, knee {bank.knee}{chance}")
    print(f"\nslot {args.slot} ({printable(slot.name or 'unnamed', 60)}) as written:")
    print(format_pattern(slot.pattern, bank.channels, roles))
    print(f"\nwith {', '.join(printable(bank.channels[c], 24) for c in outputs)} from the net:")
    print(format_pattern(predicted, bank.channels, ["in" if role == "in" else "net" for role in roles]))
    print("\nnet velocities:")
    names = {channel: printable(bank.channels[channel], 24) for channel in outputs}
    width = max(len(name) for name in names.values()) + 2
    for channel in outputs:
        values = predicted.velocities[channel]
        beats = "  ".join(" ".join(f"{int(v):3d}" for v in values[i:i + 4]) for i in range(0, len(values), 4))
        print(f"{names[channel]:<{width}}{beats}")
    return 0


def _predict_operands(args: argparse.Namespace) -> tuple[Path | None, Path, float]:
    """(the net, or None with --nets; the bank; the knob position) of ``predict``'s two forms."""
    files: list[Path] = args.files
    if args.nets is None:
        if len(files) != 2 or args.position is not None:
            raise BreakageError("predict takes NET.onnx BANK.json, or --nets DIR --position P BANK.json"
                                + (" (--position goes with --nets)" if args.position is not None else ""))
        return files[0], files[1], 0.0
    if len(files) != 1:
        raise BreakageError("with --nets DIR, predict takes only the bank: --nets DIR --position P BANK.json")
    return None, files[0], 0.5 if args.position is None else args.position


class _Knob:
    """Nets loose to tight played at one NET knob position (see :mod:`breakage_pi.core.morph`)."""

    def __init__(self, sessions: list[NetSession], position: float) -> None:
        self.sessions, self.position = sessions, position
        self.roles = sessions[0].info.roles

    def describe(self) -> str:
        from ..core.morph import morph_weights

        labels = [session.info.label or printable(session.source) for session in self.sessions]
        return " + ".join(f"{weight:.0%} {labels[index]}" for index, weight in morph_weights(self.position,
                                                                                          len(self.sessions)))

    def play(self, pattern: Pattern, gate: int, chance: bool, seed: int, bar: int, knee: int) -> Pattern:
        from ..core.gate import gated
        from ..core.morph import morphed
        from ..core.pattern import MAX_VELOCITY, STEPS
        from ..ml.dataset import with_outputs

        outputs = tuple(c for c, role in enumerate(self.roles) if role == "out")
        raw = morphed([session.outputs(pattern).reshape(len(outputs), STEPS) * MAX_VELOCITY
                       for session in self.sessions], self.position)
        return with_outputs(pattern, outputs, gated(raw, gate, chance, seed, bar, knee))


def _open_knob(folder: Path, position: float) -> _Knob:
    """The nets of a training run in ``folder`` (``net-*.onnx``), loose to tight, at ``position``."""
    from ..ml.errors import NetError
    from ..ml.netbank import load_net_bank

    if not folder.is_dir():
        raise BreakageError(f"{printable(folder)}: not a folder of nets (--nets takes the folder train wrote)")
    paths = sorted(folder.glob("net-*.onnx"))
    if not paths:
        raise BreakageError(f"{printable(folder)}: no net-*.onnx in it: train some first (breakage-pi train)")

    def refuse(error: NetError, corrupt: bool) -> None:
        print(f"breakage-pi: note: left out {printable(error, 300)}", file=sys.stderr)

    nets = load_net_bank(paths, refuse)
    if nets is None:
        raise BreakageError(f"{printable(folder)}: none of its nets can be played")
    return _Knob([nets[index] for index in range(len(nets))], position)


def _gate(text: str) -> int:
    try:
        return check_gate(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a velocity 0-255, got {text!r}") from None


def _position(text: str) -> float:
    from ..core.morph import check_position

    try:
        return check_position(float(text))
    except (ValueError, BreakageError):
        raise argparse.ArgumentTypeError(f"expected a knob position 0-1 (0 loose, 0.5 medium, 1 tight), "
                                         f"got {quoted(text)}") from None


def _targets(text: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers separated by commas, e.g. 0.05,0.02,0.005; "
                                         f"got {quoted(text)}")
    if not values:
        raise argparse.ArgumentTypeError("expected at least one error target")
    return values
