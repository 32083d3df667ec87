"""Deterministic batches: a storage view in which pruners see earlier batches only."""

from __future__ import annotations

from optuna.storages import BaseStorage

__all__ = ["BatchView"]


class BatchView(BaseStorage):
    """A study's storage as it was when a batch of trials was dispatched.

    Reads of the study's trials return only the trials numbered below
    ``batch_start`` (all finished before the batch started) and the trial
    ``own_trial_id`` itself; every other call, writes included, goes to the
    real storage. A pruner reading this view decides from the same history
    whichever trial of the batch reports first, so pruning inside a batch is
    deterministic. Hyperband's bracket studies are built on ``study._storage``,
    so they see the view too.

    Parameters
    ----------
    base : optuna.storages.BaseStorage
        The real storage.
    batch_start : int
        Number of the first trial of the batch.
    own_trial_id : int
        Storage id of the trial run through this view.
    """

    def __init__(self, base, batch_start: int, own_trial_id: int):
        self._base = base
        self._batch_start = int(batch_start)
        self._own = int(own_trial_id)

    def _visible(self, trial) -> bool:
        return trial.number < self._batch_start or trial._trial_id == self._own

    def get_all_trials(self, study_id, deepcopy=True, states=None):
        trials = self._base.get_all_trials(study_id, deepcopy=deepcopy, states=states)
        return [t for t in trials if self._visible(t)]

    def get_n_trials(self, study_id, state=None):
        if state is not None and not isinstance(state, tuple):
            state = (state,)
        return len(self.get_all_trials(study_id, deepcopy=False, states=state))

    def get_best_trial(self, study_id):
        return BaseStorage.get_best_trial(self, study_id)

    def __getattr__(self, name):
        return getattr(self._base, name)


def _delegate(name):
    def method(self, *args, **kwargs):
        return getattr(self._base, name)(*args, **kwargs)

    method.__name__ = method.__qualname__ = name
    return method


for _name in BaseStorage.__abstractmethods__:
    if _name not in vars(BatchView):
        setattr(BatchView, _name, _delegate(_name))
BatchView.__abstractmethods__ = frozenset()
del _name
