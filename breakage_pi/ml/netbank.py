"""The nets of one training run, loose to tight, each with its session ready, to switch between live.

Sessions are created up front (milliseconds each) so that turning the NET
knob in PERFORM only changes which ready session the next prediction uses.
"""

from __future__ import annotations

from typing import Sequence

from .errors import NetError
from .netfile import NetFile
from .session import NetSession


class NetBank:
    """Sessions for several nets sharing channels and roles, ordered loose (index 0) to tight.

    ``bank[i].predict(pattern)`` runs net ``i``; ``bank.targets`` lists their
    error targets as MSE on 0-1 velocities (what orders them, in old and new
    nets alike), ``bank.labels`` what they are to a player.
    """

    def __init__(self, net_files: Sequence[NetFile]) -> None:
        if not net_files:
            raise NetError("no nets to play: train some first (breakage-pi train)")
        first = net_files[0]
        for net_file in net_files[1:]:
            if (net_file.info.channels, net_file.info.roles) != (first.info.channels, first.info.roles):
                raise NetError(f"its channels/roles {list(net_file.info.roles)} differ from "
                               f"{first.source or 'the first net'}'s {list(first.info.roles)}", net_file.source)
        ordered = sorted(net_files, key=lambda net_file: net_file.info.error_target, reverse=True)
        self._sessions = tuple(NetSession(net_file) for net_file in ordered)

    @property
    def targets(self) -> tuple[float, ...]:
        return tuple(session.info.error_target for session in self._sessions)

    @property
    def labels(self) -> tuple[str, ...]:
        """``("loose", "medium", "tight")`` for one run's three nets; ``""`` for a net without a label."""
        return tuple(session.info.label for session in self._sessions)

    def __len__(self) -> int:
        return len(self._sessions)

    def __getitem__(self, index: int) -> NetSession:
        return self._sessions[index]
