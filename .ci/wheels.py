"""Which installed distributions came as binary wheels and which pip built here from source.

Run by `.ci/arm64.sh` with the venv's python: a wheel pip built on this machine carries the bare
platform tag (``linux_aarch64``), a downloaded one a ``manylinux``/``musllinux`` tag, pure Python ``any``.
"""

from __future__ import annotations

import json
from importlib import metadata


def kind(dist: metadata.Distribution) -> str:
    direct = dist.read_text("direct_url.json")
    if direct and json.loads(direct).get("dir_info", {}).get("editable"):
        return "editable"
    tags = [line.split(":", 1)[1].strip() for line in (dist.read_text("WHEEL") or "").splitlines()
            if line.startswith("Tag:")]
    platforms = {tag.rsplit("-", 1)[-1] for tag in tags}
    if not platforms:
        return "unknown"
    if platforms == {"any"}:
        return "pure"
    if all(platform.startswith(("manylinux", "musllinux")) for platform in platforms):
        return "binary"
    return "built"


def main() -> None:
    kinds: dict[str, list[str]] = {}
    for dist in metadata.distributions():
        kinds.setdefault(kind(dist), []).append(f"{dist.metadata['Name']} {dist.version}")
    for name, label in (("binary", "binary wheels"), ("built", "built from source here"),
                        ("pure", "pure Python wheels"), ("editable", "the project (editable)"),
                        ("unknown", "no wheel record")):
        if name in kinds:
            print(f"{label}: {len(kinds[name])}: {', '.join(sorted(kinds[name], key=str.lower))}")


if __name__ == "__main__":
    main()
