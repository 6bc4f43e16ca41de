"""The grid's LED half: frames drawn at most ``max_fps`` times a second, one bus transaction a pass, only the
bytes that changed (see :mod:`.grid`, whose :class:`~.grid.Grid` this is a part of)."""

from __future__ import annotations

from collections import deque

import numpy as np

from .board import Board
from .layout import board_pixels
from .leds import BUF_OFFSET_BYTES, NEOPIXEL_BASE, NEOPIXEL_BUF, NEOPIXEL_SHOW, buffer_writes, pixel_bytes

RETRY_WAIT_S = 0.0006  # > an LED latch (48 bytes at 800 kHz, 0.48 ms) plus the chip's answer


class LedDrawing:
    """The LED methods of :class:`~.grid.Grid`, on its state (``_frame``, ``_led_writes``, ``_boards_to_draw``
    ...); the key half is the grid's own."""

    def _write_leds(self) -> None:
        """One LED transaction (a buffer span or a ``show``), so a pending key read waits for one at most."""
        if not self._led_writes and not self._plan_next_board():
            return
        now = self._clock()
        if now < self._led_retry_at:
            return
        board, register, payload = self._led_writes[0]
        try:
            board.trellis.write(NEOPIXEL_BASE, register, payload or None)
        except Exception as caught:  # an I2C error, or a driver surprise
            error = self._as_fault(board, caught)
            self._glitch(board, error)
            self._led_attempts += 1
            if self._led_attempts <= self._config.retries:
                self._led_retry_at = self._clock() + RETRY_WAIT_S
                return
            self._led_attempts = 0
            self._forget_leds(board)
            self._failed(board, error)
            return
        self._led_attempts = 0
        self._led_writes.popleft()
        board.failures = 0
        self.stats.led_writes += 1
        if register == NEOPIXEL_BUF:
            start = int.from_bytes(payload[:BUF_OFFSET_BYTES], "big")
            board.pixel_buffer[start:start + len(payload) - BUF_OFFSET_BYTES] = payload[BUF_OFFSET_BYTES:]
            board.latched = False
        else:
            board.latched = True
            self.stats.board_writes += 1

    def _plan_next_board(self) -> bool:
        """Queue the writes of the next board the frame being drawn changes; start a frame when one is due."""
        while True:
            if not self._boards_to_draw:
                self._drawing = None
                if not self._start_frame():
                    return False
            board = self._boards_to_draw.popleft()
            if board.online:
                writes = self._board_writes(board, self._drawing)
                if writes:
                    self._led_writes.extend(writes)
                    return True

    def _start_frame(self) -> bool:
        """Take the newest frame if the last was drawn ``1 / max_fps`` ago and something changed."""
        now = self._clock()
        if now < self._next_frame_at:
            return False
        if not self._frame_pending():
            return False
        with self._frame_lock:
            frame, seq = self._frame, self._frame_seq
        self._drawing, self._drawn_seq, self._redraw = frame, seq, False
        self._next_frame_at = now + 1 / self._config.max_fps
        self._boards_to_draw.extend(board for board in self._boards if board.online)
        return bool(self._boards_to_draw)

    def _frame_pending(self) -> bool:
        """A frame not drawn yet, or one to draw again (a board came up or lost its LED state)."""
        return self._frame is not None and (self._frame_seq != self._drawn_seq or self._redraw)

    def _board_writes(self, board: Board, frame: np.ndarray) -> list[tuple[Board, int, bytes]]:
        """The buffer spans that differ on ``board``, then a ``show``; nothing when its LEDs already match.

        The library's ``NeoPixel.show()`` always sends the whole 48-byte
        buffer (three writes, 66 bus bytes); it offers no partial write, so
        the spans go through its ``Seesaw.write`` to the buffer register
        (bytes encoded as its ``NeoPixel`` would, :func:`.leds.pixel_bytes`)
        and the latch is the same ``show`` register write its ``NeoPixel``
        sends.
        """
        wanted = pixel_bytes(board_pixels(frame, board.index), board.trellis.pixels)
        spans = buffer_writes(board.pixel_buffer, wanted)
        if board.pixel_buffer is None:
            board.pixel_buffer = bytearray(len(wanted))  # what is unknown is all written below
        writes = [(board, NEOPIXEL_BUF, start.to_bytes(BUF_OFFSET_BYTES, "big") + wanted[start:end])
                  for start, end in spans]
        if writes or not board.latched:
            writes.append((board, NEOPIXEL_SHOW, b""))
        return writes

    def _forget_leds(self, board: Board) -> None:
        """``board``'s LED state is unknown (a failed write or a reset): drop its queued writes, redraw it."""
        self._led_writes = deque(write for write in self._led_writes if write[0] is not board)
        self._led_retry_at = 0.0
        board.pixel_buffer = None
        board.latched = False
        self._redraw = True
