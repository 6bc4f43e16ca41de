"""Where things are on the grid's SHIFT page (DESIGN §2): rows, and columns on rows 2 and 3.

Shared by the state machine (what a press means) and the LED renderer (what
is lit), so the two cannot disagree.
"""

ROW_SLOTS, ROW_MARKS, ROW_CHANNELS, ROW_SYSTEM = 0, 1, 2, 3
ROLE_COLUMNS, MUTE_COLUMNS, KIT_COLUMNS = range(0, 4), range(4, 8), range(8, 16)
NET_COLUMNS = range(0, 3)
CHANCE_COLUMN, EDIT_COLUMN, PERFORM_COLUMN = 4, 6, 7
TAKE_COLUMN, COPY_COLUMN, SAVE_COLUMN, TRAIN_COLUMN = 11, 13, 14, 15
CORRECTIONS_COLUMN, UNDO_COLUMN = 8, 9
"""Row 3: CORRECTIONS lists the corrections on row 0 (tap one there to remove it) until tapped again or SHIFT is
let go; UNDO undoes their last change."""
NET_LABELS = ("loose", "medium", "tight")
