"""The files that must be the same bytes on every machine, and their SHA-256 sums.

Run by `.ci/arm64.sh` on this machine and in the emulated arm64 root, each with its own venv's
python: ``python .ci/artefacts.py OUTDIR``. It writes the default kit, `render` of every slot of
the demo bank (as written and as the shipped tight net plays it), a fixed-seed `train` of the
demo bank, and each net's raw float32 outputs on fixed inputs (shipped and retrained nets), then
OUTDIR/SHA256SUMS. The commands run in this process through the CLI's own entry point.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import onnxruntime

from breakage_pi.audio.drumsynth import write_kit
from breakage_pi.cli import main as cli

REPO = Path(__file__).resolve().parent.parent
DEMO_BANK = REPO / "breakage_pi" / "data" / "demo_bank.json"
SHIPPED_NETS = sorted((REPO / "models").glob("net-*.onnx"))
INPUT_ROWS = 256  # the nets take one pattern at a time


def run(*argv: str) -> None:
    status = cli([*argv])
    if status != 0:
        raise SystemExit(f"breakage-pi {' '.join(argv)}: exit status {status}")


def net_outputs(net: Path, out: Path) -> None:
    """The net's raw outputs on fixed uniform inputs (PCG64 gives the same numbers everywhere)."""
    session = onnxruntime.InferenceSession(str(net), providers=["CPUExecutionProvider"])
    (source,) = session.get_inputs()
    inputs = np.random.default_rng(0).random((INPUT_ROWS, *source.shape[1:]), dtype=np.float32)
    outputs = [session.run(None, {source.name: row[np.newaxis]})[0] for row in inputs]
    out.write_bytes(np.ascontiguousarray(np.concatenate(outputs), dtype=np.float32).tobytes())


def main(outdir: str) -> None:
    out = Path(outdir)
    shutil.rmtree(out, ignore_errors=True)
    (out / "render").mkdir(parents=True)
    (out / "outputs").mkdir()
    write_kit(out / "kit")
    run("train", str(DEMO_BANK), "--out", str(out / "train"), "--seed", "0")
    slots = len(json.loads(DEMO_BANK.read_text())["slots"])
    tight = REPO / "models" / "net-tight.onnx"
    for slot in range(1, slots + 1):
        run("render", str(DEMO_BANK), "--slot", str(slot), "--bars", "2",
            "--out", str(out / "render" / f"slot{slot}.wav"))
        run("render", str(DEMO_BANK), "--slot", str(slot), "--bars", "2", "--net", str(tight),
            "--out", str(out / "render" / f"slot{slot}-net-tight.wav"))
    for net in [*SHIPPED_NETS, *sorted((out / "train").glob("*.onnx"))]:
        net_outputs(net, out / "outputs" / f"{net.parent.name}-{net.stem}.f32")
    sums = [f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.relative_to(out)}"
            for path in sorted(out.rglob("*")) if path.is_file()]
    (out / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    print(f"{len(sums)} artefacts in {out}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python .ci/artefacts.py OUTDIR")
    main(sys.argv[1])
