"""Commands that sound a bank: ``render``, ``play`` and ``demo``."""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from ..core.errors import BreakageError, printable
from ..core.pattern import DEFAULT_CHANNEL_NAMES, Pattern
from .args import (add_force_option, add_slot_arguments, bank_slot, input_path, non_empty, output_file,
                   positive_float, positive_int)
from .nets import add_net_option, net_bars, open_net

if TYPE_CHECKING:
    from ..audio.kit import Kit


def add_commands(commands: Any) -> None:
    """Register ``render``, ``play`` and ``demo`` on the ``breakage-pi`` subcommand parser."""
    render = commands.add_parser("render", help="render a bank slot to a WAV file")
    add_slot_arguments(render)
    render.add_argument("--bars", type=positive_int, required=True, metavar="B")
    render.add_argument("--out", type=output_file, required=True, metavar="FILE.wav")
    render.add_argument("--rate", type=_sample_rate, default=48_000, metavar="HZ",
                        help="sample rate of the WAV, as the device's (default 48000)")
    add_net_option(render)
    add_force_option(render)
    render.set_defaults(handler=_render)

    play = commands.add_parser("play", help="play a bank slot through ALSA in real time")
    add_slot_arguments(play)
    play.add_argument("--device", type=non_empty, metavar="NAME",
                      help="ALSA device, e.g. hw:CARD=Headphones,DEV=0 (default: config)")
    play.add_argument("--period", type=positive_int, metavar="FRAMES", help="frames per block (default: config, 64)")
    play.add_argument("--seconds", type=positive_float, metavar="S", help="stop after S seconds of audio")
    play.add_argument("--config", type=input_path, metavar="FILE.toml",
                      help="config file (default: /etc/breakage-pi.toml)")
    play.add_argument("--pace", action="store_true", help="pace an unpaced device (file:, null) in real time")
    play.set_defaults(handler=_play)

    demo = commands.add_parser("demo", help="render every slot of the demo bank with the default kit")
    demo.add_argument("--bars", type=positive_int, default=2, metavar="B", help="bars per slot (default 2)")
    demo.add_argument("--out", type=output_file, default=Path("out/demo.wav"), metavar="FILE.wav")
    add_net_option(demo)
    add_force_option(demo)
    demo.set_defaults(handler=_demo)


def _sample_rate(text: str) -> int:
    rate = positive_int(text)
    if not 8_000 <= rate <= 192_000:
        raise argparse.ArgumentTypeError(f"must be a sample rate 8000-192000 Hz, got {rate}")
    return rate


def _render(args: argparse.Namespace) -> int:
    from ..audio.kit import load_kit
    from ..audio.render import Take, render_to_wav
    from ..store import atomic_writer, load_bank

    bank = load_bank(args.bank)
    slot = bank_slot(bank, args.slot, args.bank)
    tempo = bank.tempo if args.tempo is None else args.tempo
    kit = load_kit(args.kit, bank.channels if args.kit else DEFAULT_CHANNEL_NAMES, rate=args.rate)
    pattern = slot.pattern if args.net is None else net_bars(open_net(args.net, bank), bank, slot.pattern, args.gate)
    _check_wav_output(args, [args.bank, args.net], kit)
    with atomic_writer(args.out) as out:
        frames = render_to_wav(kit, [Take(pattern, args.bars, tempo, bank.swing)], out)
    print(f"rendered slot {args.slot} ({printable(slot.name or 'unnamed', 60)}), {args.bars} bar(s) "
          f"at {tempo:g} BPM "
          f"-> {printable(args.out)} ({frames / kit.rate:.2f} s)"
          + (f", outputs by {printable(args.net)}" if args.net else ""))
    return 0


def _check_wav_output(args: argparse.Namespace, inputs: Sequence[Path | None], kit: Kit) -> None:
    """Refuse an ``--out`` that is a folder, one of the command's inputs, or an existing file that is not a WAV."""
    from ..audio.render import is_wav_file
    from ..store import check_output

    check_output(args.out, inputs=[path for path in (*inputs, *kit.sources) if path is not None],
                 is_ours=is_wav_file, what="a WAV file", force=args.force, hint="use --force to replace it")


def _play(args: argparse.Namespace) -> int:
    import time

    from ..core.playstate import PlayState
    from ..audio.process import AudioProcess, EngineMonitor, EngineSettings, describe_exit
    from .config_file import load_config
    from ..audio.kit import load_kit
    from ..store import load_bank

    bank = load_bank(args.bank)
    slot = bank_slot(bank, args.slot, args.bank)
    audio = load_config(args.config).audio
    load_kit(args.kit)                  # as the audio process will: a bad kit is refused before "playing"
    settings = EngineSettings(
        device=args.device or audio.device, rate=audio.rate, period=args.period or audio.period,
        periods=audio.periods, kit_dir=str(args.kit) if args.kit else None, pace=args.pace,
        frames=None if args.seconds is None else round(args.seconds * audio.rate), wait_for_device=False)
    state = PlayState(slot.pattern, bank.tempo if args.tempo is None else args.tempo, bank.swing)
    print(f"playing slot {args.slot} ({printable(slot.name or 'unnamed', 60)}) on {printable(settings.device)}, "
          + (f"period {settings.period} frames" if settings.period != "auto" else "period chosen when it starts")
          + "; Ctrl-C stops")
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
    from ..audio.render import Take, planned_frames, render_to_wav
    from ..core.textgrid import format_pattern
    from ..store import atomic_writer, load_bank, make_folder

    bank = load_bank(demo_bank_path())
    kit = load_kit()
    net = open_net(args.net, bank) if args.net else None
    _check_wav_output(args, [demo_bank_path(), args.net], kit)
    planned_frames(kit, [Take(slot.pattern, args.bars, bank.tempo, bank.swing) for slot in bank.slots]
                   * (2 if net else 1))
    takes = []
    net_marks = ["net" if role == "out" else "you" for role in bank.roles]
    for number, slot in enumerate(bank.slots, start=1):
        trained = "in the training set" if slot.train else "not trained on"
        print(f"slot {number}: {printable(slot.name, 60)} ({trained})")
        print(format_pattern(slot.pattern, bank.channels, bank.roles))
        takes.append(Take(slot.pattern, args.bars, bank.tempo, bank.swing))
        if net is not None:
            performed = net_bars(net, bank, slot.pattern, args.gate)
            written = " and ".join(printable(bank.channels[c], 24) for c in bank.output_channels)
            print(f"  then the net writes the {written}:")
            print(format_pattern(performed if isinstance(performed, Pattern) else performed(0), bank.channels,
                                 net_marks))
            takes.append(Take(performed, args.bars, bank.tempo, bank.swing))
        print()
    make_folder(args.out.parent)
    with atomic_writer(args.out) as out:
        frames = render_to_wav(kit, takes, out)
    how = f", each as written then with {printable(args.net)}" if args.net else ""
    print(f"played {len(bank.slots)} slots x {args.bars} bars{how}, at {bank.tempo:g} BPM, swing {bank.swing:g}, "
          f"default kit: {frames / kit.rate:.1f} s")
    print(f"wrote {printable(args.out.resolve())}")
    return 0


def demo_bank_path() -> Path:
    """The demo bank shipped inside the package."""
    return Path(str(resources.files("breakage_pi") / "data" / "demo_bank.json"))
