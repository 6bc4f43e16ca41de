"""``[takes]``: recording takes, as pure data (parsed with the rest by :func:`~.settings.parse_config`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TakesConfig:
    """Takes (``takes/`` in the data directory): with ``auto`` every session is recorded from its first
    PLAY; a take ends, with a message, when the data directory's free space falls below ``floor_mb``
    megabytes (and none starts below it).

    >>> TakesConfig().floor_mb
    200.0
    """

    auto: bool = False
    floor_mb: float = 200.0
