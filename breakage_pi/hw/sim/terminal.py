"""The simulator's face: a curses terminal UI over the emulated panel, played with the keyboard.

It draws the 4x16 grid in the colours the emulated boards latched (what the
real LEDs would show) with a glyph per pad that says the same without
colour (:func:`breakage_pi.core.textgrid.panel_cells`: a hit's velocity as a
bar of eight heights, ``··`` a rest, ``::`` a rest on a beat, ``?`` a chance
step; on the SHIFT page each pad's label from
:data:`breakage_pi.core.pages.SHIFT_PAGE`), ``<`` after a held pad. Under the
grid, each knob with the value in force in musical units (and, while a pot
catches up, where it is and where it picks up), the key map, and the log.

Everything it does goes through the :class:`~.rig.SimRig`: the pads into the
boards' key FIFOs, the buttons onto their mock pins, the knobs into the
emulated ADC. Keys (:data:`KEY_MAP`): the arrows or ``hjkl`` move a cursor
over the grid, ``Enter`` taps the pad under it, ``x`` holds it down until
``x`` again (a terminal reports no key release; hold one pad and tap another
for a chain or a held step's VELOCITY), ``space`` PLAY, ``m`` MODE, ``s``
SHIFT (held until ``s`` again), ``1``-``5`` choose a knob, ``[``/``]`` turn
it a step (1 BPM, 1 %, 4 velocity), ``{``/``}`` a big step, ``q`` quits
(saving, as on SIGTERM). Mouse clicks on pads work too.
"""

from __future__ import annotations

import curses
import os
import sys
import textwrap
import threading
from collections import deque
from typing import Any, Callable

from ...core.events import GRID_COLUMNS, GRID_ROWS, KNOBS
from ...core.instrument import COARSE_STEPS, FINE_STEPS, Instrument, knob_readout
from ...core.leds import blink_on
from ...core.pages import ROW_TITLES, SHIFT_PAGE, area_at
from ...core.textgrid import ROW_NAMES, SHIFT_ROW_NAMES, panel_cells
from .rig import SimRig
from .words import header, shift_pad_on, shift_pad_words

GRID_TOP, GRID_LEFT = 3, 6
CELL = 3            # two characters and a space
BOARD_GAP = 1       # an extra space between the four boards
FRAME_S = 1 / 30
MIN_HOLD_S = 0.03
"""A tap is held at least this long: the boards' firmware scans its keys every 10 ms and a tap
shorter than a scan may give no event at all (as on the real chip)."""
KEY_MAP = ("pads: arrows/hjkl/HL move  Enter tap  x hold/let go  c let go all  s SHIFT",
           "space PLAY  m MODE  1-5 pick a knob  [ ] turn it  { } turn more  q quit (saves)")
"""The keys, as shown under the grid (each line fits 80 columns)."""
LOG_PREFIX = "breakage-pi: "
UNITS = {"velocity": 1 / 255, "tempo": FINE_STEPS["tempo"]}
"""The knobs whose values are whole numbers: a turn lands on the centre of one (0-1 of the travel)."""


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


GRID_RIGHT = pad_origin(0, GRID_COLUMNS - 1)[0] + CELL + 1


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
    """The curses UI; call :meth:`poll` from the control loop (keys, mouse, redraw) and :meth:`close`.

    ``state`` returns the instrument's state now (read only: what the screen
    says beside the LEDs), ``sound`` what the header says of the audio
    ("no sound" when no device opened).
    """

    def __init__(self, rig: SimRig, state: Callable[[], Instrument], log_lines: deque[str],
                 quit: Callable[[], None], sound: str = "") -> None:
        self.rig, self.state, self.log_lines, self.quit, self.sound = rig, state, log_lines, quit, sound
        self.knob = 0
        self.shift = False
        self.cursor = (0, 0)
        self.latched: set[tuple[int, int]] = set()
        self._taps: list[tuple[tuple[int, int], float | None]] = []   # pads down, and when they come up
        self._mouse_pad: tuple[int, int] | None = None
        self._now = 0.0
        self._drawn_at = -1.0
        self._grid_up = False
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
        """Handle waiting keys and clicks, let tapped pads up; redraw at most 30 times a second."""
        self._now = now
        while (key := self.screen.getch()) != -1:
            self._key(key)
        for pad, release_at in list(self._taps):
            if release_at is not None and now >= release_at:
                self._taps.remove((pad, release_at))
                self.rig.release(*pad)
        if now - self._drawn_at >= FRAME_S:
            self._drawn_at = now
            self.draw()
        return []

    # -- keys -----------------------------------------------------------------------------------

    def _key(self, key: int) -> None:
        moves = {curses.KEY_UP: (-1, 0), ord("k"): (-1, 0), curses.KEY_DOWN: (1, 0), ord("j"): (1, 0),
                 curses.KEY_LEFT: (0, -1), ord("h"): (0, -1), curses.KEY_RIGHT: (0, 1), ord("l"): (0, 1),
                 curses.KEY_SLEFT: (0, -4), ord("H"): (0, -4), curses.KEY_SRIGHT: (0, 4), ord("L"): (0, 4)}
        turns = {ord("["): -1, ord("-"): -1, ord("]"): 1, ord("="): 1, ord("+"): 1}
        big_turns = {ord("{"): -1, ord("_"): -1, ord("}"): 1}
        if key == curses.KEY_MOUSE:
            self._mouse()
        elif key in moves:
            row, column = self.cursor
            down, right = moves[key]
            self.cursor = (min(GRID_ROWS - 1, max(0, row + down)), min(GRID_COLUMNS - 1, max(0, column + right)))
        elif key in (curses.KEY_ENTER, 10, 13):
            self._tap_pad(self.cursor)
        elif key in (ord("x"), ord("X")):
            self._latch(self.cursor)
        elif key in (ord("c"), ord("C"), 27):
            for pad in sorted(self.latched):
                self._latch(pad)
        elif key == ord(" "):
            self._tap("play")
        elif key in (ord("m"), ord("M")):
            self._tap("mode")
        elif key in (ord("s"), ord("S")):
            self.shift = not self.shift
            self.rig.button("shift", self.shift)
        elif ord("1") <= key <= ord(str(len(KNOBS))):
            self.knob = key - ord("1")
        elif key in turns:
            self._turn(turns[key], FINE_STEPS)
        elif key in big_turns:
            self._turn(big_turns[key], COARSE_STEPS)
        elif key in (ord("q"), ord("Q")):
            self.quit()

    def _tap(self, name: str) -> None:
        self.rig.button(name, True)
        self.rig.button(name, False)

    def _tap_pad(self, pad: tuple[int, int]) -> None:
        """Press ``pad`` and let it up :data:`MIN_HOLD_S` later (a held pad is let go instead)."""
        if pad in self.latched:
            self._latch(pad)
            return
        if any(down == pad for down, _ in self._taps):
            return
        self.rig.press(*pad)
        self._taps.append((pad, self._now + MIN_HOLD_S))

    def _latch(self, pad: tuple[int, int]) -> None:
        """Hold ``pad`` down until this is called for it again."""
        if pad in self.latched:
            self.latched.discard(pad)
            self.rig.release(*pad)
        elif not any(down == pad for down, _ in self._taps):
            self.latched.add(pad)
            self.rig.press(*pad)

    def _turn(self, sign: int, steps: Any) -> None:
        """Turn the chosen knob one step from where this hand left it (keys come faster than the pot's
        readings), onto the centre of a whole BPM or velocity, so TEMPO lands on 120 and not 119.6."""
        name = KNOBS[self.knob]
        position = self.rig.knob_position(name)
        if position is None:
            return
        target = min(1.0, max(0.0, position + sign * steps[name]))
        unit = UNITS.get(name)
        if unit is not None:
            target = round(target / unit) * unit
        self.rig.knob(name, round(target, 6))

    def _mouse(self) -> None:
        try:
            _, x, y, _, state = curses.getmouse()
        except curses.error:
            return
        pad = pad_at(x, y)
        if state & (curses.BUTTON1_PRESSED | curses.BUTTON1_CLICKED) and pad is not None:
            self.cursor = pad
            if pad not in self.latched and not any(down == pad for down, _ in self._taps):
                self.rig.press(*pad)
                self._taps.append((pad, None))
                self._mouse_pad = pad
        if state & (curses.BUTTON1_RELEASED | curses.BUTTON1_CLICKED) and self._mouse_pad is not None:
            pad, self._mouse_pad = self._mouse_pad, None
            self._taps = [(down, self._now + MIN_HOLD_S if down == pad and up is None else up)
                          for down, up in self._taps]

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
        self._follow_resize()
        screen.erase()
        height, width = screen.getmaxyx()
        state = self.state()
        pixels = self.rig.pixels()
        self._grid_up = self._grid_up or bool(pixels.any())      # the boards drew their first frame
        self._text(0, 0, header(state, self.sound), curses.A_BOLD)
        self._text(1, 0, self._status(state), curses.A_REVERSE if state.shift else 0)
        for column in range(GRID_COLUMNS):
            x, _ = pad_origin(0, column)
            self._text(GRID_TOP - 1, x, f"{column + 1:<2}", curses.A_DIM if column % 4 else curses.A_BOLD)
        self._grid(state, pixels)
        marks = [" "] * (GRID_RIGHT + 1)
        if state.playing and 0 <= state.playhead < GRID_COLUMNS and not state.shift:
            x, _ = pad_origin(0, state.playhead)
            marks[x:x + 2] = "▲▲"
        x, _ = pad_origin(0, self.cursor[1])
        marks[x + 2] = "^" if marks[x] == " " else marks[x + 2]
        self._text(GRID_TOP + GRID_ROWS, 0, "".join(marks))
        line = GRID_TOP + GRID_ROWS + 1
        for index, name in enumerate(KNOBS):
            readout = knob_readout(state, name)
            chosen = index == self.knob
            self._text(line, 0, f"{'>' if chosen else ' '}{index + 1} {name.upper():<9}{readout.line()}"
                       f"{'  (an encoder: not simulated)' if readout.position is None else ''}",
                       curses.A_BOLD if chosen else 0)
            line += 1
        for text in KEY_MAP:
            self._text(line, 0, text, curses.A_DIM)
            line += 1
        if height >= 34 and width >= 100:          # room for the SHIFT page's table too
            line = self._shift_legend(line + 1)
        room = max(0, height - line)
        lines = [wrapped for text in list(self.log_lines)[-room:]
                 for wrapped in textwrap.wrap(text.removeprefix(LOG_PREFIX), max(20, width - 1),
                                              subsequent_indent="  ")][-room:] if room else []
        for offset, text in enumerate(lines):
            self._text(line + offset, 0, text)
        screen.refresh()

    def _follow_resize(self) -> None:
        """Take the terminal's size now (a resize's signal can come before curses listens for it)."""
        try:
            columns, lines = os.get_terminal_size(sys.__stdout__.fileno())
        except (OSError, ValueError, AttributeError):
            return
        if (lines, columns) != self.screen.getmaxyx():
            curses.resizeterm(lines, columns)

    def _status(self, state: Instrument) -> str:
        """The second line: SHIFT, the pads held, and what the pad under the cursor is."""
        if not self._grid_up:
            return "the grid's boards are starting up..."
        row, column = self.cursor
        parts = ["SHIFT held" if state.shift else "SHIFT..." if self.shift else ""]
        held = [f"{state.bank.channels[r]} step {c + 1} ({state.pattern.velocity(r, c)})"
                for r, c in sorted(self.latched) if not state.shift]
        if held:
            parts.append("holding " + ", ".join(held))
        if state.shift:
            parts.append(f"cursor: {shift_pad_words(state, row, column)}")
        else:
            velocity = state.played(state.slot)[0].velocity(row, column)
            net = " (the net's row)" if row in state.output_rows else ""
            parts.append(f"cursor: {state.bank.channels[row]} step {column + 1}: "
                         f"{f'velocity {velocity}' if velocity else 'no hit'}{net}")
        return "   ".join(part for part in parts if part)

    def _grid(self, state: Instrument, pixels: Any) -> None:
        cells = panel_cells(state)
        shift_page = state.shift and state.training is None
        for row in range(GRID_ROWS):
            self._text(GRID_TOP + row, 0, (SHIFT_ROW_NAMES if shift_page else ROW_NAMES)[row])
            self._text(GRID_TOP + row, GRID_RIGHT, self._row_note(state, row, shift_page), curses.A_DIM)
            for column in range(GRID_COLUMNS):
                x, y = pad_origin(row, column)
                red, green, blue = (int(v) for v in pixels[row, column])
                lit = bool(red or green or blue)
                attribute = self._colour(*_boost(red, green, blue)) if lit else curses.A_DIM
                if shift_page:
                    attribute |= self._shift_attribute(state, row, column)
                if (row, column) == self.cursor:
                    attribute |= curses.A_REVERSE
                if (row, column) in self.latched:
                    attribute |= curses.A_BOLD
                    self._text(y, x + 2, "<", curses.A_BOLD)
                self._text(y, x, cells[row][column], attribute)

    def _row_note(self, state: Instrument, row: int, shift_page: bool) -> str:
        if state.training is not None:
            return ("training: progress", "loose: error", "medium: error", "tight: error")[row]
        if shift_page:
            return ROW_TITLES[row]
        notes = ["the net's" if row in state.output_rows else "yours"]
        if state.mutes[row]:
            notes.append("muted")
        return ", ".join(notes)

    def _shift_attribute(self, state: Instrument, row: int, column: int) -> int:
        """Reverse video for what is on or chosen, dim for what is off or empty (never colour alone)."""
        found = area_at(row, column)
        if found is None:
            return curses.A_DIM
        on = shift_pad_on(state, found.key, column - found.columns.start)
        if on is None:
            return curses.A_DIM
        if found.key == "slots" and state.queued == column:
            return curses.A_REVERSE if blink_on(state.now) else curses.A_UNDERLINE
        return curses.A_REVERSE if on else curses.A_BOLD

    def _shift_legend(self, line: int) -> int:
        self._text(line, 0, "SHIFT page (hold s):", curses.A_BOLD)
        line += 1
        for entry in SHIFT_PAGE:
            columns = entry.columns
            where = f"{columns.start + 1}" if len(columns) == 1 else f"{columns.start + 1}-{columns.stop}"
            self._text(line, 0, f"  row {entry.row + 1} pads {where:<6}{entry.key:<8} {entry.action}", curses.A_DIM)
            line += 1
        return line

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
