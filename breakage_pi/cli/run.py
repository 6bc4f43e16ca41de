"""``breakage-pi run``: the instrument daemon, its simulator and scripted sessions."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from .args import positive_float


def add_commands(commands: Any) -> None:
    """Register ``run`` on the ``breakage-pi`` subcommand parser."""
    run = commands.add_parser("run", help="run the instrument (on the Pi, or simulated with --sim)")
    run.add_argument("--config", type=Path, metavar="FILE", help="config file (default: /etc/breakage-pi.toml)")
    run.add_argument("--data", type=Path, metavar="DIR",
                     help="data directory: bank.json, nets/, kits/, state.json (default: the config's, "
                          "/var/lib/breakage-pi)")
    run.add_argument("--sim", action="store_true", help="simulate the grid, buttons and knobs (a terminal UI)")
    run.add_argument("--headless", action="store_true",
                     help="with --sim: no terminal UI; with --script a deterministic scripted session")
    run.add_argument("--script", type=Path, metavar="FILE", help="with --sim --headless: timed panel actions")
    run.add_argument("--take", type=Path, metavar="DIR",
                     help="with --sim --headless: render a take again from its own files (kits from --data)")
    run.add_argument("--seconds", type=positive_float, metavar="S", help="stop after S seconds of audio (saving)")
    run.add_argument("--device", metavar="DEV", help="ALSA device (default: the config's; with --sim its sim_device, "
                                                     "ALSA's default), e.g. 'file:FILE=out.wav,FORMAT=wav'")
    run.add_argument("--pace", action="store_true", help="pace an unpaced device (file:, null) in real time")
    run.add_argument("--print-grid", type=positive_float, metavar="MS",
                     help="with --script: print the grid's LEDs every MS ms of audio time")
    run.add_argument("--verbose", action="store_true", help="log the technical figures too (the debug log)")
    run.set_defaults(handler=_run, handles_stop_signals=True)


def _run(args: argparse.Namespace) -> int:
    from ..daemon import StopSignals

    logging.basicConfig(stream=sys.stderr, level=logging.DEBUG if args.verbose else logging.INFO,
                        format="breakage-pi: %(message)s")
    stop = StopSignals()
    restore_signals = stop.install()   # from here a stop signal, even one held since start-up, saves and stops
    try:
        return _run_until_stopped(args, stop)
    finally:
        restore_signals()


def _run_until_stopped(args: argparse.Namespace, stop: Any) -> int:
    from ..daemon import RunOptions, run_live, run_lockstep
    from .config_file import load_config
    from ..core.script import MAX_SESSION_MS, parse_script
    from ..store import read_text

    if args.headless and not args.sim:
        raise SystemExit(_usage("--headless needs --sim (on the Pi the panel is real)"))
    if args.script is not None and not args.headless:
        raise SystemExit(_usage("--script needs --sim --headless"))
    if args.print_grid is not None and args.script is None:
        raise SystemExit(_usage("--print-grid needs --sim --headless --script"))
    if args.take is not None and not (args.sim and args.headless):
        raise SystemExit(_usage("--take needs --sim --headless"))
    if args.take is not None and (args.script is not None or args.seconds is not None):
        raise SystemExit(_usage("--take replays the take's own performance and length: no --script or --seconds"))
    config = load_config(args.config)
    if args.take is not None:
        return _replay(args, config, stop)
    script = ()
    if args.script is not None:
        script = tuple(parse_script(read_text(args.script), str(args.script)))
        if args.seconds is not None and args.seconds * 1000 > MAX_SESSION_MS:
            raise SystemExit(_usage(f"--seconds: a scripted session lasts at most {MAX_SESSION_MS // 1000} s, "
                                    f"got {args.seconds:g}"))
        late = [event for event in script if args.seconds is not None and event.time_ms >= args.seconds * 1000]
        if late:
            print(f"breakage-pi: note: {len(late)} action(s) of {args.script} come at or after --seconds "
                  f"{args.seconds:g} (the first at {late[0].time_ms:g} ms) and are not played", file=sys.stderr)
    device = args.device or (config.audio.sim_device if args.sim else None)
    options = RunOptions(config=config, data_dir=args.data or Path(config.instrument.data_dir), sim=args.sim,
                         script=script, seconds=args.seconds, device=device,
                         pace=args.pace, frame_every_ms=args.print_grid)
    if args.headless and args.script is None:
        _sound_or_none(options)
        return run_live(options, stop)     # the daemon on the emulated panel, in real time, no UI
    if args.headless:
        if args.print_grid is not None:
            options.on_frame = _print_frame
        figures = run_lockstep(options, stop)
        print(f"breakage-pi: {figures['frames'] / config.audio.rate:.2f} s of audio, {figures['blocks']} blocks, "
              f"{figures['xruns']} xruns, waited for training {figures['training_waits']} time(s)", file=sys.stderr)
        return figures["status"]
    if not args.sim:
        return run_live(options, stop)
    from ..hw.sim.terminal import StderrPane, TerminalPanel

    pane = StderrPane()                 # before the audio process starts: it inherits stderr
    sound = "" if _sound_or_none(options) else "no sound"
    options.ui = lambda rig, state, quit: TerminalPanel(rig, state, pane.lines, quit, sound)
    try:
        return run_live(options, stop)
    finally:
        pane.close()
        print("\n".join(list(pane.lines)[-10:]), file=sys.stderr)


def _replay(args: argparse.Namespace, config: Any, stop: Any) -> int:
    from ..daemon import RunOptions, run_lockstep
    from ..daemon.take_replay import prepare_replay, replay_note

    replay = prepare_replay(args.take, config, args.data or Path(config.instrument.data_dir))
    try:
        print(f"breakage-pi: {replay_note(replay)}", file=sys.stderr)
        options = RunOptions(config=replay.config, data_dir=replay.data_dir, sim=True, script=tuple(replay.take.script),
                             seconds=replay.seconds, device=args.device, pace=args.pace, replaying_take=True)
        figures = run_lockstep(options, stop)
    finally:
        replay.cleanup()
    print(f"breakage-pi: {figures['frames'] / replay.config.audio.rate:.2f} s of audio, {figures['blocks']} blocks, "
          f"{figures['xruns']} xruns", file=sys.stderr)
    return figures["status"]


def _usage(message: str) -> int:
    print(f"breakage-pi run: error: {message}", file=sys.stderr)
    return 2


def _sound_or_none(options: Any) -> bool:
    """The simulator plays where you are or not at all: if its ALSA device does not open, say so in one
    line and play on silently (the engine still keeps time, paced). False when silent."""
    from ..audio.sinks import device_problem

    device = options.device
    if device == "none" or device.startswith(("wav:", "file:", "null")):
        return device != "none"
    audio = options.config.audio
    period = audio.period if isinstance(audio.period, int) else 256        # "auto" is chosen later, by the engine
    problem = device_problem(device, audio.rate, period, audio.periods)
    if problem is None:
        return True
    logging.getLogger("breakage_pi").info(
        "no sound: ALSA device %r does not open here, so it plays silently. To record what you play: "
        "--device 'file:FILE=take.wav,FORMAT=wav' (a sound card: --device hw:CARD=...,DEV=0, see aplay -l)", device)
    logging.getLogger("breakage_pi").debug("%s", problem)
    options.device, options.pace = "none", True
    return False


def _print_frame(now: float, frame: Any, state: Any) -> None:
    """A printed frame of a scripted session: what the screen's header says, then the grid, labelled."""
    from ..core.textgrid import ROW_NAMES, SHIFT_ROW_NAMES, format_panel, panel_cells

    shift_page = state.shift and state.training is None
    page = " (SHIFT page)" if shift_page else " (training)" if state.training is not None else ""
    print(f"{now:6.2f} s  {state.mode.upper()}  slot {state.slot + 1}  net {state.net_label}  "
          f"{'PLAYING' if state.playing else 'stopped'}  {state.bank.tempo:g} BPM{page}\n"
          f"{format_panel(frame, panel_cells(state), SHIFT_ROW_NAMES if shift_page else ROW_NAMES)}", flush=True)
