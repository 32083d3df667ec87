"""The budget of a shared study: which trials hold a place in ``n_trials``, and claiming one.

Any number of processes (``automl run`` on one storage, workers on other
machines) share one study and its ``n_trials``. There is no lock: the storage
numbers its trials atomically (one journal log in append order; a database
creates trials under a lock on the study row), and the trial numbers order the
claims:

- a trial *holds* a place in the budget unless it is a failure whose
  parameters were queued again (its retry holds the place) or a trial given
  back as over budget; a WAITING trial (queued, e.g. a retry) holds one too;
- a process creates its trial first, tagged with the process in the same
  storage operation, then reads the study: the trial keeps its claim when
  fewer than ``n_trials`` trials numbered below it hold a place. Otherwise it
  is given back: failed at once, unevaluated, with ``over_budget`` set, and
  counted nowhere;
- a queued trial is popped (Optuna's atomic WAITING → RUNNING) only when it
  is within the budget by the same rule.

Places below a trial are only ever freed (a retried failure), never taken,
so a claim once granted stays granted and exactly ``n_trials`` trials finish
holding a place, however many processes ask at once.
"""

from __future__ import annotations

from datetime import datetime

__all__ = [
    "OVER_BUDGET",
    "PROCESS",
    "RETRIED",
    "budget_used",
    "claimable",
    "claim_trial",
    "holds_place",
]

#: User attribute marking a failed trial whose parameters were enqueued again.
RETRIED = "retried"

#: User attribute of a trial created past the budget and given back unevaluated.
OVER_BUDGET = "over_budget"

#: User attribute naming the process that runs a trial (``host:pid:start``).
PROCESS = "process"


def holds_place(trial) -> bool:
    """Whether ``trial`` holds a place in the budget (queued and running trials included)."""
    from optuna.trial import TrialState

    attrs = trial.user_attrs
    if attrs.get(OVER_BUDGET):
        return False
    return not (trial.state == TrialState.FAIL and attrs.get(RETRIED))


def budget_used(trials) -> int:
    """Trials counting towards ``n_trials``: running and finished ones holding a place.

    Not counted: WAITING trials (not started), failed-then-retried trials
    (their retry counts) and trials given back as over budget.
    """
    from optuna.trial import TrialState

    return sum(1 for t in trials if t.state != TrialState.WAITING and holds_place(t))


def _places_below(trials, number: int) -> int:
    return sum(1 for t in trials if t.number < number and holds_place(t))


def _first_claimable_waiting(trials, n_trials: int):
    from optuna.trial import TrialState

    below = 0
    for t in sorted(trials, key=lambda t: t.number):
        held = holds_place(t)
        if t.state == TrialState.WAITING and held and below < n_trials:
            yield t
        below += held


def claimable(trials, n_trials: int) -> bool:
    """Whether a process may still claim a trial: a new one, or a queued one within budget."""
    if sum(1 for t in trials if holds_place(t)) < n_trials:
        return True
    return next(_first_claimable_waiting(trials, n_trials), None) is not None


def claim_trial(storage, study_id: int, n_trials: int, tag: str, trials=None):
    """A RUNNING trial of the study within the budget, owned by ``tag``; None if none is left.

    Pops the first queued trial within budget, else creates one with the
    ``process`` attribute set in the creating operation (no process ever sees
    it untagged). A created trial that turns out to be past the budget (other
    processes claimed the last places first) is given back and None returned.
    ``trials``: the study's trials as just read, if at hand (saves a read; the
    decision is made on a read after the creation either way).
    """
    from optuna import exceptions
    from optuna.trial import FrozenTrial, TrialState

    if trials is None:
        trials = storage.get_all_trials(study_id, deepcopy=False)
    for waiting in _first_claimable_waiting(trials, n_trials):
        try:
            if not storage.set_trial_state_values(waiting._trial_id, state=TrialState.RUNNING):
                continue  # popped by another process
        except exceptions.UpdateFinishedTrialError:
            continue
        storage.set_trial_user_attr(waiting._trial_id, PROCESS, tag)
        return storage.get_trial(waiting._trial_id)
    if sum(1 for t in trials if holds_place(t)) >= n_trials:
        return None
    template = FrozenTrial(
        number=-1,
        state=TrialState.RUNNING,
        value=None,
        datetime_start=datetime.now(),
        datetime_complete=None,
        params={},
        distributions={},
        user_attrs={PROCESS: tag},
        system_attrs={},
        intermediate_values={},
        trial_id=-1,
    )
    trial_id = storage.create_new_trial(study_id, template_trial=template)
    after = storage.get_all_trials(study_id, deepcopy=False)  # also holds the new trial
    trial = next((t for t in after if t._trial_id == trial_id), None)
    trial = trial if trial is not None else storage.get_trial(trial_id)
    if _places_below(after, trial.number) < n_trials:
        return trial
    storage.set_trial_user_attr(trial_id, OVER_BUDGET, True)
    storage.set_trial_user_attr(
        trial_id, "error", f"over budget: other processes claimed the {n_trials} trials first"
    )
    storage.set_trial_state_values(trial_id, state=TrialState.FAIL)
    return None
