"""The ``breakage-pi`` command line: thin wiring over the packages."""

from __future__ import annotations

import argparse
import math
import sys
from importlib import resources
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from .cli_nets import add_commands as add_net_commands, add_net_option, open_net
from .core.errors import BreakageError
from .core.pattern import DEFAULT_CHANNEL_NAMES

Handler = Callable[[argparse.Namespace], int]


def _render(args: argparse.Namespace) -> int:
    from .audio.kit import load_kit
    from .audio.render import render_to_wav
    from .store import load_bank

    bank = load_bank(args.bank)
    slot = bank.slot(args.slot)
    tempo = bank.tempo if args.tempo is None else args.tempo
    kit = load_kit(args.kit, bank.channels if args.kit else DEFAULT_CHANNEL_NAMES)
    pattern = slot.pattern if args.net is None else open_net(args.net, bank).apply(slot.pattern)
    frames = render_to_wav(kit, pattern, args.bars, tempo, bank.swing, args.out)
    print(f"rendered slot {args.slot} ({slot.name or 'unnamed'}), {args.bars} bar(s) at {tempo:g} BPM "
          f"-> {args.out} ({frames / kit.rate:.2f} s)" + (f", outputs by {args.net}" if args.net else ""))
    return 0


def _play(args: argparse.Namespace) -> int:
    from .audio.player import PlayState
    from .audio.process import AudioProcess, EngineSettings
    from .config import load_config
    from .store import load_bank

    bank = load_bank(args.bank)
    slot = bank.slot(args.slot)
    audio = load_config(args.config).audio
    settings = EngineSettings(
        device=args.device or audio.device, rate=audio.rate, period=args.period or audio.period,
        periods=audio.periods, kit_dir=str(args.kit) if args.kit else None, pace=args.pace,
        frames=None if args.seconds is None else round(args.seconds * audio.rate), wait_for_device=False)
    state = PlayState(slot.pattern, bank.tempo if args.tempo is None else args.tempo, bank.swing)
    print(f"playing slot {args.slot} ({slot.name or 'unnamed'}) on {settings.device}, "
          f"period {settings.period} frames; Ctrl-C stops")
    process = AudioProcess(settings, state).start()
    try:
        report = process.wait()
    except KeyboardInterrupt:
        report = process.stop()
    if not report:
        raise BreakageError("the audio process ended without a report (see the messages above)")
    if report["error"]:
        raise BreakageError(report["error"])
    print(f"blocks {report['blocks']}, xruns {report['xruns']}, device lost {report['device_lost']} time(s), "
          f"worst block {report['worst_block_ms']:.3f} ms, p99 {report['block_latency_p99_ms']:.3f} ms "
          f"({report['realtime']})")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .audio.kit import load_kit
    from .audio.render import encode_wav, render_pattern
    from .core.textgrid import format_pattern
    from .store import atomic_write_bytes, load_bank

    bank = load_bank(demo_bank_path())
    kit = load_kit()
    takes = []
    net = open_net(args.net, bank) if args.net else None
    net_marks = ["net" if role == "out" else "you" for role in bank.roles]
    for number, slot in enumerate(bank.slots, start=1):
        trained = "in the training set" if slot.train else "not trained on"
        print(f"slot {number}: {slot.name} ({trained})")
        print(format_pattern(slot.pattern, bank.channels, bank.roles))
        takes.append(render_pattern(kit, slot.pattern, args.bars, bank.tempo, bank.swing))
        if net is not None:
            performed = net.apply(slot.pattern)
            print(f"  then the net writes the {' and '.join(bank.channels[c] for c in bank.output_channels)}:")
            print(format_pattern(performed, bank.channels, net_marks))
            takes.append(render_pattern(kit, performed, args.bars, bank.tempo, bank.swing))
        print()
    pcm = np.concatenate(takes)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(args.out, encode_wav(pcm, kit.rate))
    how = f", each as written then with {args.net}" if args.net else ""
    print(f"played {len(bank.slots)} slots x {args.bars} bars{how}, at {bank.tempo:g} BPM, swing {bank.swing:g}, "
          f"default kit: {len(pcm) / kit.rate:.1f} s")
    print(f"wrote {args.out.resolve()}")
    return 0


def _config(args: argparse.Namespace) -> int:
    from .config import config_path, format_config, load_config

    config = load_config(args.file)
    print(f"# {args.file or config_path()}: valid; the settings in force:\n")
    print(format_config(config), end="")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from . import bench

    return bench.run(args.sections, args.json)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"must be a finite number more than 0, got {text}")
    return value


def _add_slot_arguments(parser: argparse.ArgumentParser) -> None:
    """What every command that sounds one bank slot takes: the bank, the slot, a tempo and a kit."""
    parser.add_argument("bank", type=Path, metavar="BANK.json")
    parser.add_argument("--slot", type=int, required=True, metavar="N", help="slot number 1-16")
    parser.add_argument("--tempo", type=float, metavar="T", help="BPM (default: the bank's)")
    parser.add_argument("--kit", type=Path, metavar="DIR", help="folder of <channel>.wav (default: built-in kit)")


def demo_bank_path() -> Path:
    """The demo bank shipped inside the package."""
    return Path(str(resources.files("breakage_pi") / "data" / "demo_bank.json"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="breakage-pi", description="A Raspberry Pi groovebox that learns how you play.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    render = commands.add_parser("render", help="render a bank slot to a WAV file")
    _add_slot_arguments(render)
    render.add_argument("--bars", type=_positive_int, required=True, metavar="B")
    render.add_argument("--out", type=Path, required=True, metavar="FILE.wav")
    add_net_option(render)
    render.set_defaults(handler=_render)

    play = commands.add_parser("play", help="play a bank slot through ALSA in real time")
    _add_slot_arguments(play)
    play.add_argument("--device", metavar="NAME", help="ALSA device, e.g. hw:CARD=Headphones,DEV=0 (default: config)")
    play.add_argument("--period", type=_positive_int, metavar="FRAMES", help="frames per block (default: config, 64)")
    play.add_argument("--seconds", type=_positive_float, metavar="S", help="stop after S seconds of audio")
    play.add_argument("--config", type=Path, metavar="FILE.toml", help="config file (default: /etc/breakage-pi.toml)")
    play.add_argument("--pace", action="store_true", help="pace an unpaced device (file:, null) in real time")
    play.set_defaults(handler=_play)

    demo = commands.add_parser("demo", help="render every slot of the demo bank with the default kit")
    demo.add_argument("--bars", type=_positive_int, default=2, metavar="B", help="bars per slot (default 2)")
    demo.add_argument("--out", type=Path, default=Path("out/demo.wav"), metavar="FILE.wav")
    add_net_option(demo)
    demo.set_defaults(handler=_demo)

    add_net_commands(commands)

    config = commands.add_parser("config", help="check a config file and print the settings in force")
    config.add_argument("file", nargs="?", type=Path, metavar="FILE.toml",
                        help="default: $BREAKAGE_PI_CONFIG or /etc/breakage-pi.toml (absent: all defaults)")
    config.set_defaults(handler=_config)

    bench = commands.add_parser("bench", help="run benchmarks and print figures")
    bench.add_argument("sections", nargs="*", metavar="SECTION", help="sections to run (default: all)")
    bench.add_argument("--json", action="store_true", help="print one JSON object of figures")
    bench.set_defaults(handler=_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except BreakageError as error:
        print(f"breakage-pi: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
