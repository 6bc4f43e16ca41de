"""Where pads live: four 4x4 boards left to right make the 4-row x 16-column grid.

Board ``b`` holds columns ``4b .. 4b+3``; on a board, key ``k`` (0-15) is
row ``k // 4``, column ``k % 4`` (the library's and the LEDs' numbering).

>>> pad_of(board=2, key=5)
(1, 9)
>>> key_of(row=1, column=9)
(2, 5)
"""

from __future__ import annotations

import numpy as np

from ..core.events import GRID_COLUMNS, GRID_ROWS

BOARD_SIDE = 4
BOARDS = GRID_COLUMNS // BOARD_SIDE
KEYS_PER_BOARD = BOARD_SIDE * GRID_ROWS


def pad_of(board: int, key: int) -> tuple[int, int]:
    """(row, column) on the grid of ``key`` 0-15 on ``board`` 0-3."""
    return key // BOARD_SIDE, board * BOARD_SIDE + key % BOARD_SIDE


def key_of(row: int, column: int) -> tuple[int, int]:
    """(board, key) of the pad at ``row``, ``column``."""
    return column // BOARD_SIDE, row * BOARD_SIDE + column % BOARD_SIDE


def board_pixels(frame: np.ndarray, board: int) -> np.ndarray:
    """The (16, 3) RGB colours of ``board``'s pixels in key order, from a (4, 16, 3) frame."""
    return frame[:, board * BOARD_SIDE:(board + 1) * BOARD_SIDE, :].reshape(KEYS_PER_BOARD, 3)
