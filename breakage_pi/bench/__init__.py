"""``breakage-pi bench``: benchmarks that print figures (never timed tests).

Each section is a module here with ``run() -> dict[str, float]`` returning
figures keyed by dotted names (``mixer.v16.f64.rt_p99``); progress and notes
go to stderr so ``--json`` prints exactly one JSON object on stdout.
"""

from __future__ import annotations

import importlib
import json
import sys
from typing import Sequence

SECTIONS = {
    "mixer": "breakage_pi.bench.mixer",
    "headroom": "breakage_pi.bench.headroom",
    "engine": "breakage_pi.bench.engine",
    "grid": "breakage_pi.bench.grid",
    "nets": "breakage_pi.bench.nets",
    "instrument": "breakage_pi.bench.instrument",
    "sync": "breakage_pi.bench.sync",
    "midi": "breakage_pi.bench.midi",
    "takes": "breakage_pi.bench.takes",
}


def run(names: Sequence[str], as_json: bool) -> int:
    """Run the named sections (all when empty) and print their figures."""
    unknown = [name for name in names if name not in SECTIONS]
    if unknown:
        print(f"breakage-pi bench: unknown section {', '.join(unknown)} (known: {', '.join(SECTIONS)})",
              file=sys.stderr)
        return 2
    figures: dict[str, float] = {}
    for name in names or list(SECTIONS):
        print(f"bench {name} ...", file=sys.stderr, flush=True)
        section = importlib.import_module(SECTIONS[name]).run()
        figures.update(section)
        if not as_json:
            _print_table(name, section)
    if as_json:
        print(json.dumps(figures, indent=1, sort_keys=True))
    return 0


def _print_table(section: str, figures: dict[str, float]) -> None:
    width = max((len(key) for key in figures), default=0)
    print(f"== {section}")
    for key, value in figures.items():
        shown = f"{value:.6g}" if isinstance(value, float) else str(value)
        print(f"  {key:<{width}}  {shown}")
    sys.stdout.flush()
