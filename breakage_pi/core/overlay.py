"""Pictures of the panel and of the SHIFT page, as SVG text at the grid's real size (pure: no I/O).

Drawn from :data:`breakage_pi.core.pages.SHIFT_PAGE`, the table the state
machine reads, so the player's guide cannot drift from what a press does
(a test regenerates ``docs/panel.svg`` and ``docs/shift-page.svg`` and
compares). One SVG unit is one millimetre and the keys sit at the
NeoTrellis's 15 mm pitch (each 4x4 board is 60 mm square), so printed at
100 % the SHIFT page's picture lies over the real grid as an overlay.
``breakage-pi overlay DIR`` writes both files.

>>> svg = shift_page_svg()
>>> svg.startswith("<svg") and 'width="' in svg and "TRAIN" in svg
True
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from .events import GRID_COLUMNS, GRID_ROWS
from .pages import ROW_TITLES, SHIFT_PAGE, area_at, short_label

KEY_PITCH_MM = 15.0
"""Centre to centre distance of the NeoTrellis 4x4's keys (a 60 mm board holds four)."""
KEY_MM = 12.0
"""The drawn key: the silicone keypad's button is a little smaller than its pitch."""
MARGIN_MM = 10.0
LABEL_MM = 30.0
"""Room left of the grid for the row names."""
ROW_NAMES = ("kick", "snare", "open hat", "closed hat")
KNOB_WORDS = (
    ("VELOCITY", "new hits' velocity; with pads held: theirs (0 = off); with SHIFT: the gate"),
    ("TEMPO", "30-300 BPM, whole BPM"),
    ("SWING", "50-75 %"),
    ("VOLUME", "the master volume"),
    ("NET", "loose · medium · tight at three detents; with SHIFT: chance off / on at the far ends"),
)
BUTTON_WORDS = (
    ("PLAY", "start at step 1 / stop"),
    ("SHIFT", "hold: the grid becomes the SHIFT page"),
    ("MODE", "EDIT (every row yours) / PERFORM (the net plays its rows)"),
)
_FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"'


def _key_origin(row: int, column: int) -> tuple[float, float]:
    """The top-left corner (mm) of key (row, column)'s square."""
    inset = (KEY_PITCH_MM - KEY_MM) / 2
    return MARGIN_MM + LABEL_MM + column * KEY_PITCH_MM + inset, MARGIN_MM + row * KEY_PITCH_MM + inset


def _text(x: float, y: float, text: str, size: float, *, anchor: str = "start", bold: bool = False) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (f'<text x="{x:.2f}" y="{y:.2f}" font-size="{size:.2f}" text-anchor="{anchor}"{weight}>'
            f"{escape(text)}</text>")


def _grid(labels: list[list[tuple[str, str]]], row_names: tuple[str, ...]) -> list[str]:
    """The 4x16 keys at real size, each with a big label and a small one under it; the boards' outlines."""
    parts = []
    dashed = ' stroke-dasharray="1 1"'
    for board in range(GRID_COLUMNS // 4):
        x = MARGIN_MM + LABEL_MM + board * 4 * KEY_PITCH_MM
        parts.append(f'<rect x="{x:.2f}" y="{MARGIN_MM:.2f}" width="{4 * KEY_PITCH_MM:.2f}" '
                     f'height="{GRID_ROWS * KEY_PITCH_MM:.2f}" fill="none" stroke="#888" stroke-width="0.3"/>')
    for row in range(GRID_ROWS):
        y = MARGIN_MM + (row + 0.5) * KEY_PITCH_MM
        parts.append(_text(MARGIN_MM + LABEL_MM - 2, y + 1.2, row_names[row], 3.2, anchor="end", bold=True))
        for column in range(GRID_COLUMNS):
            x, top = _key_origin(row, column)
            big, small = labels[row][column]
            parts.append(f'<rect x="{x:.2f}" y="{top:.2f}" width="{KEY_MM:.2f}" height="{KEY_MM:.2f}" rx="1.5" '
                         f'fill="none" stroke="#000" stroke-width="0.25"{"" if big or small else dashed}/>')
            centre = x + KEY_MM / 2
            if big:
                parts.append(_text(centre, top + 5.2, big, 4.0, anchor="middle", bold=True))
            for index, line in enumerate(_wrap(small, 9)[:2]):
                parts.append(_text(centre, top + 8.3 + index * 2.2, line, 1.9, anchor="middle"))
    return parts


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _svg(width: float, height: float, parts: list[str], title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}mm" height="{height:.0f}mm" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" {_FONT}>\n<title>{escape(title)}</title>\n'
            f'<rect width="100%" height="100%" fill="#fff"/>\n' + "\n".join(parts) + "\n</svg>\n")


def _grid_width() -> float:
    return 2 * MARGIN_MM + LABEL_MM + GRID_COLUMNS * KEY_PITCH_MM


def shift_page_svg() -> str:
    """The SHIFT page at real size: each key's label and name from the table, the rows' titles, and
    under the grid what each group of keys does."""
    labels = [[(short_label(row, column), _short_name(row, column)) for column in range(GRID_COLUMNS)]
              for row in range(GRID_ROWS)]
    parts = _grid(labels, tuple(title.split(" · ")[0] for title in ROW_TITLES))
    y = MARGIN_MM + GRID_ROWS * KEY_PITCH_MM + 8
    parts.append(_text(MARGIN_MM, y, "The SHIFT page: hold SHIFT, then", 4.0, bold=True))
    for entry in SHIFT_PAGE:
        y += 5.5
        columns = entry.columns
        where = f"key {columns.start + 1}" if len(columns) == 1 else f"keys {columns.start + 1}-{columns.stop}"
        parts.append(_text(MARGIN_MM, y, f"row {entry.row + 1}, {where}", 3.2, bold=True))
        parts.append(_text(MARGIN_MM + 38, y, f"{entry.key}: {entry.action}", 3.2))
    return _svg(_grid_width(), y + MARGIN_MM, parts, "Breakage Pi: the SHIFT page (1 unit = 1 mm; print at 100 %)")


def _short_name(row: int, column: int) -> str:
    found = area_at(row, column)
    if found is None:
        return ""
    name = found.name[column - found.columns.start]
    return {"slots": "", "marks": "train"}.get(found.key, name.split(":")[0])


def panel_svg() -> str:
    """The panel: the grid as the player writes on it (rows are channels, columns steps, beats marked),
    the three buttons and the five knobs with what each does."""
    labels = [[(str(column + 1) if column % 4 == 0 else "", "") for column in range(GRID_COLUMNS)]
              for _ in range(GRID_ROWS)]
    parts = _grid(labels, ROW_NAMES)
    y = MARGIN_MM + GRID_ROWS * KEY_PITCH_MM + 8
    parts.append(_text(MARGIN_MM, y, "Tap a key: a hit at the default velocity, or none. Hold a key and turn "
                                     "VELOCITY: its velocity. Numbers mark the beats.", 3.4))
    for heading, rows in (("Buttons", BUTTON_WORDS), ("Knobs", KNOB_WORDS)):
        y += 8
        parts.append(_text(MARGIN_MM, y, heading, 4.0, bold=True))
        for name, words in rows:
            y += 6
            parts.append(f'<circle cx="{MARGIN_MM + 4:.2f}" cy="{y - 1.2:.2f}" r="3.2" fill="none" '
                         'stroke="#000" stroke-width="0.3"/>' if heading == "Knobs" else
                         f'<rect x="{MARGIN_MM:.2f}" y="{y - 4.2:.2f}" width="8" height="6" rx="1" fill="none" '
                         'stroke="#000" stroke-width="0.3"/>')
            parts.append(_text(MARGIN_MM + 11, y, name, 3.4, bold=True))
            parts.append(_text(MARGIN_MM + 35, y, words, 3.4))
    return _svg(_grid_width(), y + MARGIN_MM, parts, "Breakage Pi: the panel (1 unit = 1 mm)")
