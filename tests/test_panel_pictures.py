"""The SHIFT page's one table, and the pictures of it in docs/ (drawn from it, at the grid's real size)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from breakage_pi.cli import main
from breakage_pi.core.overlay import KEY_PITCH_MM, panel_svg, shift_page_svg
from breakage_pi.core.pages import SHIFT_PAGE, overlaps, short_label

DOCS = Path(__file__).resolve().parent.parent / "docs"
SVG = "{http://www.w3.org/2000/svg}"


def test_the_shift_page_table_covers_the_grid_once():
    assert overlaps() == []
    assert {area.key for area in SHIFT_PAGE} >= {"slots", "marks", "roles", "mutes", "kits", "nets", "chance",
                                                  "edit", "perform", "copy", "save", "train"}


def test_the_pictures_in_docs_are_the_ones_the_table_draws(tmp_path):
    assert main(["overlay", str(tmp_path)]) == 0
    for name in ("panel.svg", "shift-page.svg"):
        assert (DOCS / name).read_text() == (tmp_path / name).read_text(), \
            f"docs/{name} is stale: run `breakage-pi overlay docs`"
    assert (DOCS / "shift-page.svg").read_text() == shift_page_svg()
    assert (DOCS / "panel.svg").read_text() == panel_svg()


def test_the_shift_page_prints_at_the_real_size_with_each_label_on_its_key():
    root = ElementTree.fromstring(shift_page_svg())
    width = float(re.fullmatch(r"([\d.]+)mm", root.get("width")).group(1))
    assert root.get("viewBox").split()[2] == f"{width:.0f}"           # one unit is one millimetre
    keys = [rect for rect in root.iter(f"{SVG}rect") if rect.get("rx") == "1.5"]
    assert len(keys) == 64
    xs = sorted({float(rect.get("x")) for rect in keys})
    ys = sorted({float(rect.get("y")) for rect in keys})
    assert [round(b - a, 6) for a, b in zip(xs, xs[1:])] == [KEY_PITCH_MM] * 15 == [15.0] * 15
    assert [round(b - a, 6) for a, b in zip(ys, ys[1:])] == [15.0] * 3
    texts = {(round(float(t.get("x")), 2), t.text) for t in root.iter(f"{SVG}text") if t.get("font-weight")}
    for area in SHIFT_PAGE:
        for column in area.columns:
            centre = round(xs[column] + 6.0, 2)
            assert (centre, short_label(area.row, column)) in texts, (area.key, column)
