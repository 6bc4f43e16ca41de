"""``python -m breakage_pi.cli``: the same as the ``breakage-pi`` command."""

import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
