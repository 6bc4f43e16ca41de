"""Commands that sound a bank: ``render``, ``play`` and ``demo``."""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import BreakageError
from ..core.pattern import DEFAULT_CHANNEL_NAMES
from .args import add_slot_arguments, positive_float, positive_int
from .nets import add_net_option, open_net


def add_commands(commands: Any) -> None:
    """Register ``render``, ``play`` and ``demo`` on the ``breakage-pi`` subcommand parser."""
    render = commands.add_parser("render", help="render a bank slot to a WAV file")
    add_slot_arguments(render)
    render.add_argument("--bars", type=positive_int, required=True, metavar="B")
    render.add_argument("--out", type=Path, required=True, metavar="FILE.wav")
    render.add_argument("--rate", type=_sample_rate, default=48_000, metavar="HZ",
                        help="sample rate of the WAV, as the device's (default 48000)")
    add_net_option(render)
    render.set_defaults(handler=_render)

    play = commands.add_parser("play", help="play a bank slot through ALSA in real time")
    add_slot_arguments(play)
    play.add_argument("--device", metavar="NAME", help="ALSA device, e.g. hw:CARD=Headphones,DEV=0 (default: config)")
    play.add_argument("--period", type=positive_int, metavar="FRAMES", help="frames per block (default: config, 64)")
    play.add_argument("--seconds", type=positive_float, metavar="S", help="stop after S seconds of audio")
    play.add_argument("--config", type=Path, metavar="FILE.toml", help="config file (default: /etc/breakage-pi.toml)")
    play.add_argument("--pace", action="store_true", help="pace an unpaced device (file:, null) in real time")
    play.set_defaults(handler=_play)

    demo = commands.add_parser("demo", help="render every slot of the demo bank with the default kit")
    demo.add_argument("--bars", type=positive_int, default=2, metavar="B", help="bars per slot (default 2)")
    demo.add_argument("--out", type=Path, default=Path("out/demo.wav"), metavar="FILE.wav")
    add_net_option(demo)
    demo.set_defaults(handler=_demo)


def _sample_rate(text: str) -> int:
    rate = positive_int(text)
    if not 8_000 <= rate <= 192_000:
        raise argparse.ArgumentTypeError(f"must be a sample rate 8000-192000 Hz, got {rate}")
    return rate


def _render(args: argparse.Namespace) -> int:
    from ..audio.kit import load_kit
    from ..audio.render import render_to_wav
    from ..store import load_bank

    bank = load_bank(args.bank)
    slot = bank.slot(args.slot)
    tempo = bank.tempo if args.tempo is None else args.tempo
    kit = load_kit(args.kit, bank.channels if args.kit else DEFAULT_CHANNEL_NAMES, rate=args.rate)
    pattern = slot.pattern if args.net is None else open_net(args.net, bank).apply(slot.pattern)
    frames = render_to_wav(kit, pattern, args.bars, tempo, bank.swing, args.out)
    print(f"rendered slot {args.slot} ({slot.name or 'unnamed'}), {args.bars} bar(s) at {tempo:g} BPM "
          f"-> {args.out} ({frames / kit.rate:.2f} s)" + (f", outputs by {args.net}" if args.net else ""))
    return 0


def _play(args: argparse.Namespace) -> int:
    import time

    from ..core.playstate import PlayState
    from ..audio.process import AudioProcess, EngineMonitor, EngineSettings, describe_exit
    from ..config import load_config
    from ..store import load_bank

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
    monitor = EngineMonitor(process)
    try:
        while not process.ended(0.2):
            monitor.check(time.monotonic())
        report = process.wait()
    except KeyboardInterrupt:
        report = process.stop()
    if not report:
        raise BreakageError(f"the audio process ended without a report ({describe_exit(process.exitcode)})")
    if report["error"]:
        raise BreakageError(report["error"])
    print(f"blocks {report['blocks']}, xruns {report['xruns']}, device lost {report['device_lost']} time(s), "
          f"worst block {report['worst_block_ms']:.3f} ms, p99 {report['block_latency_p99_ms']:.3f} ms "
          f"({report['realtime']})")
    if report["frames_written"] == 0:
        print(f"breakage-pi: error: no audio reached {settings.device}"
              + (f" ({report['last_error']})" if report["last_error"] else ""), file=sys.stderr)
        return 1
    return 0


def _demo(args: argparse.Namespace) -> int:
    from ..audio.kit import load_kit
    from ..audio.render import encode_wav, render_pattern
    from ..core.textgrid import format_pattern
    from ..store import atomic_write_bytes, load_bank

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


def demo_bank_path() -> Path:
    """The demo bank shipped inside the package."""
    return Path(str(resources.files("breakage_pi") / "data" / "demo_bank.json"))
