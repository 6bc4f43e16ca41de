"""The daemon's trainer installs every complete run: nets that ran out of epochs before their target play,
as close as training got, with a plain note (issue 20); an aborted run keeps the old nets."""

from __future__ import annotations

from ml_builders import seed_example_bank

from breakage_pi.daemon.trainer import Trainer
from breakage_pi.ml.dataset import bank_training_set
from breakage_pi.ml.train import TrainConfig, train


class _Finished:
    """A training job that has finished with ``result``."""

    def __init__(self, result):
        self._result = result

    def result(self):
        return self._result


def _outcome(config: TrainConfig, abort=None):
    data = bank_training_set(seed_example_bank())
    result = train(data, config, abort=abort)
    trainer = Trainer(nets=None, saver=None)
    trainer._prepare(_Finished(result), data)
    return result, trainer._outcome


def test_a_complete_run_short_of_its_targets_is_installed_with_a_note():
    result, outcome = _outcome(TrainConfig(max_epochs=30))
    assert result.stopped == "max_epochs" and result.complete
    assert outcome.bank is not None and len(outcome.bank) == 3 and len(outcome.files) == 3
    assert "now playing them" in outcome.detail and "as close as training got" in outcome.detail


def test_an_aborted_run_keeps_the_old_nets():
    result, outcome = _outcome(TrainConfig(max_epochs=5000, report_every=10), abort=lambda: True)
    assert not result.complete
    assert outcome.bank is None and "keeping the old nets" in outcome.detail
