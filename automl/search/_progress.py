"""Progress bar over a study's trials: best so far, pruned and failed counts, ETA."""

from __future__ import annotations

from ._storage import budget_used

__all__ = ["ProgressBar"]


class ProgressBar:
    """tqdm over finished trials (tqdm shows the rate and the ETA).

    Parameters
    ----------
    total : int
        Trials the study will have when done (``n_trials``).
    name : str
        Shown before the bar.
    enabled : bool
        False draws nothing (``verbose=0``).
    maximize : bool, default=True
        Direction of the first objective, for "best so far".
    initial : int, default=0
        Trials already finished (a resumed study).
    """

    def __init__(
        self, total: int, name: str, *, enabled: bool, maximize: bool = True, initial: int = 0
    ):
        self.enabled = enabled
        self.total = total
        self.name = name
        self.maximize = maximize
        self.initial = initial
        self.bar = None

    def __enter__(self):
        if self.enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=self.total,
                initial=min(self.initial, self.total),
                desc=self.name,
                unit="trial",
                dynamic_ncols=True,
            )
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def update(self, trials) -> None:
        """Redraw from the study's trials (finished ones advance the bar)."""
        if self.bar is None:
            return
        from optuna.trial import TrialState

        finished = [t for t in trials if t.state.is_finished()]
        done = min(budget_used(finished), self.total)
        values = [t.values[0] for t in finished if t.state == TrialState.COMPLETE and t.values]
        postfix = {}
        if values:
            best = max(values) if self.maximize else min(values)
            postfix["best"] = f"{best:.4g}"
        postfix["pruned"] = sum(t.state == TrialState.PRUNED for t in finished)
        postfix["failed"] = sum(t.state == TrialState.FAIL for t in finished)
        self.bar.set_postfix(postfix, refresh=False)
        if done > self.bar.n:
            self.bar.update(done - self.bar.n)
        else:
            self.bar.refresh()

    def write(self, message: str) -> None:
        """Print a line without breaking the bar."""
        if self.bar is not None:
            self.bar.write(message)
        elif self.enabled:
            print(message)
