"""The simulator's face: a curses terminal UI over the emulated panel.

It draws the 4x16 grid in the colours the emulated boards latched (what the
real LEDs would show), takes mouse clicks on pads (pressed while the button
is down) and keys for the buttons and knobs, and shows the knob positions,
the instrument's mode and the log. Everything it does goes through the
:class:`~.rig.SimRig`: the pads into the boards' key FIFOs, the buttons
onto their mock pins, the knobs into the emulated ADC.

Keys: ``space`` PLAY, ``m`` MODE, ``s`` SHIFT (a terminal reports no key
release, so ``s`` toggles it held), ``1``-``5`` choose a knob, ``←``/``→``
turn it a little, ``↓``/``↑`` a lot, ``q`` quits (saving, as on SIGTERM).
"""

from __future__ import annotations

import curses
import os
import threading
from collections import deque
from typing import Any, Callable

from ...core.events import GRID_COLUMNS, GRID_ROWS, KNOBS
from .rig import SimRig

GRID_TOP, GRID_LEFT = 3, 6
CELL = 3            # "██" and a space
BOARD_GAP = 1       # an extra space between the four boards
FRAME_S = 1 / 30
FINE, COARSE = 0.02, 0.1
MIN_HOLD_S = 0.03
"""A click is held at least this long: the boards' firmware scans its keys every 10 ms and a tap
shorter than a scan may give no event at all (as on the real chip)."""
HELP = ("click a pad | space PLAY | m MODE | s SHIFT (toggle held) | 1-5 choose a knob, "
        "←/→ turn, ↓/↑ turn more | q quit")


def pad_at(x: int, y: int) -> tuple[int, int] | None:
    """The (row, column) of the pad drawn at screen cell (x, y), if any."""
    row = y - GRID_TOP
    if not 0 <= row < GRID_ROWS:
        return None
    offset = x - GRID_LEFT
    board_width = 4 * CELL + BOARD_GAP
    board, within = divmod(offset, board_width) if offset >= 0 else (-1, 0)
    column = board * 4 + within // CELL
    if offset < 0 or within >= 4 * CELL or within % CELL == CELL - 1 or not 0 <= column < GRID_COLUMNS:
        return None
    return row, column


def pad_origin(row: int, column: int) -> tuple[int, int]:
    """The screen cell (x, y) where pad (row, column) is drawn."""
    return GRID_LEFT + (column // 4) * (4 * CELL + BOARD_GAP) + (column % 4) * CELL, GRID_TOP + row


class StderrPane:
    """Everything written to file descriptor 2 (this process's logs and the audio process's) becomes
    lines for the log pane instead of garbling the screen; :meth:`close` puts stderr back."""

    def __init__(self, keep: int = 200) -> None:
        self.lines: deque[str] = deque(maxlen=keep)
        self._saved = os.dup(2)
        reader, writer = os.pipe()
        os.dup2(writer, 2)
        os.close(writer)
        self._reader = os.fdopen(reader, "r", errors="replace")
        self._thread = threading.Thread(target=self._pump, name="stderr-pane", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        for line in self._reader:
            self.lines.append(line.rstrip("\n"))

    def close(self) -> None:
        os.dup2(self._saved, 2)
        os.close(self._saved)


class TerminalPanel:
    """The curses UI; call :meth:`poll` from the control loop (keys, mouse, redraw) and :meth:`close`."""

    def __init__(self, rig: SimRig, describe: Callable[[], str], log_lines: deque[str],
                 quit: Callable[[], None]) -> None:
        self.rig, self.describe, self.log_lines, self.quit = rig, describe, log_lines, quit
        self.knob = 0
        self.shift = False
        self._held: tuple[int, int] | None = None
        self._held_since = 0.0
        self._release_at: float | None = None
        self._now = 0.0
        self._drawn_at = -1.0
        self._pairs: dict[tuple[int, int, int], int] = {}
        self.screen = curses.initscr()
        try:
            curses.noecho()
            curses.cbreak()
            self.screen.keypad(True)
            self.screen.nodelay(True)
            curses.curs_set(0)
            curses.mousemask(curses.ALL_MOUSE_EVENTS | curses.REPORT_MOUSE_POSITION)
            curses.mouseinterval(0)
            curses.start_color()
            curses.use_default_colors()
        except curses.error:
            pass

    def poll(self, now: float) -> list[Any]:
        """Handle waiting keys and clicks; redraw at most 30 times a second."""
        self._now = now
        while (key := self.screen.getch()) != -1:
            self._key(key)
        if self._release_at is not None and now >= self._release_at:
            self._let_go()
        if now - self._drawn_at >= FRAME_S:
            self._drawn_at = now
            self.draw()
        return []

    def _key(self, key: int) -> None:
        if key == curses.KEY_MOUSE:
            self._mouse()
        elif key == ord(" "):
            self._tap("play")
        elif key in (ord("m"), ord("M")):
            self._tap("mode")
        elif key in (ord("s"), ord("S")):
            self.shift = not self.shift
            self.rig.button("shift", self.shift)
        elif ord("1") <= key <= ord(str(len(KNOBS))):
            self.knob = key - ord("1")
        elif key in (curses.KEY_LEFT, curses.KEY_RIGHT, curses.KEY_UP, curses.KEY_DOWN):
            size = FINE if key in (curses.KEY_LEFT, curses.KEY_RIGHT) else COARSE
            sign = 1 if key in (curses.KEY_RIGHT, curses.KEY_UP) else -1
            self._turn(sign * size)
        elif key in (ord("q"), ord("Q")):
            self.quit()

    def _tap(self, name: str) -> None:
        self.rig.button(name, True)
        self.rig.button(name, False)

    def _turn(self, amount: float) -> None:
        name = KNOBS[self.knob]
        position = self.rig.knob_position(name)
        if position is not None:
            self.rig.knob(name, min(1.0, max(0.0, round(position + amount, 3))))

    def _mouse(self) -> None:
        try:
            _, x, y, _, state = curses.getmouse()
        except curses.error:
            return
        pad = pad_at(x, y)
        if state & (curses.BUTTON1_PRESSED | curses.BUTTON1_CLICKED) and pad is not None:
            if self._held is not None:
                self._let_go()
            self.rig.press(*pad)
            self._held, self._held_since = pad, self._now
        if state & (curses.BUTTON1_RELEASED | curses.BUTTON1_CLICKED) and self._held is not None:
            self._release_at = self._held_since + MIN_HOLD_S

    def _let_go(self) -> None:
        if self._held is not None:
            self.rig.release(*self._held)
        self._held, self._release_at = None, None

    # -- drawing --------------------------------------------------------------------------------

    def _colour(self, red: int, green: int, blue: int) -> int:
        """A curses attribute for an RGB colour (the nearest of the terminal's 256, or 8)."""
        if curses.COLORS >= 256:
            index = _xterm_index(red, green, blue)
        else:
            index = (1 if red > 40 else 0) | (2 if green > 40 else 0) | (4 if blue > 40 else 0)
            index = index or 7
        key = (index, 0, 0)
        if key not in self._pairs:
            number = len(self._pairs) + 1
            if number >= curses.COLOR_PAIRS:
                return curses.A_NORMAL
            curses.init_pair(number, index, -1)
            self._pairs[key] = number
        return curses.color_pair(self._pairs[key])

    def draw(self) -> None:
        screen = self.screen
        screen.erase()
        height, width = screen.getmaxyx()
        self._text(0, 0, "Breakage Pi simulator    " + self.describe(), curses.A_BOLD)
        self._text(1, 0, f"SHIFT {'held' if self.shift else 'up'}", curses.A_REVERSE if self.shift else 0)
        pixels = self.rig.pixels()
        for row in range(GRID_ROWS):
            self._text(GRID_TOP + row, 0, ("kick", "snare", "o-hat", "c-hat")[row])
            for column in range(GRID_COLUMNS):
                x, y = pad_origin(row, column)
                red, green, blue = (int(v) for v in pixels[row, column])
                if red or green or blue:
                    self._text(y, x, "██", self._colour(*_boost(red, green, blue)))
                else:
                    self._text(y, x, "··", curses.A_DIM)
        knobs = []
        for index, name in enumerate(KNOBS):
            position = self.rig.knob_position(name)
            shown = "enc" if position is None else f"{position:.2f}"
            knobs.append(f"{'>' if index == self.knob else ' '}{index + 1} {name} {shown}")
        self._text(GRID_TOP + GRID_ROWS + 1, 0, "  ".join(knobs))
        self._text(GRID_TOP + GRID_ROWS + 2, 0, HELP, curses.A_DIM)
        first_log = GRID_TOP + GRID_ROWS + 4
        lines = list(self.log_lines)[-max(0, height - first_log):]
        for offset, line in enumerate(lines):
            self._text(first_log + offset, 0, line[:max(0, width - 1)], curses.A_DIM)
        screen.refresh()

    def _text(self, y: int, x: int, text: str, attribute: int = 0) -> None:
        height, width = self.screen.getmaxyx()
        if 0 <= y < height and 0 <= x < width - 1:
            try:
                self.screen.addstr(y, x, text[:width - 1 - x], attribute)
            except curses.error:
                pass

    def close(self) -> None:
        try:
            curses.endwin()
        except curses.error:
            pass


def _boost(red: int, green: int, blue: int) -> tuple[int, int, int]:
    """A screen colour for an LED colour: the same hue, every lit LED visible, brighter LEDs brighter
    (LEDs are dimmed by the grid's ``brightness`` and a dim LED glows where a dim pixel is black)."""
    top = max(red, green, blue)
    if not top:
        return 0, 0, 0
    scale = (95 + 160 * top / 255) / top
    return round(red * scale), round(green * scale), round(blue * scale)


def _xterm_index(red: int, green: int, blue: int) -> int:
    """The nearest xterm-256 colour: the grey ramp (232-255) for greys, else the 6x6x6 cube (16-231)."""
    if max(red, green, blue) - min(red, green, blue) < 12:
        return 232 + min(23, max(0, (red + green + blue) // 3 - 8) // 10)

    def level(value: int) -> int:
        return 0 if value < 48 else 1 if value < 115 else (value - 35) // 40

    return 16 + 36 * level(red) + 6 * level(green) + level(blue)
