"""The nets of one training run, loose to tight, each with its session ready, to switch between live.

Sessions are created up front (milliseconds each) so that turning the NET
knob in PERFORM only changes which ready sessions the next prediction runs
and how their outputs are blended.
"""

from __future__ import annotations

import os
from typing import Callable, Sequence

import numpy as np

from ..core.morph import morph_weights
from ..core.pattern import MAX_VELOCITY, STEPS, Pattern
from .dataset import TrainingSet
from .errors import NetError
from .net import result_nets
from .netfile import NetFile, read_net
from .onnx_export import net_to_bytes
from .session import NetSession
from .train import TrainingResult, net_file_name


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
    def roles(self) -> tuple[str, ...]:
        """The channel roles the nets were trained with (shared by all)."""
        return self._sessions[0].info.roles

    @property
    def targets(self) -> tuple[float, ...]:
        return tuple(session.info.error_target for session in self._sessions)

    @property
    def labels(self) -> tuple[str, ...]:
        """``("loose", "medium", "tight")`` for one run's three nets; ``""`` for a net without a label."""
        return tuple(session.info.label for session in self._sessions)

    def outputs_at(self, pattern: Pattern, position: float) -> np.ndarray:
        """The nets' outputs for ``pattern`` blended at NET knob ``position`` (0 loose - 1 tight, see
        :func:`breakage_pi.core.morph.morphed`), as (output channels, 16) float velocities 0-255 before the
        gate: only the one or two nets the position weighs are run."""
        count = len(self._sessions[0].info.output_channels)
        blend = np.zeros((count, STEPS), dtype=np.float64)
        for index, weight in morph_weights(position, len(self._sessions)):
            outputs = np.asarray(self._sessions[index].outputs(pattern).reshape(count, STEPS) * MAX_VELOCITY,
                                 dtype=np.float64)
            if weight == 1.0:
                return outputs
            blend += weight * outputs
        return blend

    def __len__(self) -> int:
        return len(self._sessions)

    def __getitem__(self, index: int) -> NetSession:
        return self._sessions[index]


def load_net_bank(paths: Sequence[str | os.PathLike[str]],
                  refuse: Callable[[NetError, bool], None]) -> NetBank | None:
    """The nets in ``paths`` that can be read, ordered by their metadata; None if none can be played.

    ``refuse(error, corrupt)`` hears about each file left out: ``corrupt`` if it
    cannot be read as a net (the daemon moves it aside), else its roles differ
    from the first net's."""
    files = []
    for path in paths:
        try:
            files.append(read_net(path))
        except NetError as error:
            refuse(error, True)
    if files:
        roles = files[0].info.roles
        for net_file in files[1:]:
            if net_file.info.roles != roles:
                refuse(NetError(f"trained with roles {list(net_file.info.roles)}, unlike the others "
                                f"{list(roles)}", net_file.source), False)
        files = [net_file for net_file in files if net_file.info.roles == roles]
    return NetBank(files) if files else None


def trained_net_files(result: TrainingResult, data: TrainingSet) -> list[tuple[str, bytes]]:
    """The ``(file name, ONNX bytes)`` of every net a training run reached, loose to tight
    (``net-loose.onnx`` ..., named as ``breakage-pi train`` names them)."""
    targets = result.config.targets
    return [(net_file_name(snapshot.index, len(targets), targets[snapshot.index]), net_to_bytes(net))
            for snapshot, net in zip(result.snapshots, result_nets(result, data))]
