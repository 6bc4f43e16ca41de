"""Opening the instrument: the data directory, the bank, the nets and the saved settings, and the control loop
built over them."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..core.errors import FormatError
from ..core.instrument import Instrument, pick_up_all, step
from ..core.playstate import PlayState
from ..core.saved import restore
from ..core.settings import InstrumentConfig, NetsConfig
from .controller import Controller
from .datadir import DataDir
from .kits import playable_kits
from .nets import Nets
from .saver import Saver
from .trainer import Trainer

log = logging.getLogger("breakage_pi")


def open_instrument(data_dir: Path, settings: InstrumentConfig, send: Callable[[PlayState], Any],
                    show: Callable[[np.ndarray], Any], train_hand_over_s: float | None = None,
                    nets_config: NetsConfig = NetsConfig()) -> tuple[Controller, DataDir]:
    """Prepare the data directory, load the bank, nets and settings, and build the controller.

    ``send`` gets each new playing state, ``show`` each LED frame; with ``train_hand_over_s`` new nets take
    over exactly that long (audio time) after TRAIN (lockstep); ``nets_config`` says whether corrections
    retrain the nets in the background."""
    data = DataDir(data_dir)
    data.prepare()
    bank = data.load_bank()
    nets = Nets(data)
    kits = playable_kits(data, bank)
    state = Instrument(bank, kits=kits, playing=settings.autoplay, kit=settings.kit if settings.kit in kits else None,
                       learn=nets_config.learn)
    if settings.kit and settings.kit not in kits:
        log.error("[instrument] kit %r is not a playable folder of %s; playing the built-in kit", settings.kit,
                  data.kits)
    state, _ = step(state, nets.loaded())
    nets.check_against(bank)
    saved = data.load_state()
    if saved is not None:
        try:
            state = restore(state, saved)
        except FormatError as error:
            data.quarantine_state(str(error.in_source(str(data.state))))
    state = pick_up_all(state)
    log.info("bank %s: %d slot(s), slot %d, mode %s, net %s, %g BPM", data.bank, len(bank.slots), state.slot + 1,
             state.mode, state.net_blend, bank.tempo)
    saver = Saver(data)
    Trainer.warm_up()
    controller = Controller(state, nets, Trainer(nets, saver, train_hand_over_s), saver, send, show)
    return controller, data
